package walkv

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// infoSections are INFO's sections in output order.
var infoSections = []string{"server", "clients", "memory", "persistence", "log", "stats", "commandstats", "errorstats", "keyspace"}

// infoNotDefault are the sections INFO shows only when named or asked
// for with "all" or "everything", as Redis's.
var infoNotDefault = []string{"commandstats", "errorstats"}

// info renders the INFO reply for the named sections (all for none,
// "all", "default" or "everything"). REQUIRES: DB.mu held.
func (srv *Server) info(want []string) string {
	all := len(want) == 0 || slices.Contains(want, "all") || slices.Contains(want, "default") || slices.Contains(want, "everything")
	var b strings.Builder
	for _, sec := range infoSections {
		if !all && !slices.Contains(want, sec) ||
			all && slices.Contains(infoNotDefault, sec) && !slices.Contains(want, "all") && !slices.Contains(want, "everything") && !slices.Contains(want, sec) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		fmt.Fprintf(&b, "# %s\r\n", strings.ToUpper(sec[:1])+sec[1:])
		for _, kv := range srv.infoSection(sec) {
			fmt.Fprintf(&b, "%s:%v\r\n", kv.k, kv.v)
		}
	}
	return b.String()
}

type infoField struct {
	k string
	v any
}

func (srv *Server) infoSection(sec string) []infoField {
	db := srv.db
	switch sec {
	case "server":
		return []infoField{
			{"redis_version", redisVersion}, {"walkv_engine", "waldb"}, {"redis_mode", "standalone"},
			{"os", runtime.GOOS}, {"arch_bits", 64}, {"go_version", runtime.Version()},
			{"process_id", os.Getpid()}, {"tcp_port", srv.cfg.Port},
			{"uptime_in_seconds", int64(time.Since(db.start).Seconds())},
			{"uptime_in_days", int64(time.Since(db.start).Hours() / 24)},
		}
	case "clients":
		return []infoField{{"connected_clients", db.stats.clients.Load()}, {"blocked_clients", db.blk.n},
			{"maxclients", srv.lim.maxClients.Load()}, {"walkv_clients_buffer_bytes", srv.clientMem.Load()}}
	case "memory":
		return srv.memoryInfo()
	case "persistence":
		return srv.persistenceInfo()
	case "log":
		return srv.logInfo()
	case "commandstats":
		return srv.commandStatsInfo()
	case "errorstats":
		return srv.errorStatsInfo()
	case "stats":
		return append([]infoField{
			{"total_connections_received", db.stats.connections.Load()},
			{"total_commands_processed", db.stats.commands.Load()},
			{"expired_keys", db.stats.expired.Load()},
			{"keyspace_hits", db.stats.hits.Load()}, {"keyspace_misses", db.stats.misses.Load()},
			{"walkv_fsync_requests", db.dur.syncs.Load()},
			{"total_net_input_bytes", db.stats.netIn.Load()}, {"total_net_output_bytes", db.stats.netOut.Load()},
			{"total_error_replies", db.stats.errors.total()},
		}, append(srv.pubsubStats(), srv.securityStats()...)...)
	case "keyspace":
		var out []infoField
		now := db.now()
		for i, ks := range db.dbs {
			if n, exp := ks.liveCounts(now); n > 0 {
				out = append(out, infoField{dbName(i), fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", n, exp)})
			}
		}
		return out
	}
	return nil
}

// persistenceInfo reports the log and snapshot state. REQUIRES: DB.mu
// held.
func (srv *Server) persistenceInfo() []infoField {
	db := srv.db
	if db.clustered() {
		return []infoField{{"loading", 0}, {"aof_enabled", 0}, {"walkv_cluster", 1}, {"walkv_applied_time", db.appliedNow}}
	}
	status := "ok"
	if e := db.snap.lastErr.Load(); e != nil {
		status = "err"
	}
	first, _ := db.log.FirstIndex()
	last, _ := db.log.LastIndex()
	l := db.logStats.snapshot()
	lastSave := db.snap.lastUnix.Load()
	if lastSave == 0 {
		lastSave = db.start.Unix()
	}
	return []infoField{
		{"loading", 0}, {"aof_enabled", 1}, {"appendfsync", db.Fsync()},
		{"rdb_changes_since_last_save", db.dirty},
		{"rdb_bgsave_in_progress", b2i(db.snap.running.Load())},
		{"rdb_last_save_time", lastSave}, {"rdb_last_bgsave_status", status},
		{"rdb_last_bgsave_time_sec", int64(time.Duration(db.snap.lastDur.Load()).Seconds())},
		{"aof_rewrite_in_progress", b2i(db.snap.running.Load())},
		{"aof_last_bgrewrite_status", status},
		{"aof_current_size", db.logBytes - db.snap.baseBytes},
		{"aof_last_write_status", okErr(l.LastWriteFailed || db.failed != nil)},
		{"aof_pending_bio_fsync", b2i(db.dur.logged.Load() > db.dur.durable.Load())},
		{"aof_delayed_fsync", l.FsyncStalls},
		{"walkv_snapshots", db.snap.count.Load()}, {"walkv_snapshot_txn", db.snap.lastID},
		{"walkv_last_txn", db.dur.logged.Load()}, {"walkv_durable_txn", db.dur.durable.Load()},
		{"walkv_log_first_index", first}, {"walkv_log_last_index", last},
		{"walkv_failed", b2i(db.failed != nil)},
	}
}

func okErr(failed bool) string {
	if failed {
		return "err"
	}
	return "ok"
}

// commandStatsInfo is INFO commandstats: Redis's cmdstat_<name> fields.
func (srv *Server) commandStatsInfo() []infoField {
	var out []infoField
	for _, cs := range srv.db.commandStats() {
		timed := int64(0)
		for _, n := range cs.Latency {
			timed += n
		}
		per := 0.0
		if timed > 0 {
			per = float64(cs.Duration.Microseconds()) / float64(timed)
		}
		out = append(out, infoField{"cmdstat_" + cs.Name, fmt.Sprintf("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
			cs.Calls, cs.Duration.Microseconds(), per, cs.Rejected, cs.Failed)})
	}
	return out
}

// errorStatsInfo is INFO errorstats: Redis's errorstat_<prefix> fields.
func (srv *Server) errorStatsInfo() []infoField {
	m := srv.db.stats.errors.snapshot()
	out := make([]infoField, 0, len(m))
	for k, n := range m {
		out = append(out, infoField{"errorstat_" + k, fmt.Sprintf("count=%d", n)})
	}
	slices.SortFunc(out, func(a, b infoField) int { return strings.Compare(a.k, b.k) })
	return out
}

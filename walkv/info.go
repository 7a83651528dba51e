package walkv

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// infoSections are INFO's sections in output order (Redis 7.0's, and
// walkv's log section).
var infoSections = []string{"server", "clients", "memory", "persistence", "log", "stats", "replication", "cpu", "modules",
	"commandstats", "errorstats", "latencystats", "cluster", "keyspace"}

// infoDefault are the sections INFO shows with no argument or "default"
// (Redis 7.0's: all but commandstats and latencystats).
var infoDefault = []string{"server", "clients", "memory", "persistence", "log", "stats", "replication", "cpu", "modules",
	"errorstats", "cluster", "keyspace"}

// infoTitles are the section headers that are not the name capitalized.
var infoTitles = map[string]string{"cpu": "CPU"}

// info renders the INFO reply for the named sections, as Redis 7.0
// chooses them: none or "default" means infoDefault, "all" and
// "everything" every section; names add sections ("module_list" is
// "modules"); unknown names add nothing. REQUIRES: DB.mu held.
func (srv *Server) info(want []string) string {
	all := slices.Contains(want, "all") || slices.Contains(want, "everything")
	pick := map[string]bool{}
	if len(want) == 0 {
		want = []string{"default"}
	}
	for _, w := range want {
		switch w {
		case "default":
			for _, d := range infoDefault {
				pick[d] = true
			}
		case "module_list":
			pick["modules"] = true
		default:
			pick[w] = true
		}
	}
	var b strings.Builder
	for _, sec := range infoSections {
		if !all && !pick[sec] {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		title := infoTitles[sec]
		if title == "" {
			title = strings.ToUpper(sec[:1]) + sec[1:]
		}
		fmt.Fprintf(&b, "# %s\r\n", title)
		for _, kv := range srv.statBase.adjust(sec, srv.infoSection(sec)) {
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
		return srv.serverInfo()
	case "clients":
		return srv.clientsInfo()
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
		return srv.statsInfo()
	case "replication":
		return srv.replicationInfo()
	case "cpu":
		return cpuInfo()
	case "latencystats":
		return srv.latencyStatsInfo()
	case "cluster":
		return []infoField{{"cluster_enabled", 0}}
	case "keyspace":
		var out []infoField
		for i, ks := range db.dbs {
			if n, exp := ks.len(), ks.expires(); n > 0 { // held keys, expired ones included until removed, as Redis counts
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
		// No log or snapshots of its own: Redis's fields as with persistence off.
		return append(persistenceOff(), infoField{"walkv_cluster", 1}, infoField{"walkv_applied_time", db.appliedNow})
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
	lastDur := int64(-1)
	if db.snap.count.Load() > 0 {
		lastDur = int64(time.Duration(db.snap.lastDur.Load()).Seconds())
	}
	return []infoField{
		{"loading", 0}, {"async_loading", 0}, {"current_cow_peak", 0}, {"current_cow_size", 0},
		{"current_cow_size_age", 0}, {"current_fork_perc", "0.00"}, {"current_save_keys_processed", 0},
		{"current_save_keys_total", 0},
		{"rdb_changes_since_last_save", db.dirty},
		{"rdb_bgsave_in_progress", b2i(db.snap.running.Load())},
		{"rdb_last_save_time", lastSave}, {"rdb_last_bgsave_status", status},
		{"rdb_last_bgsave_time_sec", lastDur}, {"rdb_current_bgsave_time_sec", -1},
		{"rdb_saves", db.snap.count.Load()}, {"rdb_last_cow_size", 0},
		{"rdb_last_load_keys_expired", 0}, {"rdb_last_load_keys_loaded", 0},
		{"aof_enabled", 1},
		{"aof_rewrite_in_progress", b2i(db.snap.running.Load())}, {"aof_rewrite_scheduled", 0},
		{"aof_last_rewrite_time_sec", lastDur}, {"aof_current_rewrite_time_sec", -1},
		{"aof_last_bgrewrite_status", status}, {"aof_rewrites", db.snap.count.Load()},
		{"aof_rewrites_consecutive_failures", 0},
		{"aof_last_cow_size", 0}, {"module_fork_in_progress", 0}, {"module_fork_last_cow_size", 0},
		{"appendfsync", db.Fsync()},
		{"aof_current_size", db.logBytes - db.snap.baseBytes}, {"aof_base_size", 0},
		{"aof_pending_rewrite", 0}, {"aof_buffer_length", 0},
		{"aof_last_write_status", okErr(l.LastWriteFailed || db.failed != nil)},
		{"aof_pending_bio_fsync", b2i(db.dur.logged.Load() > db.dur.durableIndex())},
		{"aof_delayed_fsync", l.FsyncStalls},
		{"walkv_snapshots", db.snap.count.Load()}, {"walkv_snapshot_txn", db.snap.lastID},
		{"walkv_last_txn", db.dur.lastID.Load()}, {"walkv_durable_txn", db.dur.durableTxn()},
		{"walkv_log_first_index", first}, {"walkv_log_last_index", last},
		{"walkv_failed", b2i(db.failed != nil)},
	}
}

// persistenceOff is INFO persistence of a node with no log or snapshots
// of its own (cluster mode): Redis's fields with persistence off.
func persistenceOff() []infoField {
	var out []infoField
	for _, k := range strings.Fields("loading async_loading current_cow_peak current_cow_size current_cow_size_age " +
		"current_save_keys_processed current_save_keys_total rdb_changes_since_last_save rdb_bgsave_in_progress " +
		"rdb_saves rdb_last_cow_size rdb_last_load_keys_expired rdb_last_load_keys_loaded aof_enabled " +
		"aof_rewrite_in_progress aof_rewrite_scheduled aof_rewrites aof_rewrites_consecutive_failures aof_last_cow_size " +
		"module_fork_in_progress module_fork_last_cow_size") {
		out = append(out, infoField{k, 0})
	}
	for _, k := range strings.Fields("rdb_last_bgsave_time_sec rdb_current_bgsave_time_sec aof_last_rewrite_time_sec aof_current_rewrite_time_sec") {
		out = append(out, infoField{k, -1})
	}
	return append(out, infoField{"current_fork_perc", "0.00"}, infoField{"rdb_last_save_time", 0},
		infoField{"rdb_last_bgsave_status", "ok"}, infoField{"aof_last_bgrewrite_status", "ok"}, infoField{"aof_last_write_status", "ok"})
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
	for _, cs := range srv.statBase.commandStats(srv.db) {
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
	m := srv.statBase.errorStats(srv.db)
	out := make([]infoField, 0, len(m))
	for k, n := range m {
		out = append(out, infoField{"errorstat_" + k, fmt.Sprintf("count=%d", n)})
	}
	slices.SortFunc(out, func(a, b infoField) int { return strings.Compare(a.k, b.k) })
	return out
}

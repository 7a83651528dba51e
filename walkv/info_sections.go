package walkv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// INFO's server, clients, stats, replication and latencystats sections,
// with the field names of redis-server 7.0 (fields about what walkv does
// not have, such as forks, replicas, Lua or active defragmentation, are
// printed with the value Redis prints when they are not in use). Fields
// named walkv_* are walkv's own.

// runIDs are the server's run_id and master_replid: random, fixed for
// the life of the process, as Redis's.
var runIDs = sync.OnceValue(func() [2]string {
	var b [40]byte
	_, _ = rand.Read(b[:])
	return [2]string{hex.EncodeToString(b[:20]), hex.EncodeToString(b[20:])}
})

func (srv *Server) serverInfo() []infoField {
	db := srv.db
	exe, _ := os.Executable()
	now := time.Now()
	up := now.Sub(db.start)
	return []infoField{
		{"redis_version", redisVersion}, {"redis_git_sha1", "00000000"}, {"redis_git_dirty", 0},
		{"redis_build_id", "0"}, {"redis_mode", "standalone"},
		{"os", osName()}, {"arch_bits", strconv.Itoa(32 << (^uint(0) >> 63))},
		{"monotonic_clock", "Go runtime monotonic clock"}, {"multiplexing_api", multiplexingAPI()},
		{"atomicvar_api", "sync/atomic"}, {"gcc_version", "0.0.0"},
		{"process_id", os.Getpid()}, {"process_supervised", "no"}, {"run_id", runIDs()[0]},
		{"tcp_port", srv.cfg.Port}, {"server_time_usec", now.UnixMicro()},
		{"uptime_in_seconds", int64(up.Seconds())}, {"uptime_in_days", int64(up.Hours() / 24)},
		{"hz", srv.configValue("hz")}, {"configured_hz", srv.configValue("hz")},
		{"lru_clock", now.Unix() & (1<<24 - 1)}, {"executable", exe}, {"config_file", ""},
		{"io_threads_active", 0},
		{"walkv_engine", "waldb"}, {"go_version", runtime.Version()},
	}
}

// configValue returns a parameter's current value.
func (srv *Server) configValue(name string) string {
	_, byName := params()
	return srv.conf().get(srv, byName[name].p)
}

// multiplexingAPI names the poller gnet uses.
func multiplexingAPI() string {
	if runtime.GOOS == "linux" {
		return "epoll"
	}
	return "kqueue"
}

// clientsInfo is INFO's clients section. REQUIRES: DB.mu held.
func (srv *Server) clientsInfo() []infoField {
	db := srv.db
	return []infoField{
		{"connected_clients", db.stats.clients.Load()}, {"cluster_connections", 0},
		{"maxclients", srv.lim.maxClients.Load()},
		{"client_recent_max_input_buffer", 0}, {"client_recent_max_output_buffer", 0},
		{"blocked_clients", db.blk.n}, {"tracking_clients", 0}, {"clients_in_timeout_table", 0},
		{"walkv_clients_buffer_bytes", srv.clientMem.Load()},
	}
}

// statsInfo is INFO's stats section.
func (srv *Server) statsInfo() []infoField {
	db := srv.db
	in := srv.instant.rates()
	out := []infoField{
		{"total_connections_received", db.stats.connections.Load()},
		{"total_commands_processed", db.stats.commands.Load()},
		{"instantaneous_ops_per_sec", int64(in[0])},
		{"total_net_input_bytes", db.stats.netIn.Load()}, {"total_net_output_bytes", db.stats.netOut.Load()},
		{"total_net_repl_input_bytes", 0}, {"total_net_repl_output_bytes", 0},
		{"instantaneous_input_kbps", fmt.Sprintf("%.2f", in[1]/1024)},
		{"instantaneous_output_kbps", fmt.Sprintf("%.2f", in[2]/1024)},
		{"instantaneous_input_repl_kbps", "0.00"}, {"instantaneous_output_repl_kbps", "0.00"},
		{"sync_full", 0}, {"sync_partial_ok", 0}, {"sync_partial_err", 0},
		{"expired_keys", db.stats.expired.Load()}, {"expired_stale_perc", "0.00"},
		{"expired_time_cap_reached_count", 0}, {"expire_cycle_cpu_milliseconds", 0},
		{"evicted_keys", 0}, {"total_eviction_exceeded_time", 0}, {"current_eviction_exceeded_time", 0},
		{"keyspace_hits", db.stats.hits.Load()}, {"keyspace_misses", db.stats.misses.Load()},
		{"pubsubshard_channels", 0}, {"latest_fork_usec", 0}, {"total_forks", 0},
		{"migrate_cached_sockets", 0}, {"slave_expires_tracked_keys", 0},
		{"active_defrag_hits", 0}, {"active_defrag_misses", 0}, {"active_defrag_key_hits", 0},
		{"active_defrag_key_misses", 0}, {"total_active_defrag_time", 0}, {"current_active_defrag_time", 0},
		{"tracking_total_keys", 0}, {"tracking_total_items", 0}, {"tracking_total_prefixes", 0},
		{"unexpected_error_replies", 0}, {"total_error_replies", db.stats.errors.total()},
		{"dump_payload_sanitizations", 0},
		{"total_reads_processed", 0}, {"total_writes_processed", 0},
		{"io_threaded_reads_processed", 0}, {"io_threaded_writes_processed", 0},
		{"reply_buffer_shrinks", 0}, {"reply_buffer_expands", 0},
		{"walkv_fsync_requests", db.dur.syncs.Load()},
	}
	return append(out, append(srv.pubsubStats(), srv.securityStats()...)...)
}

// replicationInfo: walkv has no Redis replication (its cluster mode
// replicates through raft, see INFO persistence): always a master with no
// replicas.
func (srv *Server) replicationInfo() []infoField {
	return []infoField{
		{"role", "master"}, {"connected_slaves", 0}, {"master_failover_state", "no-failover"},
		{"master_replid", runIDs()[1]}, {"master_replid2", strings.Repeat("0", 40)},
		{"master_repl_offset", 0}, {"second_repl_offset", -1}, {"repl_backlog_active", 0},
		{"repl_backlog_size", srv.configValue("repl-backlog-size")},
		{"repl_backlog_first_byte_offset", 0}, {"repl_backlog_histlen", 0},
	}
}

// latencyStatsInfo is INFO latencystats: each command's latency
// percentiles (those of latency-tracking-info-percentiles) in
// microseconds. walkv's histogram has coarse buckets (see latencyBounds):
// a percentile is reported as the upper bound of its bucket.
func (srv *Server) latencyStatsInfo() []infoField {
	if srv.configValue("latency-tracking") != "yes" {
		return nil
	}
	var pcts []float64
	for _, f := range strings.Fields(srv.configValue("latency-tracking-info-percentiles")) {
		p, _ := strconv.ParseFloat(f, 64)
		pcts = append(pcts, p)
	}
	var out []infoField
	for _, cs := range srv.statBase.commandStats(srv.db) {
		var total int64
		for _, n := range cs.Latency {
			total += n
		}
		if total == 0 || len(pcts) == 0 {
			continue
		}
		parts := make([]string, len(pcts))
		for i, p := range pcts {
			parts[i] = fmt.Sprintf("p%s=%.3f", strconv.FormatFloat(p, 'f', -1, 64), latencyPercentile(cs.Latency, total, p))
		}
		out = append(out, infoField{"latency_percentiles_usec_" + cs.Name, strings.Join(parts, ",")})
	}
	return out
}

// latencyPercentile returns the upper bound, in microseconds, of the
// bucket that holds percentile p of a histogram of total runs (the last
// bucket, unbounded, reports twice the last bound).
func latencyPercentile(hist []int64, total int64, p float64) float64 {
	want := int64(float64(total)*p/100 + 0.5)
	want = max(want, 1)
	var seen int64
	for i, n := range hist {
		seen += n
		if seen >= want {
			if i < len(latencyBounds) {
				return float64(latencyBounds[i].Microseconds())
			}
			break
		}
	}
	return float64(2 * latencyBounds[len(latencyBounds)-1].Microseconds())
}

// instantRates samples the counters 10 times a second, as Redis's
// serverCron does, for the instantaneous_* fields: the average rate over
// the last 16 samples.
type instantRates struct {
	mu   sync.Mutex
	last [3]int64       // commands, input bytes, output bytes at the last sample
	at   time.Time      // time of the last sample
	ring [16][3]float64 // per-second rates; guarded by mu
	n    int
}

// sample records the rates since the previous sample.
func (ir *instantRates) sample(now time.Time, cur [3]int64) {
	ir.mu.Lock()
	defer ir.mu.Unlock()
	if !ir.at.IsZero() {
		dt := now.Sub(ir.at).Seconds()
		if dt > 0 {
			var r [3]float64
			for i := range cur {
				r[i] = float64(cur[i]-ir.last[i]) / dt
			}
			ir.ring[ir.n%len(ir.ring)] = r
			ir.n++
		}
	}
	ir.last, ir.at = cur, now
}

// rates returns the average of the recorded samples.
func (ir *instantRates) rates() [3]float64 {
	ir.mu.Lock()
	defer ir.mu.Unlock()
	var sum [3]float64
	k := min(ir.n, len(ir.ring))
	for i := range k {
		for j := range sum {
			sum[j] += ir.ring[i][j]
		}
	}
	if k > 0 {
		for j := range sum {
			sum[j] /= float64(k)
		}
	}
	return sum
}

// sampleInstant feeds instantRates (called by housekeeping).
func (srv *Server) sampleInstant() {
	s := &srv.db.stats
	srv.instant.sample(time.Now(), [3]int64{s.commands.Load(), s.netIn.Load(), s.netOut.Load()})
}

package walkv

import "sync"

// CONFIG RESETSTAT. Redis zeroes its counters; walkv's are also exported
// as monotonic metrics (Stats, Prometheus), so it keeps them and records
// their values at the reset instead: INFO prints each counter minus its
// value at the last RESETSTAT, and Stats is unaffected.

// statsBaseline is the counters' values at the last CONFIG RESETSTAT.
type statsBaseline struct {
	mu     sync.Mutex
	fields map[string]map[string]int64 // by INFO section, by field
	cmds   map[string]CommandStats
	errs   map[string]int64
}

// resetCounters are INFO's fields that CONFIG RESETSTAT resets, by
// section (Redis's resetServerStats, and walkv's counterparts).
var resetCounters = map[string]map[string]bool{
	"stats": setOf("total_connections_received", "total_commands_processed", "total_net_input_bytes",
		"total_net_output_bytes", "rejected_connections", "expired_keys", "evicted_clients", "keyspace_hits",
		"keyspace_misses", "total_error_replies", "client_query_buffer_limit_disconnections",
		"client_output_buffer_limit_disconnections", "walkv_idle_timeout_disconnections", "walkv_oom_rejections",
		"acl_access_denied_auth", "acl_access_denied_cmd", "acl_access_denied_key", "walkv_fsync_requests"),
	"persistence": setOf("aof_delayed_fsync"),
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// resetStats records the current counters as the new zero.
func (srv *Server) resetStats() {
	fields := map[string]map[string]int64{"stats": counters(srv.statsInfo(), resetCounters["stats"])}
	// Not persistenceInfo: it needs DB.mu, which EXEC may hold.
	fields["persistence"] = map[string]int64{"aof_delayed_fsync": int64(srv.db.logStats.snapshot().FsyncStalls)}
	cmds := map[string]CommandStats{}
	for _, cs := range srv.db.commandStats() {
		cmds[cs.Name] = cs
	}
	errs := srv.db.stats.errors.snapshot()
	b := &srv.statBase
	b.mu.Lock()
	b.fields, b.cmds, b.errs = fields, cmds, errs
	b.mu.Unlock()
}

// counters picks the named integer fields.
func counters(fs []infoField, names map[string]bool) map[string]int64 {
	out := map[string]int64{}
	for _, f := range fs {
		if n, ok := asInt64(f.v); ok && names[f.k] {
			out[f.k] = n
		}
	}
	return out
}

func asInt64(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case uint64:
		return int64(v), true
	}
	return 0, false
}

// adjust subtracts the baseline from a section's counters.
func (b *statsBaseline) adjust(sec string, fs []infoField) []infoField {
	b.mu.Lock()
	base := b.fields[sec]
	b.mu.Unlock()
	if base == nil {
		return fs
	}
	for i, f := range fs {
		if n, ok := asInt64(f.v); ok && resetCounters[sec][f.k] {
			fs[i].v = n - base[f.k]
		}
	}
	return fs
}

// commandStats returns the commands' counters since the last reset (the
// commands with none left out).
func (b *statsBaseline) commandStats(db *DB) []CommandStats {
	all := db.commandStats()
	b.mu.Lock()
	defer b.mu.Unlock()
	out := all[:0]
	for _, cs := range all {
		if old, ok := b.cmds[cs.Name]; ok {
			cs.Calls -= old.Calls
			cs.Failed -= old.Failed
			cs.Rejected -= old.Rejected
			cs.Duration -= old.Duration
			for i := range cs.Latency {
				cs.Latency[i] -= old.Latency[i]
			}
		}
		if cs.Calls != 0 || cs.Failed != 0 || cs.Rejected != 0 {
			out = append(out, cs)
		}
	}
	return out
}

// errorStats returns the error replies by prefix since the last reset.
func (b *statsBaseline) errorStats(db *DB) map[string]int64 {
	m := db.stats.errors.snapshot()
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, n := range m {
		if n -= b.errs[k]; n > 0 {
			m[k] = n
		} else {
			delete(m, k)
		}
	}
	return m
}

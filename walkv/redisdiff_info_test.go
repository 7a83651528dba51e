package walkv

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The differential tests of INFO and MEMORY: for every INFO section,
// walkv prints every field redis-server 7.0 prints (a superset; its own
// fields are walkv_* and a few more), the section choice of INFO's
// arguments is Redis's, and MEMORY's replies, errors and STATS field
// names are Redis's (its figures are walkv's own).

// infoOmissions are the fields of redis-server 7.0's INFO that walkv
// deliberately does not print (documented in docs/walkv.md): none.
var infoOmissions = map[string]bool{}

// infoSectionsOf parses an INFO reply into section title → field names.
func infoSectionsOf(t *testing.T, v any) map[string][]string {
	t.Helper()
	s, ok := v.(respBulk)
	if !ok {
		t.Fatalf("INFO replied %s", showReply(v))
	}
	out := map[string][]string{}
	sec := ""
	for _, line := range strings.Split(string(s), "\r\n") {
		switch {
		case strings.HasPrefix(line, "# "):
			sec = line[2:]
			out[sec] = []string{}
		case line != "":
			k, _, _ := strings.Cut(line, ":")
			out[sec] = append(out[sec], k)
		}
	}
	return out
}

// sameOnBoth sends cmd to both servers and fails unless both succeed.
func sameOnBoth(t *testing.T, w, rd *respClient, cmd ...string) {
	t.Helper()
	for _, c := range []*respClient{w, rd} {
		if _, err := c.do(cmd...); err != nil {
			t.Fatalf("%q: %v", cmd, err)
		}
	}
}

func TestRedisDiffInfo(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	w := dialResp(t, e.srv.Addr().String())
	rd := dialResp(t, raddr)
	// The same commands on both, so that commandstats, errorstats,
	// latencystats and keyspace have the same lines (subcommands are
	// counted as container|sub).
	for _, cmd := range [][]string{{"SET", "k", "v"}, {"GET", "k"}, {"INCR", "k"}, {"SET", "t", "v", "EX", "1000"},
		{"GET", "nope"}, {"LPUSH", "k", "x"}, {"PING"}, {"CONFIG", "GET", "maxmemory"}, {"CONFIG", "SET", "maxmemory", "x"},
		{"CLIENT", "ID"}, {"OBJECT", "ENCODING", "k"}, {"MEMORY", "USAGE", "k"}} {
		sameOnBoth(t, w, rd, cmd...)
	}
	for _, args := range [][]string{{}, {"all"}, {"everything"}, {"default"}, {"server", "CLIENTS"}, {"nosuch"},
		{"commandstats"}, {"latencystats", "keyspace"}, {"all", "nosuch"}, {"default", "commandstats"}, {"module_list"}, {"modules"}} {
		cmd := append([]string{"INFO"}, args...)
		ws, err := w.do(cmd...)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := rd.do(cmd...)
		if err != nil {
			t.Fatal(err)
		}
		wsec, rsec := infoSectionsOf(t, ws), infoSectionsOf(t, rs)
		for sec, fields := range rsec {
			wf, ok := wsec[sec]
			if !ok {
				t.Errorf("%q: walkv lacks section %q", cmd, sec)
				continue
			}
			for _, f := range fields {
				if !slices.Contains(wf, f) && !infoOmissions[f] {
					t.Errorf("%q: walkv's section %q lacks field %q", cmd, sec, f)
				}
			}
		}
		for sec := range wsec {
			if _, ok := rsec[sec]; !ok && sec != "Log" {
				t.Errorf("%q: walkv has section %q that redis-server has not", cmd, sec)
			}
		}
	}
}

// TestInfoValues checks that INFO's figures mean what Redis's do, where
// walkv has them.
func TestInfoValues(t *testing.T) {
	e := newEnv(t, nil)
	e.runSteps([]step{{"SET k v", "OK"}, {"SAVE", "OK"}, {"SET k w", "OK"}})
	m := infoFields(t, e.do("INFO everything"))
	positive := []string{"used_memory", "used_memory_rss", "used_memory_peak", "allocator_allocated", "allocator_active",
		"allocator_resident", "total_system_memory", "process_id", "tcp_port", "server_time_usec", "rdb_saves", "aof_rewrites",
		"rdb_changes_since_last_save", "total_commands_processed", "maxclients", "connected_clients"}
	for _, k := range positive {
		if n, err := strconv.ParseInt(m[k], 10, 64); err != nil || n <= 0 {
			t.Errorf("%s = %q, want a positive integer", k, m[k])
		}
	}
	if u, err := strconv.ParseFloat(m["used_cpu_user"], 64); err != nil || u+mustFloat(m["used_cpu_sys"]) <= 0 {
		t.Errorf("used_cpu_user = %q, used_cpu_sys = %q: no CPU time", m["used_cpu_user"], m["used_cpu_sys"])
	}
	for k, want := range map[string]string{"role": "master", "connected_slaves": "0", "aof_enabled": "1",
		"rdb_last_bgsave_status": "ok", "cluster_enabled": "0", "redis_mode": "standalone", "mem_allocator": "go-"} {
		if !strings.HasPrefix(m[k], want) {
			t.Errorf("%s = %q, want %q", k, m[k], want)
		}
	}
	hex40 := regexp.MustCompile(`^[0-9a-f]{40}$`)
	if !hex40.MatchString(m["master_replid"]) || !hex40.MatchString(m["run_id"]) || m["master_replid"] == m["run_id"] {
		t.Errorf("run_id %q, master_replid %q: want two different 40-digit hex ids", m["run_id"], m["master_replid"])
	}
	if m["used_memory_human"] != bytesToHuman(uint64(mustInt(m["used_memory"]))) {
		t.Errorf("used_memory_human %q for used_memory %s", m["used_memory_human"], m["used_memory"])
	}
	if !strings.HasPrefix(m["latency_percentiles_usec_set"], "p50=") {
		t.Errorf("latency_percentiles_usec_set = %q", m["latency_percentiles_usec_set"])
	}
}

func mustFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// TestConfigResetStat: CONFIG RESETSTAT zeroes INFO's counters,
// commandstats and errorstats, and not the monotonic Stats.
func TestConfigResetStat(t *testing.T) {
	e := newEnv(t, nil)
	e.runSteps([]step{{"SET k v", "OK"}, {"GET k", "v"}, {"INCR k", "ERR:ERR value is not an integer or out of range"}})
	before := e.db.Stats()
	e.runSteps([]step{{"CONFIG RESETSTAT", "OK"}})
	m := infoFields(t, e.do("INFO everything"))
	if n := infoInt(t, m, "keyspace_hits"); n != 0 {
		t.Errorf("keyspace_hits after RESETSTAT = %d", n)
	}
	if n := infoInt(t, m, "total_error_replies"); n != 0 {
		t.Errorf("total_error_replies after RESETSTAT = %d", n)
	}
	if _, ok := m["cmdstat_set"]; ok {
		t.Errorf("cmdstat_set after RESETSTAT: %q", m["cmdstat_set"])
	}
	if _, ok := m["errorstat_ERR"]; ok {
		t.Errorf("errorstat_ERR after RESETSTAT: %q", m["errorstat_ERR"])
	}
	e.runSteps([]step{{"GET k", "v"}})
	m = infoFields(t, e.do("INFO stats commandstats"))
	if n := infoInt(t, m, "keyspace_hits"); n != 1 {
		t.Errorf("keyspace_hits after RESETSTAT and one hit = %d", n)
	}
	if !strings.HasPrefix(m["cmdstat_get"], "calls=1,") {
		t.Errorf("cmdstat_get = %q, want calls=1", m["cmdstat_get"])
	}
	if after := e.db.Stats(); after.KeyspaceHits != before.KeyspaceHits+1 {
		t.Errorf("Stats().KeyspaceHits %d → %d: RESETSTAT must not reset the monotonic figures", before.KeyspaceHits, after.KeyspaceHits)
	}
}

// TestRedisDiffMemory compares MEMORY's replies (not its figures).
func TestRedisDiffMemory(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	w := dialResp(t, e.srv.Addr().String())
	rd := dialResp(t, raddr)
	sameOnBoth(t, w, rd, "SET", "k", "v")
	f := diffFamily{name: "memory"}
	for _, cmd := range [][]string{
		{"MEMORY", "HELP"}, {"MEMORY", "USAGE", "nope"}, {"MEMORY", "USAGE", "k", "SAMPLES", "x"},
		{"MEMORY", "USAGE", "k", "SAMPLES", "-1"}, {"MEMORY", "USAGE", "k", "SAMPLES"}, {"MEMORY", "USAGE", "k", "BOGUS"},
		{"MEMORY", "USAGE", "nope", "SAMPLES", "0"}, {"MEMORY", "USAGE"}, {"MEMORY", "NOSUCH"}, {"MEMORY", "STATS", "x"},
		{"MEMORY", "PURGE"}, {"MEMORY", "HELP", "x"}, {"MEMORY"}, {"MEMORY", "DOCTOR", "x"},
	} {
		if !compareOne(t, w, rd, f, cmd) {
			t.Errorf("MEMORY differs for %q", cmd)
		}
	}
	// Figures differ; types and STATS's field names do not.
	for _, cmd := range [][]string{{"MEMORY", "USAGE", "k"}, {"MEMORY", "USAGE", "k", "SAMPLES", "0"}, {"MEMORY", "DOCTOR"}, {"MEMORY", "MALLOC-STATS"}} {
		wv, _ := w.do(cmd...)
		rv, _ := rd.do(cmd...)
		if fmt.Sprintf("%T", wv) != fmt.Sprintf("%T", rv) {
			t.Errorf("%q: walkv %s, redis %s", cmd, showReply(wv), showReply(rv))
		}
	}
	keys := func(c *respClient) []string {
		v, err := c.do("MEMORY", "STATS")
		a, ok := v.([]any)
		if err != nil || !ok {
			t.Fatalf("MEMORY STATS: %v %v", v, err)
		}
		var ks []string
		for i := 0; i < len(a); i += 2 {
			ks = append(ks, string(a[i].(respBulk)))
		}
		return ks
	}
	if wk, rk := keys(w), keys(rd); !slices.Equal(wk, rk) {
		t.Errorf("MEMORY STATS fields:\n  walkv %v\n  redis %v", wk, rk)
	}
}

// TestMemoryUsage checks walkv's estimate: it grows with the value, by
// type, and SAMPLES changes only how it is estimated.
func TestMemoryUsage(t *testing.T) {
	e := newEnv(t, nil)
	usage := func(args string) int64 {
		t.Helper()
		n, ok := e.do("MEMORY USAGE " + args).(int64)
		if !ok {
			t.Fatalf("MEMORY USAGE %s: %v", args, e.do("MEMORY USAGE "+args))
		}
		return n
	}
	e.runSteps([]step{{"SET small v", "OK"}, {"SET big " + strings.Repeat("x", 10000), "OK"}})
	if s, b := usage("small"), usage("big"); s <= 0 || b-s < 10000-8 { // 9999 more bytes of value, and a capacity
		t.Errorf("usage small %d, big %d: want big about 10000 bytes more", s, b)
	}
	for i := range 100 {
		e.runSteps([]step{
			{fmt.Sprintf("HSET h f%03d %s", i, strings.Repeat("v", 100)), int64(1)},
			{fmt.Sprintf("RPUSH l %s", strings.Repeat("e", 100)), int64(i + 1)},
			{fmt.Sprintf("SADD s m%03d", i), int64(1)},
			{fmt.Sprintf("ZADD z %d m%03d", i, i), int64(1)},
		})
	}
	for _, k := range []string{"h", "l", "s", "z"} {
		all, five := usage(k+" SAMPLES 0"), usage(k)
		if all < 100*4 || five < 100*4 {
			t.Errorf("%s: usage %d (all) %d (5 samples): want at least 4 bytes per element", k, all, five)
		}
		if k != "s" && k != "z" && (all < 100*100 || five < 100*100) { // elements of 100 bytes
			t.Errorf("%s: usage %d, %d: want at least the elements' bytes", k, all, five)
		}
	}
	before := usage("small")
	e.runSteps([]step{{"EXPIRE small 1000", int64(1)}})
	if after := usage("small"); after <= before {
		t.Errorf("usage with a TTL %d, without %d: a TTL's entry costs bytes", after, before)
	}
	e.runSteps([]step{{"MEMORY USAGE nope", nil}, {"MEMORY PURGE", "OK"}})
	if s, ok := e.do("MEMORY DOCTOR").(string); !ok || s == "" {
		t.Errorf("MEMORY DOCTOR: %v", e.do("MEMORY DOCTOR"))
	}
}

// TestInfoPersistenceCluster: a cluster node, which has no log or
// snapshots of its own, still prints every persistence field Redis has.
func TestInfoPersistenceCluster(t *testing.T) {
	e, _ := newClusterEnv(t, ReadLinearizable)
	m := infoFields(t, e.do("INFO persistence"))
	for _, k := range []string{"loading", "rdb_changes_since_last_save", "rdb_last_bgsave_status", "aof_enabled",
		"aof_last_write_status", "module_fork_last_cow_size", "walkv_cluster"} {
		if _, ok := m[k]; !ok {
			t.Errorf("cluster INFO persistence lacks %s", k)
		}
	}
	if m["aof_enabled"] != "0" {
		t.Errorf("aof_enabled = %q on a cluster node", m["aof_enabled"])
	}
}

package walkv

import (
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"
)

// infoFields parses an INFO reply into its fields.
func infoFields(t *testing.T, reply any) map[string]string {
	t.Helper()
	s, ok := reply.(string)
	if !ok {
		t.Fatalf("INFO replied %v", reply)
	}
	m := map[string]string{}
	for _, line := range strings.Split(s, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			m[k] = v
		}
	}
	return m
}

func infoInt(t *testing.T, m map[string]string, k string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(m[k], 10, 64)
	if err != nil {
		t.Fatalf("INFO field %s = %q: %v", k, m[k], err)
	}
	return n
}

// TestInfoCommandStats: INFO commandstats and errorstats count the calls,
// failures and rejections of the commands sent, and DB.Stats agrees.
func TestInfoCommandStats(t *testing.T) {
	e := newEnv(t, nil)
	const sets, gets = 7, 4
	for i := range sets {
		e.do("SET k" + strconv.Itoa(i) + " v")
	}
	for range gets {
		e.do("GET k0")
	}
	e.runSteps([]step{
		{"GET", "ERR:ERR wrong number"},    // rejected: arity
		{"LPUSH k0 x", "ERR:WRONGTYPE"},    // failed
		{"NOSUCHCMD a", "ERR:ERR unknown"}, // no command to count it for
		{"MULTI", "OK"}, {"SET m v", "QUEUED"}, {"EXEC", []any{"OK"}},
	})
	cs := infoFields(t, e.do("INFO commandstats"))
	want := map[string]string{
		"cmdstat_set":   "calls=" + strconv.Itoa(sets+1) + ",",
		"cmdstat_get":   "calls=" + strconv.Itoa(gets) + ",",
		"cmdstat_lpush": "calls=1,",
		"cmdstat_exec":  "calls=1,",
	}
	for k, prefix := range want {
		if !strings.HasPrefix(cs[k], prefix) {
			t.Errorf("%s = %q, want prefix %q", k, cs[k], prefix)
		}
	}
	for k, suffix := range map[string]string{"cmdstat_get": "rejected_calls=1,failed_calls=0",
		"cmdstat_lpush": "rejected_calls=0,failed_calls=1", "cmdstat_set": "rejected_calls=0,failed_calls=0"} {
		if !strings.HasSuffix(cs[k], suffix) {
			t.Errorf("%s = %q, want suffix %q", k, cs[k], suffix)
		}
	}
	es := infoFields(t, e.do("INFO errorstats"))
	if es["errorstat_WRONGTYPE"] != "count=1" {
		t.Errorf("errorstat_WRONGTYPE = %q, want count=1", es["errorstat_WRONGTYPE"])
	}
	// go-redis may send commands of its own at connect (HELLO, CLIENT
	// SETINFO) that fail with ERR: at least the arity and unknown ones.
	if n, _ := strconv.Atoi(strings.TrimPrefix(es["errorstat_ERR"], "count=")); n < 2 {
		t.Errorf("errorstat_ERR = %q, want count>=2", es["errorstat_ERR"])
	}
	// Redis 7.0's default INFO has errorstats, not commandstats.
	if all := e.do("INFO").(string); strings.Contains(all, "cmdstat_") || !strings.Contains(all, "errorstat_") {
		t.Error("default INFO has commandstats or lacks errorstats (Redis 7.0 shows commandstats only on request)")
	}
	if all := e.do("INFO all").(string); !strings.Contains(all, "cmdstat_set:") || !strings.Contains(all, "errorstat_WRONGTYPE:") {
		t.Error("INFO all lacks commandstats or errorstats")
	}

	st := e.db.Stats()
	byName := map[string]CommandStats{}
	for _, c := range st.Commands {
		byName[c.Name] = c
	}
	set := byName["set"]
	var timed int64
	for _, n := range set.Latency {
		timed += n
	}
	if set.Calls != sets+1 || timed != sets || len(set.Latency) != len(CommandLatencyBounds())+1 {
		t.Errorf("Stats set = %+v, want %d calls, %d timed (one inside EXEC)", set, sets+1, sets)
	}
	if kt := st.KeysByType; kt["string"] != sets+1 || kt["list"] != 0 || len(kt) != 5 {
		t.Errorf("KeysByType = %v", kt)
	}
	if st.Errors["WRONGTYPE"] != 1 || st.Keys != sets+1 || st.ConnectedClients < 1 || st.NetInputBytes == 0 || st.NetOutputBytes == 0 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestInfoLog: INFO's log figures follow the writes, the fsyncs and a
// rotation.
func TestInfoLog(t *testing.T) {
	e := newEnv(t, &Options{SnapshotLogBytes: -1})
	before := infoFields(t, e.do("INFO log"))
	if before["wal_rotations"] != "0" || before["wal_entries_written"] == "" {
		t.Fatalf("INFO log at start: %v", before)
	}
	// 16 values of 32 KiB overflow a 256 KiB segment (newEnv's): at least
	// one rotation.
	const n, size = 16, 32 << 10
	val := strings.Repeat("x", size)
	for i := range n {
		if got := doWith(t, e.c, "SET", "big"+strconv.Itoa(i), val); got != "OK" {
			t.Fatalf("SET: %v", got)
		}
	}
	after := infoFields(t, e.do("INFO log"))
	delta := func(k string) int64 { return infoInt(t, after, k) - infoInt(t, before, k) }
	if d := delta("wal_entries_written"); d < n {
		t.Errorf("wal_entries_written grew by %d after %d SETs", d, n)
	}
	if d, l := delta("wal_entries_written"), delta("wal_last_index"); d != l {
		t.Errorf("wal_entries_written grew by %d, wal_last_index by %d", d, l)
	}
	if d := delta("wal_bytes_written"); d < n*size {
		t.Errorf("wal_bytes_written grew by %d after %d values of %d bytes", d, n, size)
	}
	if delta("wal_fsyncs") < 1 || infoInt(t, after, "wal_last_fsync_usec") > infoInt(t, after, "wal_max_fsync_usec") {
		t.Errorf("fsync figures under appendfsync always: before %v, after %v", before, after)
	}
	if delta("wal_rotations") < 1 {
		t.Errorf("wal_rotations grew by %d after writing %d bytes to 256 KiB segments", delta("wal_rotations"), n*size)
	}
	p := infoFields(t, e.do("INFO persistence"))
	if p["aof_last_write_status"] != "ok" || p["aof_delayed_fsync"] != "0" {
		t.Errorf("INFO persistence: %v", p)
	}
	// A snapshot truncates the log's front: wal_first_index moves.
	e.do("SAVE")
	saved := infoFields(t, e.do("INFO log"))
	if infoInt(t, saved, "wal_first_index") <= infoInt(t, after, "wal_first_index") || infoInt(t, saved, "wal_truncations") < 1 {
		t.Errorf("after SAVE: first index %s (was %s), truncations %s", saved["wal_first_index"], after["wal_first_index"], saved["wal_truncations"])
	}
}

// TestCommandAccountingAllocs: counting a command (runCounted's part)
// and an error reply of a known prefix allocate nothing, so the command
// path's allocations are what they were without accounting
// (BenchmarkCommand reports them).
func TestCommandAccountingAllocs(t *testing.T) {
	var st cmdStat
	var es errorStats
	es.count("WRONGTYPE first") // the prefix's first error adds it to the map
	allocs := testing.AllocsPerRun(1000, func() {
		st.observe(3 * time.Millisecond)
		es.count("WRONGTYPE Operation against a key holding the wrong kind of value")
	})
	if allocs != 0 {
		t.Errorf("accounting allocates %v times per command", allocs)
	}
	if st.calls.Load() < 1000 || st.hist[8].Load() != st.calls.Load() { // 3 ms: bucket 8, (2.5 ms, 5 ms]
		t.Errorf("bucket 8 has %d of %d calls after 3 ms observations", st.hist[8].Load(), st.calls.Load())
	}
}

// TestErrorPrefixCap: error prefixes beyond the cap are counted as
// OTHER, so the label set stays bounded.
func TestErrorPrefixCap(t *testing.T) {
	var es errorStats
	for i := range maxErrorPrefixes + 10 {
		es.count("P" + strconv.Itoa(i) + " message")
	}
	m := es.snapshot()
	if len(m) != maxErrorPrefixes+1 || m[otherErrors] != 10 || es.total() != maxErrorPrefixes+10 {
		t.Errorf("%d prefixes, OTHER=%d, total %d", len(m), m[otherErrors], es.total())
	}
}

// TestKeysByType: the per-type key counts agree with TYPE of every key
// after creations, overwrites by another type, deletions, a collection
// emptied, a snapshot and a restart, and FLUSHALL.
func TestKeysByType(t *testing.T) {
	e := newEnv(t, &Options{SnapshotLogBytes: -1})
	check := func(when string) {
		t.Helper()
		want := map[string]int64{"string": 0, "hash": 0, "list": 0, "set": 0, "zset": 0}
		keys, _ := e.do("KEYS *").([]any)
		for _, k := range keys {
			want[e.do("TYPE "+k.(string)).(string)]++
		}
		if got := e.db.Stats().KeysByType; !maps.Equal(got, want) {
			t.Errorf("%s: KeysByType %v, TYPE says %v", when, got, want)
		}
	}
	e.runSteps([]step{
		{"SET s1 v", "OK"}, {"SET s2 v", "OK"}, {"RPUSH l1 a b", int64(2)}, {"RPUSH l2 a", int64(1)},
		{"HSET h1 f v", int64(1)}, {"SADD z1 m", int64(1)}, {"ZADD zz 1 m", int64(1)},
	})
	check("created")
	e.runSteps([]step{
		{"SET l1 v", "OK"},                     // a list replaced by a string
		{"DEL h1", int64(1)}, {"LPOP l2", "a"}, // a list emptied: removed
		{"RENAME s2 s3", "OK"},
	})
	check("changed")
	e.do("SAVE")
	e.do("SADD z2 m")
	e.restart()
	check("restarted")
	e.do("FLUSHALL")
	check("flushed")
}

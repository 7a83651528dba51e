package walkv

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/waldb/wal/vfs"
)

// debugWorkload writes keys of every type, with and without deadlines,
// in both encodings of each type where walkv distinguishes them.
var debugWorkload = []string{
	"SET s hello", "SET n 42", "SET big " + strings.Repeat("x", 100), "SET ttl v PX 3600000",
	"HSET h f1 v1 f2 v2", "HSET hbig f " + strings.Repeat("y", 100),
	"RPUSH l a b c d", "LPUSH l z", "RPUSH lttl x", "PEXPIRE lttl 3600000",
	"SADD si 1 2 3", "SADD ss a b c", "SREM ss b",
	"ZADD z 1 a 2 b 3 c", "ZADD zbig 1 " + strings.Repeat("m", 100) + " 2.5 n",
	"INCR counter", "APPEND s ,world", "LPOP l", "HDEL h f2", "ZINCRBY z 10 a",
}

// dumpState reads every key of the workload back through commands, in a
// comparable form.
func dumpState(t *testing.T, c *redis.Client) string {
	t.Helper()
	var b strings.Builder
	for _, k := range []string{"s", "n", "big", "ttl", "h", "hbig", "l", "lttl", "si", "ss", "z", "zbig", "counter"} {
		typ := doWith(t, c, "TYPE", k)
		var v any
		switch typ {
		case "string":
			v = doWith(t, c, "GET", k)
		case "hash":
			v = sortedArray(nil, toAnySlice(doWith(t, c, "HGETALL", k)))
		case "list":
			v = doWith(t, c, "LRANGE", k, 0, -1)
		case "set":
			v = sortedArray(nil, toAnySlice(doWith(t, c, "SMEMBERS", k)))
		case "zset":
			v = doWith(t, c, "ZRANGE", k, 0, -1, "WITHSCORES")
		}
		ttl := doWith(t, c, "PTTL", k).(int64) > 0
		fmt.Fprintf(&b, "%s %v %v ttl=%v\n", k, typ, v, ttl)
	}
	return b.String()
}

func toAnySlice(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case map[any]any:
		var out []any
		for k, x := range v {
			out = append(out, fmt.Sprint(k, "=", x))
		}
		return out
	}
	return nil
}

// TestDebugReload: DEBUG RELOAD round-trips every type through a
// snapshot and the log (with and without a new snapshot, with writes
// after the snapshot), answers OK, and leaves every value as it was; a
// restart agrees. A keyspace changed behind the log's back fails it.
func TestDebugReload(t *testing.T) {
	e := newEnv(t, nil)
	for _, cmd := range debugWorkload {
		e.do(cmd)
	}
	before := dumpState(t, e.c)
	e.runSteps([]step{
		{"DEBUG RELOAD", "OK"},
		{"SET after snapshot", "OK"}, // in the log only
		{"RPUSH l tail", int64(5)},
		{"DEBUG RELOAD NOSAVE", "OK"},
		{"DEBUG RELOAD MERGE NOFLUSH", "OK"},
		{"DEBUG RELOAD BOGUS", "ERR:ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."},
		{"RPOP l", "tail"},
		{"DEL after", int64(1)},
	})
	if after := dumpState(t, e.c); after != before {
		t.Fatalf("state changed across DEBUG RELOAD:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	e.restart()
	if after := dumpState(t, e.c); after != before {
		t.Fatalf("state changed across a restart:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// Change memory without logging: the reloaded state must differ.
	e.db.mu.Lock()
	it := e.db.dbs[0].lookup("s")
	it = e.db.dbs[0].mutable(it)
	it.str = []byte("tampered")
	e.db.mu.Unlock()
	e.runSteps([]step{{"DEBUG RELOAD NOSAVE", "ERR:ERR Error trying to load the RDB dump: walkv: the state reloaded"}})
	if err := e.db.reloadCheck(); !errors.Is(err, errReloadDiffers) {
		t.Fatalf("reloadCheck after tampering: %v, want errReloadDiffers", err)
	}
}

// TestDebugProtected: DEBUG is refused unless EnableDebugCommand allows
// it, with Redis 7.0's error, before authentication and inside MULTI
// (which then aborts).
func TestDebugProtected(t *testing.T) {
	for _, tc := range []struct {
		opt     string
		allowed bool
	}{{"", false}, {"yes", true}, {"local", true}} {
		srv, _ := serveWith(t, "127.0.0.1:0", &ServerOptions{EnableDebugCommand: tc.opt})
		c := clientOf(t, srv, redis.Options{})
		want := any("OK")
		if !tc.allowed {
			want = "ERR:" + errDebugProtected
		}
		steps(t, c, []step{{"DEBUG SLEEP 0", want}, {"PING", "PONG"}})
		if !tc.allowed {
			raw := dialResp(t, srv.Addr().String())
			for _, cmd := range [][]string{{"MULTI"}, {"DEBUG", "SLEEP", "0"}, {"PING"}, {"EXEC"}} {
				v, err := raw.do(cmd...)
				if err != nil {
					t.Fatal(err)
				}
				if cmd[0] == "EXEC" && !strings.HasPrefix(showReply(v), "-EXECABORT") {
					t.Fatalf("EXEC after a refused DEBUG: %s", showReply(v))
				}
			}
		}
	}
	db, err := Open(testDir, &Options{FS: vfs.NewMem(), SegmentSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Listen(db, "127.0.0.1:0", &ServerOptions{EnableDebugCommand: "maybe"}); !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("EnableDebugCommand maybe: %v, want ErrInvalidOption", err)
	}
}

// TestDebugSetActiveExpire: with the active expiry loop off, an expired
// key stays in the keyspace (INFO keyspace counts it, expired_keys does
// not move) yet no command sees it; turned back on, the loop removes it.
func TestDebugSetActiveExpire(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, &Options{Clock: clock.Now, ExpireInterval: time.Millisecond})
	e.runSteps([]step{
		{"DEBUG SET-ACTIVE-EXPIRE 0", "OK"},
		{"SET k v PX 100", "OK"},
		{"SET keep v", "OK"},
	})
	clock.Advance(time.Second)
	if n := e.db.expireSome(0); n != 0 {
		t.Fatalf("the expiry loop removed %d keys while off", n)
	}
	// Not yet touched by a command: held and counted, as in Redis.
	e.runSteps([]step{{"DBSIZE", int64(2)}})
	c := e.client()
	if v := infoValue(t, c, "db0"); !strings.HasPrefix(v, "keys=2,") {
		t.Fatalf("INFO keyspace while the loop is off: %s, want keys=2", v)
	}
	if v := infoValue(t, c, "expired_keys"); v != "0" {
		t.Fatalf("expired_keys while the loop is off: %s", v)
	}
	// Invisible to commands all the same.
	e.runSteps([]step{{"EXISTS k", int64(0)}})
	// With the loop back on, it is removed (it may already have been, by
	// EXISTS finding it expired): either way counted once.
	e.runSteps([]step{{"DEBUG SET-ACTIVE-EXPIRE 1", "OK"}})
	deadline := time.Now().Add(10 * time.Second)
	for infoValue(t, c, "expired_keys") != "1" {
		if time.Now().After(deadline) {
			t.Fatal("the expiry loop did not remove the key once on again")
		}
		time.Sleep(time.Millisecond) // polling the server's loop, with a deadline
	}
}

// TestDebugObject: DEBUG OBJECT's line has Redis's fields, in order, with
// OBJECT ENCODING's encoding; lists add the quicklist fields; a missing
// key is an error; other subcommands get Redis's error.
func TestDebugObject(t *testing.T) {
	e := newEnv(t, nil)
	for _, cmd := range debugWorkload {
		e.do(cmd)
	}
	re := regexp.MustCompile(`^Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\S+) serializedlength:(\d+) lru:\d+ lru_seconds_idle:0( ql_nodes:\d+ ql_avg_node:\d+\.\d\d ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:\d+)?$`)
	for key, want := range map[string]string{"s": "1 embstr 12", "n": "2147483647 int 2", "big": "1 raw 102", "h": "1 listpack", "l": "1 quicklist", "si": "1 intset", "z": "1 listpack", "zbig": "1 skiplist"} {
		line, _ := e.do("DEBUG OBJECT " + key).(string)
		m := re.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("DEBUG OBJECT %s: %q does not match Redis's format", key, line)
		}
		got := m[1] + " " + m[2]
		if strings.Count(want, " ") == 2 {
			got += " " + m[3]
		}
		if got != want || (m[4] != "") != (key == "l") {
			t.Errorf("DEBUG OBJECT %s: %q, want refcount, encoding (and length) %q", key, line, want)
		}
		if enc := e.do("OBJECT ENCODING " + key); enc != m[2] {
			t.Errorf("DEBUG OBJECT %s says %s, OBJECT ENCODING %v", key, m[2], enc)
		}
	}
	e.runSteps([]step{
		{"DEBUG OBJECT nosuch", "ERR:ERR no such key"},
		{"DEBUG OBJECT", "ERR:ERR unknown subcommand or wrong number of arguments for 'OBJECT'. Try DEBUG HELP."},
		{"DEBUG jmap", "ERR:ERR unknown subcommand or wrong number of arguments for 'jmap'. Try DEBUG HELP."},
		{"DEBUG SLEEP 0 1", "ERR:ERR unknown subcommand or wrong number of arguments for 'SLEEP'"},
		{"DEBUG SLEEP -1", "OK"},
		{"DEBUG SLEEP nan", "OK"},
		{"DEBUG SLEEP 0.001abc", "OK"},
		// Inside EXEC, which holds the keyspace.
		{"MULTI", "OK"},
		{"DEBUG SLEEP 0.001", "QUEUED"},
		{"DEBUG OBJECT nosuch", "QUEUED"},
		{"DEBUG RELOAD", "QUEUED"},
		{"EXEC", []any{"OK", "ERR:ERR no such key", "ERR:ERR DEBUG RELOAD cannot run inside MULTI in walkv"}},
	})
}

func TestCStrtod(t *testing.T) {
	for in, want := range map[string]float64{"1.5": 1.5, " 2": 2, "3abc": 3, "x": 0, "": 0, "-1": -1, "1e2x": 100, ".5": 0.5} {
		if got := cStrtod([]byte(in)); got != want {
			t.Errorf("cStrtod(%q) = %v, want %v", in, got, want)
		}
	}
}

package walkv

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/waldb/wal/walkv/internal/rdb"
)

// redis70Payload is redis-server 7.0's DUMP of the list a 1 b 300 -5
// 100000 (a QUICKLIST_2 of one listpack node).
const redis70Payload = "1201021a1a0000000600816102010181620" + "2c12c02dffb02f2a0860104ff0a000be9384f2a767f8d"

func hexPayload(t *testing.T, s string) string {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stringPayload is a DUMP payload of the string s.
func stringPayload(s string) string {
	var e rdb.Encoder
	e.BeginString()
	e.Str(s)
	return string(e.Finish())
}

// TestRestoreReplies checks RESTORE's options, errors and their order,
// and DUMP of every type against RESTORE.
func TestRestoreReplies(t *testing.T) {
	e := newEnv(t, nil)
	do := func(args ...any) any { return doWith(t, e.c, args...) }
	list := hexPayload(t, redis70Payload)
	bad := stringPayload("v")
	bad = bad[:len(bad)-1] + string(bad[len(bad)-1]^1)
	for i, s := range []struct {
		args []any
		want any
	}{
		{[]any{"RESTORE", "l", 0, list}, "OK"},
		{[]any{"LRANGE", "l", 0, -1}, []any{"a", "1", "b", "300", "-5", "100000"}},
		{[]any{"RESTORE", "l", 0, list}, "ERR:BUSYKEY Target key name already exists."},
		{[]any{"RESTORE", "l", "x", list}, "ERR:BUSYKEY"}, // the key is checked before the TTL
		{[]any{"RESTORE", "l", 0, list, "BOGUS"}, "ERR:ERR syntax error"},
		{[]any{"RESTORE", "l", 0, list, "REPLACE", "IDLETIME"}, "ERR:ERR syntax error"},
		{[]any{"RESTORE", "l", 0, list, "IDLETIME", 1, "FREQ", 1}, "ERR:ERR syntax error"},
		{[]any{"RESTORE", "l", 0, list, "FREQ", 256}, "ERR:ERR Invalid FREQ value, must be >= 0 and <= 255"},
		{[]any{"RESTORE", "l", 0, list, "IDLETIME", -1}, "ERR:ERR Invalid IDLETIME value, must be >= 0"},
		{[]any{"RESTORE", "l", 0, list, "IDLETIME", "x"}, "ERR:ERR value is not an integer or out of range"},
		{[]any{"RESTORE", "n", -1, list}, "ERR:ERR Invalid TTL value, must be >= 0"},
		{[]any{"RESTORE", "n", "1.5", list}, "ERR:ERR value is not an integer or out of range"},
		{[]any{"RESTORE", "n", 0, bad}, "ERR:ERR DUMP payload version or checksum are wrong"},
		{[]any{"RESTORE", "n", 0, "short"}, "ERR:ERR DUMP payload version or checksum are wrong"},
		{[]any{"RESTORE", "n", 0, stringPayload("v")[:1] + "\x05" + stringPayload("v")[2:]}, "ERR:ERR DUMP payload"},
		{[]any{"EXISTS", "n"}, int64(0)},
		{[]any{"RESTORE", "l", 0, stringPayload("v"), "replace", "FREQ", 3}, "OK"},
		{[]any{"GET", "l"}, "v"},
		{[]any{"RESTORE", "t", 100000, stringPayload("w")}, "OK"},
		{[]any{"PTTL", "t"}, "~"},
		{[]any{"RESTORE", "l", 1, stringPayload("x"), "ABSTTL", "REPLACE"}, "OK"}, // deadline passed: l is deleted
		{[]any{"EXISTS", "l"}, int64(0)},
		{[]any{"RESTORE", "l", 4000000000000, stringPayload("x"), "ABSTTL"}, "OK"},
		{[]any{"PEXPIRETIME", "l"}, int64(4000000000000)},
		{[]any{"RESTORE", "l", 0, stringPayload("y"), "REPLACE"}, "OK"},
		{[]any{"TTL", "l"}, int64(-1)},
		{[]any{"DUMP", "nosuch"}, nil},
		{[]any{"DUMP", "l"}, stringPayload("y")},
		// A payload that fails anywhere changes nothing, REPLACE or not.
		{[]any{"RESTORE", "l", 0, withFooter("\x02\x03\x01a\x01b\x01a", 10), "REPLACE"}, "ERR:ERR Bad data format"},
		{[]any{"RESTORE", "l", 0, withFooter("\x00\xc3\x01\x80\xff\xff\xff\xff\x00", 10), "REPLACE"}, "ERR:ERR Bad data format"}, // LZF "expanding" to 4 GiB
		{[]any{"RESTORE", "l", 0, withFooter("\x0f\x00", 10), "REPLACE"}, "ERR:ERR Bad data format"},                             // a stream: unsupported
		{[]any{"GET", "l"}, "y"},
	} {
		if got := do(s.args...); !matchReply(got, s.want) {
			t.Fatalf("step %d %.60q: got %#v, want %#v", i, s.args, got, s.want)
		}
	}
	if ms := do("PTTL", "t").(int64); ms <= 0 || ms > 100000 {
		t.Fatalf("PTTL after RESTORE with TTL 100000: %d", ms)
	}
}

// TestRestoreEveryTypeSurvivesRestart dumps keys of every type, restores
// them under new names (some with deadlines), and checks that the copies
// equal the originals and survive a restart (log replay) and a snapshot.
func TestRestoreEveryTypeSurvivesRestart(t *testing.T) {
	e := newEnv(t, nil)
	do := func(args ...any) any { return doWith(t, e.c, args...) }
	for _, cmd := range []string{
		"SET s hello", "SET i 12345", "SET long " + strings.Repeat("abc", 100),
		"RPUSH l a 1 b -300", "SADD si 1 2 -3", "SADD ss a b c",
		"HSET h f v g 12", "ZADD z 1.5 a -2 b inf c",
	} {
		e.do(cmd)
	}
	keys := []string{"s", "i", "long", "l", "si", "ss", "h", "z"}
	for j, k := range keys {
		p := do("DUMP", k).(string)
		ttl := 0
		if j%2 == 1 {
			ttl = 3600_000
		}
		if got := do("RESTORE", "copy:"+k, ttl, p); got != "OK" {
			t.Fatalf("RESTORE copy:%s: %v", k, got)
		}
	}
	before := dumpKeyspace(e.db)
	for _, k := range keys {
		orig, copied := "", ""
		for _, line := range strings.Split(before, "\n") {
			if strings.HasPrefix(line, `db0 "`+k+`" `) {
				orig = line[len(k)+7:]
			}
			if strings.HasPrefix(line, `db0 "copy:`+k+`" `) {
				copied = line[len(k)+12:]
			}
		}
		if valueOnly(orig) != valueOnly(copied) || orig == "" {
			t.Fatalf("copy of %s: %q, original %q", k, copied, orig)
		}
	}
	e.restart()
	if got := dumpKeyspace(e.db); got != before {
		t.Fatalf("after restart:\n%s\nbefore:\n%s", got, before)
	}
	e.do("SAVE")
	e.restart()
	if got := dumpKeyspace(e.db); got != before {
		t.Fatalf("after snapshot and restart:\n%s\nbefore:\n%s", got, before)
	}
}

// TestRestoreWakesBlockedClients: a RESTOREd list or sorted set serves a
// client blocked on its key.
func TestRestoreWakesBlockedClients(t *testing.T) {
	e := newEnv(t, nil)
	e.do("ZADD zsrc 2 m")
	zp := doWith(t, e.c, "DUMP", "zsrc").(string)
	for _, c := range []struct{ block, payload, want string }{
		{"BLPOP", hexPayload(t, redis70Payload), `["l" "a"]`},
		{"BZPOPMIN", zp, `["l" "m" "2"]`},
	} {
		e.do("DEL l")
		w := dialResp(t, e.srv.Addr().String())
		if err := w.send(c.block, "l", "0"); err != nil {
			t.Fatal(err)
		}
		waitBlocked(t, e.db, "l", 1)
		if got := doWith(t, e.c, "RESTORE", "l", 0, c.payload); got != "OK" {
			t.Fatalf("RESTORE: %v", got)
		}
		if got := mustRead(t, w); got != c.want {
			t.Fatalf("%s woken with %s, want %s", c.block, got, c.want)
		}
	}
}

// TestRestoreACLAndMaxMemory: RESTORE needs write access to its key and
// is refused over maxmemory; DUMP needs read access.
func TestRestoreACLAndMaxMemory(t *testing.T) {
	srv, _ := serveWith(t, "127.0.0.1:0", &ServerOptions{RequirePass: "adminpw"})
	admin := clientOf(t, srv, redis.Options{Password: "adminpw"})
	steps(t, admin, []step{
		{"ACL SETUSER app on >apppw ~app:* %R~shared:* +@all -@admin -@dangerous +restore", "OK"},
		{"SET shared:cfg 1", "OK"},
	})
	app := clientOf(t, srv, redis.Options{Username: "app", Password: "apppw"})
	p := doWith(t, app, "DUMP", "shared:cfg")
	if p != stringPayload("1") {
		t.Fatalf("DUMP of a readable key: %q", p)
	}
	for _, c := range []struct {
		key  string
		want any
	}{{"app:x", "OK"}, {"shared:x", "ERR:NOPERM"}, {"other", "ERR:NOPERM"}} {
		if got := doWith(t, app, "RESTORE", c.key, 0, p); !matchReply(got, c.want) {
			t.Fatalf("RESTORE %s: %#v, want %#v", c.key, got, c.want)
		}
	}
	steps(t, admin, []step{{"CONFIG SET maxmemory 1", "OK"}})
	// CONFIG SET maxmemory samples the heap at once: the very next
	// command meets the new limit.
	if got := doWith(t, admin, "RESTORE", "k", 0, p, "REPLACE"); got == "OK" {
		t.Fatal("RESTORE still accepted over maxmemory")
	}
	if got := doWith(t, admin, "RESTORE", "k2", 0, p); !matchReply(got, "ERR:OOM") {
		t.Fatalf("RESTORE over maxmemory: %#v", got)
	}
	if got, _ := admin.Do(context.Background(), "DUMP", "shared:cfg").Result(); got != p {
		t.Fatalf("DUMP over maxmemory: %#v", got)
	}
}

// TestRestoreClusterMode: RESTORE runs through the replicated log (each
// node executes it at the entry's time) and DUMP reads like any read.
func TestRestoreClusterMode(t *testing.T) {
	e, _ := newClusterEnv(t, ReadStale)
	do := func(args ...any) any { return doWith(t, e.c, args...) }
	e.do("HSET h f v g 1")
	p := do("DUMP", "h")
	for i, s := range []struct {
		args []any
		want any
	}{
		{[]any{"RESTORE", "c", 100000, p}, "OK"},
		{[]any{"HGET", "c", "g"}, "1"},
		{[]any{"RESTORE", "c", 0, p}, "ERR:BUSYKEY"},
		{[]any{"RESTORE", "c", 0, "bad"}, "ERR:BUSYKEY"},
		{[]any{"RESTORE", "d", 0, "bad"}, "ERR:ERR DUMP payload version or checksum are wrong"},
		{[]any{"DUMP", "nosuch"}, nil},
		{[]any{"DUMP", "c"}, p}, // the same bytes for the same value
		{[]any{"MULTI"}, "OK"},
		{[]any{"RESTORE", "m", 0, p}, "QUEUED"},
		{[]any{"EXEC"}, []any{"OK"}},
		{[]any{"HGET", "m", "f"}, "v"},
	} {
		if got := do(s.args...); !matchReply(got, s.want) {
			t.Fatalf("step %d %.60q: got %#v, want %#v", i, s.args, got, s.want)
		}
	}
	if ms := do("PTTL", "c").(int64); ms <= 0 {
		t.Fatalf("PTTL = %d", ms)
	}
}

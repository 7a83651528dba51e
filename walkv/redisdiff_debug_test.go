package walkv

import (
	"regexp"
	"strings"
	"testing"
)

// debugObjectRE splits a DEBUG OBJECT line into the fields compared
// with Redis (the address and LRU clock differ by nature).
var debugObjectRE = regexp.MustCompile(`^Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\S+) serializedlength:(\d+) lru:\d+ lru_seconds_idle:\d+(.*)$`)

// TestRedisDiffDebug compares DEBUG's replies with redis-server 7.0
// started with enable-debug-command yes, and the refusal of DEBUG by
// servers with the default (no).
func TestRedisDiffDebug(t *testing.T) {
	raddr := startRedis(t, "--enable-debug-command", "yes")
	e := newEnv(t, nil)
	w := dialResp(t, e.srv.Addr().String())
	rd := dialResp(t, raddr)
	f := diffFamily{name: "debug"}
	flushBoth(t, w, rd)
	for _, cmd := range debugWorkload {
		if !compareOne(t, w, rd, f, strings.Fields(cmd)) {
			t.Fatalf("workload %q differs", cmd)
		}
	}
	for _, cmd := range [][]string{
		{"DEBUG", "RELOAD"}, {"DEBUG", "RELOAD", "NOSAVE"}, {"DEBUG", "RELOAD", "x"},
		{"DEBUG", "OBJECT", "nosuch"}, {"DEBUG", "OBJECT"}, {"DEBUG", "JMAP"}, {"DEBUG"},
		{"DEBUG", "SLEEP", "0"}, {"DEBUG", "SLEEP", "x"}, {"DEBUG", "SLEEP", "0", "1"},
		{"DEBUG", "SET-ACTIVE-EXPIRE", "1"}, {"DEBUG", "SET-ACTIVE-EXPIRE"},
		{"LRANGE", "l", "0", "-1"}, {"ZRANGE", "z", "0", "-1", "WITHSCORES"}, {"GET", "counter"},
	} {
		compareOne(t, w, rd, f, cmd)
	}
	// DEBUG OBJECT: encoding, refcount, the quicklist fields' names and
	// the fixed ones, and the serialized length of values RDB stores
	// uncompressed (strings up to 20 bytes).
	for _, key := range []string{"s", "n", "big", "ttl", "h", "hbig", "l", "lttl", "si", "ss", "z", "zbig", "counter"} {
		want := showReply(mustDo(t, rd, "DEBUG", "OBJECT", key))
		got := showReply(mustDo(t, w, "DEBUG", "OBJECT", key))
		wm, gm := debugObjectRE.FindStringSubmatch(want[1:]), debugObjectRE.FindStringSubmatch(got[1:])
		if wm == nil || gm == nil {
			t.Fatalf("DEBUG OBJECT %s:\n  walkv: %s\n  redis: %s", key, got, want)
		}
		short := mustDo(t, rd, "TYPE", key) == respStatus("string") && len(showReply(mustDo(t, rd, "GET", key))) <= 22
		same := wm[1] == gm[1] && wm[2] == gm[2] && (!short || wm[3] == gm[3]) && qlShape(wm[4]) == qlShape(gm[4])
		if !same {
			t.Errorf("DEBUG OBJECT %s:\n  walkv: %s\n  redis: %s", key, got, want)
		}
	}
	// A server with the default enable-debug-command refuses DEBUG.
	raddrDefault := startRedis(t)
	srv, _ := serveWith(t, "127.0.0.1:0", nil)
	wd, rdd := dialResp(t, srv.Addr().String()), dialResp(t, raddrDefault)
	for _, cmd := range [][]string{{"DEBUG", "SLEEP", "0"}, {"DEBUG", "JMAP"}, {"DEBUG"}} {
		compareOne(t, wd, rdd, f, cmd)
	}
}

// qlShape keeps the names of DEBUG OBJECT's quicklist fields and the
// values that do not depend on the node layout.
func qlShape(extra string) string {
	var out []string
	for _, kv := range strings.Fields(extra) {
		name, v, _ := strings.Cut(kv, ":")
		if name == "ql_listpack_max" || name == "ql_compressed" {
			name += "=" + v
		}
		out = append(out, name)
	}
	return strings.Join(out, " ")
}

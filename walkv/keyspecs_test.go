package walkv

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestNumkeysKeyPositions: the key arguments of the numkeys commands are
// found where Redis finds them, and none when numkeys is bad.
func TestNumkeysKeyPositions(t *testing.T) {
	tests := []struct {
		args string
		want []int
	}{
		{"ZUNIONSTORE d 2 a b WEIGHTS 1 2", []int{1, 3, 4}},
		{"ZINTERSTORE d 1 a", []int{1, 3}},
		{"ZDIFFSTORE d 3 a b", nil},
		{"ZUNION 2 a b WITHSCORES", []int{2, 3}},
		{"ZINTER 1 a", []int{2}},
		{"ZDIFF 0 a", nil},
		{"ZINTERCARD 2 a b LIMIT 1", []int{2, 3}},
		{"SINTERCARD 1 a", []int{2}},
		{"LMPOP 2 a b LEFT", []int{2, 3}},
		{"LMPOP x a b LEFT", nil},
		{"BLMPOP 0 2 a b RIGHT COUNT 2", []int{3, 4}},
		{"ZMPOP 1 a MIN", []int{2}},
		{"BZMPOP 0 1 a MAX", []int{3}},
		{"BZMPOP 0 -1 a MAX", nil},
	}
	for _, tt := range tests {
		args := byteArgs(tt.args)
		var got []int
		lookup(args[0]).keyPositions(args, func(i int) bool { got = append(got, i); return true })
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: %v, want %v", tt.args, got, tt.want)
		}
	}
}

func byteArgs(s string) [][]byte {
	var out [][]byte
	for _, w := range strings.Fields(s) {
		out = append(out, []byte(w))
	}
	return out
}

// TestCommandGetkeys: COMMAND GETKEYS answers as Redis 7.0 does.
func TestCommandGetkeys(t *testing.T) {
	srv, _ := serveWith(t, "127.0.0.1:0", nil)
	c := clientOf(t, srv, redis.Options{})
	steps(t, c, []step{
		{"COMMAND GETKEYS GET k", []any{"k"}},
		{"COMMAND GETKEYS MSET a 1 b 2", []any{"a", "b"}},
		{"COMMAND GETKEYS ZUNIONSTORE d 2 a b WEIGHTS 1 2", []any{"d", "a", "b"}},
		{"COMMAND GETKEYS BLMPOP 0 2 a b LEFT", []any{"a", "b"}},
		{"COMMAND GETKEYS SINTERCARD 1 a", []any{"a"}},
		{"COMMAND GETKEYS ZINTERCARD 2 a", "ERR:ERR Invalid arguments specified for command"},
		{"COMMAND GETKEYS ZUNIONSTORE d 0 a", "ERR:ERR Invalid arguments specified for command"},
		{"COMMAND GETKEYS ZUNION 1", "ERR:ERR Invalid number of arguments specified for command"},
		{"COMMAND GETKEYS PING x", "ERR:ERR The command has no key arguments"},
		{"COMMAND GETKEYS NOSUCH a", "ERR:ERR Invalid command specified"},
		{"COMMAND GETKEYS GET", "ERR:ERR wrong number of arguments for 'command|getkeys' command"},
	})
}

// TestACLNumkeysCommands: a user restricted to ~app:* cannot reach other
// keys through the numkeys commands (their keys are not at fixed
// positions), but can within its pattern.
func TestACLNumkeysCommands(t *testing.T) {
	srv, _ := serveWith(t, "127.0.0.1:0", &ServerOptions{RequirePass: "adminpw"})
	admin := clientOf(t, srv, redis.Options{Password: "adminpw"})
	steps(t, admin, []step{
		{"ACL SETUSER app on >apppw ~app:* +@all -@admin -@dangerous", "OK"},
		{"ZADD secret 1 s", 1},
		{"RPUSH secretl x", 1},
		{"SADD secrets m", 1},
	})
	app := clientOf(t, srv, redis.Options{Username: "app", Password: "apppw"})
	const noperm = "ERR:NOPERM this user has no permissions to access one of the keys used as arguments"
	steps(t, app, []step{
		{"ZADD app:z 2 a", 1},
		{"RPUSH app:l a", 1},
		{"SADD app:s m", 1},
		{"ZUNIONSTORE app:d 2 app:z secret", noperm},
		{"ZUNIONSTORE secret 1 app:z", noperm},
		{"ZINTERSTORE app:d 2 app:z secret", noperm},
		{"ZDIFFSTORE app:d 2 app:z secret", noperm},
		{"ZUNION 2 app:z secret", noperm},
		{"ZINTER 2 app:z secret", noperm},
		{"ZDIFF 2 app:z secret", noperm},
		{"ZINTERCARD 2 app:z secret", noperm},
		{"SINTERCARD 2 app:s secrets", noperm},
		{"LMPOP 2 app:none secretl LEFT", noperm},
		{"BLMPOP 0 2 app:none secretl LEFT", noperm},
		{"ZMPOP 2 app:none secret MIN", noperm},
		{"BZMPOP 0 2 app:none secret MIN", noperm},
		{"MULTI", "OK"},
		{"LMPOP 1 secretl LEFT", noperm},
		{"EXEC", "ERR:EXECABORT"},
		{"ZUNIONSTORE app:d 1 app:z", 1},
		{"LMPOP 1 app:l LEFT", []any{"app:l", []any{"a"}}},
	})
	steps(t, admin, []step{{"ZCARD secret", 1}, {"LLEN secretl", 1}, {"EXISTS secret app:d", 2}})
}

// TestMaxMemoryFrees: over maxmemory the write commands that never grow
// the data run (as Redis lets commands without denyoom run), those that
// may grow it get OOM.
func TestMaxMemoryFrees(t *testing.T) {
	srv, _ := serveWith(t, "127.0.0.1:0", nil)
	c := clientOf(t, srv, redis.Options{})
	steps(t, c, []step{
		{"RPUSH l a b c d e", 5}, {"SADD s a b c", 3}, {"ZADD z 1 a 2 b 3 c", 3}, {"HSET h f v g w", 2},
		{"SET k v", "OK"}, {"SET k2 v", "OK"},
		{"CONFIG SET maxmemory 1", "OK"},
	})
	// CONFIG SET maxmemory samples the heap at once: the very next
	// command meets the new limit.
	if got := doWith(t, c, "SET", "probe", "v"); got == "OK" {
		t.Fatal("SET still accepted over maxmemory")
	}
	const oom = "ERR:OOM command not allowed when used memory > 'maxmemory'."
	steps(t, c, []step{
		{"LPUSH l x", oom},
		{"LPOP l", "a"},
		{"RPOP l", "e"},
		{"LREM l 1 b", 1},
		{"LTRIM l 0 0", "OK"},
		{"LMPOP 1 l LEFT", []any{"l", []any{"c"}}},
		{"SADD s d", oom},
		{"SREM s a", 1},
		{"SPOP s", "~"}, // any member; checked below by SCARD
		{"ZADD z 4 d", oom},
		{"ZREM z a", 1},
		{"ZPOPMIN z", []any{"b", "2"}},
		{"ZREMRANGEBYSCORE z -inf +inf", 1},
		{"HSET h x y", oom},
		{"HDEL h f", 1},
		{"GETDEL k", "v"},
		{"RENAME k2 k3", "OK"},
		{"EXPIRE k3 100", 1},
		{"UNLINK k3", 1},
		{"RPOPLPUSH l l2", oom},
		{"SUNIONSTORE s2 s", oom},
		{"CONFIG SET maxmemory 0", "OK"},
		{"SCARD s", 1},
		{"LPUSH l x", 1},
	})
}

// TestRedisDiffGetkeys compares COMMAND GETKEYS with redis-server's for
// the numkeys commands and a few with fixed key positions.
func TestRedisDiffGetkeys(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	w, rd := dialResp(t, e.srv.Addr().String()), dialResp(t, raddr)
	for _, cmd := range []string{
		"GET k", "MSET a 1 b 2", "DEL a b c", "RENAME a b", "BLPOP a b 0", "SMOVE a b m", "ZRANGESTORE d s 0 -1",
		"ZUNIONSTORE d 2 a b WEIGHTS 1 2", "ZINTERSTORE d 1 a", "ZDIFFSTORE d 3 a b", "ZDIFFSTORE d 0 a",
		"ZUNION 2 a b WITHSCORES", "ZINTER 1 a", "ZDIFF 2 a b", "ZINTERCARD 2 a b LIMIT 1", "ZINTERCARD 3 a b",
		"SINTERCARD 1 a", "SINTERCARD 2 a b LIMIT 0", "LMPOP 2 a b LEFT", "LMPOP 1 a RIGHT COUNT 3",
		"BLMPOP 0 2 a b RIGHT COUNT 2", "ZMPOP 1 a MIN", "BZMPOP 1.5 2 a b MAX", "BZMPOP 0 5 a MAX",
		"PING x", "NOSUCH a", "SET k", "GET",
	} {
		args := append([]string{"COMMAND", "GETKEYS"}, strings.Fields(cmd)...)
		got, want := showReply(mustDo(t, w, args...)), showReply(mustDo(t, rd, args...))
		if got != want {
			t.Errorf("COMMAND GETKEYS %s: walkv %s, redis %s", cmd, got, want)
		}
	}
}

package walkv

import (
	"testing"
	"time"
)

// TestCommands runs each command family as a script against a fresh
// server, with go-redis as the client.
func TestCommands(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"connection", []step{
			{"PING", "PONG"},
			{"PING hello", "hello"},
			{"PING a b", "ERR:ERR wrong number of arguments for 'ping'"},
			{"ECHO hi␣there", "hi there"},
			{"SELECT 0", "OK"},
			{"SELECT 16", "ERR:ERR DB index is out of range"},
			{"SELECT x", "ERR:ERR value is not an integer"},
			{"HELLO 4", "ERR:NOPROTO"},
			{"HELLO 2 SETNAME me", []any{"server", "redis", "version", redisVersion, "proto", int64(2), "id", "~", "mode", "standalone", "role", "master", "modules", []any{}}},
			{"CLIENT GETNAME", "me"},
			{"CLIENT SETNAME you", "OK"},
			{"CLIENT GETNAME", "you"},
			{"CLIENT SETINFO LIB-NAME x", "OK"},
			{"CLIENT NOPE", "ERR:ERR unknown subcommand"},
			{"NOSUCH a b", "ERR:ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b'"},
		}},
		{"strings", []step{
			{"GET k", nil},
			{"SET k v", "OK"},
			{"GET k", "v"},
			{"SET k v2 NX", nil},
			{"SET k v3 XX", "OK"},
			{"SET nk v XX", nil},
			{"SET k v4 GET", "v3"},
			{"SET k2 x NX GET", nil},
			{"GET k2", "x"},
			{"SET k v NX XX", "ERR:ERR syntax error"},
			{"SET k v EX 0", "ERR:ERR invalid expire time in 'set' command"},
			{"SET k v EX x", "ERR:ERR value is not an integer"},
			{"SET k v EX 10 PX 10", "ERR:ERR syntax error"},
			{"SET k v BOGUS", "ERR:ERR syntax error"},
			{"SET k", "ERR:ERR wrong number of arguments for 'set'"},
			{"GETSET k new", "v4"},
			{"GETSET none new", nil},
			{"STRLEN k", 3},
			{"STRLEN missing", 0},
			{"APPEND k er", 5},
			{"GET k", "newer"},
			{"APPEND fresh abc", 3},
			{"GET fresh", "abc"},
			{"INCR n", 1},
			{"INCRBY n 41", 42},
			{"DECR n", 41},
			{"DECRBY n 40", 1},
			{"INCRBY n -3", -2},
			{"INCR k", "ERR:ERR value is not an integer"},
			{"INCRBY n x", "ERR:ERR value is not an integer"},
			{"SET big 9223372036854775807", "OK"},
			{"INCR big", "ERR:ERR increment or decrement would overflow"},
			{"DECRBY n -9223372036854775808", "ERR:ERR decrement would overflow"},
			{"SET lead 007", "OK"},
			{"INCR lead", "ERR:ERR value is not an integer"},
			{"MSET a 1 b 2 c 3", "OK"},
			{"MSET a 1 b", "ERR:ERR wrong number of arguments for 'mset'"},
			{"MGET a b nope c", []any{"1", "2", nil, "3"}},
			{"HSET h f v", 1},
			{"MGET h a", []any{nil, "1"}},
			{"GET h", "ERR:WRONGTYPE"},
			{"SET h v GET", "ERR:WRONGTYPE"},
			{"APPEND h x", "ERR:WRONGTYPE"},
			{"INCR h", "ERR:WRONGTYPE"},
			{"STRLEN h", "ERR:WRONGTYPE"},
			{"GETSET h x", "ERR:WRONGTYPE"},
			{"SET h now-a-string", "OK"},
			{"GET h", "now-a-string"},
		}},
		{"keys", []step{
			{"MSET user:1 a user:2 b item:1 c", "OK"},
			{"EXISTS user:1 user:1 nope", 2},
			{"TYPE user:1", "string"},
			{"TYPE nope", "none"},
			{"HSET hh f v", 1},
			{"TYPE hh", "hash"},
			{"DBSIZE", 4},
			{"KEYS user:*", "~"},
			{"KEYS nomatch*", []any{}},
			{"DEL user:1 user:1 nope", 1},
			{"DEL hh", 1},
			{"EXISTS user:1 hh", 0},
			{"DBSIZE", 2},
			{"SCAN x", "ERR:ERR invalid cursor"},
			{"SCAN 0 COUNT 0", "ERR:ERR syntax error"},
			{"SCAN 0 BOGUS 1", "ERR:ERR syntax error"},
			{"FLUSHDB BOGUS", "ERR:ERR syntax error"},
			{"FLUSHDB", "OK"},
			{"DBSIZE", 0},
			{"SET x 1", "OK"},
			{"FLUSHALL ASYNC", "OK"},
			{"GET x", nil},
		}},
		{"expire", []step{
			{"SET k v", "OK"},
			{"TTL k", -1},
			{"PTTL k", -1},
			{"TTL nope", -2},
			{"EXPIRE nope 10", 0},
			{"EXPIRE k 100", 1},
			{"TTL k", 100},
			{"EXPIRE k 50 GT", 0},
			{"EXPIRE k 200 GT", 1},
			{"EXPIRE k 300 LT", 0},
			{"EXPIRE k 150 LT", 1},
			{"EXPIRE k 10 NX", 0},
			{"EXPIRE k 10 XX", 1},
			{"EXPIRE k 10 NX XX", "ERR:ERR NX and XX, GT or LT options"},
			{"EXPIRE k 10 GT LT", "ERR:ERR GT and LT options"},
			{"EXPIRE k 10 BOGUS", "ERR:ERR Unsupported option BOGUS"},
			{"EXPIRE k x", "ERR:ERR value is not an integer"},
			{"EXPIRE k 9223372036854775807", "ERR:ERR invalid expire time in 'expire' command"},
			{"PEXPIRE k 5000", 1},
			{"PTTL k", 5000},
			{"TTL k", 5},
			{"PERSIST k", 1},
			{"PERSIST k", 0},
			{"TTL k", -1},
			{"EXPIREAT k 4000000000", 1},
			{"PEXPIREAT k 4000000000000", 1},
			{"SET k2 v PX 1500", "OK"},
			{"PTTL k2", 1500},
			{"SET k2 v2 KEEPTTL", "OK"},
			{"PTTL k2", 1500},
			{"SET k2 v3", "OK"},
			{"PTTL k2", -1},
			{"SET k3 v EXAT 4000000000", "OK"},
			{"INCR k4", 1},
			{"EXPIRE k4 100", 1},
			{"INCR k4", 2},
			{"TTL k4", 100},
			{"APPEND k4 0", 2},
			{"TTL k4", 100},
			{"EXPIRE k4 -1", 1},
			{"EXISTS k4", 0},
			{"EXPIRE k 0", 1},
			{"GET k", nil},
		}},
		{"hash", []step{
			{"HSET h a 1 b 2", 2},
			{"HSET h a 10 c 3 c 4", 1},
			{"HGET h a", "10"},
			{"HGET h c", "4"},
			{"HGET h zz", nil},
			{"HGET nope a", nil},
			{"HLEN h", 3},
			{"HLEN nope", 0},
			{"HEXISTS h a", 1},
			{"HEXISTS h zz", 0},
			{"HMGET h a zz b", []any{"10", nil, "2"}},
			{"HSET h a", "ERR:ERR wrong number of arguments for 'hset'"},
			{"HSET h a 1 b", "ERR:ERR wrong number of arguments for 'hset'"},
			{"HDEL h a a zz", 1},
			{"HLEN h", 2},
			{"HGETALL nope", []any{}},
			{"HKEYS nope", []any{}},
			{"HDEL h b c", 2},
			{"EXISTS h", 0},
			{"HDEL nope a", 0},
			{"SET s v", "OK"},
			{"HSET s f v", "ERR:WRONGTYPE"},
			{"HGET s f", "ERR:WRONGTYPE"},
			{"HDEL s f", "ERR:WRONGTYPE"},
			{"HGETALL s", "ERR:WRONGTYPE"},
			{"HLEN s", "ERR:WRONGTYPE"},
			{"HEXISTS s f", "ERR:WRONGTYPE"},
			{"HMGET s f", "ERR:WRONGTYPE"},
			{"HKEYS s", "ERR:WRONGTYPE"},
			{"HVALS s", "ERR:WRONGTYPE"},
			{"HSET one f v", 1},
			{"HGETALL one", []any{"f", "v"}},
			{"HKEYS one", []any{"f"}},
			{"HVALS one", []any{"v"}},
		}},
		{"server", []step{
			{"CONFIG GET appendfsync", []any{"appendfsync", "always"}},
			{"CONFIG SET appendfsync everysec", "OK"},
			{"CONFIG GET appendfsync", []any{"appendfsync", "everysec"}},
			{"CONFIG SET appendfsync sometimes", "ERR:ERR CONFIG SET failed"},
			{"CONFIG SET walkv-nope 1", "ERR:ERR Unknown option"},
			{"CONFIG GET nothing", []any{}},
			{"CONFIG GET save", []any{"save", ""}},
			{"CONFIG RESETSTAT", "OK"},
			{"CONFIG BOGUS", "ERR:ERR unknown subcommand"},
			{"CONFIG SET appendfsync no", "OK"},
			{"CONFIG SET appendfsync ALWAYS", "OK"},
			{"SET k v", "OK"},
			{"SAVE", "OK"},
			{"BGSAVE BOGUS", "ERR:ERR syntax error"},
			{"LASTSAVE", "~"},
			{"DEBUG SLEEP 0", "OK"},
			{"DEBUG SLEEP 0.01", "OK"},
			{"DEBUG SLEEP x", "OK"}, // read as C's strtod reads it: 0
			{"DEBUG RELOAD", "OK"},
			{"DEBUG JMAP", "ERR:ERR unknown subcommand or wrong number of arguments for 'JMAP'. Try DEBUG HELP."},
			{"COMMAND COUNT", int64(len(commands))},
			{"COMMAND INFO get nosuch", []any{[]any{"get", int64(2), []any{"readonly", "fast"}, int64(1), int64(1), int64(1), []any{"@read", "@string", "@fast"}, []any{},
				[]any{[]any{"flags", []any{"RO", "access"}, "begin_search", []any{"type", "index", "spec", []any{"index", int64(1)}},
					"find_keys", []any{"type", "range", "spec", []any{"lastkey", int64(0), "keystep", int64(1), "limit", int64(0)}}}}, []any{}}, nil}},
			{"COMMAND DOCS", "~"},
			{"COMMAND LIST", "~"},
			{"COMMAND BOGUS", "ERR:ERR unknown subcommand"},
			{"TIME", "~"},
			{"GET k", "v"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			e := newEnv(t, &Options{Clock: clock.Now})
			e.runSteps(tt.steps)
			e.restart() // everything the script did must survive a restart
			e.runSteps(nil)
		})
	}
}

// TestCommandsSurviveRestart: the state each command leaves is rebuilt by
// replaying the log.
func TestCommandsSurviveRestart(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, &Options{Clock: clock.Now})
	e.runSteps([]step{
		{"MSET a 1 b 2 c 3", "OK"},
		{"INCRBY a 9", 10},
		{"APPEND b xy", 3},
		{"DEL c", 1},
		{"HSET h f1 v1 f2 v2 f3 v3", 3},
		{"HDEL h f2", 1},
		{"SET t v EX 100", "OK"},
		{"SET gone v", "OK"},
		{"EXPIRE gone -1", 1},
		{"SET p v EX 100", "OK"},
		{"PERSIST p", 1},
		{"HSET dead f v", 1},
		{"HDEL dead f", 1},
	})
	want := []step{
		{"GET a", "10"}, {"GET b", "2xy"}, {"EXISTS c gone dead", 0},
		{"HGET h f1", "v1"}, {"HGET h f2", nil}, {"HLEN h", 2},
		{"TTL t", 100}, {"TTL p", -1}, {"DBSIZE", 5},
	}
	e.runSteps(want)
	e.restart()
	e.runSteps(want)
}

// TestGoRedisAPI uses go-redis's typed API (its default RESP3 HELLO falls
// back to RESP2) for a sample of commands.
func TestGoRedisAPI(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	c := e.c
	if err := c.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if d, err := c.TTL(ctx, "k").Result(); err != nil || d < 59*time.Second {
		t.Fatalf("TTL = %v, %v", d, err)
	}
	if err := c.HSet(ctx, "h", map[string]any{"a": "1", "b": "2"}).Err(); err != nil {
		t.Fatal(err)
	}
	if m, err := c.HGetAll(ctx, "h").Result(); err != nil || len(m) != 2 || m["a"] != "1" {
		t.Fatalf("HGetAll = %v, %v", m, err)
	}
	if n, err := c.Incr(ctx, "n").Result(); err != nil || n != 1 {
		t.Fatalf("Incr = %d, %v", n, err)
	}
	if info, err := c.Info(ctx, "persistence").Result(); err != nil || len(info) == 0 {
		t.Fatalf("Info = %q, %v", info, err)
	}
	if n, err := c.DBSize(ctx).Result(); err != nil || n != 3 {
		t.Fatalf("DBSize = %d, %v", n, err)
	}
	if _, err := c.Command(ctx).Result(); err != nil {
		t.Fatalf("Command: %v", err)
	}
}

package walkv

import "testing"

// TestKeys2: RENAME, COPY and friends move values of every type with
// their deadlines, and a restart (replay of the log) keeps the result.
func TestKeys2(t *testing.T) {
	e := newEnv(t, nil)
	e.runSteps([]step{
		{"ZADD z 1 a -0 b", 2},
		{"PEXPIREAT z 4000000000123", 1},
		{"HSET h f v", 1},
		{"RPUSH l a b c", 3},
		{"SET s 10", "OK"},
		{"RENAME z z2", "OK"},
		{"PEXPIRETIME z2", 4000000000123},
		{"EXPIRETIME z2", 4000000000},
		{"EXPIRETIME nope", -2},
		{"EXPIRETIME h", -1},
		{"RENAMENX h l", 0},
		{"RENAME nope x", "ERR:ERR no such key"},
		{"COPY l l2", 1},
		{"COPY l l2", 0},
		{"COPY h l2 REPLACE", 1},
		{"COPY s s", "ERR:ERR source and destination objects are the same"},
		{"COPY s s3 DB 16", "ERR:ERR DB index is out of range"},
		{"COPY s s3 DB 0", 1},
		{"TOUCH s s3 nope", 2},
		{"UNLINK s3 nope", 1},
		{"OBJECT ENCODING s", "int"},
		{"OBJECT ENCODING z2", "listpack"},
		{"OBJECT ENCODING l", "quicklist"},
		{"OBJECT REFCOUNT s", 2147483647},
		{"OBJECT FREQ s", "ERR:ERR An LFU maxmemory policy is not selected"},
		{"OBJECT ENCODING", "ERR:ERR wrong number of arguments for 'object|encoding' command"},
		{"OBJECT NOPE x", "ERR:ERR unknown subcommand 'NOPE'. Try OBJECT HELP."},
		{"RANDOMKEY", "~"},
		{"EXPIREAT s x BOGUS", "ERR:ERR Unsupported option BOGUS"},
	})
	e.restart()
	e.runSteps([]step{
		{"ZRANGE z2 0 -1 WITHSCORES", []any{"b", "0", "a", "1"}},
		{"PEXPIRETIME z2", 4000000000123},
		{"HGETALL l2", []any{"f", "v"}},
		{"LRANGE l 0 -1", []any{"a", "b", "c"}},
		{"EXISTS z h", 1},
	})
	e.do("FLUSHALL")
	e.runSteps([]step{{"RANDOMKEY", nil}})
}

package walkv

import (
	"strings"
	"testing"
)

// TestMultiSubcommandErrors: MULTI refuses to queue an unknown
// subcommand or a subcommand with the wrong arity, and EXEC then aborts
// with nothing applied (Redis 7.0).
func TestMultiSubcommandErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.runSteps([]step{
		{"MULTI", "OK"},
		{"SET a 1", "QUEUED"},
		{"CONFIG GET_XX", "ERR:ERR unknown subcommand 'GET_XX'. Try CONFIG HELP."},
		{"CONFIG GET", "ERR:ERR wrong number of arguments for 'config|get' command"},
		{"COMMAND NOSUCH", "ERR:ERR unknown subcommand 'NOSUCH'. Try COMMAND HELP."},
		{"OBJECT ENCODING", "ERR:ERR wrong number of arguments for 'object|encoding' command"},
		{"EXEC", "ERR:EXECABORT Transaction discarded because of previous errors."},
		{"GET a", nil},
		{"MULTI", "OK"},
		{"CONFIG GET maxmemory", "QUEUED"},
		{"OBJECT ENCODING a", "QUEUED"},
		{"EXEC", "~"},
	})
}

// TestFlushKeepsWatchOfMissingKey: FLUSHALL does not break a WATCH of a
// key that did not exist (Redis 7.0), but does break one of a key that
// did.
func TestFlushKeepsWatchOfMissingKey(t *testing.T) {
	e := newEnv(t, nil)
	other := e.client()
	e.runSteps([]step{{"WATCH missing", "OK"}})
	doWith(t, other, "SET", "x", "1")
	doWith(t, other, "FLUSHALL")
	e.runSteps([]step{{"MULTI", "OK"}, {"SET missing v", "QUEUED"}, {"EXEC", []any{"OK"}}})
	e.runSteps([]step{{"WATCH missing", "OK"}})
	doWith(t, other, "FLUSHDB")
	e.runSteps([]step{{"MULTI", "OK"}, {"SET missing w", "QUEUED"}, {"EXEC", nil}, {"GET missing", nil}})
}

// TestDbsizeCountsUntilRemoved: as in Redis, DBSIZE counts an expired
// key until a command touches it (which removes it), and a restart does
// not bring the removed key back.
func TestDbsizeCountsUntilRemoved(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, &Options{Clock: clock.Now, ExpireInterval: 1 << 40})
	e.runSteps([]step{{"SET k v PX 1000", "OK"}, {"SET p v", "OK"}, {"SET later v PX 5000", "OK"}, {"DBSIZE", 3}})
	clock.Advance(2000 * 1e6)
	e.runSteps([]step{{"DBSIZE", 3}, {"GET k", nil}, {"DBSIZE", 2}})
	e.restart()
	e.runSteps([]step{{"DBSIZE", 2}})
}

// TestProtocolLimits: a negative multibulk count is ignored, and a count
// line unterminated after 64 KiB gets Redis's error and the connection
// closes.
func TestProtocolLimits(t *testing.T) {
	e := newEnv(t, nil)
	for _, tt := range []struct{ name, send, want string }{
		{"negative count", "*-10\r\nPING\r\n*-1\r\n*0\r\nQUIT\r\n", "+PONG\r\n+OK\r\n"},
		{"unterminated count", "PING\r\n*" + strings.Repeat("a", 70<<10), "+PONG\r\n-ERR Protocol error: too big mbulk count string\r\n"},
		{"unterminated bulk count", "*1\r\n$" + strings.Repeat("1", 70<<10), "-ERR Protocol error: too big bulk count string\r\n"},
		{"bad count", "*1x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, r := e.rawConn()
			if _, err := c.Write([]byte(tt.send)); err != nil {
				t.Fatal(err)
			}
			if got := readUntilClose(t, r); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

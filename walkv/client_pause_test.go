package walkv

import (
	"strings"
	"testing"
	"time"
)

// pauseClient dials a raw client to e's server.
func pauseClient(t *testing.T, e *env) *respClient { return dialResp(t, e.srv.Addr().String()) }

// sendOnly sends a command without reading its reply.
func sendOnly(t *testing.T, c *respClient, args ...string) {
	t.Helper()
	if err := c.send(args...); err != nil {
		t.Fatal(err)
	}
}

// readReply reads one reply (waiting up to 10 s) and shows it.
func readReply(t *testing.T, c *respClient) string {
	t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	v, err := c.read()
	if err != nil {
		t.Fatalf("reading a reply: %v", err)
	}
	return showReply(v)
}

// TestClientPauseWrite: under CLIENT PAUSE WRITE, reads run at once;
// writes, PUBLISH and EXEC of a transaction with a write are postponed
// (counted as blocked clients) and run, in order, at CLIENT UNPAUSE;
// read-only transactions run; errors found before running are replied
// at once.
func TestClientPauseWrite(t *testing.T) {
	e := newEnv(t, nil)
	addr := e.srv.Addr().String()
	admin := pauseClient(t, e)
	mustDo(t, admin, "SET", "k", "0")
	// A transaction that queued a write before the pause: EXEC waits.
	tx := dialResp(t, addr)
	mustDo(t, tx, "MULTI")
	mustDo(t, tx, "INCR", "n")
	if v := mustDo(t, admin, "CLIENT", "PAUSE", "60000", "WRITE"); v != respStatus("OK") {
		t.Fatalf("CLIENT PAUSE: %s", showReply(v))
	}
	// Reads, errors and read-only transactions are not held.
	for _, tc := range [][2]string{{"GET k", `"0"`}, {"PING", "+PONG"}, {"SET k", "-ERR wrong number of arguments for 'set' command"},
		{"MULTI", "+OK"}, {"GET k", "+QUEUED"}, {"EXEC", `["0"]`}} {
		if got := showReply(mustDo(t, admin, strings.Fields(tc[0])...)); got != tc[1] {
			t.Fatalf("%s under WRITE pause: %s, want %s", tc[0], got, tc[1])
		}
	}
	w1, w2, pub := dialResp(t, addr), dialResp(t, addr), dialResp(t, addr)
	sendOnly(t, w1, "SET", "k", "1")
	waitInfoBlocked(t, addr, 1)
	sendOnly(t, w2, "SET", "k", "2")
	waitInfoBlocked(t, addr, 2)
	sendOnly(t, pub, "PUBLISH", "ch", "x")
	waitInfoBlocked(t, addr, 3)
	sendOnly(t, tx, "EXEC")
	waitInfoBlocked(t, addr, 4)
	// w1's pipeline: the GET after the postponed SET waits behind it.
	sendOnly(t, w1, "GET", "k")
	if got := showReply(mustDo(t, admin, "GET", "k")); got != `"0"` {
		t.Fatalf("a postponed write ran: k = %s", got)
	}
	if v := mustDo(t, admin, "CLIENT", "UNPAUSE"); v != respStatus("OK") {
		t.Fatalf("CLIENT UNPAUSE: %s", showReply(v))
	}
	for _, tc := range []struct {
		c    *respClient
		want string
	}{{w1, "+OK"}, {w1, `"1"`}, {w2, "+OK"}, {pub, "0"}, {tx, "[1]"}} {
		if got := readReply(t, tc.c); got != tc.want && !(tc.c == w1 && tc.want == `"1"` && got == `"2"`) {
			t.Fatalf("postponed reply %s, want %s", got, tc.want)
		}
	}
	waitInfoBlocked(t, addr, 0)
	if got := showReply(mustDo(t, admin, "GET", "k")); got != `"2"` {
		t.Fatalf("after unpause k = %s, want the last postponed write's 2", got)
	}
}

// TestClientPauseAll: under CLIENT PAUSE ALL every command waits, the
// pausing client's and CLIENT UNPAUSE too, until the deadline.
func TestClientPauseAll(t *testing.T) {
	e := newEnv(t, nil)
	addr := e.srv.Addr().String()
	admin := pauseClient(t, e)
	mustDo(t, admin, "SET", "k", "v")
	start := time.Now()
	sendOnly(t, admin, "CLIENT", "PAUSE", "300", "ALL")
	sendOnly(t, admin, "GET", "k") // pipelined: waits for the deadline
	other := dialResp(t, addr)
	sendOnly(t, other, "CLIENT", "UNPAUSE")
	if got := readReply(t, admin); got != "+OK" {
		t.Fatalf("CLIENT PAUSE: %s", got)
	}
	if got := readReply(t, admin); got != `"v"` {
		t.Fatalf("GET after the pause: %s", got)
	}
	if got := readReply(t, other); got != "+OK" {
		t.Fatalf("CLIENT UNPAUSE after the pause: %s", got)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("commands ran %v into a 300 ms ALL pause", d)
	}
}

// TestClientPauseBlockedTimeout: a client blocked in BLPOP before a
// WRITE pause still times out on time; one that sends BLPOP during the
// pause is postponed, then blocks with its full timeout.
func TestClientPauseBlockedTimeout(t *testing.T) {
	e := newEnv(t, nil)
	addr := e.srv.Addr().String()
	admin := pauseClient(t, e)
	b := dialResp(t, addr)
	sendOnly(t, b, "BLPOP", "q", "0.2")
	waitInfoBlocked(t, addr, 1)
	mustDo(t, admin, "CLIENT", "PAUSE", "60000", "WRITE")
	if got := readReply(t, b); got != "*-1" {
		t.Fatalf("BLPOP timeout during a pause: %s", got)
	}
	sendOnly(t, b, "BLPOP", "q", "0")
	waitInfoBlocked(t, addr, 1) // postponed
	mustDo(t, admin, "CLIENT", "UNPAUSE")
	waitInfoBlocked(t, addr, 1) // now blocked on q
	mustDo(t, admin, "RPUSH", "q", "x")
	if got := readReply(t, b); got != `["q" "x"]` {
		t.Fatalf("BLPOP after the pause: %s", got)
	}
	// A parked client that disconnects is no longer counted.
	mustDo(t, admin, "CLIENT", "PAUSE", "60000", "WRITE")
	gone := dialResp(t, addr)
	sendOnly(t, gone, "SET", "x", "1")
	waitInfoBlocked(t, addr, 1)
	gone.nc.Close()
	waitInfoBlocked(t, addr, 0)
	mustDo(t, admin, "CLIENT", "UNPAUSE")
	if got := showReply(mustDo(t, admin, "EXISTS", "x")); got != "0" {
		t.Fatalf("the closed client's postponed SET ran: EXISTS x = %s", got)
	}
}

// TestClientPauseStopsExpiry: the active expiry loop removes nothing
// during a pause; expired keys stay invisible.
func TestClientPauseStopsExpiry(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, &Options{Clock: clock.Now})
	admin := pauseClient(t, e)
	mustDo(t, admin, "SET", "k", "v", "PX", "100")
	mustDo(t, admin, "CLIENT", "PAUSE", "60000", "WRITE")
	clock.Advance(time.Second)
	if n := e.db.expireSome(0); n != 0 {
		t.Fatalf("the expiry loop removed %d keys during a pause", n)
	}
	if got := showReply(mustDo(t, admin, "GET", "k")); got != "$-1" {
		t.Fatalf("an expired key is visible during a pause: %s", got)
	}
	mustDo(t, admin, "CLIENT", "UNPAUSE")
	if n := e.db.expireSome(0); n != 1 {
		t.Fatalf("the expiry loop removed %d keys after the pause, want 1", n)
	}
}

// TestClientPauseArgs: argument errors, and modes that merge.
func TestClientPauseArgs(t *testing.T) {
	e := newEnv(t, nil)
	c := pauseClient(t, e)
	for _, tc := range [][2]string{
		{"CLIENT PAUSE x", "-ERR timeout is not an integer or out of range"},
		{"CLIENT PAUSE -1", "-ERR timeout is negative"},
		{"CLIENT PAUSE 1 bad", "-ERR CLIENT PAUSE mode must be WRITE or ALL"},
		{"CLIENT PAUSE 1 write x", "-ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP."},
		{"CLIENT PAUSE 0", "+OK"},
		{"SET k v", "+OK"}, // a 0 ms pause is over at once
		{"CLIENT UNPAUSE", "+OK"},
		{"CLIENT PAUSE 60000 WRITE", "+OK"},
		{"CLIENT PAUSE 0 ALL", "+OK"}, // merges: ALL until the later deadline
	} {
		if got := showReply(mustDo(t, c, strings.Fields(tc[0])...)); !strings.HasPrefix(got, tc[1]) {
			t.Fatalf("%s: %s, want %s", tc[0], got, tc[1])
		}
	}
	e.srv.cpause.mu.Lock()
	mode := e.srv.cpause.mode
	e.srv.cpause.mu.Unlock()
	if mode != pauseAll {
		t.Fatalf("pause mode %d after WRITE then ALL, want ALL", mode)
	}
	e.srv.unpause()
}

// TestClientPauseCluster: in cluster mode, where a pipeline runs on a
// goroutine of its own, a postponed write waits there (counted blocked)
// and runs at CLIENT UNPAUSE.
func TestClientPauseCluster(t *testing.T) {
	e, _ := newClusterEnv(t, ReadLinearizable)
	addr := e.srv.Addr().String()
	admin := pauseClient(t, e)
	if got := showReply(mustDo(t, admin, "CLIENT", "PAUSE", "60000", "WRITE")); got != "+OK" {
		t.Fatalf("CLIENT PAUSE in cluster mode: %s", got)
	}
	w := dialResp(t, addr)
	sendOnly(t, w, "SET", "k", "v")
	waitInfoBlocked(t, addr, 1)
	if got := showReply(mustDo(t, admin, "GET", "k")); got != "$-1" {
		t.Fatalf("a postponed write ran: GET k = %s", got)
	}
	mustDo(t, admin, "CLIENT", "UNPAUSE")
	if got := readReply(t, w); got != "+OK" {
		t.Fatalf("postponed SET: %s", got)
	}
	waitInfoBlocked(t, addr, 0)
	if got := showReply(mustDo(t, admin, "GET", "k")); got != `"v"` {
		t.Fatalf("GET k after the pause = %s", got)
	}
}

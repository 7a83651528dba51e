package walkv

import (
	"fmt"
	"testing"
	"time"
)

// waitBlocked waits until n clients are blocked on key.
func waitBlocked(t *testing.T, db *DB, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		db.mu.RLock()
		got := len(db.blk.keys[dbKey{0, key}])
		db.mu.RUnlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d clients blocked on %q, want %d", got, key, n)
		}
		time.Sleep(time.Millisecond) // waiting for the event, with a deadline
	}
}

func mustDo(t *testing.T, c *respClient, args ...string) any {
	t.Helper()
	v, err := c.do(args...)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return v
}

func mustRead(t *testing.T, c *respClient) string {
	t.Helper()
	v, err := c.read()
	if err != nil {
		t.Fatal(err)
	}
	return showReply(v)
}

// TestBlockingPopOrder: clients blocked on a key are served in the order
// they blocked, by one push from another client on the same event loop
// (so a blocked client does not block its loop), and the rest of a
// blocked client's pipeline runs only once it is served.
func TestBlockingPopOrder(t *testing.T) {
	e := newEnv(t, nil)
	one, err := Listen(e.db, "127.0.0.1:0", &ServerOptions{EventLoops: 1})
	if err != nil {
		t.Fatal(err)
	}
	addr := one.Addr().String()
	var waiting []*respClient
	for i := range 3 {
		c := dialResp(t, addr)
		cmd := "BLPOP"
		if i == 1 {
			cmd = "BRPOP"
		}
		if err := c.send(cmd, "other", "q", "0"); err != nil {
			t.Fatal(err)
		}
		if err := c.send("PING"); err != nil { // pipelined behind the blocking command
			t.Fatal(err)
		}
		waitBlocked(t, e.db, "q", i+1)
		waiting = append(waiting, c)
	}
	p := dialResp(t, addr)
	if got := showReply(mustDo(t, p, "RPUSH", "q", "a", "b", "c", "d")); got != "4" {
		t.Fatalf("RPUSH = %s", got)
	}
	// The first blocked pops a from the head, the second (BRPOP) d from
	// the tail, the third b.
	for i, want := range []string{`["q" "a"]`, `["q" "d"]`, `["q" "b"]`} {
		if got := mustRead(t, waiting[i]); got != want {
			t.Fatalf("client %d got %s, want %s", i, got, want)
		}
		if got := mustRead(t, waiting[i]); got != "+PONG" {
			t.Fatalf("client %d pipelined PING got %s", i, got)
		}
	}
	if got := showReply(mustDo(t, p, "LRANGE", "q", "0", "-1")); got != `["c"]` {
		t.Fatalf("left %s", got)
	}
	// What the blocked clients popped is logged.
	if err := one.Close(); err != nil {
		t.Fatal(err)
	}
	e.restart()
	if got := e.do("LRANGE q 0 -1"); fmt.Sprint(got) != "[c]" {
		t.Fatalf("after restart: %v", got)
	}
}

// TestBlockingTimeoutAndMulti: a timeout replies a null array; inside
// MULTI a blocking command does not block; a closed client's wait is
// dropped and takes nothing.
func TestBlockingTimeoutAndMulti(t *testing.T) {
	e := newEnv(t, nil)
	addr := e.srv.Addr().String()
	c := dialResp(t, addr)
	start := time.Now()
	if got := showReply(mustDo(t, c, "BLPOP", "none", "0.05")); got != "*-1" {
		t.Fatalf("timeout: %s", got)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("timed out after %v", d)
	}
	if got := showReply(mustDo(t, c, "BRPOPLPUSH", "none", "d", "0.01")); got != "*-1" {
		t.Fatalf("BRPOPLPUSH timeout: %s", got)
	}
	mustDo(t, c, "MULTI")
	for _, cmd := range [][]string{{"BLPOP", "none", "0"}, {"BLMOVE", "none", "d", "LEFT", "LEFT", "0"}, {"BLMPOP", "0", "1", "none", "LEFT"}} {
		mustDo(t, c, cmd...)
	}
	if got := showReply(mustDo(t, c, "EXEC")); got != "[*-1 $-1 *-1]" {
		t.Fatalf("EXEC: %s", got)
	}
	gone := dialResp(t, addr)
	if err := gone.send("BLPOP", "k", "0"); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, e.db, "k", 1)
	gone.nc.Close()
	waitBlocked(t, e.db, "k", 0)
	mustDo(t, c, "RPUSH", "k", "v")
	if got := showReply(mustDo(t, c, "LLEN", "k")); got != "1" {
		t.Fatalf("LLEN after the closed client: %s", got)
	}
	if got := showReply(mustDo(t, c, "BLPOP", "k", "-1")); got != `-ERR timeout is negative` {
		t.Fatalf("negative timeout: %s", got)
	}
}

// TestBlockingMoveChain: a BLMOVE served by a push pushes onto a key
// another client waits on, which is served in turn; BLMPOP gets up to
// COUNT elements.
func TestBlockingMoveChain(t *testing.T) {
	e := newEnv(t, &Options{AppendFsync: FsyncAlways})
	addr := e.srv.Addr().String()
	mover, popper := dialResp(t, addr), dialResp(t, addr)
	if err := mover.send("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, e.db, "src", 1)
	if err := popper.send("BLMPOP", "0", "2", "x", "dst", "LEFT", "COUNT", "5"); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, e.db, "dst", 1)
	p := dialResp(t, addr)
	mustDo(t, p, "MULTI")
	mustDo(t, p, "RPUSH", "src", "a", "b")
	mustDo(t, p, "SET", "s", "1")
	if got := showReply(mustDo(t, p, "EXEC")); got != `[2 +OK]` {
		t.Fatalf("EXEC: %s", got)
	}
	if got := mustRead(t, mover); got != `"b"` {
		t.Fatalf("BLMOVE got %s", got)
	}
	if got := mustRead(t, popper); got != `["dst" ["b"]]` {
		t.Fatalf("BLMPOP got %s", got)
	}
	if got := showReply(mustDo(t, p, "LRANGE", "src", "0", "-1")); got != `["a"]` {
		t.Fatalf("src %s", got)
	}
	if got := showReply(mustDo(t, p, "EXISTS", "dst")); got != "0" {
		t.Fatalf("dst exists: %s", got)
	}
}

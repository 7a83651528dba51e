package walkv

import "testing"

// TestBlockingZPop: BZPOPMIN, BZPOPMAX and BZMPOP block on empty keys and
// are served, in blocking order, by a write that leaves a sorted set
// there; a list push does not serve them; a timeout or MULTI replies a
// null array; and the pops are logged (a restart agrees).
func TestBlockingZPop(t *testing.T) {
	e := newEnv(t, nil)
	addr := e.srv.Addr().String()
	a, b, c, w := dialResp(t, addr), dialResp(t, addr), dialResp(t, addr), dialResp(t, addr)
	if err := a.send("BZPOPMIN", "z", "0"); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, e.db, "z", 1)
	if err := b.send("BZMPOP", "0", "2", "other", "z", "MAX", "COUNT", "5"); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, e.db, "z", 2)
	if err := c.send("BLPOP", "z", "0"); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, e.db, "z", 3)
	if got := showReply(mustDo(t, w, "ZADD", "z", "1", "a", "2", "b", "3", "c")); got != "3" {
		t.Fatalf("ZADD: %s", got)
	}
	if got := mustRead(t, a); got != `["z" "a" "1"]` {
		t.Fatalf("BZPOPMIN: %s", got)
	}
	if got := mustRead(t, b); got != `["z" [["c" "3"] ["b" "2"]]]` {
		t.Fatalf("BZMPOP: %s", got)
	}
	waitBlocked(t, e.db, "z", 1) // the BLPOP still waits: z was a sorted set
	mustDo(t, w, "RPUSH", "l", "x")
	mustDo(t, w, "RENAME", "l", "z")
	if got := mustRead(t, c); got != `["z" "x"]` {
		t.Fatalf("BLPOP: %s", got)
	}
	for _, cmd := range [][]string{{"BZPOPMAX", "none", "0.01"}, {"BZMPOP", "0.01", "1", "none", "MIN"}} {
		if got := showReply(mustDo(t, w, cmd...)); got != "*-1" {
			t.Fatalf("%q after its timeout: %s", cmd, got)
		}
	}
	mustDo(t, w, "MULTI")
	mustDo(t, w, "BZPOPMIN", "none", "0")
	if got := showReply(mustDo(t, w, "EXEC")); got != "[*-1]" {
		t.Fatalf("BZPOPMIN in EXEC: %s", got)
	}
	mustDo(t, w, "ZADD", "y", "5", "m")
	if got := showReply(mustDo(t, w, "BZPOPMAX", "none", "y", "0")); got != `["y" "m" "5"]` {
		t.Fatalf("BZPOPMAX of a non-empty set: %s", got)
	}
	if got := showReply(mustDo(t, w, "BZPOPMIN", "z", "x")); got != "-ERR timeout is not a float or out of range" {
		t.Fatalf("bad timeout: %s", got)
	}
	e.restart()
	e.runSteps([]step{{"EXISTS z y", 0}})
}

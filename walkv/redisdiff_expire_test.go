package walkv

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// diffPair is one connection to each server of a differential test.
type diffPair struct{ w, r *respClient }

// both sends cmd to both servers and fails the test if the replies differ.
func (p diffPair) both(t *testing.T, cmd ...string) any {
	t.Helper()
	want, err := p.r.do(cmd...)
	if err != nil {
		t.Fatalf("redis-server %q: %v", cmd, err)
	}
	got, err := p.w.do(cmd...)
	if err != nil {
		t.Fatalf("walkv %q: %v", cmd, err)
	}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Fatalf("%q:\n  walkv: %s\n  redis: %s", cmd, showReply(got), showReply(want))
	}
	return got
}

// counts returns, from each server, DBSIZE, INFO keyspace's db0 line and
// expired_keys.
func (p diffPair) counts(t *testing.T) [2]string {
	t.Helper()
	var out [2]string
	for i, c := range []*respClient{p.w, p.r} {
		n, _ := c.do("DBSIZE")
		ks, _ := c.do("INFO", "keyspace")
		st, _ := c.do("INFO", "stats")
		db0, exp := "", ""
		for _, line := range strings.Split(fmt.Sprint(ks)+"\r\n"+fmt.Sprint(st), "\r\n") {
			if v, ok := strings.CutPrefix(line, "db0:"); ok {
				db0, _, _ = strings.Cut(v, ",avg_ttl")
			}
			if v, ok := strings.CutPrefix(line, "expired_keys:"); ok {
				exp = v
			}
		}
		out[i] = fmt.Sprintf("dbsize=%v db0=%q expired_keys=%s", n, db0, exp)
	}
	return out
}

// sameCounts fails the test if the servers' counts differ.
func (p diffPair) sameCounts(t *testing.T, when string) {
	t.Helper()
	if c := p.counts(t); c[0] != c[1] {
		t.Fatalf("%s:\n  walkv: %s\n  redis: %s", when, c[0], c[1])
	}
}

// waitPast waits until the wall clock is past ms milliseconds from now: a
// deadline both servers must have reached, not a synchronization.
func waitPast(ms int) {
	end := time.Now().Add(time.Duration(ms) * time.Millisecond)
	for time.Now().Before(end) {
		time.Sleep(time.Millisecond)
	}
}

// TestRedisDiffLazyExpire: a key found expired by a command is removed as
// Redis removes it: DBSIZE, INFO keyspace and expired_keys agree with
// redis-server's after every step, with active expiry off on both
// (DEBUG SET-ACTIVE-EXPIRE 0 on redis-server, a far ExpireInterval on
// walkv), so only accesses remove keys. WATCH sees the removal as Redis
// 7.0 does.
func TestRedisDiffLazyExpire(t *testing.T) {
	raddr := startRedis(t, "--enable-debug-command", "yes")
	e := newEnv(t, &Options{ExpireInterval: 1 << 40})
	p := diffPair{dialResp(t, e.srv.Addr().String()), dialResp(t, raddr)}
	q := diffPair{dialResp(t, e.srv.Addr().String()), dialResp(t, raddr)}
	if v, err := p.r.do("DEBUG", "SET-ACTIVE-EXPIRE", "0"); err != nil || v != respStatus("OK") {
		t.Fatalf("DEBUG SET-ACTIVE-EXPIRE 0: %v %v", v, err)
	}
	for _, read := range [][]string{
		{"GET", "k"}, {"EXISTS", "k"}, {"TTL", "k"}, {"TYPE", "k"}, {"SCAN", "0"}, {"KEYS", "*"},
		{"MGET", "k", "p"}, {"SET", "k", "w"}, {"DEL", "k"}, {"LPUSHX", "k", "a"}, {"HGET", "k", "f"},
		{"EXPIRE", "k", "10"}, {"RENAME", "k", "z"}, {"INCR", "k"}, {"DBSIZE"},
	} {
		flushBoth(t, p.w, p.r)
		p.both(t, "SET", "p", "v")
		// 20 ms, not 1: redis-server 7.0 deletes at once a key whose
		// relative deadline its clock passed while it ran the command
		// (checkAlreadyExpired), which a 1 ms deadline hits now and then.
		p.both(t, "SET", "k", "v", "PX", "20")
		p.both(t, "SET", "h", "v")
		p.both(t, "PEXPIRE", "h", "20")
		waitPast(25)
		p.sameCounts(t, fmt.Sprintf("%q before", read))
		p.both(t, read...)
		p.sameCounts(t, fmt.Sprintf("%q after", read))
		p.both(t, "EXPIRE", "p", "-1") // expiry in the past deletes at once
		p.both(t, "MULTI")
		p.both(t, "GET", "h")
		p.both(t, "DBSIZE")
		p.both(t, "EXEC")
		p.sameCounts(t, fmt.Sprintf("%q then EXEC", read))
	}

	// WATCH of a key already expired: its removal by another client
	// leaves the transaction alone; WATCH of a live key that then
	// expires: its removal aborts it.
	flushBoth(t, p.w, p.r)
	p.both(t, "SET", "dead", "v", "PX", "1")
	p.both(t, "SET", "live", "v", "PX", "30")
	waitPast(5)
	p.both(t, "WATCH", "dead")
	q.both(t, "GET", "dead")
	p.both(t, "MULTI")
	p.both(t, "SET", "x", "1")
	p.both(t, "EXEC")
	p.both(t, "WATCH", "live")
	waitPast(40)
	q.both(t, "GET", "live")
	p.both(t, "MULTI")
	p.both(t, "SET", "x", "2")
	p.both(t, "EXEC")
	p.both(t, "GET", "x")
	p.sameCounts(t, "after WATCH")
}

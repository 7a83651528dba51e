package walkv

import (
	"testing"
	"time"
)

// TestExpirySurvivesRestart: deadlines are absolute, logged and
// snapshotted, so a key expires at the same moment however often the
// server restarts, and not earlier.
func TestExpirySurvivesRestart(t *testing.T) {
	for _, viaSnapshot := range []bool{false, true} {
		clock := newFakeClock()
		e := newEnv(t, &Options{Clock: clock.Now, ExpireInterval: time.Hour})
		e.runSteps([]step{
			{"SET s v EX 100", "OK"},
			{"HSET h f v", 1},
			{"PEXPIRE h 50000", 1},
			{"SET keep v", "OK"},
		})
		if viaSnapshot {
			e.runSteps([]step{{"SAVE", "OK"}})
		}
		clock.Advance(40 * time.Second)
		e.restart()
		e.runSteps([]step{{"TTL s", 60}, {"PTTL h", 10000}, {"TTL keep", -1}})
		clock.Advance(20 * time.Second)
		e.restart()
		e.runSteps([]step{{"TTL s", 40}, {"EXISTS h", 0}, {"HGET h f", nil}, {"HSET h g w", 1}, {"HGETALL h", []any{"g", "w"}}})
		clock.Advance(41 * time.Second)
		e.restart()
		e.runSteps([]step{{"GET s", nil}, {"EXISTS s h keep", 2}, {"TTL h", -1}})
		e.stop()
	}
}

// TestExpiredKeyRecreated: commands on an expired key start from scratch,
// and the log replays to the same state (the recreation is logged, the
// expiry is not).
func TestExpiredKeyRecreated(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, &Options{Clock: clock.Now, ExpireInterval: time.Hour})
	e.runSteps([]step{{"HSET h a 1 b 2", 2}, {"EXPIRE h 10", 1}, {"SET n 5 EX 10", "OK"}, {"SET s abc EX 10", "OK"}})
	clock.Advance(11 * time.Second)
	want := []step{
		{"HSET h c 3", 1}, {"INCR n", 1}, {"APPEND s d", 1},
		{"HGETALL h", []any{"c", "3"}}, {"GET n", "1"}, {"GET s", "d"}, {"TTL h", -1}, {"TTL n", -1},
	}
	e.runSteps(want)
	e.restart()
	e.runSteps(want[3:])
}

// TestActiveExpiry: expired keys nobody reads are removed in the
// background and counted.
func TestActiveExpiry(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, &Options{Clock: clock.Now, ExpireInterval: time.Millisecond})
	for i := range 500 {
		doWith(t, e.c, "SET", i, "v", "PX", 100+i%3)
	}
	e.do("SET keep v")
	clock.Advance(time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.db.mu.RLock()
		left := e.db.dbs[0].len()
		e.db.mu.RUnlock()
		if left == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys still held after 5s", left)
		}
		time.Sleep(time.Millisecond) // polling the background loop
	}
	e.db.mu.RLock()
	expired, expires := e.db.stats.expired.Load(), e.db.dbs[0].expires()
	e.db.mu.RUnlock()
	if expired != 500 || expires != 0 {
		t.Fatalf("expired_keys %d, keys with deadlines %d", expired, expires)
	}
}

// TestClockStepsBack: a wall clock that steps back does not revive
// expired keys.
func TestClockStepsBack(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, &Options{Clock: clock.Now, ExpireInterval: time.Hour})
	e.runSteps([]step{{"SET k v PX 100", "OK"}})
	clock.Advance(200 * time.Millisecond)
	e.runSteps([]step{{"GET k", nil}})
	clock.Advance(-time.Second)
	e.runSteps([]step{{"GET k", nil}, {"EXPIRE k 100", 0}})
}

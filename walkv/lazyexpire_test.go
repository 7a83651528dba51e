package walkv

import (
	"fmt"
	"testing"
	"time"
)

// expiryCounts returns DBSIZE, INFO keyspace's keys and expires, and
// expired_keys, as the client sees them.
func expiryCounts(t *testing.T, e *env) [4]int64 {
	t.Helper()
	m := infoFields(t, e.do("INFO everything"))
	var keys, expires int64
	if db0, ok := m["db0"]; ok {
		if _, err := fmt.Sscanf(db0, "keys=%d,expires=%d", &keys, &expires); err != nil {
			t.Fatalf("db0:%s: %v", db0, err)
		}
	}
	return [4]int64{e.do("DBSIZE").(int64), keys, expires, infoInt(t, m, "expired_keys")}
}

// TestReadRemovesExpired: every kind of command that looks a key up
// removes it when it finds it expired, whether it holds the read lock or
// the write lock: the key leaves DBSIZE and INFO keyspace and counts once
// in expired_keys, as in Redis. Active expiry is off, so only the access
// can have removed it.
func TestReadRemovesExpired(t *testing.T) {
	for _, cmd := range []string{
		"GET k", "EXISTS k", "TYPE k", "TTL k", "PTTL k", "MGET k p", "STRLEN k", "GETRANGE k 0 1",
		"HGET k f", "LLEN k", "SCARD k", "ZSCORE k m", "OBJECT ENCODING k", "TOUCH k", "DUMP k",
		"SCAN 0", "SCAN 0 MATCH nomatch", "SET k w", "DEL k", "LPUSHX k a", "EXPIRE k 10", "PERSIST k",
		"RENAME k z", "COPY k z", "APPEND k x", "INCR k", "GETDEL k", "HSET k f v",
	} {
		t.Run(cmd, func(t *testing.T) {
			clock := newFakeClock()
			e := newEnv(t, &Options{Clock: clock.Now, ExpireInterval: 1 << 40})
			e.runSteps([]step{{"SET k v PX 100", "OK"}, {"SET p v", "OK"}})
			clock.Advance(time.Second)
			if got := expiryCounts(t, e); got != [4]int64{2, 2, 1, 0} {
				t.Fatalf("before %s: DBSIZE, keys, expires, expired_keys = %v", cmd, got)
			}
			e.do(cmd)
			want := [4]int64{1, 1, 0, 1} // k removed; p stays
			if e.do("EXISTS k") == int64(1) {
				want = [4]int64{2, 2, 0, 1} // the command recreated k
			}
			if got := expiryCounts(t, e); got != want {
				t.Fatalf("after %s: DBSIZE, keys, expires, expired_keys = %v, want %v", cmd, got, want)
			}
			e.runSteps([]step{{"GET k", "~"}, {"SCAN 0", "~"}})
			if got := expiryCounts(t, e); got[3] != 1 {
				t.Fatalf("expired_keys %d after further reads, want 1", got[3])
			}
		})
	}
}

// TestKeysAndScanSkipExpired: KEYS does not return an expired key (and,
// as in Redis 7.0, does not remove it); SCAN neither returns nor keeps it;
// RANDOMKEY never returns it.
func TestKeysAndScanSkipExpired(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, &Options{Clock: clock.Now, ExpireInterval: 1 << 40})
	for i := range 50 {
		e.do(fmt.Sprintf("SET d%d v PX 10", i))
	}
	e.do("SET live v")
	clock.Advance(time.Second)
	e.runSteps([]step{{"KEYS *", []any{"live"}}, {"DBSIZE", 51}})
	for range 20 {
		e.runSteps([]step{{"RANDOMKEY", "live"}})
	}
	cursor := "0"
	for {
		r := e.do("SCAN " + cursor + " COUNT 1000").([]any)
		for _, k := range r[1].([]any) {
			if k != "live" {
				t.Fatalf("SCAN returned %v", k)
			}
		}
		if cursor = r[0].(string); cursor == "0" {
			break
		}
	}
	e.runSteps([]step{{"DBSIZE", 1}})
	if got := expiryCounts(t, e); got[3] != 50 {
		t.Fatalf("expired_keys %d, want 50", got[3])
	}
}

// TestExpiredRemovalAndWatch: as in Redis 7.0, removing an expired key
// breaks a transaction that WATCHed it while it was live, and not one that
// WATCHed it already expired.
func TestExpiredRemovalAndWatch(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, &Options{Clock: clock.Now, ExpireInterval: 1 << 40})
	other := e.client()
	t.Cleanup(func() { other.Close() })
	e.runSteps([]step{{"SET live v PX 100", "OK"}, {"SET dead v PX 1", "OK"}})
	clock.Advance(10 * time.Millisecond)
	e.runSteps([]step{{"WATCH dead", "OK"}})
	doWith(t, other, "GET", "dead") // removes it
	e.runSteps([]step{{"MULTI", "OK"}, {"SET x 1", "QUEUED"}, {"EXEC", []any{"OK"}}})

	e.runSteps([]step{{"WATCH live", "OK"}})
	clock.Advance(time.Second)
	doWith(t, other, "GET", "live")
	e.runSteps([]step{{"MULTI", "OK"}, {"SET x 2", "QUEUED"}, {"EXEC", nil}, {"GET x", "1"}})
}

// TestExpiredRemovalInExec: a command inside EXEC removes the expired key
// it finds at once, under the lock EXEC holds.
func TestExpiredRemovalInExec(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, &Options{Clock: clock.Now, ExpireInterval: 1 << 40})
	e.runSteps([]step{{"SET k v PX 1", "OK"}, {"SET p v PX 1", "OK"}})
	clock.Advance(time.Second)
	e.runSteps([]step{{"MULTI", "OK"}, {"GET k", "QUEUED"}, {"SCAN 0", "QUEUED"}, {"DBSIZE", "QUEUED"},
		{"EXEC", []any{nil, []any{"0", []any{}}, int64(0)}}})
	if got := expiryCounts(t, e); got != [4]int64{0, 0, 0, 2} {
		t.Fatalf("DBSIZE, keys, expires, expired_keys = %v", got)
	}
}

// TestClusterReadRemovesOnlyAtAppliedTime: in cluster mode a read on a
// node whose clock is past a key's deadline treats the key as absent but
// removes it only once the replicated clock (appliedNow) has passed the
// deadline too, so no node removes a key a replicated command could
// still see.
func TestClusterReadRemovesOnlyAtAppliedTime(t *testing.T) {
	clock := newFakeClock()
	f := &fakeReplicator{}
	f.leader.Store(true)
	e := newEnv(t, &Options{Replicator: f, ReadMode: ReadStale, Clock: clock.Now, ExpireInterval: 1 << 40})
	f.db.Store(e.db)
	e.runSteps([]step{{"SET k v PX 100", "OK"}})
	clock.Advance(time.Second)
	e.runSteps([]step{{"GET k", nil}, {"DBSIZE", 1}})
	if got := expiryCounts(t, e); got[3] != 0 {
		t.Fatalf("expired_keys %d before appliedNow passed the deadline", got[3])
	}
	e.runSteps([]step{{"SET other v", "OK"}, {"DBSIZE", 2}, {"GET k", nil}, {"DBSIZE", 1}})
	if got := expiryCounts(t, e); got[3] != 1 {
		t.Fatalf("expired_keys %d, want 1", got[3])
	}
}

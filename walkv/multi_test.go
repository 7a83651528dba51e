package walkv

import (
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/waldb/wal"
	"github.com/waldb/wal/txn"
)

func TestMultiExec(t *testing.T) {
	e := newEnv(t, nil)
	e.runSteps([]step{
		{"EXEC", "ERR:ERR EXEC without MULTI"},
		{"DISCARD", "ERR:ERR DISCARD without MULTI"},
		{"MULTI", "OK"},
		{"MULTI", "ERR:ERR MULTI calls can not be nested"},
		{"SET a 1", "QUEUED"},
		{"INCR a", "QUEUED"},
		{"HSET a f v", "QUEUED"}, // fails at run time: WRONGTYPE
		{"GET a", "QUEUED"},
		{"PING", "QUEUED"},
		{"UNWATCH", "QUEUED"},
		{"EXEC", []any{"OK", int64(2), "ERR:WRONGTYPE Operation against a key holding the wrong kind of value", "2", "PONG", "OK"}},
		{"GET a", "2"},
		{"MULTI", "OK"},
		{"SET a 3", "QUEUED"},
		{"DISCARD", "OK"},
		{"GET a", "2"},
		{"MULTI", "OK"},
		{"SET a 4", "QUEUED"},
		{"NOSUCH", "ERR:ERR unknown command"},
		{"GET", "ERR:ERR wrong number of arguments"},
		{"SAVE", "ERR:ERR Command not allowed inside a transaction"},
		{"EXEC", "ERR:EXECABORT"},
		{"GET a", "2"},
		{"MULTI", "OK"},
		{"WATCH a", "ERR:ERR WATCH inside MULTI is not allowed"},
		{"EXEC", []any{}},
	})
}

func TestWatch(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	other := e.client()
	e.do("SET k 1")
	// Unchanged watched key: EXEC runs.
	err := e.c.Watch(ctx, func(tx *redis.Tx) error {
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Incr(ctx, "k")
			return nil
		})
		return err
	}, "k")
	if err != nil {
		t.Fatalf("uncontended WATCH: %v", err)
	}
	// Another client changes the key between WATCH and EXEC: EXEC fails.
	for _, change := range []string{"SET k 9", "DEL k", "EXPIRE k 100", "FLUSHALL", "APPEND k x"} {
		e.do("SET k 1")
		err = e.c.Watch(ctx, func(tx *redis.Tx) error {
			doWith(t, other, words(change)...)
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "k", "mine", 0)
				return nil
			})
			return err
		}, "k")
		if !errors.Is(err, redis.TxFailedErr) {
			t.Fatalf("after %q: WATCH transaction err = %v, want TxFailedErr", change, err)
		}
		if got := e.do("GET k"); got == "mine" {
			t.Fatalf("after %q: EXEC ran despite the watched change", change)
		}
	}
	// Watching a missing key that another client creates.
	err = e.c.Watch(ctx, func(tx *redis.Tx) error {
		doWith(t, other, "SET", "fresh", "x")
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "fresh", "mine", 0)
			return nil
		})
		return err
	}, "fresh")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("created watched key: err = %v", err)
	}
	// DISCARD and UNWATCH forget watches.
	e.runSteps([]step{{"WATCH k", "OK"}, {"UNWATCH", "OK"}})
	doWith(t, other, "SET", "k", "z")
	e.runSteps([]step{{"MULTI", "OK"}, {"SET k after", "QUEUED"}, {"EXEC", []any{"OK"}}, {"GET k", "after"}})
}

// TestWatchExpired: a watched key that expires before EXEC fails it.
func TestWatchExpired(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, &Options{Clock: clock.Now, ExpireInterval: 1 << 40})
	e.runSteps([]step{{"SET k v PX 1000", "OK"}, {"WATCH k", "OK"}, {"MULTI", "OK"}, {"SET k2 x", "QUEUED"}})
	clock.Advance(2000 * 1e6)
	e.runSteps([]step{{"EXEC", nil}, {"GET k2", nil}})
}

// TestExecIsOneTransaction: the commands of an EXEC are one transaction
// in the log, so a crash keeps all or none of them.
func TestExecIsOneTransaction(t *testing.T) {
	e := newEnv(t, nil)
	e.runSteps([]step{
		{"SET before 1", "OK"},
		{"MULTI", "OK"}, {"SET a 1", "QUEUED"}, {"HSET h f v", "QUEUED"}, {"INCR n", "QUEUED"}, {"DEL before", "QUEUED"},
		{"EXEC", []any{"OK", int64(1), int64(1), int64(1)}},
	})
	e.stop()
	l, err := wal.Open(testDir+"/"+logDirName, &wal.Options{FS: e.opts.FS, SegmentSize: e.opts.SegmentSize})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sizes := map[uint64]int{}
	if _, err := txn.Recover(l, 0, func(id uint64, op txn.Op) error { sizes[id]++; return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 2 || sizes[1] != 1 || sizes[2] != 5 {
		t.Fatalf("transactions and their operation counts: %v; want {1:1, 2:5}", sizes)
	}
}

package walkv

import (
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/waldb/wal"
	"github.com/waldb/wal/txn"
	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// TestGroupCommit: many goroutines commit and wait at once; each wait
// returns only once its transaction is durable, and the log's group
// commit shares fsyncs among them (walkv has none of its own). Each fsync
// takes a millisecond, as on a real disk.
func TestGroupCommit(t *testing.T) {
	mem := vfs.NewMem()
	var fsyncs atomic.Int64
	inj := errorfs.InjectorFunc(func(op errorfs.Op, _ string) error {
		if op == errorfs.OpSync {
			fsyncs.Add(1)
			time.Sleep(time.Millisecond)
		}
		return nil
	})
	l, err := wal.Open("log", &wal.Options{FS: errorfs.Wrap(mem, inj), SyncPolicy: wal.SyncNever, SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	w := txn.NewWriter(l, 0)
	d := &durability{log: l}
	var mu sync.Mutex // orders commits as DB.mu does
	var wg sync.WaitGroup
	const goroutines, each = 16, 20
	for range goroutines {
		wg.Go(func() {
			for range each {
				mu.Lock()
				info, err := w.Commit([]txn.Op{opSetKey("k", kindString, []byte("v"))})
				if err == nil {
					d.logged.Store(info.Index)
				}
				mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				if err := d.wait(info.Index); err != nil {
					t.Error(err)
					return
				}
				if got := d.durableIndex(); got < info.Index {
					t.Errorf("wait(%d) returned with durable %d", info.Index, got)
				}
			}
		})
	}
	wg.Wait()
	if n := fsyncs.Load(); n > goroutines*each/4 {
		t.Fatalf("%d fsyncs for %d commits: too little sharing", n, goroutines*each)
	}
	t.Logf("%d fsyncs for %d commits", fsyncs.Load(), goroutines*each)
}

// TestGroupCommitFailure: a failed fsync fails every waiter, then and
// later.
func TestGroupCommitFailure(t *testing.T) {
	mem := vfs.NewMem()
	var failing atomic.Bool
	inj := errorfs.InjectorFunc(func(op errorfs.Op, _ string) error {
		if failing.Load() && op == errorfs.OpSync {
			return syscall.EIO
		}
		return nil
	})
	l, err := wal.Open("log", &wal.Options{FS: errorfs.Wrap(mem, inj), SyncPolicy: wal.SyncNever, SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	w := txn.NewWriter(l, 0)
	d := &durability{log: l}
	failing.Store(true)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			info, err := w.Commit(nil)
			if err != nil {
				return // the log may already have failed
			}
			for {
				cur := d.logged.Load()
				if cur >= info.Index || d.logged.CompareAndSwap(cur, info.Index) {
					break
				}
			}
			if err := d.wait(info.Index); !errors.Is(err, wal.ErrFailed) {
				t.Errorf("wait = %v, want wal.ErrFailed", err)
			}
		})
	}
	wg.Wait()
	if err := d.syncAll(); err == nil && d.logged.Load() > d.durableIndex() {
		t.Fatal("wait after a failure succeeded")
	}
}

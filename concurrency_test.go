package wal

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// TestConcurrentWritersReadersTruncations runs appenders, random readers,
// followers and truncations at once (meant for -race): every read returns
// a well-formed payload or ErrNotFound, and nothing races or deadlocks.
func TestConcurrentWritersReadersTruncations(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncNever} {
		t.Run(p.String(), func(t *testing.T) {
			l := mustOpen(t, t.TempDir(), &Options{SyncPolicy: p, SegmentSize: 8 << 10})
			defer mustClose(t, l)
			var (
				wg      sync.WaitGroup
				stop    atomic.Bool
				appends atomic.Int64
			)
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 300; i++ {
						// The index is known only after Append (and TruncateBack
						// reuses indexes), so payloads are checked by shape.
						if _, err := l.Append([]byte{0xA5, byte(i)}); err != nil {
							t.Errorf("Append: %v", err)
							return
						}
						appends.Add(1)
					}
				}()
			}
			for r := 0; r < 4; r++ {
				wg.Add(1)
				go func(r int) {
					defer wg.Done()
					rng := newRand(uint64(r))
					for !stop.Load() {
						first, _ := l.FirstIndex()
						last, _ := l.LastIndex()
						if last < first || last == 0 {
							continue
						}
						idx := first + rng.Uint64N(last-first+1)
						b, err := l.Read(idx)
						if err != nil && !errors.Is(err, ErrNotFound) {
							t.Errorf("Read(%d): %v", idx, err)
							return
						}
						if err == nil && (len(b) != 2 || b[0] != 0xA5) {
							t.Errorf("Read(%d): wrong payload %x", idx, b)
							return
						}
					}
				}(r)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				it := l.Iter(0, nil)
				for !stop.Load() {
					if _, _, err := it.Next(t.Context()); err != nil && !errors.Is(err, ErrNotFound) && err.Error() != "EOF" {
						t.Errorf("iterator: %v", err)
						return
					}
				}
			}()
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; !stop.Load(); i++ {
					first, _ := l.FirstIndex()
					last, _ := l.LastIndex()
					var err error
					switch {
					case last > first+100 && i%2 == 0:
						err = l.TruncateFront(first + 20)
					case last > first+100:
						err = l.TruncateBack(last - 5)
					}
					if err != nil && !errors.Is(err, ErrOutOfRange) {
						t.Errorf("truncate: %v", err)
						return
					}
				}
			}()
			for appends.Load() < 8*300 && !t.Failed() {
				runtimeGosched()
			}
			stop.Store(true)
			wg.Wait()
		})
	}
}

// TestFailStopAfterFsyncError injects an fsync error: the failing write
// and every later write return ErrFailed wrapping the cause, nothing
// unacknowledged becomes readable, durable entries stay readable, and a
// reopen recovers every acknowledged entry.
func TestFailStopAfterFsyncError(t *testing.T) {
	mem := vfs.NewMem()
	inj := &toggle{}
	fs := errorfs.Wrap(mem, inj)
	o := &Options{FS: fs, SegmentSize: 4 << 10}
	l := mustOpen(t, memDir, o)
	fill(t, l, 50, 0)
	inj.fail.Store(true)
	err := l.Write(51, payload(51, 0))
	if !errors.Is(err, ErrFailed) || !errors.Is(err, errInjected) {
		t.Fatalf("Write with failing fsync = %v, want ErrFailed wrapping the cause", err)
	}
	inj.fail.Store(false) // a retried fsync would now succeed: it must not be used
	if err := l.Write(51, payload(51, 0)); !errors.Is(err, ErrFailed) {
		t.Fatalf("Write after failure = %v, want sticky ErrFailed", err)
	}
	if err := l.Sync(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Sync after failure = %v, want ErrFailed", err)
	}
	checkRange(t, l, 1, 50)
	if err := l.Close(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Close after failure = %v, want ErrFailed", err)
	}
	l = mustOpen(t, memDir, &Options{FS: mem, SegmentSize: 4 << 10})
	defer mustClose(t, l)
	_, last := bounds(t, l)
	if last < 50 || last > 51 {
		t.Fatalf("after reopen last = %d, want 50 or 51", last)
	}
	checkRange(t, l, 1, last)
}

// TestFailStopWaitersAllFail: under group commit, every writer waiting on
// a failed fsync gets the error; none is acknowledged.
func TestFailStopWaitersAllFail(t *testing.T) {
	mem := vfs.NewMem()
	inj := &toggle{}
	l := mustOpen(t, memDir, &Options{FS: errorfs.Wrap(mem, inj), SegmentSize: 1 << 20})
	inj.fail.Store(true)
	var wg sync.WaitGroup
	var acked atomic.Int64
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.Append([]byte("x")); err == nil {
				acked.Add(1)
			} else if !errors.Is(err, ErrFailed) {
				t.Errorf("Append: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := acked.Load(); n != 0 {
		t.Fatalf("%d appends acknowledged although every fsync failed", n)
	}
	if _, last := bounds(t, l); last != 0 {
		t.Fatalf("LastIndex = %d after failed appends, want 0", last)
	}
	l.Close()
}

// TestGroupCommitSharesFsyncs counts fsyncs under 64 concurrent
// appenders: group commit must need at most one per two appends.
func TestGroupCommitSharesFsyncs(t *testing.T) {
	counter := errorfs.NewCounter(errorfs.OpSync)
	dir := t.TempDir()
	l := mustOpen(t, dir, &Options{FS: errorfs.Wrap(vfs.Default, counter)})
	before := counter.Count()
	const writers, each = 64, 40
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := l.Append(make([]byte, 128)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	fsyncs := counter.Count() - before
	t.Logf("%d appends, %d fsyncs", writers*each, fsyncs)
	if fsyncs*2 > writers*each {
		t.Fatalf("%d fsyncs for %d appends: group commit is not sharing", fsyncs, writers*each)
	}
	mustClose(t, l)
}

var errInjected = errors.New("injected EIO")

// toggle fails every fsync while fail is set.
type toggle struct{ fail atomic.Bool }

func (t *toggle) MaybeError(op errorfs.Op, path string) error {
	if op == errorfs.OpSync && t.fail.Load() {
		return errInjected
	}
	return nil
}

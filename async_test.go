package wal

import (
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// syncGate is an injector that, once armed, holds every File.Sync until
// released (entered tells that one is held), or fails it with fail.
type syncGate struct {
	armed   atomic.Bool
	fail    atomic.Pointer[error]
	entered chan struct{}
	release chan struct{}
}

func newSyncGate() *syncGate {
	return &syncGate{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (g *syncGate) MaybeError(op errorfs.Op, _ string) error {
	if op != errorfs.OpSync {
		return nil
	}
	e := g.fail.Load() // an fsync held before fail is set succeeds
	if g.armed.Load() {
		g.entered <- struct{}{}
		<-g.release
	}
	if e != nil {
		return *e
	}
	return nil
}

func gatedLog(t *testing.T, p SyncPolicy) (*Log, *syncGate) {
	t.Helper()
	g := newSyncGate()
	o := Options{FS: errorfs.Wrap(vfs.NewMem(), g), SyncPolicy: p, SegmentSize: 1 << 12, FlushInterval: time.Hour, SyncInterval: time.Hour}
	return mustOpen(t, memDir, &o), g
}

// appendAsyncN appends n entries of generation gen asynchronously.
func appendAsyncN(t *testing.T, l *Log, n int, gen uint64) (last uint64) {
	t.Helper()
	for range n {
		next, _ := l.LastIndex()
		i, err := l.AppendAsync(payload(next+1, gen))
		if err != nil {
			t.Fatal(err)
		}
		if i != next+1 {
			t.Fatalf("AppendAsync returned index %d, want %d", i, next+1)
		}
		last = i
	}
	return last
}

// notified registers a NotifyDurable callback and returns the channel its
// result arrives on.
func notified(t *testing.T, l *Log, index uint64) <-chan error {
	t.Helper()
	ch := make(chan error, 2) // 2: a second call would be seen, not block
	if err := l.NotifyDurable(index, func(err error) { ch <- err }); err != nil {
		t.Fatalf("NotifyDurable(%d): %v", index, err)
	}
	return ch
}

// TestAsyncAppendIsReadableBeforeDurable: entries appended asynchronously
// are ordered and readable at once; under SyncNever nothing makes them
// durable until asked, and WaitDurable then does.
func TestAsyncAppendIsReadableBeforeDurable(t *testing.T) {
	l, _ := gatedLog(t, SyncNever)
	defer mustClose(t, l)
	last := appendAsyncN(t, l, 20, 1)
	checkRange(t, l, 1, last)
	if d := l.DurableIndex(); d != 0 {
		t.Fatalf("DurableIndex = %d before any fsync, want 0", d)
	}
	if err := l.WaitDurable(last - 5); err != nil {
		t.Fatal(err)
	}
	if d := l.DurableIndex(); d < last-5 {
		t.Fatalf("DurableIndex = %d after WaitDurable(%d)", d, last-5)
	}
	if err := l.WaitDurable(last + 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("WaitDurable past the last index = %v, want ErrNotFound", err)
	}
	if err := l.WaitDurable(0); err != nil {
		t.Fatalf("WaitDurable(0) = %v", err)
	}
}

// TestAsyncLoneWriterNeedsNoTimer: with hour-long intervals, an
// asynchronous append under SyncAlways becomes durable without anyone
// waiting, and WaitDurable and NotifyDurable force durability under
// SyncInterval. A timer would hang these until the test's deadline.
func TestAsyncLoneWriterNeedsNoTimer(t *testing.T) {
	t.Run("always", func(t *testing.T) {
		l, _ := gatedLog(t, SyncAlways)
		defer mustClose(t, l)
		i := appendAsyncN(t, l, 1, 1)
		if err := <-notified(t, l, i); err != nil {
			t.Fatal(err)
		}
		if d := l.DurableIndex(); d != i {
			t.Fatalf("DurableIndex = %d, want %d", d, i)
		}
	})
	t.Run("interval", func(t *testing.T) {
		l, _ := gatedLog(t, SyncInterval)
		defer mustClose(t, l)
		i := appendAsyncN(t, l, 2, 1)
		if err := l.WaitDurable(i - 1); err != nil {
			t.Fatal(err)
		}
		if err := <-notified(t, l, i); err != nil {
			t.Fatal(err)
		}
	})
}

// TestNotifyDurableCallbacks: each callback runs exactly once, in index
// order, after its entry is durable, outside the log's mutex (it calls
// the log), and never inline in NotifyDurable, even for an entry durable
// already.
func TestNotifyDurableCallbacks(t *testing.T) {
	l, _ := gatedLog(t, SyncAlways)
	defer mustClose(t, l)
	const n = 200
	var mu sync.Mutex
	var order []uint64
	var wg sync.WaitGroup
	wg.Add(n)
	for k := range n {
		i, err := l.AppendAsync(payload(uint64(k+1), 1))
		if err != nil {
			t.Fatal(err)
		}
		err = l.NotifyDurable(i, func(err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("callback for %d: %v", i, err)
			}
			if d := l.DurableIndex(); d < i {
				t.Errorf("callback for %d ran with DurableIndex %d", i, d)
			}
			if _, err := l.LastIndex(); err != nil { // would deadlock under mu
				t.Error(err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for k, i := range order {
		if i != uint64(k+1) {
			t.Fatalf("callbacks ran in order %v, want by index", order[:k+1])
		}
	}

	// Durable already: the callback still runs on the syncer, so
	// NotifyDurable returns while the callback is held.
	hold, ran := make(chan struct{}), make(chan error, 1)
	returned := make(chan error, 1)
	go func() { returned <- l.NotifyDurable(1, func(err error) { <-hold; ran <- err }) }()
	select {
	case err := <-returned:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("NotifyDurable ran its callback inline")
	}
	close(hold)
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
}

// TestAsyncFailedFsync: a failed fsync fails every pending waiter, blocking
// or not, with the sticky error; the entries it covered are never reported
// durable; later requests get the sticky error at once; entries durable
// before stay so.
func TestAsyncFailedFsync(t *testing.T) {
	l, g := gatedLog(t, SyncNever)
	durable := appendAsyncN(t, l, 3, 1)
	if err := l.WaitDurable(durable); err != nil {
		t.Fatal(err)
	}
	last := appendAsyncN(t, l, 5, 1)
	g.armed.Store(true)
	ch := notified(t, l, last) // the syncer's fsync now waits at the gate
	<-g.entered
	eio := error(syscall.EIO)
	g.fail.Store(&eio)
	waited := make(chan error, 1)
	go func() { waited <- l.WaitDurable(last - 1) }()
	close(g.release) // the held fsync succeeds; the next one fails
	if err := <-ch; err != nil {
		t.Fatalf("callback covered by the successful fsync: %v", err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("WaitDurable covered by the successful fsync: %v", err)
	}
	g.armed.Store(false)
	more := appendAsyncN(t, l, 2, 1)
	if err := <-notified(t, l, more); !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("callback after a failed fsync: %v, want ErrFailed wrapping EIO", err)
	}
	if err := l.WaitDurable(more); !errors.Is(err, ErrFailed) {
		t.Fatalf("WaitDurable after a failed fsync = %v", err)
	}
	if err := l.NotifyDurable(more, func(error) { t.Error("callback of a refused NotifyDurable ran") }); !errors.Is(err, ErrFailed) {
		t.Fatalf("NotifyDurable after a failed fsync = %v", err)
	}
	if d := l.DurableIndex(); d != last {
		t.Fatalf("DurableIndex = %d after the failure, want %d", d, last)
	}
	if err := l.WaitDurable(last); err != nil {
		t.Fatalf("WaitDurable of an entry durable before the failure = %v", err)
	}
	if err := l.Close(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Close = %v", err)
	}
}

// TestCloseResolvesAsyncWaiters: Close runs every pending callback before
// it returns (nil: Close synced the entry) and wakes blocked waiters;
// afterwards the calls return ErrClosed.
func TestCloseResolvesAsyncWaiters(t *testing.T) {
	l, g := gatedLog(t, SyncNever)
	last := appendAsyncN(t, l, 4, 1)
	g.armed.Store(true)
	ch := notified(t, l, last-2)
	<-g.entered // the syncer holds an fsync covering everything
	late := appendAsyncN(t, l, 2, 1)
	ch2 := notified(t, l, late)
	waited := make(chan error, 1)
	go func() { waited <- l.WaitDurable(late - 1) }()
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	g.armed.Store(false)
	close(g.release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for _, c := range []<-chan error{ch, ch2} {
		select {
		case err := <-c:
			if err != nil {
				t.Fatalf("callback at Close: %v", err)
			}
		default:
			t.Fatal("Close returned before running a pending callback")
		}
	}
	// The waiter may have called before Close (then Close's sync serves
	// it) or after (then the log was closed).
	if err := <-waited; err != nil && !errors.Is(err, ErrClosed) {
		t.Fatalf("WaitDurable across Close = %v", err)
	}
	if err := l.WaitDurable(late); !errors.Is(err, ErrClosed) {
		t.Fatalf("WaitDurable after Close = %v", err)
	}
	if err := l.NotifyDurable(late, func(error) {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("NotifyDurable after Close = %v", err)
	}
	if _, err := l.AppendAsync(nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("AppendAsync after Close = %v", err)
	}
}

// TestCloseFailsAsyncWaiters: if an fsync fails while Close runs, the
// callbacks of the entries it did not make durable get the failure, the
// others nil.
func TestCloseFailsAsyncWaiters(t *testing.T) {
	l, g := gatedLog(t, SyncNever)
	last := appendAsyncN(t, l, 3, 1)
	g.armed.Store(true)
	ch := notified(t, l, last)
	<-g.entered // held: it covers entries up to last
	late := appendAsyncN(t, l, 2, 1)
	ch2 := notified(t, l, late)
	eio := error(syscall.EIO)
	g.fail.Store(&eio)
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	close(g.release)
	if err := <-closed; !errors.Is(err, ErrFailed) {
		t.Fatalf("Close = %v, want ErrFailed", err)
	}
	if err := <-ch; err != nil {
		t.Fatalf("callback for an entry the held fsync covered: %v", err)
	}
	if err := <-ch2; !errors.Is(err, ErrFailed) {
		t.Fatalf("callback for an entry whose fsync failed: %v", err)
	}
}

// TestAsyncWaitersAcrossTruncations: a truncation syncs every entry before
// it cuts, so a callback registered before it gets nil, even for an entry
// it removes; afterwards an index past the cut is not found until it is
// written again, and then refers to the new entry.
func TestAsyncWaitersAcrossTruncations(t *testing.T) {
	l, _ := gatedLog(t, SyncNever)
	defer mustClose(t, l)
	last := appendAsyncN(t, l, 10, 1)
	ch := notified(t, l, 8)
	if err := l.TruncateBack(5); err != nil {
		t.Fatal(err)
	}
	if err := <-ch; err != nil {
		t.Fatalf("callback for an entry TruncateBack removed: %v", err)
	}
	if d := l.DurableIndex(); d != 5 {
		t.Fatalf("DurableIndex after TruncateBack(5) = %d", d)
	}
	if err := l.WaitDurable(last); !errors.Is(err, ErrNotFound) {
		t.Fatalf("WaitDurable(%d) after TruncateBack(5) = %v, want ErrNotFound", last, err)
	}
	again := appendAsyncN(t, l, 3, 2)
	if err := l.WaitDurable(again); err != nil {
		t.Fatal(err)
	}
	checkRange(t, l, 1, again) // the payloads say generation 2 from 6 on
	if b, _ := l.Read(again); func() uint64 { g, _ := checkPayload(again, b); return g }() != 2 {
		t.Fatalf("entry %d is not the one written after the cut", again)
	}

	pending := appendAsyncN(t, l, 4, 3)
	ch = notified(t, l, pending)
	if err := l.Reset(100); err != nil {
		t.Fatal(err)
	}
	if err := <-ch; err != nil {
		t.Fatalf("callback for an entry Reset removed: %v", err)
	}
	if d := l.DurableIndex(); d != 99 {
		t.Fatalf("DurableIndex after Reset(100) = %d", d)
	}
	if err := l.WaitDurable(pending); err != nil {
		t.Fatalf("WaitDurable below the first index = %v", err)
	}
	i := appendAsyncN(t, l, 1, 4)
	if i != 100 {
		t.Fatalf("first index after Reset(100) = %d", i)
	}
	if err := <-notified(t, l, i); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateFront(100); err != nil {
		t.Fatal(err)
	}
}

// TestAsyncReadOnly: a read-only log refuses the asynchronous calls.
func TestAsyncReadOnly(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, nil)
	fill(t, l, 3, 1)
	ro, err := OpenReadOnly(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.AppendAsync(nil); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("AppendAsync = %v", err)
	}
	if err := ro.WaitDurable(1); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("WaitDurable = %v", err)
	}
	mustClose(t, l)
}

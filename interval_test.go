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

// fakeClock hands out tickers that fire only when the test says.
type fakeClock struct {
	mu      sync.Mutex
	tickers map[time.Duration]chan time.Time
}

func (c *fakeClock) newTicker(d time.Duration) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tickers == nil {
		c.tickers = map[time.Duration]chan time.Time{}
	}
	ch := make(chan time.Time)
	c.tickers[d] = ch
	return ch, func() {}
}

// fire delivers one tick of the ticker with period d and returns once the
// background loop has taken it and finished the work it triggers.
func (c *fakeClock) fire(t *testing.T, l *Log, d time.Duration) {
	t.Helper()
	var ch chan time.Time
	for { // the background goroutine makes its tickers when it starts
		c.mu.Lock()
		ch = c.tickers[d]
		c.mu.Unlock()
		if ch != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ch <- time.Now()
	// The loop handles one tick at a time: a second tick is accepted only
	// after the first one's work is done.
	ch <- time.Now()
}

// durableLast power-fails a copy of fs and returns the recovered last index.
func durableLast(t *testing.T, fs *vfs.MemFS) uint64 {
	t.Helper()
	l := mustOpen(t, memDir, &Options{FS: fs.CrashClone(vfs.CrashOptions{}), SegmentSize: 64 << 10})
	defer l.Close()
	_, last := bounds(t, l)
	return last
}

// TestIntervalBoundFakeClock: under SyncInterval, a power loss loses only
// entries acknowledged after the last sync tick; each tick makes every
// earlier entry durable; and FlushInterval ticks hand bytes to the OS
// without making them durable.
func TestIntervalBoundFakeClock(t *testing.T) {
	fs := vfs.NewMem()
	clk := &fakeClock{}
	const syncD, flushD = time.Second, 10 * time.Millisecond
	o := &Options{FS: fs, SyncPolicy: SyncInterval, SyncInterval: syncD, FlushInterval: flushD,
		SegmentSize: 64 << 10, newTicker: clk.newTicker}
	l := mustOpen(t, memDir, o)
	defer l.Close()
	fill(t, l, 10, 0)
	if got := durableLast(t, fs); got != 0 {
		t.Fatalf("before any tick %d entries are durable; want 0 (nothing synced)", got)
	}
	clk.fire(t, l, flushD)
	l.mu.Lock()
	written, end := l.written, l.entryEnd
	l.mu.Unlock()
	if written < end || durableLast(t, fs) != 0 {
		t.Fatalf("flush tick: written %d of %d; durable %d (want handed to OS, not durable)", written, end, durableLast(t, fs))
	}
	for round := uint64(1); round <= 3; round++ {
		clk.fire(t, l, syncD)
		if got := durableLast(t, fs); got != 10*round {
			t.Fatalf("round %d: after a sync tick %d entries durable, want %d", round, got, 10*round)
		}
		fill(t, l, 10*(round+1), 0)
		if got := durableLast(t, fs); got != 10*round {
			t.Fatalf("round %d: entries after the tick: %d durable, want %d", round, got, 10*round)
		}
	}
}

// TestIntervalBoundRealClock: with the real clock and period d, every
// entry lost in a simulated power loss was acknowledged less than d plus a
// generous scheduling margin before the crash.
func TestIntervalBoundRealClock(t *testing.T) {
	const d, margin = 20 * time.Millisecond, 400 * time.Millisecond
	fs := vfs.NewMem()
	l := mustOpen(t, memDir, &Options{FS: fs, SyncPolicy: SyncInterval, SyncInterval: d, SegmentSize: 64 << 10})
	defer l.Close()
	var mu sync.Mutex
	acked := map[uint64]time.Time{}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := uint64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := l.Write(i, payload(i, 0)); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			acked[i] = time.Now()
			mu.Unlock()
			time.Sleep(200 * time.Microsecond)
		}
	}()
	for c := 0; c < 10; c++ {
		time.Sleep(time.Duration(7+c*5) * time.Millisecond)
		crashAt := time.Now()
		crashed := fs.CrashClone(vfs.CrashOptions{})
		cl := mustOpen(t, memDir, &Options{FS: crashed, SegmentSize: 64 << 10})
		_, last := bounds(t, cl)
		cl.Close()
		mu.Lock()
		for i, at := range acked {
			if i > last && at.Before(crashAt) && crashAt.Sub(at) > d+margin {
				t.Errorf("entry %d acknowledged %v before the crash was lost (interval %v)", i, crashAt.Sub(at), d)
			}
		}
		mu.Unlock()
	}
	close(stop)
	<-done
}

// TestProcessCrashLossBound proves the README's process-crash bound for
// SyncInterval and SyncNever: bytes reach the OS once BufferSize is
// buffered and at every FlushInterval tick, so a kill -9 (everything the
// OS has, nothing still in the process) loses at most BufferSize bytes of
// entries before the tick, and nothing after it.
func TestProcessCrashLossBound(t *testing.T) {
	for _, p := range []SyncPolicy{SyncInterval, SyncNever} {
		fs := vfs.NewMem()
		clk := &fakeClock{}
		const buf, flushD = 4096, 10 * time.Millisecond
		o := &Options{FS: fs, SyncPolicy: p, BufferSize: buf, FlushInterval: flushD, SyncInterval: time.Hour,
			SegmentSize: 1 << 20, newTicker: clk.newTicker}
		l := mustOpen(t, memDir, o)
		fill(t, l, 300, 0)
		var size int
		for i := uint64(1); i <= 300; i++ {
			size += 16 + len(payload(i, 0))
		}
		lostMax := uint64(buf/(16+20)) + 1 // entries are at least 20 bytes
		got := processCrashLast(t, fs)
		if got+lostMax < 300 {
			t.Fatalf("%v: a process crash keeps %d of 300 entries (%d bytes written); more than BufferSize %d lost", p, got, size, buf)
		}
		clk.fire(t, l, flushD)
		if got := processCrashLast(t, fs); got != 300 {
			t.Fatalf("%v: after a flush tick a process crash keeps %d of 300 entries", p, got)
		}
		l.Close()
	}
}

// processCrashLast opens what a kill -9 would leave (all the OS has) and
// returns its last index.
func processCrashLast(t *testing.T, fs *vfs.MemFS) uint64 {
	t.Helper()
	l := mustOpen(t, memDir, &Options{FS: liveClone(fs), SegmentSize: 1 << 20})
	defer l.Close()
	_, last := bounds(t, l)
	return last
}

// TestIntervalSyncLetsWritersFlush: while a SyncInterval fdatasync runs,
// writers keep going and their bytes keep reaching the OS (a flush may
// write while another fsyncs), instead of stalling once four buffers'
// worth is waiting; what the fsync covers becomes durable. If that fsync
// fails, the log fails: entries it did not cover are no longer readable.
func TestIntervalSyncLetsWritersFlush(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(map[bool]string{false: "ok", true: "fsync-fails"}[fail], func(t *testing.T) {
			mem := vfs.NewMem()
			var gated atomic.Bool
			var writesDuring atomic.Int64
			started, release := make(chan struct{}, 1), make(chan struct{})
			inj := errorfs.InjectorFunc(func(op errorfs.Op, _ string) error {
				if !gated.Load() {
					return nil
				}
				switch op {
				case errorfs.OpWrite:
					writesDuring.Add(1)
				case errorfs.OpSync:
					started <- struct{}{}
					<-release
					if fail {
						return syscall.EIO
					}
				}
				return nil
			})
			clk := &fakeClock{}
			const buf, syncD = 4096, time.Second
			o := &Options{FS: errorfs.Wrap(mem, inj), SyncPolicy: SyncInterval, BufferSize: buf,
				SyncInterval: syncD, FlushInterval: time.Hour, SegmentSize: 1 << 20, newTicker: clk.newTicker}
			l := mustOpen(t, memDir, o)
			defer l.Close()
			fill(t, l, 100, 0)
			gated.Store(true)
			ticked := make(chan struct{})
			go func() {
				clk.fire(t, l, syncD)
				close(ticked)
			}()
			<-started // the tick's fsync of entries 1..100 is blocked
			wrote := make(chan error, 1)
			go func() {
				var err error
				for i := uint64(101); i <= 1000 && err == nil; i++ { // about 10x BufferSize
					err = l.Write(i, payload(i, 0))
				}
				wrote <- err
			}()
			select {
			case err := <-wrote:
				if err != nil {
					t.Fatalf("Write during the fsync: %v", err)
				}
			case <-time.After(10 * time.Second):
				gated.Store(false)
				close(release)
				<-ticked
				t.Fatal("writers stalled behind a background fsync")
			}
			if writesDuring.Load() == 0 {
				t.Fatal("no bytes reached the OS while the fsync ran")
			}
			gated.Store(false)
			close(release)
			<-ticked
			if fail {
				if err := l.Write(1001, payload(1001, 0)); !errors.Is(err, ErrFailed) {
					t.Fatalf("Write after a failed fsync: %v, want ErrFailed", err)
				}
				if _, err := l.Read(101); err == nil {
					t.Fatal("entry 101, not covered by any fsync, is still readable after the failure")
				}
				return
			}
			if got := durableLast(t, mem); got < 100 {
				t.Fatalf("after the tick %d entries are durable, want at least 100", got)
			}
			clk.fire(t, l, syncD)
			if got := durableLast(t, mem); got != 1000 {
				t.Fatalf("after a second tick %d entries are durable, want 1000", got)
			}
		})
	}
}

// TestProcessCrashLossBoundConcurrent proves the README's bound for
// concurrent writers: they go on appending while another one's flush is
// writing, until 4 x BufferSize waits, so a kill -9 loses at most about
// 8 x BufferSize of entries (plus the batches that crossed the limits).
func TestProcessCrashLossBoundConcurrent(t *testing.T) {
	for _, p := range []SyncPolicy{SyncInterval, SyncNever} {
		fs := vfs.NewMem()
		clk := &fakeClock{}
		const buf, writers, each = 4096, 4, 500
		o := &Options{FS: fs, SyncPolicy: p, BufferSize: buf, FlushInterval: time.Hour, SyncInterval: time.Hour,
			SegmentSize: 4 << 20, newTicker: clk.newTicker}
		l := mustOpen(t, memDir, o)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					if _, err := l.Append(payload(uint64(w*each+i), 1)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		const total = writers * each
		lostMax := uint64((8*buf+2*81)/(16+20)) + 2 // entries are 20-80 bytes, plus a 16-byte header
		if got := processCrashLast(t, fs); got+lostMax < total {
			t.Fatalf("%v: a process crash keeps %d of %d entries: more than 8 x BufferSize %d lost", p, got, total, buf)
		}
		l.Close()
	}
}

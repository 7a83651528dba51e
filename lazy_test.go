package wal

import (
	"errors"
	"path"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// lazyLog writes 300 entries into 1 KiB segments of a MemFS log, closes it,
// and returns the file system and the segment paths, oldest first.
func lazyLog(t *testing.T) (*vfs.MemFS, []string) {
	t.Helper()
	fs := vfs.NewMem()
	l := mustOpen(t, memDir, &Options{FS: fs, SegmentSize: 1 << 10})
	fill(t, l, 300, 0)
	mustClose(t, l)
	segs := memSegments(t, fs)
	if len(segs) < 8 {
		t.Fatalf("want at least 8 segments, have %d", len(segs))
	}
	return fs, segs
}

// openRecorder is an injector that records the segment files opened.
type openRecorder struct {
	mu     sync.Mutex
	opened map[string]int
}

func (r *openRecorder) MaybeError(op errorfs.Op, p string) error {
	if _, _, ok := parseSegmentName(path.Base(p)); ok && op == errorfs.OpOpen {
		r.mu.Lock()
		r.opened[p]++
		r.mu.Unlock()
	}
	return nil
}

func (r *openRecorder) count(p string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opened[p]
}

// TestOpenLeavesMiddleSegmentsClosed: Open opens the first and the last two
// segments and no other; a read opens the segment it needs once; EagerOpen
// opens them all.
func TestOpenLeavesMiddleSegmentsClosed(t *testing.T) {
	fs, segs := lazyLog(t)
	n := len(segs)
	rec := &openRecorder{opened: map[string]int{}}
	l := mustOpen(t, memDir, &Options{FS: errorfs.Wrap(fs, rec), SegmentSize: 1 << 10})
	defer l.Close()
	for i, p := range segs {
		want := 0
		if i == 0 || i >= n-2 {
			want = 1
		}
		if got := rec.count(p); got != want {
			t.Errorf("after Open, segment %d of %d opened %d times, want %d", i, n, got, want)
		}
	}
	lazyInfo := l.Segments() // describes closed segments without opening them
	for i, p := range segs[1 : n-2] {
		if got := rec.count(p); got != 0 {
			t.Fatalf("Segments opened segment %d", i+1)
		}
	}
	mid := segs[n/2]
	first := segFirst(t, mid)
	for range 3 {
		b, err := l.Read(first + 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := checkPayload(first+1, b); err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.count(mid); got != 1 {
		t.Fatalf("segment read 3 times opened %d times, want 1", got)
	}
	if got := rec.count(segs[n/2+1]); got != 0 {
		t.Fatalf("a segment never read was opened %d times", got)
	}
	checkRange(t, l, 1, 300)
	if err := l.Verify(nil); err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)

	eager := &openRecorder{opened: map[string]int{}}
	l = mustOpen(t, memDir, &Options{FS: errorfs.Wrap(fs, eager), SegmentSize: 1 << 10, EagerOpen: true})
	defer l.Close()
	for i, p := range segs {
		if got := eager.count(p); got != 1 {
			t.Errorf("EagerOpen: segment %d opened %d times, want 1", i, got)
		}
	}
	// The tails differ: the first session's close marker is in this one's.
	if eagerInfo := l.Segments(); !reflect.DeepEqual(lazyInfo[:n-1], eagerInfo[:n-1]) {
		t.Fatalf("sealed segments' info differ:\nlazy  %+v\neager %+v", lazyInfo[:n-1], eagerInfo[:n-1])
	}
}

// TestLazySegmentDamage: damage to a segment Open leaves closed is
// ErrCorrupt at the first read of its range and in Verify, never served
// and never fatal to the rest of the log; with EagerOpen, Open reports it.
func TestLazySegmentDamage(t *testing.T) {
	fs, segs := lazyLog(t)
	k := len(segs) / 2
	victim := segs[k]
	img := readFile(t, fs, victim)
	flip := func(at int) func(*testing.T, vfs.FS) {
		return func(t *testing.T, c vfs.FS) {
			b := append([]byte(nil), img...)
			b[at] ^= 1
			writeFile(t, c, victim, b)
		}
	}
	tests := []struct {
		name   string
		damage func(*testing.T, vfs.FS)
		bad    string // the segment whose range reads fail
		// eagerOK: EagerOpen accepts it. A reset segment supersedes the
		// older ones (FORMAT.md), so Open drops them; left closed, it is
		// a reset segment where none can be, and reported.
		eagerOK bool
	}{
		{"header", flip(20), victim, false},
		{"trailer", flip(len(img) - 3), victim, false},
		{"cut short", func(t *testing.T, c vfs.FS) { writeFile(t, c, victim, img[:len(img)/2]) }, victim, false},
		{"reset flag", func(t *testing.T, c vfs.FS) {
			b := append([]byte(nil), img...)
			seq, first, _ := parseSegmentName(path.Base(victim))
			copy(b, segHeader{flags: flagReset, seq: seq, first: first}.encode())
			writeFile(t, c, victim, b)
		}, victim, true},
		{"file missing", func(t *testing.T, c vfs.FS) {
			// Deleted behind the log's back: the segment before it then
			// claims its range too, and its trailer disagrees.
			if err := c.Remove(victim); err != nil {
				t.Fatal(err)
			}
		}, segs[k-1], false},
		{"replaced by a longer one", func(t *testing.T, c vfs.FS) {
			// The next segment's name now starts one entry later, so the
			// victim's name implies one entry more than its trailer holds.
			next := segs[k+1]
			seq, first, _ := parseSegmentName(path.Base(next))
			b := readFile(t, c, next)
			copy(b, segHeader{seq: seq, first: first + 1}.encode())
			if err := c.Remove(next); err != nil {
				t.Fatal(err)
			}
			writeFile(t, c, path.Join(memDir, segmentName(seq, first+1)), b)
		}, victim, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := liveClone(fs)
			tc.damage(t, c)
			if el, err := Open(memDir, &Options{FS: c, SegmentSize: 1 << 10, EagerOpen: true}); tc.eagerOK {
				if err != nil {
					t.Fatalf("EagerOpen: %v", err)
				}
				checkRange(t, el, segFirst(t, victim), 300)
				mustClose(t, el)
				c = liveClone(fs)
				tc.damage(t, c)
			} else if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("EagerOpen = %v, want ErrCorrupt", err)
			}
			l, err := Open(memDir, &Options{FS: c, SegmentSize: 1 << 10})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer l.Close()
			bad := segFirst(t, tc.bad)
			for range 2 { // the second read gets the remembered outcome
				if b, err := l.Read(bad); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Read(%d) in the damaged range = %q, %v; want ErrCorrupt", bad, b, err)
				}
			}
			for _, i := range []uint64{1, segFirst(t, segs[1]), 300} {
				b, err := l.Read(i)
				if err != nil {
					t.Fatalf("Read(%d) outside the damage: %v", i, err)
				}
				if _, err := checkPayload(i, b); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Verify(nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Verify = %v, want ErrCorrupt", err)
			}
			// Writing goes on, and a truncation past the damage removes it.
			if err := l.Write(301, payload(301, 0)); err != nil {
				t.Fatal(err)
			}
			if err := l.TruncateFront(segFirst(t, segs[k+2])); err != nil {
				t.Fatal(err)
			}
			if err := l.Verify(nil); err != nil {
				t.Fatalf("Verify after truncating the damage away: %v", err)
			}
		})
	}
}

// TestLazyOpenErrorRetried: a failure to open a closed segment that is not
// corruption (here EMFILE) is returned to that read and retried by the
// next, which succeeds.
func TestLazyOpenErrorRetried(t *testing.T) {
	fs, segs := lazyLog(t)
	victim := segs[len(segs)/2]
	var fail atomic.Bool
	inj := errorfs.InjectorFunc(func(op errorfs.Op, p string) error {
		if op == errorfs.OpOpen && p == victim && fail.Load() {
			return errors.New("too many open files")
		}
		return nil
	})
	l := mustOpen(t, memDir, &Options{FS: errorfs.Wrap(fs, inj), SegmentSize: 1 << 10})
	defer l.Close()
	fail.Store(true)
	i := segFirst(t, victim)
	if _, err := l.Read(i); err == nil || errors.Is(err, ErrCorrupt) {
		t.Fatalf("Read with the open failing = %v, want that failure", err)
	}
	fail.Store(false)
	b, err := l.Read(i)
	if err != nil {
		t.Fatalf("Read after the failure cleared: %v", err)
	}
	if _, err := checkPayload(i, b); err != nil {
		t.Fatal(err)
	}
}

// TestLazyReadRacesTruncateFront: a read that picked a segment not yet
// opened, and opens it only after TruncateFront deleted it, reports
// ErrNotFound (the entry is gone), not a missing file.
func TestLazyReadRacesTruncateFront(t *testing.T) {
	fs, segs := lazyLog(t)
	victim := segs[len(segs)/2]
	entered, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	inj := errorfs.InjectorFunc(func(op errorfs.Op, p string) error {
		if op == errorfs.OpOpen && p == victim {
			once.Do(func() {
				close(entered)
				<-resume
			})
		}
		return nil
	})
	l := mustOpen(t, memDir, &Options{FS: errorfs.Wrap(fs, inj), SegmentSize: 1 << 10})
	defer l.Close()
	i := segFirst(t, victim)
	errc := make(chan error, 1)
	go func() {
		_, err := l.Read(i)
		errc <- err
	}()
	<-entered
	if err := l.TruncateFront(segFirst(t, segs[len(segs)/2+1])); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if err := <-errc; !errors.Is(err, ErrNotFound) {
		t.Fatalf("Read of an entry truncated while its segment opened = %v, want ErrNotFound", err)
	}
}

// TestLazyTruncateBackThroughClosedSegment: TruncateBack into a segment
// Open left closed opens, cuts and reseals it, and the result survives a
// reopen.
func TestLazyTruncateBackThroughClosedSegment(t *testing.T) {
	fs, segs := lazyLog(t)
	l := mustOpen(t, memDir, &Options{FS: fs, SegmentSize: 1 << 10})
	back := segFirst(t, segs[3]) + 2
	if err := l.TruncateBack(back); err != nil {
		t.Fatal(err)
	}
	fill(t, l, back+50, 1)
	mustClose(t, l)
	l = mustOpen(t, memDir, &Options{FS: fs, SegmentSize: 1 << 10})
	defer l.Close()
	checkRangeGen(t, l, 1, back, 0)
	checkRangeGen(t, l, back+1, back+50, 1)
	if err := l.Verify(nil); err != nil {
		t.Fatal(err)
	}
}

// checkRangeGen asserts that entries [from, to] read back with generation
// gen.
func checkRangeGen(t *testing.T, l *Log, from, to, gen uint64) {
	t.Helper()
	for i := from; i <= to; i++ {
		b, err := l.Read(i)
		if err != nil {
			t.Fatalf("Read(%d): %v", i, err)
		}
		if g, err := checkPayload(i, b); err != nil || g != gen {
			t.Fatalf("Read(%d): generation %d, %v; want %d", i, g, err, gen)
		}
	}
}

// FuzzLazySegment replaces a segment that Open leaves closed with fuzzed
// bytes. Open (which does not look at it) must succeed; every entry
// outside its range must read back intact; an entry inside it is either
// served intact or ErrCorrupt; Verify, EagerOpen and OpenReadOnly must not
// panic.
func FuzzLazySegment(f *testing.F) {
	base := vfs.NewMem()
	l, err := Open(memDir, &Options{FS: base, SegmentSize: 1 << 10})
	if err != nil {
		f.Fatal(err)
	}
	for i := uint64(1); i <= 80; i++ {
		if err := l.Write(i, payload(i, 0)); err != nil {
			f.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		f.Fatal(err)
	}
	segs := memSegments(f, base)
	if len(segs) < 6 {
		f.Fatalf("want at least 6 segments, have %d", len(segs))
	}
	victim := segs[2]
	lo, hi := segFirst(f, victim), segFirst(f, segs[3])-1
	orig := readFileRaw(base, victim)
	f.Add(orig)
	f.Add(orig[:len(orig)-1])
	f.Add(orig[:segHeaderSize])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		fs := liveClone(base)
		writeFile(t, fs, victim, b)
		l, err := Open(memDir, &Options{FS: fs, SegmentSize: 1 << 10})
		if err != nil {
			t.Fatalf("Open with a damaged segment it leaves closed: %v", err)
		}
		for i := uint64(1); i <= 80; i++ {
			data, err := l.Read(i)
			inVictim := i >= lo && i <= hi
			switch {
			case err == nil:
				if _, perr := checkPayload(i, data); perr != nil {
					t.Fatalf("Read(%d) served a wrong entry: %v", i, perr)
				}
			case !inVictim:
				t.Fatalf("Read(%d) outside the damaged segment: %v", i, err)
			case !errors.Is(err, ErrCorrupt):
				t.Fatalf("Read(%d) in the damaged segment = %v, want ErrCorrupt", i, err)
			}
		}
		_ = l.Verify(nil)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		for _, open := range []func(string, *Options) (*Log, error){Open, OpenReadOnly} {
			if l, err := open(memDir, &Options{FS: fs, SegmentSize: 1 << 10, EagerOpen: true}); err == nil {
				for i := uint64(1); i <= 80; i++ {
					_, _ = l.Read(i)
				}
				_ = l.Close()
			}
		}
	})
}

// TestResetRemovalFailureIsSticky: if Reset (here by emptying the log)
// cannot delete the older segments, the log fails instead of creating
// newer segments after the reset segment: Open finds a reset segment only
// first or last (lazyEnd), so one in the middle, after older segments,
// would let a reopened log serve the entries the reset removed.
func TestResetRemovalFailureIsSticky(t *testing.T) {
	fs := vfs.NewMem()
	var failRemove atomic.Bool
	inj := errorfs.InjectorFunc(func(op errorfs.Op, p string) error {
		if op == errorfs.OpRemove && failRemove.Load() {
			return errors.New("injected unlink failure")
		}
		return nil
	})
	o := &Options{FS: errorfs.Wrap(fs, inj), SegmentSize: 1 << 10}
	l := mustOpen(t, memDir, o)
	fill(t, l, 100, 0)
	failRemove.Store(true)
	if err := l.TruncateFront(101); err == nil {
		t.Fatal("TruncateFront(101) with unlink failing = nil")
	}
	failRemove.Store(false)
	if err := l.Write(101, payload(101, 1)); !errors.Is(err, ErrFailed) {
		t.Fatalf("Write after a failed reset = %v, want ErrFailed", err)
	}
	_ = l.Close()

	l = mustOpen(t, memDir, &Options{FS: fs, SegmentSize: 1 << 10})
	defer l.Close()
	if _, err := l.Read(50); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Read(50) after the reset = %v, want ErrNotFound", err)
	}
	fill(t, l, 300, 1)
	mustClose(t, l)
	l2 := mustOpen(t, memDir, &Options{FS: fs, SegmentSize: 1 << 10})
	defer l2.Close()
	checkRangeGen(t, l2, 101, 300, 1)
	if _, err := l2.Read(50); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Read(50) after more segments = %v, want ErrNotFound", err)
	}
}

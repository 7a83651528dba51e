package wal

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// Regression tests for issue 13's defects in the segment lifecycle (lazy
// opening, failed truncations, Verify, Segments, NoCopy, index overflow).

// watchdog runs fn and fails the test if it panics or does not return
// within d (a deadlock), dumping every goroutine's stack. A deadlocked fn
// is left behind; the test fails instead of hanging.
func watchdog(t *testing.T, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		fn()
	}()
	select {
	case p := <-done:
		if p != nil {
			t.Fatalf("panic: %v", p)
		}
		if t.Failed() {
			t.FailNow() // fn called t.Fatal
		}
	case <-time.After(d):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("deadlock: no return within %v\n%s", d, buf)
	}
}

// armedFS fails the operations in ops on paths with suffix, with cause,
// while armed.
type armedFS struct {
	armed  atomic.Bool
	ops    []errorfs.Op
	suffix string
	cause  error
	hits   atomic.Int64
}

func (a *armedFS) MaybeError(op errorfs.Op, p string) error {
	if !a.armed.Load() || !strings.Contains(path.Base(p), a.suffix) {
		return nil
	}
	for _, o := range a.ops {
		if o == op {
			a.hits.Add(1)
			return a.cause
		}
	}
	return nil
}

// TestFailedTruncateBackKeepsLogReadable is defect 1: a TruncateBack into a
// sealed segment that fails part way (EIO removing a later segment, EMFILE
// opening the cut one) returns ErrFailed; the entries it keeps stay
// readable, those it cut are ErrNotFound, no read panics, and Close
// returns.
func TestFailedTruncateBackKeepsLogReadable(t *testing.T) {
	for _, tc := range []struct {
		name string
		inj  *armedFS
		tail bool // cut into the tail instead of the second segment
	}{
		{"tail truncate EIO", &armedFS{ops: []errorfs.Op{errorfs.OpTruncate}, suffix: "", cause: syscall.EIO}, true},
		{"remove EIO", &armedFS{ops: []errorfs.Op{errorfs.OpRemove}, suffix: ".wal", cause: syscall.EIO}, false},
		{"open EMFILE", &armedFS{ops: []errorfs.Op{errorfs.OpOpen}, suffix: ".wal", cause: syscall.EMFILE}, false},
		{"create EMFILE", &armedFS{ops: []errorfs.Op{errorfs.OpCreate}, suffix: "prepare", cause: syscall.EMFILE}, false},
		{"rename EIO", &armedFS{ops: []errorfs.Op{errorfs.OpRename}, suffix: "prepare", cause: syscall.EIO}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			o := &Options{FS: errorfs.Wrap(mem, tc.inj), SegmentSize: 1 << 10}
			l := mustOpen(t, memDir, o)
			fill(t, l, 305, 0) // 305: the tail holds entries whatever the marker size
			mustClose(t, l)
			l = mustOpen(t, memDir, o) // the second segment is not opened yet
			segs := l.Segments()
			if len(segs) < 8 {
				t.Fatalf("%d segments, want at least 8", len(segs))
			}
			cut := segs[1].FirstIndex + 1
			if tc.tail {
				if tl := segs[len(segs)-1]; tl.LastIndex > tl.FirstIndex+1 {
					cut = tl.FirstIndex + 1
				} else {
					t.Fatalf("tail %+v too short to cut inside", tl)
				}
			}
			watchdog(t, 10*time.Second, func() {
				tc.inj.armed.Store(true)
				err := l.TruncateBack(cut)
				tc.inj.armed.Store(false)
				if tc.inj.hits.Load() == 0 {
					t.Fatalf("TruncateBack(%d) = %v, and no error was injected", cut, err)
				}
				if !errors.Is(err, ErrFailed) {
					t.Fatalf("TruncateBack(%d) = %v, want ErrFailed", cut, err)
				}
				for i := uint64(1); i <= cut; i++ {
					b, err := l.Read(i)
					if err != nil {
						t.Fatalf("Read(%d) of a kept entry: %v", i, err)
					}
					if _, err := checkPayload(i, b); err != nil {
						t.Fatal(err)
					}
				}
				for _, i := range []uint64{cut + 1, cut + 2, 305} {
					if _, err := l.Read(i); !errors.Is(err, ErrNotFound) {
						t.Fatalf("Read(%d) after TruncateBack(%d): %v, want ErrNotFound", i, cut, err)
					}
				}
				if _, la := bounds(t, l); la != cut {
					t.Fatalf("LastIndex = %d after TruncateBack(%d)", la, cut)
				}
				_ = l.Close()
			})
			// Whatever happened, a reopen finds exactly the kept entries.
			l = mustOpen(t, memDir, &Options{FS: mem, SegmentSize: 1 << 10})
			defer mustClose(t, l)
			checkRange(t, l, 1, cut)
		})
	}
}

// TestVerifyBesideWriter is defect 4: Verify on a live log read the tail's
// sealed state and entry count without the mutex while rotation sealed it
// (a data race, and a false ErrCorrupt such as "index block lists 12
// entries, records hold 0"). Verify runs in a loop beside a writer that
// rotates 1 KiB segments constantly; every run must pass.
func TestVerifyBesideWriter(t *testing.T) {
	l := mustOpen(t, t.TempDir(), &Options{SegmentSize: 1 << 10, SyncPolicy: SyncNever})
	defer mustClose(t, l)
	stop := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				writerDone <- nil
				return
			default:
			}
			if _, err := l.Append(make([]byte, 40)); err != nil {
				writerDone <- err
				return
			}
		}
	}()
	watchdog(t, time.Minute, func() {
		for i := 0; i < 30; i++ {
			if err := l.Verify(nil); err != nil {
				t.Errorf("Verify %d beside a writer: %v", i, err)
				break
			}
		}
	})
	close(stop)
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
}

// TestSegmentsBesideLazyOpen is defect 5: Segments read a lazily opened
// segment's index offset while a Read opened it (a data race under -race).
// Segments and Reads that open the segments run at once; every report
// must describe each segment with its records' size.
func TestSegmentsBesideLazyOpen(t *testing.T) {
	fs, _ := lazyLog(t)
	for round := 0; round < 5; round++ {
		l := mustOpen(t, memDir, &Options{FS: fs, SegmentSize: 1 << 10})
		segs := l.Segments()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, s := range segs {
				if s.LastIndex < s.FirstIndex {
					continue // an empty tail: nothing to read
				}
				if _, err := l.Read(s.FirstIndex); err != nil {
					t.Errorf("Read(%d): %v", s.FirstIndex, err)
					return
				}
			}
		}()
		for open := true; open; {
			select {
			case <-done:
				open = false
			default:
			}
			for _, s := range l.Segments() {
				if s.Size <= segHeaderSize && s.LastIndex >= s.FirstIndex {
					t.Fatalf("round %d: Segments reports %s with %d bytes of records", round, s.Name, s.Size)
				}
			}
		}
		mustClose(t, l)
	}
}

// TestVerifyCallbackCallsIntoLog is defect 2: TruncateBack waited, under
// the log's mutex, for every reader pin to go, and Verify pinned every
// segment for its whole run, so a truncation beside Verify stalled every
// writer until Verify ended, and a progress callback that truncated or
// called LastIndex deadlocked. Here the callback cuts into a sealed
// segment, appends and reads the bounds; Verify, the callback and a
// reopen must all complete.
func TestVerifyCallbackCallsIntoLog(t *testing.T) {
	dir := t.TempDir()
	o := &Options{SegmentSize: 1 << 10}
	l := mustOpen(t, dir, o)
	fill(t, l, 300, 0)
	segs := l.Segments()
	cut := segs[3].FirstIndex + 1
	calls := 0
	watchdog(t, 30*time.Second, func() {
		err := l.Verify(func(done, total int64) {
			calls++
			if calls != 2 {
				return
			}
			if err := l.TruncateBack(cut); err != nil {
				t.Errorf("TruncateBack(%d) from Verify's callback: %v", cut, err)
			}
			if err := l.Write(cut+1, payload(cut+1, 1)); err != nil {
				t.Errorf("Write(%d) from Verify's callback: %v", cut+1, err)
			}
			if la, err := l.LastIndex(); err != nil || la != cut+1 {
				t.Errorf("LastIndex from Verify's callback = %d, %v; want %d", la, err, cut+1)
			}
		})
		if err != nil {
			t.Errorf("Verify: %v", err)
		}
		if calls < 2 {
			t.Errorf("progress called %d times", calls)
		}
		checkRange(t, l, 1, cut+1)
		if err := l.Verify(nil); err != nil {
			t.Errorf("Verify after the cut: %v", err)
		}
		mustClose(t, l)
	})
	l = mustOpen(t, dir, o)
	defer mustClose(t, l)
	checkRange(t, l, 1, cut+1)
}

// TestNoCopySliceSurvivesTruncateBack is defect 3: TruncateBack(k) into a
// sealed segment re-cut it and unmapped its memory map, so a NoCopy slice
// of an entry <= k, which stays in the log, faulted (SIGSEGV with 64 KiB
// segments) or silently read another mapping. Slices of kept entries taken
// before the cut must read their payloads after it, after more segments
// are mapped, and after a second cut into the same segment.
func TestNoCopySliceSurvivesTruncateBack(t *testing.T) {
	for _, size := range []int{1 << 10, 64 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			dir := t.TempDir()
			o := &Options{SegmentSize: size, NoCopy: true}
			l := mustOpen(t, dir, o)
			defer l.Close()
			n := uint64(40 * size / 1024)
			fill(t, l, n, 0)
			segs := l.Segments()
			s := segs[len(segs)/2]
			keep := map[uint64][]byte{}
			for i := s.FirstIndex; i <= s.LastIndex; i++ {
				b, err := l.Read(i)
				if err != nil {
					t.Fatal(err)
				}
				keep[i] = b
			}
			cut := s.FirstIndex + (s.LastIndex-s.FirstIndex)/2
			watchdog(t, time.Minute, func() {
				debug.SetPanicOnFault(true) // a fault in an unmapped slice panics instead of crashing
				if err := l.TruncateBack(cut); err != nil {
					t.Fatal(err)
				}
				fill(t, l, cut+uint64(len(segs))*20, 1) // maps new segments, which may reuse the address
				checkRange(t, l, 1, cut+uint64(len(segs))*20)
				if err := l.TruncateBack(cut - 1); err != nil {
					t.Fatal(err)
				}
				for i := s.FirstIndex; i < cut; i++ {
					if _, err := checkPayload(i, keep[i]); err != nil {
						t.Fatalf("NoCopy slice of kept entry %d after TruncateBack(%d): %v", i, cut, err)
					}
				}
			})
		})
	}
}

// closeCounter counts file closes per path and fails the removal of one
// path while armed.
type closeCounter struct {
	armed    atomic.Bool
	failPath string
	mu       sync.Mutex
	closes   map[string]int
}

func (c *closeCounter) MaybeError(op errorfs.Op, p string) error {
	switch {
	case op == errorfs.OpClose:
		c.mu.Lock()
		c.closes[p]++
		c.mu.Unlock()
	case op == errorfs.OpRemove && c.armed.Load() && p == c.failPath:
		return syscall.EIO
	}
	return nil
}

// TestFailedRemovalReleasesEverySegment is defect 8: removeSegments
// returned at the first failed removal, leaking the file handles and maps
// of the segments after it for the life of the log. Now every dead
// segment is retired and its removal tried, and the errors are joined.
func TestFailedRemovalReleasesEverySegment(t *testing.T) {
	mem := vfs.NewMem()
	cc := &closeCounter{closes: map[string]int{}}
	o := &Options{FS: errorfs.Wrap(mem, cc), SegmentSize: 1 << 10}
	l := mustOpen(t, memDir, o)
	fill(t, l, 300, 0)
	segs := l.Segments()
	paths := func(infos []SegmentInfo) []string {
		var out []string
		for _, s := range infos {
			out = append(out, path.Join(memDir, s.Name))
		}
		return out
	}
	dead := paths(segs[:5])
	cc.failPath = dead[0]
	cc.mu.Lock()
	clear(cc.closes)
	cc.mu.Unlock()
	cc.armed.Store(true)
	err := l.TruncateFront(segs[5].FirstIndex)
	cc.armed.Store(false)
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("TruncateFront with a failing removal = %v, want EIO", err)
	}
	// A segment's handle may carry its temporary name (prepare-N.tmp), so
	// closes are counted in total: one per dead segment at least.
	cc.mu.Lock()
	closes := 0
	for _, n := range cc.closes {
		closes += n
	}
	cc.mu.Unlock()
	if closes < len(dead) {
		t.Errorf("%d files closed after removing %d segments", closes, len(dead))
	}
	left, _ := mem.List(memDir)
	for _, p := range dead[1:] {
		for _, n := range left {
			if n == path.Base(p) {
				t.Errorf("%s not removed after an earlier removal failed", p)
			}
		}
	}
	checkRange(t, l, segs[5].FirstIndex, 300)
	fill(t, l, 310, 0)
	mustClose(t, l)
	l = mustOpen(t, memDir, o)
	defer mustClose(t, l)
	checkRange(t, l, segs[5].FirstIndex, 310)
}

// TestIndexOverflowRejected is defect 9, first half: Reset(math.MaxUint64)
// was accepted and the second Append returned index 0 with bounds
// [2^64-1, 0]. The top index is refused with ErrOutOfRange, and writes
// that would pass MaxIndex fail without changing the log.
func TestIndexOverflowRejected(t *testing.T) {
	mem := vfs.NewMem()
	o := &Options{FS: mem, SegmentSize: 1 << 10}
	l := mustOpen(t, memDir, o)
	if err := l.Reset(math.MaxUint64); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("Reset(MaxUint64) = %v, want ErrOutOfRange", err)
	}
	if err := l.Reset(MaxIndex - 1); err != nil {
		t.Fatal(err)
	}
	var b Batch
	b.Write(0, []byte("a"))
	b.Write(0, []byte("b"))
	b.Write(0, []byte("c"))
	if _, err := l.AppendBatch(&b); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("AppendBatch of 3 from MaxIndex-1 = %v, want ErrOutOfRange", err)
	}
	for want := MaxIndex - 1; want <= MaxIndex; want++ {
		if i, err := l.Append(payload(want, 0)); err != nil || i != want {
			t.Fatalf("Append = %d, %v; want %d", i, err, want)
		}
	}
	if i, err := l.Append([]byte("x")); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("Append past MaxIndex = %d, %v; want ErrOutOfRange", i, err)
	}
	if err := l.Write(math.MaxUint64, []byte("x")); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("Write(MaxUint64) = %v, want ErrOutOfRange", err)
	}
	checkRange(t, l, MaxIndex-1, MaxIndex)
	mustClose(t, l)
	l = mustOpen(t, memDir, o)
	defer mustClose(t, l)
	checkRange(t, l, MaxIndex-1, MaxIndex)
	// Emptying the log keeps its position, the one past MaxIndex.
	if err := l.TruncateFront(MaxIndex + 1); err != nil {
		t.Fatal(err)
	}
	if f, la := bounds(t, l); f != MaxIndex+1 || la != MaxIndex {
		t.Fatalf("bounds after emptying = [%d, %d]", f, la)
	}
}

// TestCraftedTrailerCannotWrap is defect 9, second half: a CRC-valid
// trailer whose index block offset is near 2^64 wrapped the trailer size
// check and was accepted. It must be ErrCorrupt at the read that opens the
// segment, at Verify, and at an eager Open, never a panic.
func TestCraftedTrailerCannotWrap(t *testing.T) {
	fs, segs := lazyLog(t)
	p := segs[len(segs)/2]
	b := readFile(t, fs, p)
	size := uint64(len(b))
	count := size / 4
	tr := segTrailer{first: segFirst(t, p), count: count, indexOff: -(4*count + segTrailerSize - size)}
	if tr.indexOff+4*tr.count+segTrailerSize != size {
		t.Fatalf("crafted trailer does not wrap")
	}
	copy(b[len(b)-segTrailerSize:], tr.encode())
	writeFile(t, fs, p, b)
	if _, ok := decodeSegTrailer(b[len(b)-segTrailerSize:], int64(size)); ok {
		t.Errorf("decodeSegTrailer accepts index block offset %d in a %d-byte file", tr.indexOff, size)
	}
	watchdog(t, 30*time.Second, func() {
		l := mustOpen(t, memDir, &Options{FS: fs, SegmentSize: 1 << 10})
		defer l.Close()
		if _, err := l.Read(tr.first); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Read(%d) of the crafted segment = %v, want ErrCorrupt", tr.first, err)
		}
		if err := l.Verify(nil); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Verify = %v, want ErrCorrupt", err)
		}
	})
	if _, err := Open(memDir, &Options{FS: fs, SegmentSize: 1 << 10, EagerOpen: true}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("eager Open = %v, want ErrCorrupt", err)
	}
}

// renameThenFail performs a rename of META and then reports EIO, as a
// filesystem can (a fault after the rename, an NFS retry).
type renameThenFail struct {
	vfs.FS
	armed atomic.Bool
}

func (r *renameThenFail) Rename(oldname, newname string) error {
	err := r.FS.Rename(oldname, newname)
	if err == nil && r.armed.Load() && path.Base(newname) == metaName {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: syscall.EIO}
	}
	return err
}

// TestFailedMetaRenameFailsLog is defect 10: a META rename that took
// effect but reported an error did not fail the log, so after a failed
// TruncateBack the log went on appending to a tail the new META cuts, and
// a reopen discarded acknowledged entries. Every acknowledged entry must
// survive the reopen, and the failed call must fail-stop the log.
func TestFailedMetaRenameFailsLog(t *testing.T) {
	for _, op := range []string{"TruncateBack", "TruncateFront"} {
		t.Run(op, func(t *testing.T) {
			mem := vfs.NewMem()
			fs := &renameThenFail{FS: mem}
			o := &Options{FS: fs, SegmentSize: 1 << 10}
			l := mustOpen(t, memDir, o)
			fill(t, l, 300, 0)
			fs.armed.Store(true)
			var err error
			if op == "TruncateBack" {
				err = l.TruncateBack(290)
			} else {
				err = l.TruncateFront(10)
			}
			fs.armed.Store(false)
			if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
				t.Fatalf("%s with a failed META rename = %v, want ErrFailed wrapping EIO", op, err)
			}
			first, last := bounds(t, l)
			if (op == "TruncateBack" && last != 290) || (op == "TruncateFront" && first != 10) {
				t.Errorf("bounds after the failed %s = [%d, %d]: they serve entries the new META may void", op, first, last)
			}
			acked := last
			for i := 0; i < 5; i++ {
				idx, err := l.Append(payload(last+1, 1))
				if err == nil {
					acked = idx
				} else if !errors.Is(err, ErrFailed) {
					t.Fatalf("Append after the failed %s = %v, want ErrFailed", op, err)
				}
			}
			if acked != last {
				t.Errorf("Append acknowledged index %d after the failed %s", acked, op)
			}
			_ = l.Close()
			l = mustOpen(t, memDir, &Options{FS: mem, SegmentSize: 1 << 10})
			defer mustClose(t, l)
			if f, la := bounds(t, l); la < acked || (op == "TruncateBack" && la != 290) {
				t.Fatalf("after reopen: [%d, %d], acknowledged up to %d (before reopen [%d, %d])", f, la, acked, first, last)
			}
		})
	}
}

// TestSegmentErrorsNameTheSegment is defect 10's second half: a segment's
// file handle kept its prepare-N.tmp name after the rename, so I/O errors
// named a file that no longer exists.
func TestSegmentErrorsNameTheSegment(t *testing.T) {
	inj := &armedFS{ops: []errorfs.Op{errorfs.OpWrite}, suffix: "", cause: syscall.EIO}
	l := mustOpen(t, memDir, &Options{FS: errorfs.Wrap(vfs.NewMem(), inj), SegmentSize: 1 << 10})
	defer l.Close()
	fill(t, l, 100, 0) // several rotations: the tail came from a prepared file
	inj.armed.Store(true)
	_, err := l.Append([]byte("x"))
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append = %v, want EIO", err)
	}
	segs := l.Segments()
	tail := path.Join(memDir, segs[len(segs)-1].Name)
	var pe *os.PathError
	if strings.Contains(err.Error(), "prepare-") || !errors.As(err, &pe) || pe.Path != tail {
		t.Fatalf("Append's error %q does not name the tail %s", err, tail)
	}
}

// TestAPISaysWhatItDoes pins the documented behaviour of the
// compatibility knobs: Refresh on a writable log does nothing (ErrClosed
// once closed), ClearCache does nothing, and NoSync wins over SyncPolicy.
func TestAPISaysWhatItDoes(t *testing.T) {
	l := mustOpen(t, t.TempDir(), &Options{NoSync: true, SyncPolicy: SyncInterval})
	if l.opts.SyncPolicy != SyncNever {
		t.Errorf("NoSync with SyncInterval: policy %v, want never", l.opts.SyncPolicy)
	}
	fill(t, l, 3, 0)
	if err := l.Refresh(); err != nil {
		t.Errorf("Refresh on a writable log = %v, want nil", err)
	}
	if err := l.ClearCache(); err != nil {
		t.Errorf("ClearCache = %v", err)
	}
	checkRange(t, l, 1, 3)
	mustClose(t, l)
	if err := l.Refresh(); !errors.Is(err, ErrClosed) {
		t.Errorf("Refresh after Close = %v, want ErrClosed", err)
	}
}

// TestReadersDoNotWaitForRotation is defect 7 (in part): a rotation held
// the log's mutex across its I/O (the seal's truncation and fdatasync, the
// new segment's header fsync, rename and directory fsync), so LastIndex,
// Bounds, reads and Segments waited for it. A rotation is stopped inside
// each of those operations; the readers must return meanwhile.
func TestReadersDoNotWaitForRotation(t *testing.T) {
	for _, op := range []errorfs.Op{errorfs.OpTruncate, errorfs.OpSync, errorfs.OpRename, errorfs.OpSyncDir} {
		t.Run(op.String(), func(t *testing.T) {
			var armed atomic.Bool
			entered, release := make(chan struct{}), make(chan struct{})
			inj := errorfs.InjectorFunc(func(o errorfs.Op, p string) error {
				if o == op && armed.CompareAndSwap(true, false) {
					close(entered)
					<-release
				}
				return nil
			})
			l := mustOpen(t, memDir, &Options{FS: errorfs.Wrap(vfs.NewMem(), inj), SegmentSize: 1 << 10, SyncPolicy: SyncNever})
			fill(t, l, 5, 0)
			armed.Store(true)
			wrote := make(chan error, 1)
			go func() {
				for i := uint64(6); ; i++ {
					if err := l.Write(i, payload(i, 0)); err != nil || !armed.Load() {
						wrote <- err
						return
					}
				}
			}()
			<-entered // a rotation is inside op now (or a Write's own op)
			watchdog(t, 10*time.Second, func() {
				first, last, err := l.Bounds()
				if err != nil {
					t.Fatal(err)
				}
				checkRange(t, l, first, last)
				_ = l.Segments()
			})
			close(release)
			if err := <-wrote; err != nil {
				t.Fatal(err)
			}
			mustClose(t, l)
		})
	}
}

// TestFailedSegmentInstallFailsLog: a rotation whose new segment's
// directory fsync fails leaves the directory's durable state unknown (the
// rename may or may not survive a crash), like a failed META replace: the
// log fail-stops instead of writing on, and everything acknowledged
// before is found by a reopen.
func TestFailedSegmentInstallFailsLog(t *testing.T) {
	mem := vfs.NewMem()
	inj := &armedFS{ops: []errorfs.Op{errorfs.OpSyncDir}, cause: syscall.EIO}
	o := &Options{FS: errorfs.Wrap(mem, inj), SegmentSize: 1 << 10}
	l := mustOpen(t, memDir, o)
	fill(t, l, 3, 0)
	inj.armed.Store(true)
	var acked uint64 = 3
	var err error
	for i := uint64(4); i < 200; i++ {
		if err = l.Write(i, payload(i, 0)); err != nil {
			break
		}
		acked = i
	}
	inj.armed.Store(false)
	if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Write after a failed directory fsync of a new segment = %v, want ErrFailed wrapping EIO", err)
	}
	if err := l.Write(acked+1, payload(acked+1, 0)); !errors.Is(err, ErrFailed) {
		t.Fatalf("a later Write = %v, want ErrFailed (sticky)", err)
	}
	_ = l.Close()
	l = mustOpen(t, memDir, &Options{FS: mem, SegmentSize: 1 << 10})
	defer mustClose(t, l)
	if _, la := bounds(t, l); la < acked {
		t.Fatalf("reopened log ends at %d, but %d was acknowledged", la, acked)
	}
	checkRange(t, l, 1, acked)
}

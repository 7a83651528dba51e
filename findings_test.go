package wal

import (
	"errors"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// Regression tests for defects the metamorphic test found that are not in
// issue 13's list. Each is skipped while its knownDefect constant is set
// (metamorphic_test.go); the lead clears the constant with the fix.

// TestVerifyAfterTruncateBackInsideBatch: TruncateBack(k) with k inside a
// batch leaves the batch's More records at the end of the sealed segment;
// the log is healthy, so Verify, live and after a reopen, must return nil.
func TestVerifyAfterTruncateBackInsideBatch(t *testing.T) {
	if knownDefectVerifySplitBatch {
		t.Skip("knownDefectVerifySplitBatch: Verify reports 'sealed with an incomplete batch at its end'")
	}
	o := &Options{FS: vfs.NewMem(), SegmentSize: 1 << 10}
	l := mustOpen(t, memDir, o)
	var b Batch
	for i := uint64(1); i <= 5; i++ {
		b.Write(i, payload(i, 1))
	}
	if err := l.WriteBatch(&b); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateBack(3); err != nil {
		t.Fatal(err)
	}
	if err := l.Verify(nil); err != nil {
		t.Errorf("Verify after TruncateBack inside a batch: %v", err)
	}
	mustClose(t, l)
	l = mustOpen(t, memDir, o)
	if err := l.Verify(nil); err != nil {
		t.Errorf("Verify after reopen: %v", err)
	}
	checkRange(t, l, 1, 3)

	// The same inside a batch of an older sealed segment (recut).
	last := uint64(3)
	for range 12 {
		var b Batch
		for i := last + 1; i <= last+5; i++ {
			b.Write(i, payload(i, 1))
		}
		if err := l.WriteBatch(&b); err != nil {
			t.Fatal(err)
		}
		last += 5
	}
	segs := l.Segments()
	if len(segs) < 3 {
		t.Fatalf("%d segments, want at least 3", len(segs))
	}
	k := segs[1].FirstIndex
	for (k-3)%5 == 0 { // batches end at 3+5j: cut inside one
		k++
	}
	if k >= segs[1].LastIndex {
		t.Fatalf("no batch inside segment %+v", segs[1])
	}
	if err := l.TruncateBack(k); err != nil {
		t.Fatal(err)
	}
	if err := l.Verify(nil); err != nil {
		t.Errorf("Verify after TruncateBack(%d) inside a batch of a sealed segment: %v", k, err)
	}
	mustClose(t, l)
	l = mustOpen(t, memDir, o)
	if err := l.Verify(nil); err != nil {
		t.Errorf("Verify after reopen: %v", err)
	}
	checkRange(t, l, 1, k)
	mustClose(t, l)
}

// TestVerifyReadErrorIsNotCorruption: an I/O error while Verify reads a
// segment is the device's failure, not damage: it must wrap the cause
// (errors.Is(err, syscall.EIO)) and not ErrCorrupt, or an operator is sent
// to repair a healthy log.
func TestVerifyReadErrorIsNotCorruption(t *testing.T) {
	if knownDefectVerifyIOErrorAsCorrupt {
		t.Skip("knownDefectVerifyIOErrorAsCorrupt: Verify wraps a read EIO as ErrCorrupt")
	}
	var armed atomic.Bool
	inj := errorfs.InjectorFunc(func(op errorfs.Op, _ string) error {
		if armed.Load() && op == errorfs.OpRead {
			return syscall.EIO
		}
		return nil
	})
	l := mustOpen(t, memDir, &Options{FS: errorfs.Wrap(vfs.NewMem(), inj), SegmentSize: 1 << 10})
	defer l.Close()
	fill(t, l, 40, 1)
	armed.Store(true)
	err := l.Verify(nil)
	if !errors.Is(err, syscall.EIO) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("Verify with failing reads = %v; want an error wrapping EIO, not ErrCorrupt", err)
	}
}

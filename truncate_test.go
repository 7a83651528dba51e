package wal

import (
	"errors"
	"testing"

	"github.com/waldb/wal/vfs"
)

func TestTruncateAcrossSegments(t *testing.T) {
	tests := []struct {
		name        string
		front, back uint64 // 0: skip
		first, last uint64
	}{
		{"front inside first segment", 5, 0, 5, 400},
		{"front at a segment boundary region", 150, 0, 150, 400},
		{"front into tail", 390, 0, 390, 400},
		{"back inside tail", 0, 399, 1, 399},
		{"back into sealed segment", 0, 100, 1, 100},
		{"back to first entry", 0, 1, 1, 1},
		{"both", 120, 250, 120, 250},
		{"front to last", 400, 0, 400, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			o := &Options{SegmentSize: 4 << 10}
			l := mustOpen(t, dir, o)
			fill(t, l, 400, 0)
			before := len(segmentFiles(t, dir))
			if tc.front > 0 {
				if err := l.TruncateFront(tc.front); err != nil {
					t.Fatal(err)
				}
			}
			if tc.back > 0 {
				if err := l.TruncateBack(tc.back); err != nil {
					t.Fatal(err)
				}
			}
			checkRange(t, l, tc.first, tc.last)
			if tc.front > 200 && len(segmentFiles(t, dir)) >= before {
				t.Fatalf("TruncateFront(%d) deleted no segment (%d files)", tc.front, before)
			}
			// New writes continue after the cut with a new generation.
			fill(t, l, tc.last+50, 0)
			mustClose(t, l)
			l = mustOpen(t, dir, o)
			defer mustClose(t, l)
			checkRange(t, l, tc.first, tc.last+50)
		})
	}
}

func TestTruncateBackNeverResurrects(t *testing.T) {
	dir := t.TempDir()
	o := &Options{SegmentSize: 2 << 10}
	l := mustOpen(t, dir, o)
	fill(t, l, 300, 1)
	if err := l.TruncateBack(120); err != nil {
		t.Fatal(err)
	}
	// Rewrite a shorter suffix with generation 2: generation-1 entries
	// above 120 must never come back.
	for i := uint64(121); i <= 150; i++ {
		if err := l.Write(i, payload(i, 2)); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, l)
	l = mustOpen(t, dir, o)
	defer mustClose(t, l)
	checkRange(t, l, 1, 150)
	for i := uint64(121); i <= 150; i++ {
		b, _ := l.Read(i)
		if g, _ := checkPayload(i, b); g != 2 {
			t.Fatalf("entry %d has generation %d after TruncateBack and rewrite", i, g)
		}
	}
}

func TestTruncateErrors(t *testing.T) {
	l := mustOpen(t, t.TempDir(), nil)
	defer mustClose(t, l)
	fill(t, l, 10, 0)
	if err := l.TruncateFront(4); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"front below first": l.TruncateFront(3),
		"front past end":    l.TruncateFront(12),
		"back below first":  l.TruncateBack(3),
		"back past last":    l.TruncateBack(11),
		"reset to zero":     l.Reset(0),
	} {
		if !errors.Is(err, ErrOutOfRange) {
			t.Errorf("%s: err = %v, want ErrOutOfRange", name, err)
		}
	}
	checkRange(t, l, 4, 10)
}

func TestEmptyingKeepsPosition(t *testing.T) {
	dir := t.TempDir()
	o := &Options{SegmentSize: 4 << 10}
	l := mustOpen(t, dir, o)
	fill(t, l, 200, 0)
	if err := l.TruncateFront(201); err != nil {
		t.Fatal(err)
	}
	if f, la := bounds(t, l); f != 201 || la != 200 {
		t.Fatalf("after emptying: [%d, %d], want [201, 200]", f, la)
	}
	if n := len(segmentFiles(t, dir)); n != 1 {
		t.Fatalf("%d segment files after emptying, want 1", n)
	}
	mustClose(t, l)
	l = mustOpen(t, dir, o)
	if f, la := bounds(t, l); f != 201 || la != 200 {
		t.Fatalf("reopened empty log: [%d, %d], want [201, 200]", f, la)
	}
	if err := l.Write(1, payload(1, 0)); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("Write(1) into log positioned at 201 = %v", err)
	}
	fill(t, l, 210, 0)
	mustClose(t, l)
	l = mustOpen(t, dir, o)
	defer mustClose(t, l)
	checkRange(t, l, 201, 210)
}

func TestReset(t *testing.T) {
	for _, to := range []uint64{1, 5, 1000, 1 << 40} {
		dir := t.TempDir()
		o := &Options{SegmentSize: 4 << 10}
		l := mustOpen(t, dir, o)
		fill(t, l, 100, 0)
		if err := l.TruncateFront(30); err != nil {
			t.Fatal(err)
		}
		if err := l.Reset(to); err != nil {
			t.Fatal(err)
		}
		checkRange(t, l, to, to-1)
		mustClose(t, l)
		l = mustOpen(t, dir, o)
		checkRange(t, l, to, to-1)
		fill(t, l, to+20, 3)
		mustClose(t, l)
		l = mustOpen(t, dir, o)
		checkRange(t, l, to, to+20)
		if n := len(segmentFiles(t, dir)); n > 2 {
			t.Fatalf("Reset(%d) left %d segment files", to, n)
		}
		mustClose(t, l)
	}
}

// TestCrashInsideTruncateBackKeepsLaterWrites is the regression test for a
// bug walctl's tests found: after a crash inside TruncateBack before the
// new tail segment existed, Open created a tail whose sequence number was
// not above META's backSeq, so a later Open voided everything written to it.
func TestCrashInsideTruncateBackKeepsLaterWrites(t *testing.T) {
	fs := vfs.NewMem()
	o := &Options{FS: fs, SegmentSize: 1 << 10}
	l := mustOpen(t, memDir, o)
	fill(t, l, 200, 0)
	if err := l.TruncateBack(20); err != nil {
		t.Fatal(err)
	}
	img := liveClone(fs)
	l.Close()
	segs := memSegments(t, img)
	if err := img.Remove(segs[len(segs)-1]); err != nil { // the crash came before the new tail
		t.Fatal(err)
	}
	o.FS = img
	l = mustOpen(t, memDir, o)
	fill(t, l, 25, 1)
	mustClose(t, l)
	l = mustOpen(t, memDir, o)
	defer mustClose(t, l)
	checkRange(t, l, 1, 25)
}

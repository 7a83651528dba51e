package wal

import (
	"testing"

	"github.com/waldb/wal/vfs"
)

// TestVerifyAfterRecut: a TruncateBack into a sealed segment re-cuts it;
// Verify must still judge that segment's markers by its own header (a
// false ErrCorrupt here would send an operator to walctl repair).
func TestVerifyAfterRecut(t *testing.T) {
	fs := vfs.NewMem()
	o := &Options{FS: fs, SegmentSize: 1 << 10}
	l := mustOpen(t, memDir, o)
	fill(t, l, 100, 0)
	segs := l.Segments()
	if len(segs) < 4 {
		t.Fatalf("want 4 segments, have %d", len(segs))
	}
	cut := segs[1].FirstIndex + 3
	if err := l.TruncateBack(cut); err != nil {
		t.Fatal(err)
	}
	if err := l.Verify(nil); err != nil {
		t.Fatalf("Verify after TruncateBack into a sealed segment: %v", err)
	}
	fill(t, l, cut+20, 1)
	if err := l.Verify(nil); err != nil {
		t.Fatalf("Verify after appending: %v", err)
	}
	mustClose(t, l)
	l = mustOpen(t, memDir, o)
	defer mustClose(t, l)
	if err := l.Verify(nil); err != nil {
		t.Fatalf("Verify after reopening: %v", err)
	}
}

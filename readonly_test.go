package wal

import (
	"errors"
	"testing"

	"github.com/waldb/wal/record"
	"github.com/waldb/wal/vfs"
)

// TestReadOnlyBesideWriter: OpenReadOnly works while a writer holds the
// lock, changes nothing, refuses writes, and Refresh picks up new entries.
func TestReadOnlyBesideWriter(t *testing.T) {
	dir := t.TempDir()
	o := &Options{SegmentSize: 2 << 10}
	w := mustOpen(t, dir, o)
	defer mustClose(t, w)
	fill(t, w, 100, 0)
	r, err := OpenReadOnly(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkRange(t, r, 1, 100)
	if !r.Recovery().DryRun {
		t.Fatal("report of a read-only open is not marked DryRun")
	}
	for name, err := range map[string]error{
		"Write":         r.Write(101, nil),
		"TruncateFront": r.TruncateFront(5),
		"TruncateBack":  r.TruncateBack(5),
		"Reset":         r.Reset(5),
	} {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only log = %v, want ErrReadOnly", name, err)
		}
	}
	fill(t, w, 150, 0)
	if err := w.TruncateFront(20); err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(); err != nil {
		t.Fatal(err)
	}
	checkRange(t, r, 20, 150)
	if err := r.Verify(nil); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	segs := r.Segments()
	if len(segs) < 3 || segs[len(segs)-1].LastIndex != 150 {
		t.Fatalf("Segments = %+v", segs)
	}
}

// TestReadOnlyChangesNothing: on a torn, unlocked image, OpenReadOnly
// reports what Open would drop and remove, serves the recovered prefix,
// and leaves every file byte for byte as it was.
func TestReadOnlyChangesNothing(t *testing.T) {
	img, o := tornImage(t)
	before := snapshotFiles(t, img)
	o.FS = img
	r, err := OpenReadOnly(memDir, &o)
	if err != nil {
		t.Fatal(err)
	}
	rep := r.Recovery()
	if rep.State != RecoveryTornTail || len(rep.Dropped) == 0 || len(rep.Removed) == 0 {
		t.Fatalf("dry-run report = %v", rep)
	}
	_, last := bounds(t, r)
	r.Close()
	after := snapshotFiles(t, img)
	if len(before) != len(after) {
		t.Fatalf("files changed: %d before, %d after", len(before), len(after))
	}
	for n, b := range before {
		if string(after[n]) != string(b) {
			t.Fatalf("%s changed", n)
		}
	}
	l := mustOpen(t, memDir, &o)
	defer l.Close()
	if _, la := bounds(t, l); la != last {
		t.Fatalf("read-only served up to %d, Open recovered %d", last, la)
	}
	if got := l.Recovery(); got.String() == rep.String() {
		t.Fatalf("reports identical although one is a dry run: %v", got)
	}
}

// TestVerifyFindsDamage: Verify reports a flipped bit in a sealed segment
// that Open does not scan, naming the segment.
func TestVerifyFindsDamage(t *testing.T) {
	fs := vfs.NewMem()
	o := &Options{FS: fs, SegmentSize: 1 << 10}
	l := mustOpen(t, memDir, o)
	fill(t, l, 100, 0)
	mustClose(t, l)
	segs := memSegments(t, fs)
	b := readFile(t, fs, segs[1])
	b[segHeaderSize+record.HeaderSize+1] ^= 4
	writeFile(t, fs, segs[1], b)
	r, err := OpenReadOnly(memDir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var calls int
	err = r.Verify(func(done, total int64) {
		calls++
		if done > total {
			t.Errorf("progress %d > total %d", done, total)
		}
	})
	if !errors.Is(err, ErrCorrupt) || calls == 0 {
		t.Fatalf("Verify = %v after %d progress calls, want ErrCorrupt", err, calls)
	}
}

func snapshotFiles(t *testing.T, fs *vfs.MemFS) map[string][]byte {
	t.Helper()
	names, err := fs.List(memDir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, n := range names {
		m[n] = readFile(t, fs, memDir+"/"+n)
	}
	return m
}

package wal

import (
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// TestReadMetaListSegments: the inspection API reports what the log itself
// knows: META's fields after each kind of truncation, and the segment
// files Segments lists.
func TestReadMetaListSegments(t *testing.T) {
	fs := vfs.NewMem()
	const dir = "/log"
	l := mustOpen(t, dir, &Options{FS: fs, SegmentSize: 1 << 10, NoPreallocate: true})
	defer func() {
		if l != nil {
			mustClose(t, l)
		}
	}()
	if m, err := ReadMeta(fs, dir); m != nil || err != nil {
		t.Fatalf("ReadMeta of a log never truncated = %+v, %v; want nil, nil", m, err)
	}
	for i := 0; i < 200; i++ {
		if _, err := l.Append([]byte(strings.Repeat("x", 40))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.TruncateFront(30); err != nil {
		t.Fatal(err)
	}
	before := l.Segments()
	maxSeq := before[len(before)-1].Seq
	if err := l.TruncateBack(150); err != nil {
		t.Fatal(err)
	}
	segs := l.Segments()
	if len(segs) < 4 {
		t.Fatalf("only %d segments; the test needs several", len(segs))
	}
	m, err := ReadMeta(fs, dir)
	if err != nil || m == nil {
		t.Fatalf("ReadMeta = %v, %v", m, err)
	}
	if want := (MetaInfo{Front: 30, FrontSeq: maxSeq, Back: 150, BackSeq: maxSeq}); *m != want {
		t.Errorf("ReadMeta = %+v; want %+v", *m, want)
	}
	files, err := ListSegments(fs, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(segs) {
		t.Fatalf("ListSegments found %d files, Segments %d", len(files), len(segs))
	}
	for i, f := range files {
		s := segs[i]
		if f.Name != s.Name || f.Seq != s.Seq || f.First != s.FirstIndex || f.Size < SegmentHeaderSize {
			t.Errorf("file %d = %+v; Segments says %+v", i, f, s)
		}
		if seq, first, ok := ParseSegmentName(f.Name); !ok || seq != f.Seq || first != f.First {
			t.Errorf("ParseSegmentName(%q) = %d, %d, %v", f.Name, seq, first, ok)
		}
	}
	for _, bad := range []string{"META", "LOCK", "x.wal", segmentName(1, 1) + ".tmp", "0000000000000001_00000000000000000001.wal"} {
		if _, _, ok := ParseSegmentName(bad); ok {
			t.Errorf("ParseSegmentName(%q) accepted", bad)
		}
	}
	mustClose(t, l)
	l = nil

	// A damaged META is reported, not guessed at.
	f, err := fs.OpenReadWrite(dir + "/META")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff}, 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if m, err := ReadMeta(fs, dir); m != nil || !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadMeta of a damaged META = %+v, %v; want ErrCorrupt", m, err)
	}
}

// TestRemoveSegmentFiles: it refuses names that are not segments and an
// open log, removes every named file durably, and reports every failure.
func TestRemoveSegmentFiles(t *testing.T) {
	fs := vfs.NewMem()
	const dir = "/log"
	l := mustOpen(t, dir, &Options{FS: fs, SegmentSize: 1 << 10, NoPreallocate: true})
	for i := 0; i < 100; i++ {
		if _, err := l.Append([]byte(strings.Repeat("y", 40))); err != nil {
			t.Fatal(err)
		}
	}
	files, err := ListSegments(fs, dir)
	if err != nil || len(files) < 3 {
		t.Fatalf("ListSegments = %d files, %v", len(files), err)
	}
	last := []string{files[len(files)-2].Name, files[len(files)-1].Name}
	if err := RemoveSegmentFiles(fs, dir, last); !errors.Is(err, ErrLocked) {
		t.Errorf("RemoveSegmentFiles of an open log = %v; want ErrLocked", err)
	}
	mustClose(t, l)
	if err := RemoveSegmentFiles(fs, dir, []string{last[0], "META"}); !errors.Is(err, ErrNotSegment) {
		t.Errorf("RemoveSegmentFiles(META) = %v; want ErrNotSegment", err)
	}
	if got, _ := ListSegments(fs, dir); len(got) != len(files) {
		t.Fatalf("a refused call removed files: %d left of %d", len(got), len(files))
	}

	// Each removal fails once: both are tried and both errors returned.
	efs := errorfs.Wrap(fs, errorfs.OnIndex(0, syscall.EIO, errorfs.OpRemove))
	err = RemoveSegmentFiles(efs, dir, last)
	if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), last[0]) {
		t.Errorf("err = %v; want EIO naming %s", err, last[0])
	}
	got, _ := ListSegments(fs, dir)
	if len(got) != len(files)-1 || got[len(got)-1].Name != last[0] {
		t.Fatalf("after one failed removal: %d files, last %s; want the second removed", len(got), got[len(got)-1].Name)
	}
	if err := RemoveSegmentFiles(fs, dir, last[:1]); err != nil {
		t.Fatal(err)
	}
	// Durable when it returns: a crash keeping only synced state agrees.
	crashed := fs.CrashClone(vfs.CrashOptions{})
	got, _ = ListSegments(crashed, dir)
	names := make([]string, len(got))
	for i, f := range got {
		names[i] = f.Name
	}
	if len(got) != len(files)-2 || slices.Contains(names, last[0]) || slices.Contains(names, last[1]) {
		t.Fatalf("after a crash: %v; want the two removed", names)
	}
	// The shortened log opens and holds the entries of the kept segments.
	l = mustOpen(t, dir, &Options{FS: fs, SegmentSize: 1 << 10, NoPreallocate: true})
	defer mustClose(t, l)
	if lastIdx, _ := l.LastIndex(); lastIdx != files[len(files)-2].First-1 {
		t.Errorf("LastIndex = %d; want %d", lastIdx, files[len(files)-2].First-1)
	}
}

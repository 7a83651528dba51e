package wal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

func TestEmptyLog(t *testing.T) {
	l := mustOpen(t, t.TempDir(), nil)
	defer mustClose(t, l)
	if f, la := bounds(t, l); f != 0 || la != 0 {
		t.Fatalf("empty log bounds = [%d, %d], want [0, 0]", f, la)
	}
	if _, err := l.Read(1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Read(1) = %v, want ErrNotFound", err)
	}
	idx, err := l.Append([]byte("first"))
	if err != nil || idx != 1 {
		t.Fatalf("Append = %d, %v; want 1", idx, err)
	}
}

func TestWriteErrors(t *testing.T) {
	l := mustOpen(t, t.TempDir(), &Options{MaxEntrySize: 100})
	fill(t, l, 3, 0)
	tests := []struct {
		name  string
		index uint64
		size  int
		want  error
	}{
		{"gap", 5, 1, ErrOutOfOrder},
		{"rewrite", 3, 1, ErrOutOfOrder},
		{"zero", 0, 1, ErrOutOfOrder},
		{"too large", 4, 101, ErrTooLarge},
		{"max size ok", 4, 100, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := l.Write(tc.index, make([]byte, tc.size))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Write(%d, %d bytes) = %v, want %v", tc.index, tc.size, err, tc.want)
			}
		})
	}
	var b Batch
	b.Write(5, []byte("a"))
	b.Write(7, []byte("b"))
	if err := l.WriteBatch(&b); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("WriteBatch with a gap = %v, want ErrOutOfOrder", err)
	}
	b.Clear()
	b.Append(make([]byte, 101))
	if _, err := l.AppendBatch(&b); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("AppendBatch too large = %v, want ErrTooLarge", err)
	}
	if _, la := bounds(t, l); la != 4 {
		t.Fatalf("failed writes changed LastIndex to %d", la)
	}
	mustClose(t, l)
}

func TestClosedLog(t *testing.T) {
	l := mustOpen(t, t.TempDir(), nil)
	fill(t, l, 2, 0)
	mustClose(t, l)
	var b Batch
	b.Append([]byte("x"))
	calls := map[string]func() error{
		"Write":         func() error { return l.Write(3, nil) },
		"Append":        func() error { _, err := l.Append(nil); return err },
		"WriteBatch":    func() error { return l.WriteBatch(&b) },
		"AppendBatch":   func() error { _, err := l.AppendBatch(&b); return err },
		"Read":          func() error { _, err := l.Read(1); return err },
		"AppendEntry":   func() error { _, err := l.AppendEntry(nil, 1); return err },
		"FirstIndex":    func() error { _, err := l.FirstIndex(); return err },
		"LastIndex":     func() error { _, err := l.LastIndex(); return err },
		"TruncateFront": func() error { return l.TruncateFront(2) },
		"TruncateBack":  func() error { return l.TruncateBack(1) },
		"Reset":         func() error { return l.Reset(5) },
		"Sync":          func() error { return l.Sync() },
		"Close":         func() error { return l.Close() },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func TestWriteReadReopenPolicies(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncNever} {
		t.Run(p.String(), func(t *testing.T) {
			dir := t.TempDir()
			o := &Options{SyncPolicy: p, SegmentSize: 8 << 10}
			l := mustOpen(t, dir, o)
			fill(t, l, 500, 1)
			checkRange(t, l, 1, 500)
			mustClose(t, l)
			l = mustOpen(t, dir, o)
			if st := l.Recovery().State; st != RecoveryClean {
				t.Fatalf("recovery state after Close = %v, want clean", st)
			}
			checkRange(t, l, 1, 500)
			fill(t, l, 600, 1)
			mustClose(t, l)
			l = mustOpen(t, dir, o)
			defer mustClose(t, l)
			checkRange(t, l, 1, 600)
			if n := len(segmentFiles(t, dir)); n < 5 {
				t.Fatalf("only %d segment files for 600 entries of 8 KiB segments", n)
			}
		})
	}
}

func TestBatches(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, &Options{SegmentSize: 4 << 10})
	var b Batch
	for round := 0; round < 20; round++ {
		b.Clear()
		_, la := bounds(t, l)
		for i := uint64(1); i <= 37; i++ {
			b.Write(la+i, payload(la+i, 0))
		}
		if err := l.WriteBatch(&b); err != nil {
			t.Fatal(err)
		}
		b.Clear()
		for i := uint64(1); i <= 13; i++ {
			b.Append(payload(la+37+i, 0))
		}
		first, err := l.AppendBatch(&b)
		if err != nil || first != la+38 {
			t.Fatalf("AppendBatch = %d, %v; want %d", first, err, la+38)
		}
	}
	checkRange(t, l, 1, 1000)
	mustClose(t, l)
	l = mustOpen(t, dir, nil)
	defer mustClose(t, l)
	checkRange(t, l, 1, 1000)
}

func TestNoCopyAndIter(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, &Options{SegmentSize: 4 << 10, NoCopy: true})
	defer mustClose(t, l)
	fill(t, l, 300, 2)
	checkRange(t, l, 1, 300)
	it := l.Iter(0, nil)
	for want := uint64(1); ; want++ {
		idx, data, err := it.Next(t.Context())
		if want == 301 {
			if err == nil {
				t.Fatalf("Next past the end returned index %d", idx)
			}
			break
		}
		if err != nil || idx != want {
			t.Fatalf("Next = %d, %v; want %d", idx, err, want)
		}
		if !bytes.Equal(data, payload(want, 2)) {
			t.Fatalf("Next(%d) payload mismatch", want)
		}
	}
}

func TestNotALogDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, nil); !errors.Is(err, ErrNotLog) {
		t.Fatalf("Open of a foreign directory = %v, want ErrNotLog", err)
	}
	file := filepath.Join(dir, "notes.txt")
	if _, err := Open(file, nil); err == nil {
		t.Fatal("Open of a regular file succeeded")
	}
	// A log directory with a stray file opens and reports it.
	logDir := t.TempDir()
	l := mustOpen(t, logDir, nil)
	fill(t, l, 3, 0)
	mustClose(t, l)
	if err := os.WriteFile(filepath.Join(logDir, "README"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, logDir, nil)
	defer mustClose(t, l)
	if ign := l.Recovery().Ignored; len(ign) != 1 || ign[0] != "README" {
		t.Fatalf("Ignored = %v, want [README]", ign)
	}
	checkRange(t, l, 1, 3)
}

func TestInvalidOptions(t *testing.T) {
	for _, o := range []*Options{
		{SegmentSize: -1},
		{SegmentSize: MaxSegmentSize + 1},
		{MaxEntrySize: -5},
		{SyncPolicy: 9},
		{RecoveryMode: 7},
		{SyncInterval: -1},
	} {
		if _, err := Open(t.TempDir(), o); err == nil {
			t.Errorf("Open with %+v succeeded", *o)
		}
	}
}

func TestLockedDirectory(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, nil)
	fill(t, l, 5, 0)
	for i := 0; i < 100; i++ {
		if _, err := Open(dir, nil); !errors.Is(err, ErrLocked) {
			t.Fatalf("second Open = %v, want ErrLocked", err)
		}
	}
	checkRange(t, l, 1, 5)
	mustClose(t, l)
	l = mustOpen(t, dir, nil)
	defer mustClose(t, l)
	checkRange(t, l, 1, 5)
}

// segmentFiles lists the segment files in dir.
func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOpenSyncsNewDirectories: creating a log directory fsyncs the parent
// of every directory created, so the log cannot vanish in a power loss.
func TestOpenSyncsNewDirectories(t *testing.T) {
	base := t.TempDir()
	var synced []string
	inj := errorfs.InjectorFunc(func(op errorfs.Op, path string) error {
		if op == errorfs.OpSyncDir {
			synced = append(synced, path)
		}
		return nil
	})
	dir := filepath.Join(base, "a", "b")
	l := mustOpen(t, dir, &Options{FS: errorfs.Wrap(vfs.Default, inj)})
	defer mustClose(t, l)
	want := map[string]bool{base: false, filepath.Join(base, "a"): false}
	for _, p := range synced {
		if _, ok := want[p]; ok {
			want[p] = true
		}
	}
	for p, ok := range want {
		if !ok {
			t.Errorf("parent %s of a created directory was not fsynced (synced: %v)", p, synced)
		}
	}
	if f, la, err := l.Bounds(); f != 0 || la != 0 || err != nil {
		t.Fatalf("Bounds of a new log = %d, %d, %v", f, la, err)
	}
}

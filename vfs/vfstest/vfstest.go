// Package vfstest is a conformance suite for vfs.FS implementations: every
// FS the log may run on must pass Run.
package vfstest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/waldb/wal/vfs"
)

// Run runs the conformance suite. newFS is called once per subtest and must
// return an FS and an existing, empty directory in it that the subtest may
// use freely.
func Run(t *testing.T, newFS func(t *testing.T) (fs vfs.FS, dir string)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, fs vfs.FS, dir string)
	}{
		{"CreateWriteRead", testCreateWriteRead},
		{"CreateTruncatesExisting", testCreateTruncates},
		{"WriteAtHole", testWriteAtHole},
		{"WriteAtv", testWriteAtv},
		{"ReadAtEOF", testReadAtEOF},
		{"Truncate", testTruncate},
		{"Preallocate", testPreallocate},
		{"OpenReadWrite", testOpenReadWrite},
		{"ReadOnlyRejectsWrites", testReadOnly},
		{"ClosedFile", testClosedFile},
		{"Rename", testRename},
		{"RenameReplaces", testRenameReplaces},
		{"Remove", testRemove},
		{"RemoveOpenFile", testRemoveOpenFile},
		{"List", testList},
		{"MkdirAllStat", testMkdirAllStat},
		{"SyncDir", testSyncDir},
		{"Lock", testLock},
		{"NotExist", testNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, dir := newFS(t)
			tt.fn(t, fs, dir)
		})
	}
}

func testCreateWriteRead(t *testing.T, fs vfs.FS, dir string) {
	name := filepath.Join(dir, "a")
	f := create(t, fs, name)
	writeAt(t, f, []byte("hello, world"), 0)
	writeAt(t, f, []byte("WORLD"), 7)
	mustSync(t, f)
	wantContents(t, f, "hello, WORLD")
	mustClose(t, f)
	f = open(t, fs, name)
	defer mustClose(t, f)
	wantContents(t, f, "hello, WORLD")
}

// testWriteAtv: a vectored write (vfs.WriteAtv, through the file's own
// WriteAtv if it has one) writes the concatenation of its buffers, empty
// ones included, at its offset, extending the file over a hole, and
// reports their total; the buffers are left as they were.
func testWriteAtv(t *testing.T, fs vfs.FS, dir string) {
	f := create(t, fs, filepath.Join(dir, "v"))
	defer mustClose(t, f)
	writeAt(t, f, []byte("0123456789"), 0)
	bufs := [][]byte{[]byte("ab"), nil, []byte("cdef"), bytes.Repeat([]byte{'g'}, 5000)}
	saved := slices.Clone(bufs)
	n, err := vfs.WriteAtv(f, bufs, 3)
	if err != nil || n != 5006 {
		t.Fatalf("WriteAtv = %d, %v; want 5006, nil", n, err)
	}
	for i := range bufs {
		if len(bufs[i]) != len(saved[i]) || (len(bufs[i]) > 0 && &bufs[i][0] != &saved[i][0]) {
			t.Fatalf("WriteAtv changed buffer %d", i)
		}
	}
	if n, err := vfs.WriteAtv(f, [][]byte{[]byte("zz")}, 6000); err != nil || n != 2 {
		t.Fatalf("WriteAtv past the end = %d, %v", n, err)
	}
	mustSync(t, f)
	want := "012abcdef" + strings.Repeat("g", 5000)
	want += strings.Repeat("\x00", 6000-len(want)) + "zz"
	wantContents(t, f, want)
}

func testCreateTruncates(t *testing.T, fs vfs.FS, dir string) {
	name := filepath.Join(dir, "a")
	f := create(t, fs, name)
	writeAt(t, f, []byte("old contents"), 0)
	mustClose(t, f)
	f = create(t, fs, name)
	defer mustClose(t, f)
	wantContents(t, f, "")
}

func testWriteAtHole(t *testing.T, fs vfs.FS, dir string) {
	f := create(t, fs, filepath.Join(dir, "a"))
	defer mustClose(t, f)
	writeAt(t, f, []byte("xy"), 10)
	wantContents(t, f, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00xy")
}

func testReadAtEOF(t *testing.T, fs vfs.FS, dir string) {
	f := create(t, fs, filepath.Join(dir, "a"))
	defer mustClose(t, f)
	writeAt(t, f, []byte("abc"), 0)
	buf := make([]byte, 5)
	n, err := f.ReadAt(buf, 1)
	if n != 2 || err != io.EOF || string(buf[:n]) != "bc" {
		t.Fatalf("ReadAt(5 bytes, off 1) = %d %q, %v; want 2 \"bc\", io.EOF", n, buf[:n], err)
	}
	if n, err := f.ReadAt(buf, 3); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at end = %d, %v; want 0, io.EOF", n, err)
	}
}

func testTruncate(t *testing.T, fs vfs.FS, dir string) {
	f := create(t, fs, filepath.Join(dir, "a"))
	defer mustClose(t, f)
	writeAt(t, f, []byte("abcdef"), 0)
	mustTruncate(t, f, 3)
	wantContents(t, f, "abc")
	mustTruncate(t, f, 5)
	wantContents(t, f, "abc\x00\x00")
	mustTruncate(t, f, 0)
	wantContents(t, f, "")
}

func testPreallocate(t *testing.T, fs vfs.FS, dir string) {
	f := create(t, fs, filepath.Join(dir, "a"))
	defer mustClose(t, f)
	writeAt(t, f, []byte("abc"), 0)
	err := f.Preallocate(64 << 10)
	if errors.Is(err, vfs.ErrUnsupported) {
		t.Skipf("Preallocate: %v", err)
	}
	if err != nil {
		t.Fatalf("Preallocate: %v", err)
	}
	want := append([]byte("abc"), make([]byte, 64<<10-3)...)
	wantContents(t, f, string(want))
	if err := f.Preallocate(10); err != nil {
		t.Fatalf("Preallocate(smaller): %v", err)
	}
	wantSize(t, f, 64<<10)
}

func testOpenReadWrite(t *testing.T, fs vfs.FS, dir string) {
	name := filepath.Join(dir, "a")
	mustClose(t, create(t, fs, name))
	f, err := fs.OpenReadWrite(name)
	if err != nil {
		t.Fatalf("OpenReadWrite: %v", err)
	}
	defer mustClose(t, f)
	writeAt(t, f, []byte("rw"), 0)
	mustSync(t, f)
	wantContents(t, f, "rw")
}

func testReadOnly(t *testing.T, fs vfs.FS, dir string) {
	name := filepath.Join(dir, "a")
	f := create(t, fs, name)
	writeAt(t, f, []byte("data"), 0)
	mustClose(t, f)
	f = open(t, fs, name)
	defer mustClose(t, f)
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Error("WriteAt on read-only handle succeeded")
	}
	if err := f.Truncate(1); err == nil {
		t.Error("Truncate on read-only handle succeeded")
	}
	wantContents(t, f, "data")
}

func testClosedFile(t *testing.T, fs vfs.FS, dir string) {
	f := create(t, fs, filepath.Join(dir, "a"))
	mustClose(t, f)
	checks := map[string]error{
		"Close":    f.Close(),
		"Sync":     f.Sync(),
		"Truncate": f.Truncate(0),
	}
	_, checks["ReadAt"] = f.ReadAt(make([]byte, 1), 0)
	_, checks["WriteAt"] = f.WriteAt([]byte("x"), 0)
	_, checks["Size"] = f.Size()
	for op, err := range checks {
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s on closed file = %v; want os.ErrClosed", op, err)
		}
	}
}

func testRename(t *testing.T, fs vfs.FS, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	f := create(t, fs, a)
	writeAt(t, f, []byte("A"), 0)
	if err := fs.Rename(a, b); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	writeAt(t, f, []byte("AA"), 0) // the handle follows the inode
	mustClose(t, f)
	wantFile(t, fs, b, "AA")
	wantNotExist(t, fs, a)
}

func testRenameReplaces(t *testing.T, fs vfs.FS, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, fs, a, "new")
	writeFile(t, fs, b, "old contents")
	if err := fs.Rename(a, b); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	wantFile(t, fs, b, "new")
	wantNotExist(t, fs, a)
	wantList(t, fs, dir, "b")
}

func testRemove(t *testing.T, fs vfs.FS, dir string) {
	a := filepath.Join(dir, "a")
	writeFile(t, fs, a, "x")
	if err := fs.Remove(a); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	wantNotExist(t, fs, a)
	if err := fs.Remove(a); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Remove(missing) = %v; want os.ErrNotExist", err)
	}
	sub := filepath.Join(dir, "sub")
	mkdirAll(t, fs, sub)
	writeFile(t, fs, filepath.Join(sub, "f"), "x")
	if err := fs.Remove(sub); err == nil {
		t.Fatal("Remove(non-empty dir) succeeded")
	}
	if err := fs.Remove(filepath.Join(sub, "f")); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if err := fs.Remove(sub); err != nil {
		t.Fatalf("Remove(empty dir): %v", err)
	}
	wantList(t, fs, dir)
}

func testRemoveOpenFile(t *testing.T, fs vfs.FS, dir string) {
	a := filepath.Join(dir, "a")
	f := create(t, fs, a)
	defer mustClose(t, f)
	writeAt(t, f, []byte("still here"), 0)
	if err := fs.Remove(a); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	wantNotExist(t, fs, a)
	writeAt(t, f, []byte("S"), 0)
	mustSync(t, f)
	wantContents(t, f, "Still here")
}

func testList(t *testing.T, fs vfs.FS, dir string) {
	for _, name := range []string{"c", "a", "b"} {
		writeFile(t, fs, filepath.Join(dir, name), name)
	}
	mkdirAll(t, fs, filepath.Join(dir, "d"))
	wantList(t, fs, dir, "a", "b", "c", "d")
	if _, err := fs.List(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("List(missing) = %v; want os.ErrNotExist", err)
	}
}

func testMkdirAllStat(t *testing.T, fs vfs.FS, dir string) {
	deep := filepath.Join(dir, "x", "y", "z")
	mkdirAll(t, fs, deep)
	mkdirAll(t, fs, deep) // idempotent
	fi, err := fs.Stat(deep)
	if err != nil || !fi.IsDir() || fi.Name() != "z" {
		t.Fatalf("Stat(dir) = %v, %v; want directory named z", fi, err)
	}
	name := filepath.Join(deep, "f")
	writeFile(t, fs, name, "12345")
	fi, err = fs.Stat(name)
	if err != nil || fi.IsDir() || fi.Name() != "f" || fi.Size() != 5 {
		t.Fatalf("Stat(file) = %v, %v; want 5-byte file named f", fi, err)
	}
	if err := fs.MkdirAll(filepath.Join(name, "sub"), 0o755); err == nil {
		t.Fatal("MkdirAll below a file succeeded")
	}
}

func testSyncDir(t *testing.T, fs vfs.FS, dir string) {
	writeFile(t, fs, filepath.Join(dir, "a"), "x")
	if err := fs.SyncDir(dir); err != nil {
		t.Fatalf("SyncDir: %v", err)
	}
	if err := fs.SyncDir(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("SyncDir(missing) = %v; want os.ErrNotExist", err)
	}
}

func testLock(t *testing.T, fs vfs.FS, dir string) {
	name := filepath.Join(dir, "LOCK")
	l, err := fs.Lock(name)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	wantList(t, fs, dir, "LOCK")
	if l2, err := fs.Lock(name); !errors.Is(err, vfs.ErrLocked) {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("second Lock = %v; want vfs.ErrLocked", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	l, err = fs.Lock(name)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	mustCloseCloser(t, l)
	wantList(t, fs, dir, "LOCK")
}

func testNotExist(t *testing.T, fs vfs.FS, dir string) {
	missing := filepath.Join(dir, "missing")
	wantNotExist(t, fs, missing)
	if _, err := fs.OpenReadWrite(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenReadWrite(missing) = %v; want os.ErrNotExist", err)
	}
	if _, err := fs.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat(missing) = %v; want os.ErrNotExist", err)
	}
	if _, err := fs.Create(filepath.Join(missing, "f")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Create in missing dir = %v; want os.ErrNotExist", err)
	}
	if err := fs.Rename(missing, filepath.Join(dir, "b")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Rename(missing) = %v; want os.ErrNotExist", err)
	}
}

// Helpers. Each fails the test on error.

func create(t *testing.T, fs vfs.FS, name string) vfs.File {
	t.Helper()
	f, err := fs.Create(name)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return f
}

func open(t *testing.T, fs vfs.FS, name string) vfs.File {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return f
}

func writeFile(t *testing.T, fs vfs.FS, name, data string) {
	t.Helper()
	f := create(t, fs, name)
	writeAt(t, f, []byte(data), 0)
	mustSync(t, f)
	mustClose(t, f)
}

func writeAt(t *testing.T, f vfs.File, p []byte, off int64) {
	t.Helper()
	if n, err := f.WriteAt(p, off); n != len(p) || err != nil {
		t.Fatalf("WriteAt(%d bytes, off %d) = %d, %v", len(p), off, n, err)
	}
}

func mustSync(t *testing.T, f vfs.File) {
	t.Helper()
	if err := f.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

func mustTruncate(t *testing.T, f vfs.File, size int64) {
	t.Helper()
	if err := f.Truncate(size); err != nil {
		t.Fatalf("Truncate(%d): %v", size, err)
	}
}

func mustClose(t *testing.T, f vfs.File) {
	t.Helper()
	mustCloseCloser(t, f)
}

func mustCloseCloser(t *testing.T, c io.Closer) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func mkdirAll(t *testing.T, fs vfs.FS, dir string) {
	t.Helper()
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("MkdirAll: %v", err)
	}
}

func wantSize(t *testing.T, f vfs.File, want int64) {
	t.Helper()
	if got, err := f.Size(); got != want || err != nil {
		t.Fatalf("Size() = %d, %v; want %d", got, err, want)
	}
}

// wantContents checks f's size and contents.
func wantContents(t *testing.T, f vfs.File, want string) {
	t.Helper()
	wantSize(t, f, int64(len(want)))
	buf := make([]byte, len(want)+1)
	n, err := f.ReadAt(buf, 0)
	if err != io.EOF || !bytes.Equal(buf[:n], []byte(want)) {
		t.Fatalf("contents = %q, %v; want %q, io.EOF", buf[:n], err, want)
	}
}

func wantFile(t *testing.T, fs vfs.FS, name, want string) {
	t.Helper()
	f := open(t, fs, name)
	defer mustClose(t, f)
	wantContents(t, f, want)
}

func wantNotExist(t *testing.T, fs vfs.FS, name string) {
	t.Helper()
	if f, err := fs.Open(name); !errors.Is(err, os.ErrNotExist) {
		if f != nil {
			f.Close()
		}
		t.Fatalf("Open(%s) = %v; want os.ErrNotExist", name, err)
	}
}

func wantList(t *testing.T, fs vfs.FS, dir string, want ...string) {
	t.Helper()
	got, err := fs.List(dir)
	if err != nil || !slices.Equal(got, want) && len(got)+len(want) > 0 {
		t.Fatalf("List(%s) = %q, %v; want %q", dir, got, err, want)
	}
}

package wal

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTidwallSegment writes a tidwall segment file holding entries
// first, first+1, ... in format.
func writeTidwallSegment(t *testing.T, dir, suffix string, format LogFormat, first uint64, entries ...string) {
	t.Helper()
	var b []byte
	for i, e := range entries {
		if format == JSON {
			data := "+" + e
			if strings.HasPrefix(e, "\xff") { // not UTF-8: tidwall writes base64
				data = "$" + base64.URLEncoding.EncodeToString([]byte(e))
			}
			b = fmt.Appendf(b, `{"index":"%d","data":%q}`+"\n", first+uint64(i), data)
		} else {
			b = binary.AppendUvarint(b, uint64(len(e)))
			b = append(b, e...)
		}
	}
	name := filepath.Join(dir, fmt.Sprintf("%020d", first)+suffix)
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func checkLog(t *testing.T, l *Log, first, last uint64, entry func(uint64) string) {
	t.Helper()
	f, _ := l.FirstIndex()
	la, _ := l.LastIndex()
	if f != first || la != last {
		t.Fatalf("bounds %d..%d, want %d..%d", f, la, first, last)
	}
	for i := first; i <= last; i++ {
		got, err := l.Read(i)
		if err != nil || string(got) != entry(i) {
			t.Fatalf("Read(%d) = %q, %v; want %q", i, got, err, entry(i))
		}
	}
}

func entry(i uint64) string { return fmt.Sprintf("entry-%d", i) }

// TestOpenConvertsTidwallDirectory: segments in both formats, and the
// .START file an interrupted TruncateFront leaves, open with the entries
// tidwall would serve; the tidwall files are gone afterwards.
func TestOpenConvertsTidwallDirectory(t *testing.T) {
	for _, format := range []LogFormat{Binary, JSON} {
		t.Run(fmt.Sprint(format), func(t *testing.T) {
			dir := t.TempDir()
			writeTidwallSegment(t, dir, "", format, 1, entry(1), entry(2), entry(3))
			writeTidwallSegment(t, dir, "", format, 4, entry(4), entry(5))
			writeTidwallSegment(t, dir, ".START", format, 5, entry(5))
			writeTidwallSegment(t, dir, "", format, 6, entry(6), entry(7), "\xff\x00binary")
			l, err := Open(dir, &Options{LogFormat: format})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			checkLog(t, l, 5, 8, func(i uint64) string {
				if i == 8 {
					return "\xff\x00binary"
				}
				return entry(i)
			})
			names, _ := os.ReadDir(dir)
			for _, n := range names {
				if _, ok := tidwallFile(n.Name()); ok || strings.HasPrefix(n.Name(), "tidwall-migrate") {
					t.Errorf("left behind: %s", n.Name())
				}
			}
			if err := l.Write(9, []byte(entry(9))); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOpenTidwallEndFile: the .END file of an interrupted TruncateBack
// replaces the segment it shares its first index with, and later segments
// are dropped.
func TestOpenTidwallEndFile(t *testing.T) {
	dir := t.TempDir()
	writeTidwallSegment(t, dir, "", Binary, 1, entry(1), entry(2))
	writeTidwallSegment(t, dir, "", Binary, 3, entry(3), entry(4))
	writeTidwallSegment(t, dir, ".END", Binary, 3, entry(3))
	writeTidwallSegment(t, dir, "", Binary, 5, entry(5))
	l, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	checkLog(t, l, 1, 3, entry)
}

// TestOpenCorruptTidwallSegment: a damaged tidwall segment is ErrCorrupt
// and leaves the directory untouched.
func TestOpenCorruptTidwallSegment(t *testing.T) {
	dir := t.TempDir()
	writeTidwallSegment(t, dir, "", Binary, 1, entry(1))
	f, _ := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%020d", 1)), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{20, 'x'}) // a length of 20, one byte of data
	f.Close()
	if _, err := Open(dir, nil); err != ErrCorrupt {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
	if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%020d", 1))); err != nil {
		t.Fatal("the tidwall segment was removed:", err)
	}
}

// TestMigrationResumesAfterCrash: an Open after a crash at each point of
// the conversion finds the right log. The states are the ones the steps
// leave: a partial build directory (the tidwall files intact), and a
// committed one with the tidwall files partly deleted and the new files
// partly moved.
func TestMigrationResumesAfterCrash(t *testing.T) {
	const n = 50
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		for first := uint64(1); first <= n; first += 10 {
			var es []string
			for i := first; i < first+10; i++ {
				es = append(es, entry(i))
			}
			writeTidwallSegment(t, dir, "", Binary, first, es...)
		}
		return dir
	}
	t.Run("partial-build", func(t *testing.T) {
		dir := setup(t)
		os.MkdirAll(filepath.Join(dir, buildDir), 0o755)
		os.WriteFile(filepath.Join(dir, buildDir, "0000000000000001-00000000000000000001.wal"), []byte("torn"), 0o644)
		l, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		checkLog(t, l, 1, n, entry)
	})
	t.Run("committed", func(t *testing.T) {
		for moved := 0; moved < 3; moved++ {
			dir := setup(t)
			src, err := loadTidwall(dir, listNames(t, dir), Binary)
			if err != nil {
				t.Fatal(err)
			}
			o := withDefaults(nil)
			m := &migration{fs: o.rootOptions().FS, dir: dir, opts: &o}
			if err := m.build(src); err != nil {
				t.Fatal(err)
			}
			os.Rename(filepath.Join(dir, buildDir), filepath.Join(dir, doneDir))
			// The crash: two tidwall files deleted, `moved` files moved.
			os.Remove(filepath.Join(dir, fmt.Sprintf("%020d", 1)))
			os.Remove(filepath.Join(dir, fmt.Sprintf("%020d", 21)))
			for _, name := range listNames(t, filepath.Join(dir, doneDir))[:moved] {
				if name != lockName {
					os.Rename(filepath.Join(dir, doneDir, name), filepath.Join(dir, name))
				}
			}
			l, err := Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkLog(t, l, 1, n, entry)
			l.Close()
		}
	})
}

func listNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestMigrate: the explicit conversion reports the entries it converted,
// and does nothing to a directory without tidwall files.
func TestMigrate(t *testing.T) {
	dir := t.TempDir()
	writeTidwallSegment(t, dir, "", JSON, 7, entry(7), entry(8))
	n, err := Migrate(dir, JSON)
	if err != nil || n != 2 {
		t.Fatalf("Migrate = %d, %v; want 2", n, err)
	}
	if n, err := Migrate(dir, JSON); err != nil || n != 0 {
		t.Fatalf("second Migrate = %d, %v; want 0", n, err)
	}
	l, err := Open(dir, &Options{AllowEmpty: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	checkLog(t, l, 7, 8, entry)
	if _, err := Migrate(dir, JSON); err == nil {
		t.Fatal("Migrate of an open log succeeded")
	}
}

// TestPermissions: files and directories are created with the configured
// modes.
func TestPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "log")
	l, err := Open(dir, &Options{FilePerms: 0o600, DirPerms: 0o700})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(1, []byte("x")); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, %v; want 0700", d, fi.Mode().Perm(), err)
		}
	}
	files := 0
	for _, n := range listNames(t, dir) {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		files++
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", n, fi.Mode().Perm())
		}
	}
	if files < 2 {
		t.Fatalf("only %d files", files)
	}
}

// TestTidwallSemantics pins what differs from the root package: errors
// compare with ==, WriteBatch clears the batch, and AllowEmpty governs
// emptying truncations and FirstIndex of an empty log.
func TestTidwallSemantics(t *testing.T) {
	l, err := Open(t.TempDir(), &Options{NoSync: true, AllowEmpty: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if f, _ := l.FirstIndex(); f != 1 {
		t.Fatalf("FirstIndex of a new AllowEmpty log = %d, want 1", f)
	}
	var b Batch
	b.Write(1, []byte("a"))
	b.Write(2, []byte("b"))
	if err := l.WriteBatch(&b); err != nil {
		t.Fatal(err)
	}
	b.Write(3, []byte("c")) // a reused batch: WriteBatch cleared it
	if err := l.WriteBatch(&b); err != nil {
		t.Fatal(err)
	}
	if err := l.Write(9, nil); err != ErrOutOfOrder {
		t.Fatalf("Write(9) = %v, want ErrOutOfOrder", err)
	}
	if _, err := l.Read(4); err != ErrNotFound {
		t.Fatalf("Read(4) = %v, want ErrNotFound", err)
	}
	if err := l.TruncateBack(0); err != nil {
		t.Fatal(err)
	}
	checkLog(t, l, 1, 0, entry)
	if empty, _ := l.IsEmpty(); !empty {
		t.Fatal("not empty")
	}
	if err := l.Write(1, []byte("again")); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateFront(2); err != nil {
		t.Fatal(err)
	}
	checkLog(t, l, 2, 1, entry)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != ErrClosed {
		t.Fatalf("second Close = %v, want ErrClosed", err)
	}
	if err := l.ClearCache(); err != ErrClosed {
		t.Fatalf("ClearCache = %v, want ErrClosed", err)
	}
}

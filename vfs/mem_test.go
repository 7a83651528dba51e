package vfs_test

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"

	"github.com/waldb/wal/vfs"
)

func TestMemPathsShareOneNamespace(t *testing.T) {
	fs := vfs.NewMem()
	s := memScript{t: t, fs: fs}
	s.check(fs.MkdirAll("a/b", 0o755))
	s.file("/a/b/../b/f", "x", true, true)
	if got := readAll(t, fs, "a/b/f"); got != "x" {
		t.Errorf("a/b/f = %q; want %q", got, "x")
	}
	if _, err := fs.Open("../f"); !errors.Is(err, os.ErrInvalid) {
		t.Errorf("Open(../f) = %v; want os.ErrInvalid", err)
	}
}

func TestMemLockIsPerName(t *testing.T) {
	fs := vfs.NewMem()
	l, err := fs.Lock("/LOCK")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Lock("LOCK"); !errors.Is(err, vfs.ErrLocked) {
		t.Fatalf("Lock(LOCK) = %v; want ErrLocked", err)
	}
	if _, err := fs.CrashClone(vfs.CrashOptions{}).Lock("/LOCK"); err != nil {
		t.Fatalf("lock held in crash clone: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("second unlock = %v; want os.ErrClosed", err)
	}
}

func TestMemErrors(t *testing.T) {
	fs := vfs.NewMem()
	s := memScript{t: t, fs: fs}
	s.check(fs.MkdirAll("/d", 0o755))
	s.file("/f", "x", true, true)
	f := s.create("/g")
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"Rename dir", fs.Rename("/d", "/e"), vfs.ErrUnsupported},
		{"Rename onto dir", fs.Rename("/f", "/d"), syscall.EISDIR},
		{"Create dir", errOf(fs.Create("/d")), syscall.EISDIR},
		{"Open dir", errOf(fs.Open("/d")), syscall.EISDIR},
		{"List file", errOf(fs.List("/f")), syscall.ENOTDIR},
		{"Create below file", errOf(fs.Create("/f/x")), syscall.ENOTDIR},
		{"Remove root", fs.Remove("/"), os.ErrInvalid},
		{"negative WriteAt", errOf(f.WriteAt([]byte("x"), -1)), nil},
		{"negative Truncate", f.Truncate(-1), nil},
	}
	for _, tt := range tests {
		if tt.err == nil || tt.want != nil && !errors.Is(tt.err, tt.want) {
			t.Errorf("%s = %v; want %v", tt.name, tt.err, tt.want)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

// TestMemCloneIsIndependent checks that a clone and its origin share nothing.
func TestMemCloneIsIndependent(t *testing.T) {
	fs := vfs.NewMem()
	s := memScript{t: t, fs: fs}
	s.file("/a", "abc", true, true)
	clone := fs.CrashClone(vfs.CrashOptions{})
	c := memScript{t: t, fs: clone}
	f, err := clone.OpenReadWrite("/a")
	c.check(err)
	c.write(f, "X", 0)
	c.check(f.Sync())
	if got := readAll(t, fs, "/a"); got != "abc" {
		t.Errorf("original /a = %q after writing the clone", got)
	}
	// The clone's contents are its synced state.
	if got := readAll(t, clone.CrashClone(vfs.CrashOptions{}), "/a"); got != "Xbc" {
		t.Errorf("clone of clone /a = %q; want %q", got, "Xbc")
	}
}

// TestMemConcurrent exercises MemFS from many goroutines under -race.
func TestMemConcurrent(t *testing.T) {
	fs := vfs.NewMem()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("/f%d", g)
			f, err := fs.Create(name)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			for i := range 100 {
				f.WriteAt([]byte("0123456789"), int64(i*10))
				f.Sync()
				fs.SyncDir("/")
				fs.List("/")
				fs.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: 0.5})
			}
		})
	}
	wg.Wait()
}

func TestMemString(t *testing.T) {
	fs := vfs.NewMem()
	s := memScript{t: t, fs: fs}
	s.check(fs.MkdirAll("/d", 0o755))
	s.file("/d/a", "abc", true, false)
	s.write(s.create("/d/b"), "xy", 0)
	want := "/ (0 unsynced ops)\n/d/ (2 unsynced ops)\n/d/a (live 3, synced 3)\n/d/b (live 2, synced 0)\n"
	if got := fs.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
}

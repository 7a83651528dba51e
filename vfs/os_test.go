package vfs_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/waldb/wal/vfs"
)

// TestOSLockSameProcess checks that flock locks exclude a second Lock in the
// same process (they belong to open file descriptions, not processes).
func TestOSLockSameProcess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Lock is Unix-only")
	}
	name := filepath.Join(t.TempDir(), "LOCK")
	l, err := vfs.Default.Lock(name)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	_, err = vfs.Default.Lock(name)
	if !errors.Is(err, vfs.ErrLocked) || !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("second Lock = %v; want ErrLocked wrapping EWOULDBLOCK", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	l, err = vfs.Default.Lock(name)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	l.Close()
}

func TestOSMmap(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Mmap is Unix-only")
	}
	f, err := vfs.Default.Create(filepath.Join(t.TempDir(), "m"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, ok := f.(vfs.Mmapper)
	if !ok {
		t.Fatal("OS file does not implement Mmapper")
	}
	data, unmap, err := m.Mmap(0)
	if err != nil || len(data) != 0 || unmap() != nil {
		t.Fatalf("Mmap(0) = %d bytes, %v", len(data), err)
	}
	if _, err := f.WriteAt([]byte("mapped bytes"), 0); err != nil {
		t.Fatal(err)
	}
	data, unmap, err = m.Mmap(12)
	if err != nil {
		t.Fatalf("Mmap: %v", err)
	}
	if string(data) != "mapped bytes" {
		t.Errorf("mapping = %q", data)
	}
	if _, err := f.WriteAt([]byte("M"), 0); err != nil {
		t.Fatal(err)
	}
	if data[0] != 'M' {
		t.Errorf("shared mapping does not see a later write: %q", data)
	}
	if err := unmap(); err != nil {
		t.Fatalf("unmap: %v", err)
	}
}

// TestOSErrorsKeepErrno checks that OS errors stay inspectable.
func TestOSErrorsKeepErrno(t *testing.T) {
	dir := t.TempDir()
	_, err := vfs.Default.Open(filepath.Join(dir, "missing"))
	var pe *os.PathError
	if !errors.As(err, &pe) || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("Open(missing) = %#v; want *os.PathError wrapping ENOENT", err)
	}
	f, err := vfs.Default.Create(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := f.Sync(); !errors.Is(err, os.ErrClosed) || !errors.As(err, &pe) {
		t.Errorf("Sync after Close = %v; want *os.PathError wrapping os.ErrClosed", err)
	}
	if err := f.Preallocate(1); err == nil {
		t.Error("Preallocate after Close succeeded")
	}
}

func TestOSPreallocateKeepsData(t *testing.T) {
	f, err := vfs.Default.Create(filepath.Join(t.TempDir(), "p"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("abc"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Preallocate(0); err != nil {
		t.Fatalf("Preallocate(0): %v", err)
	}
	err = f.Preallocate(1 << 20)
	if errors.Is(err, vfs.ErrUnsupported) {
		t.Skipf("Preallocate: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if size, _ := f.Size(); size != 1<<20 {
		t.Errorf("Size() = %d; want %d", size, 1<<20)
	}
	buf := make([]byte, 4)
	if _, err := f.ReadAt(buf, 0); err != nil || string(buf) != "abc\x00" {
		t.Errorf("ReadAt = %q, %v", buf, err)
	}
}

// TestOSPrefetch: on Linux OS files take the WILLNEED hint; it changes
// nothing a read sees, and is harmless past the end and after Close.
func TestOSPrefetch(t *testing.T) {
	want := []byte("header......................trailer")
	f := linuxFileWith(t, want)
	p, ok := f.(vfs.Prefetcher)
	if !ok {
		t.Fatal("OS files do not implement Prefetcher")
	}
	p.Prefetch(0, 6)
	p.Prefetch(int64(len(want))-7, 7)
	p.Prefetch(1<<20, 4096) // past the end
	got := make([]byte, len(want))
	if _, err := f.ReadAt(got, 0); err != nil || string(got) != string(want) {
		t.Fatalf("ReadAt after Prefetch = %q, %v", got, err)
	}
	f.Close()
	p.Prefetch(0, 6) // closed: ignored
}

// TestOSStartWriteback: OS files on Linux take the write-back hint for
// any range, past the end and after Close included, and it changes no
// data (its effect, less for a later fsync to write, is measured by the
// bench module's W4-4K, not here).
func TestOSStartWriteback(t *testing.T) {
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<12)
	f := linuxFileWith(t, want)
	w, ok := f.(vfs.WritebackStarter)
	if !ok {
		t.Fatal("OS files do not implement WritebackStarter")
	}
	w.StartWriteback(0, int64(len(want)))
	w.StartWriteback(1<<30, 4096) // past the end
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadAt after StartWriteback: %v (equal %v)", err, bytes.Equal(got, want))
	}
	f.Close()
	w.StartWriteback(0, 16) // closed: ignored
}

// linuxFileWith creates an OS file holding data, for tests of the
// Linux-only hints (skipped elsewhere).
func linuxFileWith(t *testing.T, data []byte) vfs.File {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("a Linux-only hint")
	}
	f, err := vfs.Default.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		t.Fatal(err)
	}
	return f
}

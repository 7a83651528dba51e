package vfs_test

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// crashOptionSets are the crash models every image is taken under: the
// POSIX model at its two extremes and a random middle, and the hostile
// disk (torn, garbled sectors; lost never-synced files).
func crashOptionSets(seed uint64) []vfs.CrashOptions {
	return []vfs.CrashOptions{
		{},
		{KeepUnsyncedBlocks: 1, KeepUnsyncedDirOps: 1},
		{KeepUnsyncedBlocks: 0.5, KeepUnsyncedDirOps: 0.5, Rand: rand.New(rand.NewPCG(seed, 1))},
		{KeepUnsyncedBlocks: 0.5, KeepUnsyncedDirOps: 0.5, TearPages: 0.5, GarbleUnsynced: 0.5,
			LoseNeverSynced: true, Rand: rand.New(rand.NewPCG(seed, 2))},
	}
}

// TestWriteFileAtomicCrashImages takes crash images before every operation
// WriteFileAtomic performs (and after it returns) and checks each: the file
// holds exactly the old content or exactly the new one, never a mix, and
// once WriteFileAtomic has returned nil, only the new one.
func TestWriteFileAtomicCrashImages(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new []byte
	}{
		{"create", nil, pattern(9000, 1)},
		{"replace", pattern(5000, 2), pattern(9000, 3)},
		{"shrink", pattern(9000, 4), []byte("x")},
		{"empty", pattern(100, 5), []byte{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			if err := mem.MkdirAll("/d", 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.old != nil {
				if err := vfs.WriteFileAtomic(mem, "/d", "F", tc.old); err != nil {
					t.Fatal(err)
				}
			}
			var images []*vfs.MemFS
			var ops []string
			snap := func(label string) {
				for _, o := range crashOptionSets(uint64(len(ops))) {
					images = append(images, mem.CrashClone(o))
					ops = append(ops, label)
				}
			}
			fs := errorfs.Wrap(mem, errorfs.InjectorFunc(func(op errorfs.Op, path string) error {
				snap("before " + op.String() + " " + path)
				return nil
			}))
			if err := vfs.WriteFileAtomic(fs, "/d", "F", tc.new); err != nil {
				t.Fatal(err)
			}
			done := len(images)
			snap("after return")
			if len(images) < 5*4 {
				t.Fatalf("only %d images: the helper did fewer operations than create, write, sync, close, rename, syncdir", len(images)/4)
			}
			sawOld, sawNew := false, false
			for i, img := range images {
				got, err := readFile(img, "/d/F")
				switch {
				case err != nil && errors.Is(err, os.ErrNotExist) && tc.old == nil && i < done:
					sawOld = true
				case err != nil:
					t.Fatalf("image %d (%s): %v", i, ops[i], err)
				case tc.old != nil && slices.Equal(got, tc.old) && i < done:
					sawOld = true
				case slices.Equal(got, tc.new):
					sawNew = true
				default:
					t.Fatalf("image %d (%s): F holds %d bytes, neither the old (%d) nor the new (%d) content", i, ops[i], len(got), len(tc.old), len(tc.new))
				}
				if i >= done {
					if names, _ := img.List("/d"); slices.Contains(names, "F"+vfs.TempSuffix) {
						t.Errorf("image after return holds the temporary file: %v", names)
					}
				}
			}
			if !sawOld || !sawNew {
				t.Errorf("images saw old=%v new=%v; want both (the test would not tell a non-atomic write)", sawOld, sawNew)
			}
		})
	}
}

// TestWriteFileAtomicFaults fails each operation of WriteFileAtomic in
// turn: an error before the rename leaves F untouched, no temporary file
// and no ErrOutcomeUnknown; an error at the rename or directory fsync wraps
// ErrOutcomeUnknown; every error names the path.
func TestWriteFileAtomicFaults(t *testing.T) {
	old, new := pattern(3000, 7), pattern(7000, 8)
	for i := int64(0); ; i++ {
		mem := vfs.NewMem()
		if err := mem.MkdirAll("/d", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := vfs.WriteFileAtomic(mem, "/d", "F", old); err != nil {
			t.Fatal(err)
		}
		var failed errorfs.Op
		fired := false
		inj := errorfs.OnIndex(i, syscall.EIO)
		fs := errorfs.Wrap(mem, errorfs.InjectorFunc(func(op errorfs.Op, path string) error {
			err := inj.MaybeError(op, path)
			if err != nil {
				failed, fired = op, true
			}
			return err
		}))
		err := vfs.WriteFileAtomic(fs, "/d", "F", new)
		if !fired {
			if err != nil {
				t.Fatalf("no fault injected, WriteFileAtomic: %v", err)
			}
			if i < 5 {
				t.Fatalf("only %d operations", i)
			}
			return
		}
		t.Run(fmt.Sprintf("fail_%d_%s", i, failed), func(t *testing.T) {
			if !errors.Is(err, syscall.EIO) {
				t.Fatalf("err = %v; want EIO", err)
			}
			if got := err.Error(); !strings.Contains(got, "/d/F") {
				t.Errorf("error %q does not name the path", got)
			}
			got, rerr := readFile(mem, "/d/F")
			if rerr != nil {
				t.Fatal(rerr)
			}
			late := failed == errorfs.OpRename || failed == errorfs.OpSyncDir
			if errors.Is(err, vfs.ErrOutcomeUnknown) != late {
				t.Errorf("failed %s: errors.Is(err, ErrOutcomeUnknown) = %v; want %v (%v)", failed, !late, late, err)
			}
			if !late {
				if !slices.Equal(got, old) {
					t.Errorf("failed %s before the rename, yet F changed", failed)
				}
				if names, _ := mem.List("/d"); slices.Contains(names, "F"+vfs.TempSuffix) && failed != errorfs.OpRemove {
					t.Errorf("temporary file left behind: %v", names)
				}
			}
		})
	}
}

// TestReplaceRenameTookEffect: a rename that takes effect and still
// reports an error must wrap ErrOutcomeUnknown (issue 13, defect 10).
func TestReplaceRenameTookEffect(t *testing.T) {
	mem := vfs.NewMem()
	if err := mem.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	fs := renameThenFail{mem}
	err := vfs.WriteFileAtomic(fs, "/d", "F", []byte("new"))
	if !errors.Is(err, vfs.ErrOutcomeUnknown) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("err = %v; want ErrOutcomeUnknown and EIO", err)
	}
	if got, _ := readFile(mem, "/d/F"); string(got) != "new" {
		t.Fatalf("F = %q; the rename should have taken effect", got)
	}
}

type renameThenFail struct{ *vfs.MemFS }

func (r renameThenFail) Rename(a, b string) error {
	if err := r.MemFS.Rename(a, b); err != nil {
		return err
	}
	return syscall.EIO
}

// TestWriteFileAtomicFuncWriteError: the writer's own error is returned
// and leaves nothing behind.
func TestWriteFileAtomicFuncWriteError(t *testing.T) {
	mem := vfs.NewMem()
	if err := mem.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := vfs.WriteFileAtomicFunc(mem, "/d", "F", func(w io.Writer) error {
		if _, err := w.Write([]byte("partial")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || errors.Is(err, vfs.ErrOutcomeUnknown) {
		t.Fatalf("err = %v; want boom without ErrOutcomeUnknown", err)
	}
	if names, _ := mem.List("/d"); len(names) != 0 {
		t.Fatalf("left %v", names)
	}
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

func readFile(fs vfs.FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := f.Size()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b, nil
}

// TestMkdirAllSynced checks that every directory MkdirAllSynced creates has
// its parent fsynced after it exists, outermost first, that an existing
// directory costs no fsync, and how faults are reported.
func TestMkdirAllSynced(t *testing.T) {
	mem := vfs.NewMem()
	if err := mem.MkdirAll("/a", 0o755); err != nil {
		t.Fatal(err)
	}
	var synced []string
	var mkdirs int
	rec := errorfs.Wrap(mem, errorfs.InjectorFunc(func(op errorfs.Op, path string) error {
		switch op {
		case errorfs.OpSyncDir:
			if mkdirs == 0 {
				t.Errorf("SyncDir(%s) before MkdirAll", path)
			}
			synced = append(synced, path)
		case errorfs.OpMkdir:
			mkdirs++
		}
		return nil
	}))
	if err := vfs.MkdirAllSynced(rec, "/a/b/c/d", 0o755); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/a", "/a/b", "/a/b/c"}; !slices.Equal(synced, want) {
		t.Errorf("synced %v; want %v (the parent of each new directory, outermost first)", synced, want)
	}
	if fi, err := mem.Stat("/a/b/c/d"); err != nil || !fi.IsDir() {
		t.Fatalf("Stat = %v, %v", fi, err)
	}
	synced, mkdirs = nil, 0
	if err := vfs.MkdirAllSynced(rec, "/a/b", 0o755); err != nil || len(synced) != 0 || mkdirs != 0 {
		t.Errorf("existing directory: err %v, synced %v, mkdirs %d; want nothing done", err, synced, mkdirs)
	}

	fs := errorfs.Wrap(mem, errorfs.OnIndex(1, syscall.EIO, errorfs.OpSyncDir))
	err := vfs.MkdirAllSynced(fs, "/x/y", 0o755)
	if !errors.Is(err, syscall.EIO) || !errors.Is(err, vfs.ErrOutcomeUnknown) || !strings.Contains(err.Error(), "/x/y") {
		t.Errorf("failed SyncDir: err = %v; want EIO, ErrOutcomeUnknown and the path", err)
	}
	fs = errorfs.Wrap(mem, errorfs.OnIndex(0, syscall.ENOSPC, errorfs.OpMkdir))
	err = vfs.MkdirAllSynced(fs, "/p/q", 0o755)
	if !errors.Is(err, syscall.ENOSPC) || errors.Is(err, vfs.ErrOutcomeUnknown) || !strings.Contains(err.Error(), "/p/q") {
		t.Errorf("failed MkdirAll: err = %v; want ENOSPC with the path, not ErrOutcomeUnknown", err)
	}
}

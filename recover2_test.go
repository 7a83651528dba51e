package wal

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// tornImage returns a crashed log image whose tail ends in a torn batch and
// a stray temporary file, so recovery has work to do.
func tornImage(t *testing.T) (*vfs.MemFS, Options) {
	t.Helper()
	o := Options{SegmentSize: 2 << 10}
	img := crashedLog(t, 80, 4, o)
	segs := memSegments(t, img)
	tailPath := segs[len(segs)-1]
	full := readFile(t, img, tailPath)
	ends, _ := recordEnds(t, full)
	writeFile(t, img, tailPath, full[:ends[len(ends)-1]-30])
	writeFile(t, img, memDir+"/prepare-77.tmp", []byte("x"))
	return img, o
}

// TestRecoveryIdempotent: a second Open after recovery (without Close in
// between, as after another crash) finds nothing to repair and the same
// entries.
func TestRecoveryIdempotent(t *testing.T) {
	img, o := tornImage(t)
	o.FS = img
	l := mustOpen(t, memDir, &o)
	rep1 := l.Recovery()
	if rep1.State != RecoveryTornTail || len(rep1.Dropped) == 0 || len(rep1.Removed) == 0 {
		t.Fatalf("first recovery did no repair: %v", rep1)
	}
	again := img.CrashClone(vfs.CrashOptions{})
	l.Close()
	o.FS = again
	l2 := mustOpen(t, memDir, &o)
	defer mustClose(t, l2)
	rep2 := l2.Recovery()
	if len(rep2.Dropped) != 0 || len(rep2.Removed) != 0 || rep2.LastIndex != rep1.LastIndex || rep2.FirstIndex != rep1.FirstIndex {
		t.Fatalf("second recovery changed something: first %v; second %v", rep1, rep2)
	}
}

// TestOpenDoesNotSyncPreparedFile: the next segment, prepared in the
// background once Open has a tail, must not be made durable by a
// directory fsync of Open itself; otherwise a crash right after Open
// leaves a temporary file for the next recovery (this test forces the
// interleaving that made TestRecoveryIdempotent fail now and then).
func TestOpenDoesNotSyncPreparedFile(t *testing.T) {
	img, o := tornImage(t)
	created := make(chan struct{})
	var once sync.Once
	o.FS = errorfs.Wrap(img, errorfs.InjectorFunc(func(op errorfs.Op, path string) error {
		switch {
		case op == errorfs.OpCreate && strings.HasPrefix(filepath.Base(path), "prepare-"):
			once.Do(func() { close(created) })
		case op == errorfs.OpSyncDir:
			// Let a background preparation that has started create its
			// file before the directory is synced.
			select {
			case <-created:
			case <-time.After(200 * time.Millisecond):
			}
		}
		return nil
	}))
	l := mustOpen(t, memDir, &o)
	<-created // the preparation ran
	again := img.CrashClone(vfs.CrashOptions{})
	mustClose(t, l)
	o.FS = again
	l2 := mustOpen(t, memDir, &o)
	defer mustClose(t, l2)
	if rep := l2.Recovery(); len(rep.Removed) != 0 {
		t.Fatalf("a crash right after Open left files to remove: %v", rep.Removed)
	}
}

// TestCrashDuringRecovery fails the Nth filesystem operation of Open for
// every N, then simulates a power loss: a later Open must recover the same
// entries as an undisturbed one.
func TestCrashDuringRecovery(t *testing.T) {
	img, o := tornImage(t)
	ref := img.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: 1, KeepUnsyncedDirOps: 1})
	o.FS = ref
	l := mustOpen(t, memDir, &o)
	wantF, wantL := bounds(t, l)
	l.Close()

	counter := errorfs.NewCounter()
	c := img.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: 1, KeepUnsyncedDirOps: 1})
	o.FS = errorfs.Wrap(c, counter)
	l = mustOpen(t, memDir, &o)
	ops := counter.Count()
	t.Logf("Open performs %d filesystem operations", ops)
	l.Close()
	for n := int64(0); n < ops; n++ {
		for _, keep := range []float64{0, 0.5} {
			fs := img.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: 1, KeepUnsyncedDirOps: 1})
			o.FS = errorfs.Wrap(fs, errorfs.FromIndex(n, errInjected))
			if l, err := Open(memDir, &o); err == nil {
				l.Close()
			}
			o.FS = fs.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: keep, KeepUnsyncedDirOps: keep, Rand: newRand(uint64(n))})
			l, err := Open(memDir, &o)
			if err != nil {
				t.Fatalf("op %d of %d failed, keep %v: reopen: %v", n, ops, keep, err)
			}
			if f, la := bounds(t, l); f != wantF || la != wantL {
				t.Fatalf("op %d failed, keep %v: bounds [%d,%d], want [%d,%d]", n, keep, f, la, wantF, wantL)
			}
			checkRange(t, l, 1, wantL)
			l.Close()
		}
	}
}

// TestIntervalPolicySyncs: under SyncInterval, entries become durable
// within the interval without any Sync call.
func TestIntervalPolicySyncs(t *testing.T) {
	fs := vfs.NewMem()
	o := &Options{FS: fs, SyncPolicy: SyncInterval, SyncInterval: 20 * time.Millisecond, SegmentSize: 64 << 10}
	l := mustOpen(t, memDir, o)
	defer l.Close()
	fill(t, l, 30, 0)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := fs.CrashClone(vfs.CrashOptions{})
		cl := mustOpen(t, memDir, &Options{FS: c, SegmentSize: 64 << 10})
		_, last := bounds(t, cl)
		cl.Close()
		if last == 30 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5s under a 20ms interval only %d of 30 entries are durable", last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLockAcrossProcesses: a second process cannot open a locked
// directory, and the lock is free once the holder exits.
func TestLockAcrossProcesses(t *testing.T) {
	if dir := os.Getenv("WAL_TEST_LOCK_CHILD"); dir != "" {
		_, err := Open(dir, nil)
		fmt.Print(err)
		os.Exit(0)
	}
	dir := t.TempDir()
	l := mustOpen(t, dir, nil)
	child := func() string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockAcrossProcesses$")
		cmd.Env = append(os.Environ(), "WAL_TEST_LOCK_CHILD="+dir)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		return string(out)
	}
	if out := child(); out != fmt.Sprintf("%v: %s", ErrLocked, dir) {
		t.Fatalf("child Open of a locked directory printed %q", out)
	}
	mustClose(t, l)
	if out := child(); out != "<nil>" {
		t.Fatalf("child Open after Close printed %q", out)
	}
}

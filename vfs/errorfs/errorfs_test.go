package errorfs_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
	"github.com/waldb/wal/vfs/vfstest"
)

func TestConformance(t *testing.T) {
	for name, inj := range map[string]errorfs.Injector{"nil": nil, "counter": errorfs.NewCounter()} {
		t.Run(name, func(t *testing.T) {
			vfstest.Run(t, func(t *testing.T) (vfs.FS, string) {
				return errorfs.Wrap(vfs.NewMem(), inj), "/"
			})
		})
	}
	t.Run("os", func(t *testing.T) {
		vfstest.Run(t, func(t *testing.T) (vfs.FS, string) {
			return errorfs.Wrap(vfs.Default, errorfs.NewCounter()), t.TempDir()
		})
	})
}

// workload creates a file, writes three records with a Sync each, and
// publishes it with SyncDir. It returns the first error.
func workload(fs vfs.FS) error {
	f, err := fs.Create("/log")
	if err != nil {
		return err
	}
	for i := range 3 {
		if _, err := f.WriteAt([]byte("rec"), int64(3*i)); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return fs.SyncDir("/")
}

func TestOnIndex(t *testing.T) {
	mem := vfs.NewMem()
	inj := errorfs.OnIndex(1, syscall.EIO, errorfs.OpWrite)
	err := workload(errorfs.Wrap(mem, inj))
	var pe *os.PathError
	if !errors.Is(err, syscall.EIO) || !errors.As(err, &pe) || pe.Op != "write" || pe.Path != "/log" {
		t.Fatalf("workload = %#v; want *os.PathError{write /log EIO}", err)
	}
	if !inj.Fired() || inj.Count() != 2 {
		t.Errorf("Fired() = %v, Count() = %d; want true, 2", inj.Fired(), inj.Count())
	}
	// The failed write wrote nothing.
	if fi, err := mem.Stat("/log"); err != nil || fi.Size() != 3 {
		t.Errorf("Stat = %v, %v; want size 3", fi, err)
	}
	// OnIndex fails once: the next run succeeds.
	if err := workload(errorfs.Wrap(mem, inj)); err != nil {
		t.Errorf("second workload = %v", err)
	}
}

func TestFromIndex(t *testing.T) {
	inj := errorfs.FromIndex(1, syscall.ENOSPC, errorfs.OpSync, errorfs.OpSyncDir)
	fs := errorfs.Wrap(vfs.NewMem(), inj)
	if err := workload(fs); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("workload = %v; want ENOSPC", err)
	}
	for range 3 {
		if err := fs.SyncDir("/"); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("SyncDir = %v; want ENOSPC", err)
		}
	}
}

// TestCounterThenEveryIndex shows the intended loop: count the operations of
// a workload, then fail each one in turn.
func TestCounterThenEveryIndex(t *testing.T) {
	counter := errorfs.NewCounter()
	if err := workload(errorfs.Wrap(vfs.NewMem(), counter)); err != nil {
		t.Fatal(err)
	}
	// Create, 3 x (write, sync), close, syncdir.
	if counter.Count() != 9 {
		t.Fatalf("Count() = %d; want 9", counter.Count())
	}
	for i := range counter.Count() {
		inj := errorfs.OnIndex(i, syscall.EIO)
		if err := workload(errorfs.Wrap(vfs.NewMem(), inj)); !errors.Is(err, syscall.EIO) {
			t.Errorf("op %d: workload = %v; want EIO", i, err)
		}
	}
}

func TestCloseAlwaysClosesInner(t *testing.T) {
	fs := errorfs.Wrap(vfs.NewMem(), errorfs.OnIndex(0, syscall.EIO, errorfs.OpClose))
	f, err := fs.Create("/a")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Close = %v; want EIO", err)
	}
	if err := f.Close(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("second Close = %v; want os.ErrClosed from the inner file", err)
	}
}

func TestRenameErrorIsLinkError(t *testing.T) {
	fs := errorfs.Wrap(vfs.NewMem(), errorfs.OnIndex(0, syscall.EIO, errorfs.OpRename))
	err := fs.Rename("/a", "/b")
	var le *os.LinkError
	if !errors.As(err, &le) || le.Old != "/a" || le.New != "/b" || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Rename = %#v; want *os.LinkError wrapping EIO", err)
	}
}

func TestMmapperPreserved(t *testing.T) {
	inj := errorfs.OnIndex(1, syscall.EIO, errorfs.OpMmap)
	fs := errorfs.Wrap(vfs.Default, inj)
	f, err := fs.Create(filepath.Join(t.TempDir(), "m"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, ok := f.(vfs.Mmapper)
	if !ok {
		t.Fatal("wrapped OS file does not implement vfs.Mmapper")
	}
	if _, unmap, err := m.Mmap(0); err != nil {
		t.Fatalf("Mmap: %v", err)
	} else {
		unmap()
	}
	if _, _, err := m.Mmap(0); !errors.Is(err, syscall.EIO) {
		t.Fatalf("second Mmap = %v; want EIO", err)
	}
	mf, err := errorfs.Wrap(vfs.NewMem(), nil).Create("/x")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := mf.(vfs.Mmapper); ok {
		t.Error("wrapped MemFS file claims vfs.Mmapper")
	}
}

func TestOpSet(t *testing.T) {
	tests := []struct {
		set  errorfs.OpSet
		op   errorfs.Op
		want bool
	}{
		{errorfs.Ops(), errorfs.OpClose, true},
		{errorfs.Ops(errorfs.OpSync), errorfs.OpSync, true},
		{errorfs.Ops(errorfs.OpSync), errorfs.OpSyncDir, false},
		{errorfs.Ops(errorfs.OpCreate, errorfs.OpMmap), errorfs.OpMmap, true},
	}
	for _, tt := range tests {
		if got := tt.set.Matches(tt.op); got != tt.want {
			t.Errorf("%b.Matches(%v) = %v; want %v", tt.set, tt.op, got, tt.want)
		}
	}
	if s := errorfs.OpPreallocate.String(); s != "preallocate" {
		t.Errorf("OpPreallocate.String() = %q", s)
	}
}

// TestConcurrentInjectors checks under -race that counting is atomic.
func TestConcurrentInjectors(t *testing.T) {
	counter := errorfs.NewCounter(errorfs.OpStat)
	inj := errorfs.FromIndex(50, syscall.EIO)
	fs := errorfs.Wrap(errorfs.Wrap(vfs.NewMem(), inj), counter)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for range 10 {
		wg.Go(func() {
			for range 10 {
				if _, err := fs.Stat("/"); err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if counter.Count() != 100 || inj.Count() != 100 || failed != 50 {
		t.Errorf("counted %d and %d, failed %d; want 100, 100, 50", counter.Count(), inj.Count(), failed)
	}
}

// TestWriteAtvIsOneWrite: a vectored write is one OpWrite; when it is
// failed, none of its buffers is written.
func TestWriteAtvIsOneWrite(t *testing.T) {
	mem := vfs.NewMem()
	inj := errorfs.OnIndex(0, syscall.EIO, errorfs.OpWrite)
	fs := errorfs.Wrap(mem, inj)
	f, err := fs.Create("/v")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bufs := [][]byte{[]byte("head"), []byte("payload")}
	if n, err := vfs.WriteAtv(f, bufs, 0); n != 0 || !errors.Is(err, syscall.EIO) {
		t.Fatalf("failed WriteAtv = %d, %v; want 0, EIO", n, err)
	}
	if fi, err := mem.Stat("/v"); err != nil || fi.Size() != 0 {
		t.Fatalf("after a failed WriteAtv: %v, %v; want size 0", fi, err)
	}
	if n, err := vfs.WriteAtv(f, bufs, 0); n != 11 || err != nil {
		t.Fatalf("WriteAtv = %d, %v", n, err)
	}
	if inj.Count() != 2 {
		t.Errorf("two vectored writes counted as %d OpWrite", inj.Count())
	}
}

package wal

import (
	"sync"
	"testing"

	"github.com/waldb/wal/vfs"
)

// wbFS wraps a filesystem so that its files record StartWriteback calls.
type wbFS struct {
	vfs.FS
	mu    sync.Mutex
	calls map[string][][2]int64 // file name -> [off, end) ranges, in call order
}

type wbFile struct {
	vfs.File
	fs   *wbFS
	name string
}

func (w *wbFile) StartWriteback(off, n int64) {
	w.fs.mu.Lock()
	defer w.fs.mu.Unlock()
	w.fs.calls[w.name] = append(w.fs.calls[w.name], [2]int64{off, off + n})
}

func (w *wbFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return &wbFile{File: f, fs: w, name: name}, nil
}

func (w *wbFS) Create(name string) (vfs.File, error) {
	f, err := w.FS.Create(name)
	return w.wrap(name, f, err)
}

func (w *wbFS) OpenReadWrite(name string) (vfs.File, error) {
	f, err := w.FS.OpenReadWrite(name)
	return w.wrap(name, f, err)
}

// TestFlushStartsWriteback: under SyncNever the log asks each tail file to
// start writing back its complete pages, in contiguous page-aligned
// pieces of at least writebackChunk from the start of the file, so that
// at most one piece (plus a partial page) is left for a later fsync.
func TestFlushStartsWriteback(t *testing.T) {
	fs := &wbFS{FS: vfs.NewMem(), calls: map[string][][2]int64{}}
	l := mustOpen(t, memDir, &Options{FS: fs, SyncPolicy: SyncNever, BufferSize: 4096, SegmentSize: 4 << 20})
	fill(t, l, 60000, 0) // about 3 MiB: one segment
	l.mu.Lock()
	end := l.written - l.tailBase
	l.mu.Unlock()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.calls) != 1 {
		t.Fatalf("write-back asked of %d files, want the one tail", len(fs.calls))
	}
	for name, rs := range fs.calls {
		var at int64
		for _, r := range rs {
			if r[0] != at || r[0]%4096 != 0 || r[1]%4096 != 0 || r[1]-r[0] < writebackChunk {
				t.Fatalf("%s: write-back ranges %v: want contiguous page-aligned pieces of at least %d from 0", name, rs, writebackChunk)
			}
			at = r[1]
		}
		if end-at >= writebackChunk+4096 {
			t.Fatalf("%s: write-back asked up to %d of %d written bytes", name, at, end)
		}
	}
	mustClose(t, l)
}

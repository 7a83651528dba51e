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

// TestFlushStartsWriteback: under SyncNever every flush asks the file to
// start writing back exactly the bytes it wrote, so the ranges of a
// segment are contiguous from the end of its header, and what a later
// fsync has left to write is small.
func TestFlushStartsWriteback(t *testing.T) {
	fs := &wbFS{FS: vfs.NewMem(), calls: map[string][][2]int64{}}
	l := mustOpen(t, memDir, &Options{FS: fs, SyncPolicy: SyncNever, BufferSize: 4096, SegmentSize: 1 << 20})
	fill(t, l, 2000, 0)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	written, tailBase := l.written, l.tailBase
	l.mu.Unlock()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var total int64
	for name, rs := range fs.calls {
		if len(rs) == 0 || rs[0][0] != segHeaderSize {
			t.Fatalf("%s: first write-back range %v, want one starting at the header's end %d", name, rs, segHeaderSize)
		}
		for i := 1; i < len(rs); i++ {
			if rs[i][0] != rs[i-1][1] {
				t.Fatalf("%s: write-back ranges %v then %v are not contiguous", name, rs[i-1], rs[i])
			}
		}
		total += rs[len(rs)-1][1] - rs[0][0]
	}
	if len(fs.calls) == 0 || total < (written-tailBase)/2 {
		t.Fatalf("write-back asked for %d bytes in %d files; the log wrote %d to its tail alone", total, len(fs.calls), written-tailBase)
	}
	mustClose(t, l)
}

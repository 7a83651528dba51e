package wal

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/waldb/wal/vfs"
)

// vecFS wraps a MemFS so that a test sees every vectored write of a
// segment: onWriteAtv runs before the write, with the buffers as given.
type vecFS struct {
	vfs.FS
	onWriteAtv func(bufs [][]byte)
}

type vecFile struct {
	vfs.File
	fs *vecFS
}

func (fs *vecFS) Create(name string) (vfs.File, error) {
	f, err := fs.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return &vecFile{File: f, fs: fs}, nil
}

func (f *vecFile) WriteAtv(bufs [][]byte, off int64) (int, error) {
	if f.fs.onWriteAtv != nil {
		f.fs.onWriteAtv(bufs)
	}
	return vfs.WriteAtv(f.File, bufs, off)
}

// directSizes are entry sizes on both sides of a lowered threshold.
var directSizes = []int{0, 1, 100, 511, 512, 513, 3000, 700}

// directWorkload appends entries of directSizes through Append and Write,
// and one batch, under policy p with the given directMin, to a fresh
// MemFS, and returns the FS and the entries written.
func directWorkload(t *testing.T, p SyncPolicy, directMin int) (*vfs.MemFS, [][]byte) {
	t.Helper()
	mem := vfs.NewMem()
	l := mustOpen(t, memDir, &Options{FS: mem, SyncPolicy: p, SegmentSize: 4 << 10, NoPreallocate: true,
		FlushInterval: 1 << 40, SyncInterval: 1 << 40, segmentSalt: goldenSalt, directMin: directMin})
	var want [][]byte
	for i := range 24 {
		n := directSizes[i%len(directSizes)]
		data := bytes.Repeat([]byte{byte(i + 1)}, n)
		if i%2 == 0 {
			if _, err := l.Append(data); err != nil {
				t.Fatal(err)
			}
		} else if err := l.Write(uint64(len(want)+1), data); err != nil {
			t.Fatal(err)
		}
		want = append(want, bytes.Clone(data))
		clear(data) // the log must be done with it
		if i == 10 {
			var b Batch
			b.Append([]byte("batched"))
			b.Append(bytes.Repeat([]byte{'b'}, 600))
			if _, err := l.AppendBatch(&b); err != nil {
				t.Fatal(err)
			}
			want = append(want, []byte("batched"), bytes.Repeat([]byte{'b'}, 600))
		}
	}
	checkEntries(t, l, want)
	mustClose(t, l)
	return mem, want
}

// checkEntries asserts that l holds exactly want, from index 1.
func checkEntries(t *testing.T, l *Log, want [][]byte) {
	t.Helper()
	if f, la := bounds(t, l); f != 1 || la != uint64(len(want)) {
		t.Fatalf("bounds [%d, %d], want [1, %d]", f, la, len(want))
	}
	for i, w := range want {
		got, err := l.Read(uint64(i + 1))
		if err != nil || !bytes.Equal(got, w) {
			t.Fatalf("Read(%d) = %d bytes, %v; want %d bytes", i+1, len(got), err, len(w))
		}
	}
}

// TestDirectWriteSameBytes: writing entries from the caller's slice
// changes nothing on disk. The same workload leaves byte-identical files
// whether every entry is copied (directMin -1) or every lone entry of at
// least 512 bytes is written in place, under each policy; the log reopens
// with every entry, and the callers' slices were reused (cleared) after
// each call returned.
func TestDirectWriteSameBytes(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncNever} {
		t.Run(p.String(), func(t *testing.T) {
			copied, want := directWorkload(t, p, -1)
			direct, _ := directWorkload(t, p, 512)
			names, err := copied.List(memDir)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := direct.List(memDir); fmt.Sprint(got) != fmt.Sprint(names) {
				t.Fatalf("files %v, copied path wrote %v", got, names)
			}
			for _, name := range names {
				a, b := readMemFile(t, copied, name), readMemFile(t, direct, name)
				if !bytes.Equal(a, b) {
					t.Errorf("%s differs: %d bytes written in place, %d copied", name, len(b), len(a))
				}
			}
			l := mustOpen(t, memDir, &Options{FS: direct, SegmentSize: 4 << 10})
			defer mustClose(t, l)
			checkEntries(t, l, want)
		})
	}
}

// readMemFile returns the contents of dir/name in fs.
func readMemFile(t *testing.T, fs vfs.FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(joinPath(memDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := f.Size()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, n)
	if m, err := f.ReadAt(b, 0); err != nil && !(err == io.EOF && int64(m) == n) {
		t.Fatal(err)
	}
	return b
}

// TestDirectWriteNoCopy: a large entry reaches the file as the caller's
// own slice, in one vectored write after the buffered bytes and the
// record header, and a small one does not take that path.
func TestDirectWriteNoCopy(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncNever} {
		var calls [][][]byte
		fs := &vecFS{FS: vfs.NewMem(), onWriteAtv: func(bufs [][]byte) { calls = append(calls, slices.Clone(bufs)) }}
		l := mustOpen(t, memDir, &Options{FS: fs, SyncPolicy: p, SegmentSize: 64 << 10, FlushInterval: 1 << 40, directMin: 1000})
		if _, err := l.Append(make([]byte, 999)); err != nil {
			t.Fatal(err)
		}
		if len(calls) != 0 {
			t.Fatalf("%v: a 999-byte entry under directMin 1000 made %d vectored writes", p, len(calls))
		}
		data := bytes.Repeat([]byte{7}, 1000)
		if _, err := l.Append(data); err != nil {
			t.Fatal(err)
		}
		if len(calls) != 1 || len(calls[0]) != 2 || &calls[0][1][0] != &data[0] || len(calls[0][1]) != len(data) {
			t.Fatalf("%v: vectored writes %d, want one whose second buffer is the caller's slice", p, len(calls))
		}
		if hdr := calls[0][0]; len(hdr) < 16 || (p == SyncNever && len(hdr) != 16+999+16) {
			t.Fatalf("%v: first buffer %d bytes, want the buffered entry and the header", p, len(hdr))
		}
		mustClose(t, l)
	}
}

// blockingFS holds every vectored write until release is closed, after
// signalling started.
type blockingFS struct {
	vecFS
	started chan struct{}
	release chan struct{}
}

// TestDirectWriteReadInFlight: while a large entry's write is in flight,
// Read, LastIndex and a small Append of another goroutine go on: the
// entry is read from the caller's slice under the lock, and the small
// entry waits for no write.
func TestDirectWriteReadInFlight(t *testing.T) {
	fs := &blockingFS{started: make(chan struct{}), release: make(chan struct{})}
	var once sync.Once
	fs.vecFS = vecFS{FS: vfs.NewMem(), onWriteAtv: func([][]byte) {
		once.Do(func() { close(fs.started); <-fs.release })
	}}
	l := mustOpen(t, memDir, &Options{FS: &fs.vecFS, SyncPolicy: SyncNever, SegmentSize: 64 << 10, FlushInterval: 1 << 40, directMin: 100})
	defer mustClose(t, l)
	data := bytes.Repeat([]byte{9}, 300)
	done := make(chan error)
	go func() {
		_, err := l.Append(data)
		done <- err
	}()
	<-fs.started
	if got, err := l.Read(1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Read of the entry in flight = %d bytes, %v", len(got), err)
	}
	if i, err := l.Append([]byte("small")); err != nil || i != 2 {
		t.Fatalf("small Append during the write = %d, %v; want 2", i, err)
	}
	if got, err := l.Read(2); err != nil || string(got) != "small" {
		t.Fatalf("Read(2) = %q, %v", got, err)
	}
	close(fs.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkEntries(t, l, [][]byte{bytes.Repeat([]byte{9}, 300), []byte("small")})
}

// TestDirectWriteGroupCommit: concurrent writers of large entries under
// SyncAlways each get their own entry back after overwriting their slice
// the moment Append returned (with -race, a read of a slice after its
// Append returned would be a reported race: MemFS copies in Go), and every
// entry is covered by a write. The number of fsyncs they shared is logged,
// not asserted: it depends on timing.
func TestDirectWriteGroupCommit(t *testing.T) {
	var syncs, entries int
	var mu sync.Mutex
	el := &EventListener{
		SyncEnd:  func(SyncInfo) { mu.Lock(); syncs++; mu.Unlock() },
		WriteEnd: func(w WriteInfo) { mu.Lock(); entries += w.Entries; mu.Unlock() },
	}
	l := mustOpen(t, memDir, &Options{FS: vfs.NewMem(), SegmentSize: 64 << 10, EventListener: el, directMin: 1 << 10})
	defer mustClose(t, l)
	const writers, each = 8, 40
	var wg sync.WaitGroup
	got := make([][]uint64, writers)
	for w := range writers {
		wg.Go(func() {
			data := make([]byte, 2<<10)
			for range each {
				clear(data)
				data[0] = byte(w)
				i, err := l.Append(data)
				if err != nil {
					t.Error(err)
					return
				}
				data[0] = 0xff // reuse at once
				got[w] = append(got[w], i)
			}
		})
	}
	wg.Wait()
	for w, idx := range got {
		for _, i := range idx {
			b, err := l.Read(i)
			if err != nil || len(b) != 2<<10 || b[0] != byte(w) {
				t.Fatalf("writer %d entry %d: %d bytes starting %v, %v", w, i, len(b), b[:1], err)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if entries != writers*each {
		t.Errorf("writes covered %d entries, want %d", entries, writers*each)
	}
	t.Logf("%d entries, %d fdatasyncs", writers*each, syncs)
}

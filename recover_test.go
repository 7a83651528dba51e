package wal

import (
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"testing"
	"time"

	"github.com/waldb/wal/record"
	"github.com/waldb/wal/vfs"
)

const memDir = "/db"

// liveClone copies fs as a process crash would leave it: everything the
// process wrote, synced or not.
func liveClone(fs *vfs.MemFS) *vfs.MemFS {
	return fs.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: 1, KeepUnsyncedDirOps: 1})
}

// readFile returns a file's bytes.
func readFile(t testing.TB, fs vfs.FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, _ := f.Size()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return b
}

// writeFile replaces a file's bytes (no sync needed on a MemFS clone that
// is only opened, never crashed again).
func writeFile(t testing.TB, fs vfs.FS, name string, b []byte) {
	t.Helper()
	f, err := fs.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// memSegments lists segment file paths of a MemFS log, oldest first.
func memSegments(t testing.TB, fs vfs.FS) []string {
	t.Helper()
	names, err := fs.List(memDir)
	if err != nil {
		t.Fatal(err)
	}
	var segs []string
	for _, n := range names {
		if _, _, ok := parseSegmentName(n); ok {
			segs = append(segs, path.Join(memDir, n))
		}
	}
	sort.Strings(segs)
	return segs
}

// recordEnds parses an unsealed segment image and returns, for each
// complete batch, the offset where it ends and its last index.
func recordEnds(t testing.TB, img []byte) (ends []int64, lasts []uint64) {
	t.Helper()
	off := int64(segHeaderSize)
	for off < int64(len(img)) {
		h, _, err := record.Decode(img[off:])
		if err != nil {
			break
		}
		off += int64(h.Size())
		if h.Type == record.Full {
			ends, lasts = append(ends, off), append(lasts, h.Index)
		}
	}
	return ends, lasts
}

// crashedLog writes entries 1..n (in batches of batch) under SyncAlways
// into a MemFS log and returns the image a process crash leaves, without
// closing the log.
func crashedLog(t *testing.T, n, batch int, o Options) *vfs.MemFS {
	t.Helper()
	fs := vfs.NewMem()
	o.FS = fs
	l := mustOpen(t, memDir, &o)
	var b Batch
	for i := 1; i <= n; i += batch {
		b.Clear()
		for j := i; j < i+batch && j <= n; j++ {
			b.Write(uint64(j), payload(uint64(j), 0))
		}
		if err := l.WriteBatch(&b); err != nil {
			t.Fatal(err)
		}
	}
	img := liveClone(fs)
	mustClose(t, l)
	return img
}

// TestTornTailEveryOffset cuts the tail segment at every byte offset of its
// last records: Open must recover the longest complete prefix of batches,
// report what it dropped, accept appends, and keep them across a reopen.
func TestTornTailEveryOffset(t *testing.T) {
	for _, batch := range []int{1, 3} {
		img := crashedLog(t, 60, batch, Options{SegmentSize: 2 << 10})
		segs := memSegments(t, img)
		tailPath := segs[len(segs)-1]
		full := readFile(t, img, tailPath)
		ends, lasts := recordEnds(t, full)
		dataEnd := ends[len(ends)-1]
		o := &Options{SegmentSize: 2 << 10}
		// Every offset from the start of the last 8 batches to past the end.
		start := int64(segHeaderSize)
		if len(ends) > 8 {
			start = ends[len(ends)-9]
		}
		for cut := start; cut <= dataEnd+64; cut++ {
			fs := liveClone(img)
			writeFile(t, fs, tailPath, full[:cut])
			o.FS = fs
			l, err := Open(memDir, o)
			if err != nil {
				t.Fatalf("batch %d cut %d: Open: %v", batch, cut, err)
			}
			want := segFirst(t, tailPath) - 1
			for i, e := range ends {
				if e <= cut {
					want = lasts[i]
				}
			}
			checkRange(t, l, 1, want)
			rep := l.Recovery()
			if st := rep.State; st != RecoveryTornTail && st != RecoveryZeroedTail {
				t.Fatalf("batch %d cut %d: state %v", batch, cut, st)
			}
			fill(t, l, want+5, 1)
			mustClose(t, l)
			l = mustOpen(t, memDir, o)
			checkRange(t, l, 1, want+5)
			mustClose(t, l)
		}
	}
}

func segFirst(t testing.TB, p string) uint64 {
	_, first, ok := parseSegmentName(path.Base(p))
	if !ok {
		t.Fatalf("not a segment: %s", p)
	}
	return first
}

// TestBatchAtomicAcrossCrash keeps a random share of unsynced blocks of a
// log written in batches under SyncNever: after recovery every batch is
// present entirely or not at all, and what is present is a prefix.
func TestBatchAtomicAcrossCrash(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		fs := vfs.NewMem()
		o := &Options{FS: fs, SyncPolicy: SyncNever, SegmentSize: 16 << 10, BufferSize: 512, FlushInterval: time.Hour}
		l := mustOpen(t, memDir, o)
		var b Batch
		const size = 7
		for i := uint64(1); i <= 300; i += size {
			b.Clear()
			for j := i; j < i+size; j++ {
				b.Write(j, payload(j, seed))
			}
			if err := l.WriteBatch(&b); err != nil {
				t.Fatal(err)
			}
			if i == 148 {
				if err := l.Sync(); err != nil {
					t.Fatal(err)
				}
			}
		}
		crashed := fs.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: 0.5, KeepUnsyncedDirOps: 0.5, Rand: newRand(seed)})
		l.Close()
		l2, err := Open(memDir, &Options{FS: crashed, SegmentSize: 16 << 10})
		if err != nil {
			t.Fatalf("seed %d: Open after crash: %v", seed, err)
		}
		_, last := bounds(t, l2)
		if last%size != 0 {
			t.Fatalf("seed %d: last index %d splits a batch of %d", seed, last, size)
		}
		if last < 154 {
			t.Fatalf("seed %d: synced entries lost: last %d < 154", seed, last)
		}
		checkRange(t, l2, 1, last)
		mustClose(t, l2)
	}
}

// TestCorruptionVersusTornTail: damage before a sync marker that proves the
// bytes durable is ErrCorrupt; the same damage after the last proof is a
// torn tail; PointInTime recovers the prefix instead of failing.
func TestCorruptionVersusTornTail(t *testing.T) {
	img := crashedLog(t, 40, 1, Options{SegmentSize: 64 << 10})
	segs := memSegments(t, img)
	tailPath := segs[len(segs)-1]
	full := readFile(t, img, tailPath)
	ends, lasts := recordEnds(t, full)

	damage := func(at int64) *vfs.MemFS {
		fs := liveClone(img)
		b := append([]byte(nil), full...)
		b[at] ^= 0x40
		writeFile(t, fs, tailPath, b)
		return fs
	}
	// Entry 10's payload: later sync markers prove it durable.
	mid := ends[8] + record.HeaderSize + 2
	if _, err := Open(memDir, &Options{SegmentSize: 64 << 10, FS: damage(mid)}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damage at %d before proof: Open = %v, want ErrCorrupt", mid, err)
	}
	l, err := Open(memDir, &Options{SegmentSize: 64 << 10, FS: damage(mid), RecoveryMode: PointInTime})
	if err != nil {
		t.Fatalf("PointInTime: %v", err)
	}
	if st := l.Recovery().State; st != RecoveryPointInTime {
		t.Fatalf("PointInTime state = %v", st)
	}
	checkRange(t, l, 1, lasts[8])
	mustClose(t, l)
	// The last entry: nothing after it proves it durable, so it is a torn
	// tail under the default mode...
	lastRec := ends[len(ends)-2] + record.HeaderSize + 1
	l, err = Open(memDir, &Options{SegmentSize: 64 << 10, FS: damage(lastRec)})
	if err != nil {
		t.Fatalf("damage in last record: %v", err)
	}
	checkRange(t, l, 1, 39)
	mustClose(t, l)
	// ...and an error under AbsoluteConsistency.
	if _, err := Open(memDir, &Options{SegmentSize: 64 << 10, FS: damage(lastRec), RecoveryMode: AbsoluteConsistency}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("AbsoluteConsistency with a torn record = %v, want ErrCorrupt", err)
	}
}

// TestCleanCloseProvesEverything: after Close, a flipped bit anywhere in
// the last segment's records is corruption (at Open or at Read), never a
// torn tail that silently shortens the log.
func TestCleanCloseProvesEverything(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, memDir, &Options{SegmentSize: 64 << 10, FS: fs})
	fill(t, l, 20, 0)
	mustClose(t, l)
	segs := memSegments(t, fs)
	tailPath := segs[len(segs)-1]
	full := readFile(t, fs, tailPath)
	ends, _ := recordEnds(t, full)
	for at := int64(segHeaderSize); at < ends[len(ends)-1]; at += 7 {
		c := liveClone(fs)
		b := append([]byte(nil), full...)
		b[at] ^= 1
		writeFile(t, c, tailPath, b)
		neverServed(t, c, Options{SegmentSize: 64 << 10}, 20, fmt.Sprintf("flip at %d", at))
	}
}

// TestSealedSegmentDamage: sealed segments are not scanned at Open, but a
// damaged record is ErrCorrupt on Read (never served), a damaged trailer or
// header or a missing middle segment fails Open with EagerOpen (without it,
// see TestLazySegmentDamage), and a zero-length tail file and stray
// temporary files are removed.
func TestSealedSegmentDamage(t *testing.T) {
	fs := vfs.NewMem()
	o := &Options{FS: fs, SegmentSize: 1 << 10}
	l := mustOpen(t, memDir, o)
	fill(t, l, 100, 0)
	mustClose(t, l)
	segs := memSegments(t, fs)
	if len(segs) < 4 {
		t.Fatalf("want at least 4 segments, have %d", len(segs))
	}
	second := readFile(t, fs, segs[1])
	first2 := segFirst(t, segs[1])

	t.Run("record", func(t *testing.T) {
		c := liveClone(fs)
		b := append([]byte(nil), second...)
		b[segHeaderSize+record.HeaderSize+3] ^= 0xff
		writeFile(t, c, segs[1], b)
		l := mustOpen(t, memDir, &Options{SegmentSize: 64 << 10, FS: c})
		defer l.Close()
		if _, err := l.Read(first2); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Read of damaged entry = %v, want ErrCorrupt", err)
		}
		if _, err := l.Read(first2 + 1); err != nil {
			t.Fatalf("Read of intact neighbour: %v", err)
		}
	})
	t.Run("index block", func(t *testing.T) {
		c := liveClone(fs)
		b := append([]byte(nil), second...)
		b[len(b)-segTrailerSize-2] ^= 0xff
		writeFile(t, c, segs[1], b)
		l := mustOpen(t, memDir, &Options{SegmentSize: 64 << 10, FS: c})
		defer l.Close()
		if _, err := l.Read(first2); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Read with damaged index = %v, want ErrCorrupt", err)
		}
	})
	t.Run("trailer", func(t *testing.T) {
		c := liveClone(fs)
		b := append([]byte(nil), second...)
		b[len(b)-3] ^= 0xff
		writeFile(t, c, segs[1], b)
		if _, err := Open(memDir, &Options{SegmentSize: 64 << 10, FS: c, EagerOpen: true}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open with damaged trailer = %v, want ErrCorrupt", err)
		}
	})
	t.Run("missing middle segment", func(t *testing.T) {
		c := liveClone(fs)
		if err := c.Remove(segs[1]); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(memDir, &Options{SegmentSize: 64 << 10, FS: c, EagerOpen: true}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open with a missing segment = %v, want ErrCorrupt", err)
		}
	})
	t.Run("header", func(t *testing.T) {
		c := liveClone(fs)
		b := append([]byte(nil), second...)
		b[20] ^= 1
		writeFile(t, c, segs[1], b)
		if _, err := Open(memDir, &Options{SegmentSize: 64 << 10, FS: c, EagerOpen: true}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open with a damaged header = %v, want ErrCorrupt", err)
		}
	})
	t.Run("junk files", func(t *testing.T) {
		c := liveClone(fs)
		seq, _, _ := parseSegmentName(path.Base(segs[len(segs)-1]))
		empty := path.Join(memDir, segmentName(seq+1, 101))
		writeFile(t, c, empty, nil)
		writeFile(t, c, path.Join(memDir, "prepare-9.tmp"), []byte("partial"))
		writeFile(t, c, path.Join(memDir, "junk"), []byte("junk"))
		l := mustOpen(t, memDir, &Options{SegmentSize: 64 << 10, FS: c})
		defer l.Close()
		checkRange(t, l, 1, 100)
		rep := l.Recovery()
		if len(rep.Removed) != 2 || len(rep.Ignored) != 1 {
			t.Fatalf("report = %+v; want 2 removed, 1 ignored", rep)
		}
	})
}

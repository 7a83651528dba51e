package wal

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/waldb/wal/record"
	"github.com/waldb/wal/vfs"
)

// closedLog writes entries 1..n in a multi-segment MemFS log and closes it.
func closedLog(t *testing.T, n uint64) (*vfs.MemFS, *Options) {
	t.Helper()
	fs := vfs.NewMem()
	o := &Options{FS: fs, SegmentSize: 1 << 10}
	l := mustOpen(t, memDir, o)
	fill(t, l, n, 0)
	mustClose(t, l)
	return fs, o
}

// neverServed opens a damaged image: Open must fail with ErrCorrupt, or
// open with the full range where every read either verifies or is
// ErrCorrupt. Damage may never be served as data nor silently shrink a
// cleanly closed log. It returns what happened.
func neverServed(t *testing.T, fs *vfs.MemFS, o Options, last uint64, what string) string {
	t.Helper()
	o.FS = fs
	l, err := Open(memDir, &o)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: Open = %v, want ErrCorrupt or success", what, err)
		}
		return "open-corrupt"
	}
	defer l.Close()
	if f, la := bounds(t, l); f != 1 || la != last {
		t.Fatalf("%s: opened with [%d, %d], want [1, %d]: damage silently dropped entries (%v)", what, f, la, last, l.Recovery())
	}
	result := "harmless"
	for i := uint64(1); i <= last; i++ {
		b, err := l.Read(i)
		if errors.Is(err, ErrCorrupt) {
			result = "read-corrupt"
			continue
		}
		if err != nil {
			t.Fatalf("%s: Read(%d): %v", what, i, err)
		}
		if _, err := checkPayload(i, b); err != nil {
			t.Fatalf("%s: damaged data served: %v", what, err)
		}
	}
	if err := l.Verify(nil); err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: Verify: %v", what, err)
		}
		if result == "harmless" {
			result = "verify-corrupt" // e.g. a sync marker inside a sealed segment
		}
	}
	return result
}

// TestSweepBitFlips flips one bit at every byte (every 7th byte outside
// soak runs) of every file of a cleanly closed multi-segment log. Flips
// only Verify notices are in bytes no read uses (sync markers inside
// sealed segments); "harmless" ones hit bytes no check covers (the
// header's reserved tail).
func TestSweepBitFlips(t *testing.T) {
	base, o := closedLog(t, 120)
	step := 7
	if soak() {
		step = 1
	}
	counts := map[string]int{}
	for _, p := range memSegments(t, base) {
		img := readFile(t, base, p)
		for at := 0; at < len(img); at += step {
			fs := liveClone(base)
			b := append([]byte(nil), img...)
			b[at] ^= 1 << (at % 8)
			writeFile(t, fs, p, b)
			counts[neverServed(t, fs, *o, 120, fmt.Sprintf("flip %s@%d", p, at))]++
		}
	}
	t.Logf("bit flips: %v", counts)
	if counts["harmless"]*10 > counts["open-corrupt"]+counts["read-corrupt"]+counts["verify-corrupt"] {
		t.Fatalf("most flips went unnoticed: %v", counts)
	}
}

// TestSweepZeroedBlocks zeroes a 512 B sector and a 4 KiB page in the
// middle of the data: reported as corruption, never served.
func TestSweepZeroedBlocks(t *testing.T) {
	fs0 := vfs.NewMem()
	o := &Options{FS: fs0, SegmentSize: 16 << 10}
	l := mustOpen(t, memDir, o)
	fill(t, l, 400, 0)
	mustClose(t, l)
	segs := memSegments(t, fs0)
	for _, p := range segs {
		img := readFile(t, fs0, p)
		for _, size := range []int{512, 4096} {
			if len(img) < 3*size {
				continue
			}
			for _, at := range []int{size, len(img)/2 - len(img)/2%size} {
				fs := liveClone(fs0)
				b := append([]byte(nil), img...)
				clear(b[at : at+size])
				writeFile(t, fs, p, b)
				got := neverServed(t, fs, *o, 400, fmt.Sprintf("zero %d@%d of %s", size, at, p))
				if got == "harmless" {
					t.Fatalf("zeroed %d bytes at %d of %s went unnoticed", size, at, p)
				}
			}
		}
	}
}

// TestSweepTailAppendages: zeros or garbage appended after a crashed log's
// tail are a torn tail; a copy of an old valid record placed past the tail
// is never served.
func TestSweepTailAppendages(t *testing.T) {
	img := crashedLog(t, 30, 1, Options{SegmentSize: 64 << 10, NoPreallocate: true})
	segs := memSegments(t, img)
	tailPath := segs[len(segs)-1]
	full := readFile(t, img, tailPath)
	ends, _ := recordEnds(t, full)
	dataEnd := ends[len(ends)-1]
	full = full[:dataEnd]
	oldRecord := full[segHeaderSize : segHeaderSize+record.HeaderSize+len(payload(1, 0))]
	garbage := []byte(strings.Repeat("\xde\xad\xbe\xef", 100))
	for name, tail := range map[string][]byte{
		"zeros":                        make([]byte, 8192),
		"garbage":                      garbage,
		"old record":                   oldRecord,
		"old record twice, then zeros": append(append(append([]byte(nil), oldRecord...), oldRecord...), make([]byte, 100)...),
	} {
		fs := liveClone(img)
		writeFile(t, fs, tailPath, append(append([]byte(nil), full...), tail...))
		l, err := Open(memDir, &Options{FS: fs, SegmentSize: 64 << 10})
		if err != nil {
			t.Fatalf("%s after the tail: %v", name, err)
		}
		checkRange(t, l, 1, 30)
		l.Close()
	}
}

// FuzzOpen opens arbitrary directory contents: a segment file and a META
// file made of fuzzed bytes. Open and every read must never panic, and an
// opened log must hold only entries whose records verify.
func FuzzOpen(f *testing.F) {
	seg := segmentName(1, 1)
	fs0 := vfs.NewMem()
	l, _ := Open(memDir, &Options{FS: fs0, SegmentSize: 1 << 10, NoPreallocate: true})
	for i := uint64(1); i <= 5; i++ {
		_ = l.Write(i, payload(i, 0))
	}
	_ = l.Close()
	f.Add(readFileRaw(fs0, memDir+"/"+seg), []byte(nil))
	f.Add((segHeader{seq: 1, first: 1}).encode(), (metaRecord{front: 2, frontSeq: 1}).encode())
	f.Add([]byte{}, []byte("WALDBMET"))
	f.Fuzz(func(t *testing.T, segBytes, metaBytes []byte) {
		fs := vfs.NewMem()
		if err := fs.MkdirAll(memDir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, fs, memDir+"/"+seg, segBytes)
		if metaBytes != nil {
			writeFile(t, fs, memDir+"/"+metaName, metaBytes)
		}
		for _, ro := range []bool{true, false} {
			open := Open
			if ro {
				open = OpenReadOnly
			}
			l, err := open(memDir, &Options{FS: fs, SegmentSize: 1 << 10, MaxEntrySize: 1 << 16})
			if err != nil {
				continue
			}
			first, _ := l.FirstIndex()
			last, _ := l.LastIndex()
			for i := first; i <= last && i < first+100; i++ {
				_, _ = l.Read(i)
			}
			_ = l.Verify(nil)
			_, _ = l.Append([]byte("after"))
			_ = l.Close()
		}
	})
}

func readFileRaw(fs vfs.FS, name string) []byte {
	f, err := fs.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	n, _ := f.Size()
	b := make([]byte, n)
	_, _ = f.ReadAt(b, 0)
	return b
}

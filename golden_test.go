package wal

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/waldb/wal/vfs"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/v2 from the current encoder")

// goldenSalt is the segment salt of the golden log (random otherwise).
func goldenSalt(seq uint64) uint32 { return 0x5a170000 | uint32(seq) }

// TestGoldenLog pins the on-disk format of a whole log directory: a sealed
// segment, a tail ending in a clean-close marker, and META. FORMAT.md and
// the code must change together with these files. testdata/golden/v2 is
// what this version writes (-update rewrites it); testdata/golden/v1 is
// what format version 1 wrote, which TestGoldenV1 reads.
func TestGoldenLog(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, memDir, &Options{FS: fs, SegmentSize: 200, NoPreallocate: true, segmentSalt: goldenSalt})
	for i := uint64(1); i <= 6; i++ {
		if err := l.Write(i, []byte{byte('a' + i), byte('a' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	var b Batch
	b.Write(7, []byte("batch-7"))
	b.Write(8, []byte("batch-8"))
	if err := l.WriteBatch(&b); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateFront(2); err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)

	names, err := fs.List(memDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "golden", "v2")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for _, n := range names {
		if n == lockName {
			continue
		}
		want = append(want, n)
		got := readFile(t, fs, memDir+"/"+n)
		path := filepath.Join(dir, n)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		exp, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if !bytes.Equal(got, exp) {
			t.Errorf("%s differs from %s:\n got %x\nwant %x", n, path, got, exp)
		}
	}
	files, _ := os.ReadDir(dir)
	if !*update && len(files) != len(want) {
		t.Fatalf("golden dir has %d files, log has %v", len(files), want)
	}
	checkGoldenDir(t, dir, 2)
}

// TestGoldenV1 opens the log format version 1 wrote: it reads as it did,
// and the log goes on in a new version-2 segment (a version-1 segment is
// never appended to), whether the version-1 tail was sealed by Close or
// left unsealed by a crash.
func TestGoldenV1(t *testing.T) {
	dir := filepath.Join("testdata", "golden", "v1")
	checkGoldenDir(t, dir, 1)
	for _, unsealed := range []bool{false, true} {
		fs := loadGolden(t, dir)
		segs := memSegments(t, fs)
		tailPath := segs[len(segs)-1]
		if unsealed {
			// A crash after the closed marker, before the seal.
			b := readFile(t, fs, tailPath)
			writeFile(t, fs, tailPath, b[:len(b)-segTrailerSize-4*3])
		}
		o := &Options{FS: fs, SegmentSize: 200, NoPreallocate: true}
		l := mustOpen(t, memDir, o)
		if st := l.Recovery().State; st != RecoveryClean {
			t.Fatalf("unsealed %v: v1 log recovers as %v", unsealed, st)
		}
		for i := uint64(9); i <= 20; i++ {
			if err := l.Write(i, payload(i, 0)); err != nil {
				t.Fatal(err)
			}
		}
		mustClose(t, l)
		l = mustOpen(t, memDir, o)
		if f, la := bounds(t, l); f != 2 || la != 20 {
			t.Fatalf("unsealed %v: bounds [%d, %d], want [2, 20]", unsealed, f, la)
		}
		if d, err := l.Read(8); err != nil || string(d) != "batch-8" {
			t.Fatalf("unsealed %v: Read(8) = %q, %v", unsealed, d, err)
		}
		for i := uint64(9); i <= 20; i++ {
			b, err := l.Read(i)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := checkPayload(i, b); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Verify(nil); err != nil {
			t.Fatalf("unsealed %v: Verify: %v", unsealed, err)
		}
		mustClose(t, l)
		versions := map[uint16]int{}
		for _, p := range memSegments(t, fs) {
			h, err := decodeSegHeader(readFile(t, fs, p))
			if err != nil {
				t.Fatal(err)
			}
			versions[h.version]++
		}
		if versions[1] != 2 || versions[2] == 0 {
			t.Fatalf("unsealed %v: segment versions %v: want the two v1 segments kept and new ones in v2", unsealed, versions)
		}
	}
}

// loadGolden copies a golden directory into a MemFS log directory.
func loadGolden(t *testing.T, dir string) *vfs.MemFS {
	t.Helper()
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fs := vfs.NewMem()
	if err := fs.MkdirAll(memDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range files {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, fs, memDir+"/"+e.Name(), data)
	}
	return fs
}

// checkGoldenDir opens a golden directory: a clean log of entries [2, 8]
// whose segments have the given format version.
func checkGoldenDir(t *testing.T, dir string, version uint16) {
	t.Helper()
	golden := loadGolden(t, dir)
	for _, p := range memSegments(t, golden) {
		if h, err := decodeSegHeader(readFile(t, golden, p)); err != nil || h.version != version {
			t.Fatalf("%s: header %+v, %v; want version %d", p, h, err, version)
		}
	}
	for _, ro := range []bool{true, false} {
		open := Open
		if ro {
			open = OpenReadOnly
		}
		l, err := open(memDir, &Options{FS: golden, SegmentSize: 200, NoPreallocate: true})
		if err != nil {
			t.Fatal(err)
		}
		if st := l.Recovery().State; st != RecoveryClean {
			t.Fatalf("golden log %s recovers as %v", dir, st)
		}
		if f, la := bounds(t, l); f != 2 || la != 8 {
			t.Fatalf("golden log bounds [%d, %d], want [2, 8]", f, la)
		}
		if d, err := l.Read(8); err != nil || string(d) != "batch-8" {
			t.Fatalf("Read(8) = %q, %v", d, err)
		}
		if err := l.Verify(nil); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		mustClose(t, l)
	}
}

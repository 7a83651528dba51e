package wal

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/waldb/wal/vfs"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current encoder")

// TestGoldenLog pins the on-disk format of a whole log directory: a sealed
// segment, a tail ending in a clean-close marker, and META. FORMAT.md and
// the code must change together with these files.
func TestGoldenLog(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, memDir, &Options{FS: fs, SegmentSize: 200, NoPreallocate: true})
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
	dir := filepath.Join("testdata", "golden")
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
	// The golden directory must open as a log with the same content.
	golden := vfs.NewMem()
	for _, n := range want {
		data, _ := os.ReadFile(filepath.Join(dir, n))
		if err := golden.MkdirAll(memDir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, golden, memDir+"/"+n, data)
	}
	l = mustOpen(t, memDir, &Options{FS: golden, SegmentSize: 200, NoPreallocate: true})
	defer mustClose(t, l)
	if st := l.Recovery().State; st != RecoveryClean {
		t.Fatalf("golden log recovers as %v", st)
	}
	if f, la := bounds(t, l); f != 2 || la != 8 {
		t.Fatalf("golden log bounds [%d, %d], want [2, 8]", f, la)
	}
	if d, err := l.Read(8); err != nil || string(d) != "batch-8" {
		t.Fatalf("Read(8) = %q, %v", d, err)
	}
}

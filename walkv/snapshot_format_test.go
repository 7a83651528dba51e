package walkv

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/snapshot.hex")

// goldenSnapshots are single-entry snapshots (entry order in a file
// depends on a per-process hash seed, so each golden holds one entry).
var goldenSnapshots = []struct {
	id   uint64
	item *item
}{
	{7, &item{key: "k", kind: kindString, str: []byte("hello")}},
	{8, &item{key: "ttl", kind: kindString, str: []byte{}, expire: 0x0102030405}},
	{9, &item{key: "h", kind: kindHash, fields: map[string][]byte{"f": []byte("v")}}},
	{10, &item{key: "l", kind: kindList, list: newList([][]byte{[]byte("a"), {}, []byte("bc")}, 0)}},
	{11, &item{key: "s", kind: kindSet, set: map[string]struct{}{"m": {}}}},
}

// specSnapshot encodes a one-entry snapshot from the package doc's
// tables alone.
func specSnapshot(id uint64, it *item) []byte {
	le64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	le32 := func(v int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
	b := append([]byte("WALKVSNP"), le32(2)...)
	b = append(b, le32(0)...)
	b = append(b, le64(id)...)
	b = append(b, le64(1000)...)
	b = append(b, byte(it.kind))
	b = append(b, le64(uint64(it.expire))...)
	b = append(append(b, le32(len(it.key))...), it.key...)
	switch it.kind {
	case kindString:
		b = append(append(b, le32(len(it.str))...), it.str...)
	case kindList:
		b = append(b, le32(it.list.n)...)
		for _, e := range it.list.elems() {
			b = append(append(b, le32(len(e))...), e...)
		}
	case kindSet:
		b = append(b, le32(len(it.set))...)
		for m := range it.set {
			b = append(append(b, le32(len(m))...), m...)
		}
	default:
		b = append(b, le32(len(it.fields))...)
		for f, v := range it.fields {
			b = append(append(b, le32(len(f))...), f...)
			b = append(append(b, le32(len(v))...), v...)
		}
	}
	b = append(append(b, 0xff), le64(1)...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

// eachOf yields items in order, as keyspace.each does.
func eachOf(items ...*item) func(func(*item) bool) {
	return func(fn func(*item) bool) {
		for _, it := range items {
			if !fn(it) {
				return
			}
		}
	}
}

func encodeOne(t *testing.T, id uint64, it *item) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := writeSnapshot(&buf, snapHeader{id: id, created: 1000}, eachOf(it), 0)
	if err != nil || n != 1 {
		t.Fatalf("writeSnapshot = %d, %v", n, err)
	}
	return buf.Bytes()
}

func TestSnapshotGolden(t *testing.T) {
	var text bytes.Buffer
	for _, g := range goldenSnapshots {
		got := encodeOne(t, g.id, g.item)
		if want := specSnapshot(g.id, g.item); !bytes.Equal(got, want) {
			t.Fatalf("snapshot %d: encoding differs from the documented layout:\n%s\nspec:\n%s", g.id, hex.Dump(got), hex.Dump(want))
		}
		text.WriteString(hex.Dump(got) + "\n")
		var back []*item
		h, err := readSnapshot(bytes.NewReader(got), int64(len(got)), func(it *item) { back = append(back, it) })
		if err != nil || h.id != g.id || h.created != 1000 || len(back) != 1 {
			t.Fatalf("readSnapshot = %+v, %d items, %v", h, len(back), err)
		}
		if b := back[0]; b.key != g.item.key || b.kind != g.item.kind || b.expire != g.item.expire ||
			!bytes.Equal(b.str, g.item.str) || len(b.fields) != len(g.item.fields) ||
			fmt.Sprint(listElems(b)) != fmt.Sprint(listElems(g.item)) || fmt.Sprint(b.set) != fmt.Sprint(g.item.set) {
			t.Fatalf("round trip: %+v, want %+v", b, g.item)
		}
	}
	path := filepath.Join("testdata", "snapshot.hex")
	if *update {
		if err := os.WriteFile(path, text.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(text.Bytes(), want) {
		t.Fatalf("snapshot encoding changed:\n%s\nwant:\n%s", text.Bytes(), want)
	}
}

// TestSnapshotSkipsExpired: entries expired at the freeze time are left
// out.
func TestSnapshotSkipsExpired(t *testing.T) {
	items := eachOf(&item{key: "live", kind: kindString, expire: 200}, &item{key: "dead", kind: kindString, expire: 100})
	var buf bytes.Buffer
	if n, err := writeSnapshot(&buf, snapHeader{id: 1}, items, 100); err != nil || n != 1 {
		t.Fatalf("writeSnapshot = %d, %v", n, err)
	}
}

// FuzzReadSnapshot: the reader never panics or over-allocates on any
// input; it fails with ErrCorruptSnapshot, or succeeds only on input whose
// entries re-encode to the same bytes.
func FuzzReadSnapshot(f *testing.F) {
	for _, g := range goldenSnapshots {
		var buf bytes.Buffer
		writeSnapshot(&buf, snapHeader{id: g.id}, eachOf(g.item), 0)
		f.Add(buf.Bytes())
	}
	f.Add([]byte("WALKVSNP"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var items []*item
		h, err := readSnapshot(bytes.NewReader(b), int64(len(b)), func(it *item) { items = append(items, it) })
		if err != nil {
			if !errors.Is(err, ErrCorruptSnapshot) {
				t.Fatalf("error %v is not ErrCorruptSnapshot", err)
			}
			return
		}
		ordered := true // field order within a hash is free; compare only when fixed
		for _, it := range items {
			if len(it.fields) > 1 || len(it.set) > 1 {
				ordered = false
			}
		}
		var buf bytes.Buffer
		if _, err := writeSnapshot(&buf, h, eachOf(items...), 0); err != nil {
			t.Fatal(err)
		}
		if ordered && !bytes.Equal(buf.Bytes(), b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", buf.Bytes(), b)
		}
	})
}

// listElems returns a list item's elements (nil for other kinds).
func listElems(it *item) [][]byte {
	if it.list == nil {
		return nil
	}
	return it.list.elems()
}

// TestSnapshotVersion1Loads: snapshots written before lists and sets
// (format version 1, pinned in testdata/snapshot-v1.hex) still load, and
// a version 1 file may not hold the kinds version 2 added.
func TestSnapshotVersion1Loads(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("testdata", "snapshot-v1.hex"))
	if err != nil {
		t.Fatal(err)
	}
	files := parseHexDumps(t, string(text))
	want := goldenSnapshots[:3] // the version 1 goldens
	if len(files) != len(want) {
		t.Fatalf("%d snapshots in the file, want %d", len(files), len(want))
	}
	for i, b := range files {
		var back []*item
		h, err := readSnapshot(bytes.NewReader(b), int64(len(b)), func(it *item) { back = append(back, it) })
		if err != nil || h.id != want[i].id || len(back) != 1 {
			t.Fatalf("version 1 snapshot %d: %+v, %d items, %v", i, h, len(back), err)
		}
		if g, w := back[0], want[i].item; g.key != w.key || g.kind != w.kind || g.expire != w.expire ||
			!bytes.Equal(g.str, w.str) || fmt.Sprint(g.fields) != fmt.Sprint(w.fields) {
			t.Fatalf("version 1 snapshot %d: %+v, want %+v", i, g, w)
		}
	}
	// A version 1 header with a list entry is corrupt.
	b := encodeOne(t, 10, goldenSnapshots[3].item)
	binary.LittleEndian.PutUint32(b[8:], 1)
	crc := crc32.Checksum(b[:len(b)-4], crc32.MakeTable(crc32.Castagnoli))
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc)
	if _, err := readSnapshot(bytes.NewReader(b), int64(len(b)), func(*item) {}); !errors.Is(err, ErrCorruptSnapshot) {
		t.Fatalf("list in a version 1 snapshot: %v, want ErrCorruptSnapshot", err)
	}
}

// parseHexDumps reads back blank-line-separated hex.Dump outputs.
func parseHexDumps(t *testing.T, text string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, block := range strings.Split(strings.TrimSpace(text), "\n\n") {
		var b []byte
		for _, line := range strings.Split(block, "\n") {
			cols, _, _ := strings.Cut(line, "|")
			fields := strings.Fields(cols)
			for _, f := range fields[1:] {
				v, err := hex.DecodeString(f)
				if err != nil {
					t.Fatalf("bad hex %q: %v", f, err)
				}
				b = append(b, v...)
			}
		}
		out = append(out, b)
	}
	return out
}

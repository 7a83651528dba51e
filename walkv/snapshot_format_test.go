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
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/snapshot.hex")

// goldenSnapshots are single-entry snapshots (entry order in a file
// depends on a per-process hash seed, so each golden holds one entry).
var goldenSnapshots = []struct {
	id   uint64
	item *item
	db   int // its database (version 3)
}{
	{7, &item{key: "k", kind: kindString, str: []byte("hello")}, 0},
	{8, &item{key: "ttl", kind: kindString, str: []byte{}, expire: 0x0102030405}, 0},
	{9, &item{key: "h", kind: kindHash, fields: map[string][]byte{"f": []byte("v")}}, 0},
	{10, &item{key: "l", kind: kindList, list: newList([][]byte{[]byte("a"), {}, []byte("bc")}, 0)}, 0},
	{11, &item{key: "s", kind: kindSet, set: map[string]struct{}{"m": {}}}, 0},
	{12, &item{key: "k", kind: kindString, str: []byte("in 3")}, 3},
}

// specSnapshot encodes a one-entry snapshot of database db from the
// package doc's tables alone.
func specSnapshot(id uint64, db int, it *item) []byte {
	le64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	le32 := func(v int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
	b := append([]byte("WALKVSNP"), le32(3)...)
	b = append(b, le32(0)...)
	b = append(b, le64(id)...)
	b = append(b, le64(1000)...)
	if db != 0 {
		b = append(append(b, 0xfe), le32(db)...)
	}
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

// eachOf yields items of database 0 in order, as frozenDBs.each does.
func eachOf(items ...*item) func(func(int, *item) bool) {
	return eachIn(make([]int, len(items)), items)
}

// eachIn yields items in order, items[i] in database dbs[i].
func eachIn(dbs []int, items []*item) func(func(int, *item) bool) {
	return func(fn func(int, *item) bool) {
		for i, it := range items {
			if !fn(dbs[i], it) {
				return
			}
		}
	}
}

func encodeOne(t *testing.T, id uint64, db int, it *item) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := writeSnapshot(&buf, snapHeader{id: id, created: 1000}, eachIn([]int{db}, []*item{it}), 0)
	if err != nil || n != 1 {
		t.Fatalf("writeSnapshot = %d, %v", n, err)
	}
	return buf.Bytes()
}

func TestSnapshotGolden(t *testing.T) {
	var text bytes.Buffer
	for _, g := range goldenSnapshots {
		got := encodeOne(t, g.id, g.db, g.item)
		if want := specSnapshot(g.id, g.db, g.item); !bytes.Equal(got, want) {
			t.Fatalf("snapshot %d: encoding differs from the documented layout:\n%s\nspec:\n%s", g.id, hex.Dump(got), hex.Dump(want))
		}
		text.WriteString(hex.Dump(got) + "\n")
		var back []*item
		db := -1
		h, err := readSnapshot(bytes.NewReader(got), int64(len(got)), func(d int, it *item) { db, back = d, append(back, it) })
		if err != nil || h.id != g.id || h.created != 1000 || len(back) != 1 || db != g.db {
			t.Fatalf("readSnapshot = %+v, %d items (database %d), %v", h, len(back), db, err)
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
		writeSnapshot(&buf, snapHeader{id: g.id}, eachIn([]int{g.db}, []*item{g.item}), 0)
		f.Add(buf.Bytes())
	}
	var buf bytes.Buffer
	writeSnapshot(&buf, snapHeader{id: 13}, eachIn([]int{0, 2, 2, 15}, []*item{goldenSnapshots[0].item,
		goldenSnapshots[1].item, goldenSnapshots[5].item, goldenSnapshots[3].item}), 0)
	f.Add(buf.Bytes())
	f.Add([]byte("WALKVSNP"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var items []*item
		var dbs []int
		h, err := readSnapshot(bytes.NewReader(b), int64(len(b)), func(db int, it *item) {
			items, dbs = append(items, it), append(dbs, db)
		})
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
		if _, err := writeSnapshot(&buf, h, eachIn(dbs, items), 0); err != nil {
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
	checkOldSnapshots(t, "snapshot-v1.hex", 3) // the version 1 goldens
	// A version 1 header with a list entry is corrupt.
	b := withVersion(encodeOne(t, 10, 0, goldenSnapshots[3].item), 1)
	if _, err := readSnapshot(bytes.NewReader(b), int64(len(b)), func(int, *item) {}); !errors.Is(err, ErrCorruptSnapshot) {
		t.Fatalf("list in a version 1 snapshot: %v, want ErrCorruptSnapshot", err)
	}
}

// TestSnapshotVersion2Loads: snapshots written before databases (format
// version 2, pinned in testdata/snapshot-v2.hex) still load, into
// database 0, and a version 2 file may not hold a database marker.
func TestSnapshotVersion2Loads(t *testing.T) {
	checkOldSnapshots(t, "snapshot-v2.hex", 5) // the version 2 goldens
	b := withVersion(encodeOne(t, 12, 3, goldenSnapshots[5].item), 2)
	if _, err := readSnapshot(bytes.NewReader(b), int64(len(b)), func(int, *item) {}); !errors.Is(err, ErrCorruptSnapshot) {
		t.Fatalf("database marker in a version 2 snapshot: %v, want ErrCorruptSnapshot", err)
	}
}

// TestSnapshotDBMarkers: database markers go in increasing order, name a
// database, and are each followed by an entry.
func TestSnapshotDBMarkers(t *testing.T) {
	good := encodeOne(t, 12, 3, goldenSnapshots[5].item) // header, marker at 32, entry, trailer
	entry := good[snapHeaderSize+5 : len(good)-snapTrailer]
	marker := func(db uint32) []byte { return binary.LittleEndian.AppendUint32([]byte{snapDBMarker}, db) }
	build := func(parts ...[]byte) []byte {
		n := 0
		b := slices.Clone(good[:snapHeaderSize])
		for _, p := range parts {
			b = append(b, p...)
			if len(p) > 0 && p[0] != snapDBMarker {
				n++
			}
		}
		b = binary.LittleEndian.AppendUint64(append(b, snapEndMarker), uint64(n))
		return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	}
	for _, tt := range []struct {
		name string
		b    []byte
		dbs  []int // nil: corrupt
	}{
		{"one", build(marker(3), entry), []int{3}},
		{"increasing", build(entry, marker(1), entry, entry, marker(15), entry), []int{0, 1, 1, 15}},
		{"marker of database 0", build(marker(0), entry), nil},
		{"decreasing", build(marker(4), entry, marker(2), entry), nil},
		{"repeated", build(marker(4), entry, marker(4), entry), nil},
		{"out of range", build(marker(numDBs), entry), nil},
		{"without entries", build(marker(2), marker(3), entry), nil},
		{"at the end", build(entry, marker(2)), nil},
	} {
		var dbs []int
		_, err := readSnapshot(bytes.NewReader(tt.b), int64(len(tt.b)), func(db int, _ *item) { dbs = append(dbs, db) })
		switch {
		case tt.dbs == nil && !errors.Is(err, ErrCorruptSnapshot):
			t.Errorf("%s: %v, want ErrCorruptSnapshot", tt.name, err)
		case tt.dbs != nil && (err != nil || !slices.Equal(dbs, tt.dbs)):
			t.Errorf("%s: databases %v, %v; want %v", tt.name, dbs, err, tt.dbs)
		}
	}
}

// checkOldSnapshots reads the one-entry snapshots of an older format
// version pinned in testdata/name: they hold the first n goldens, and
// load into database 0.
func checkOldSnapshots(t *testing.T, name string, n int) {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	files := parseHexDumps(t, string(text))
	want := goldenSnapshots[:n]
	if len(files) != len(want) {
		t.Fatalf("%d snapshots in %s, want %d", len(files), name, len(want))
	}
	for i, b := range files {
		var back []*item
		h, err := readSnapshot(bytes.NewReader(b), int64(len(b)), func(db int, it *item) {
			if db != 0 {
				t.Errorf("%s: entry %q in database %d", name, it.key, db)
			}
			back = append(back, it)
		})
		if err != nil || h.id != want[i].id || len(back) != 1 {
			t.Fatalf("%s snapshot %d: %+v, %d items, %v", name, i, h, len(back), err)
		}
		if g, w := back[0], want[i].item; g.key != w.key || g.kind != w.kind || g.expire != w.expire ||
			!bytes.Equal(g.str, w.str) || fmt.Sprint(g.fields) != fmt.Sprint(w.fields) ||
			fmt.Sprint(listElems(g)) != fmt.Sprint(listElems(w)) || fmt.Sprint(g.set) != fmt.Sprint(w.set) {
			t.Fatalf("%s snapshot %d: %+v, want %+v", name, i, g, w)
		}
	}
}

// withVersion returns snapshot b with its header's version set to v (and
// the CRC fixed).
func withVersion(b []byte, v uint32) []byte {
	binary.LittleEndian.PutUint32(b[8:], v)
	crc := crc32.Checksum(b[:len(b)-4], crc32.MakeTable(crc32.Castagnoli))
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc)
	return b
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

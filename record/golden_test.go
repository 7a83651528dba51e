package record

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.bin and testdata/golden.hex")

// goldenRecords is the fixed sequence pinned by testdata/golden.bin.
var goldenRecords = []struct {
	typ     Type
	index   uint64
	payload []byte
	note    string
}{
	{Full, 1, []byte("hello"), `payload "hello"`},
	{More, 2, []byte{}, "empty payload"},
	{Full, 3, pattern(300), "payload byte i = i mod 251"},
	{Marker, 42, []byte{byte(MarkerSynced)}, "MarkerSynced, value 42"},
}

// TestGolden pins the exact encoding of goldenRecords. golden.bin holds the
// bytes; golden.hex is the same bytes annotated field by field for docs. The
// bytes are also checked against specEncode, an encoder written from the
// package doc alone, so -update cannot silently bless a format change that
// disagrees with the doc. Run with -update to rewrite both files.
func TestGolden(t *testing.T) {
	var got []byte
	for _, r := range goldenRecords {
		got = Append(got, r.typ, r.index, r.payload)
	}
	var spec []byte
	for _, r := range goldenRecords {
		spec = append(spec, specEncode(r.typ, r.index, r.payload)...)
	}
	if !bytes.Equal(got, spec) {
		t.Fatalf("Append disagrees with the documented layout:\n%s\nspec:\n%s", hex.Dump(got), hex.Dump(spec))
	}
	gotHex := goldenHex(t, got)
	binPath, hexPath := filepath.Join("testdata", "golden.bin"), filepath.Join("testdata", "golden.hex")
	if *update {
		writeFile(t, binPath, got)
		writeFile(t, hexPath, []byte(gotHex))
	}
	if want := readFile(t, binPath); !bytes.Equal(got, want) {
		t.Errorf("encoding differs from %s (run with -update only if the format change is intended):\ngot:\n%swant:\n%s",
			binPath, hex.Dump(got), hex.Dump(want))
	}
	if want := string(readFile(t, hexPath)); gotHex != want {
		t.Errorf("%s is stale (run with -update):\ngot:\n%s", hexPath, gotHex)
	}
	checkGoldenDecodes(t, readFile(t, binPath))
}

// checkGoldenDecodes decodes the golden bytes back into goldenRecords.
func checkGoldenDecodes(t *testing.T, b []byte) {
	t.Helper()
	for i, r := range goldenRecords {
		h, p, err := Decode(b)
		if err != nil || h.Type != r.typ || h.Index != r.index || !bytes.Equal(p, r.payload) {
			t.Fatalf("golden record %d: Decode = %+v, %d bytes, %v", i, h, len(p), err)
		}
		b = b[h.Size():]
	}
	if len(b) != 0 {
		t.Fatalf("golden: %d trailing bytes", len(b))
	}
}

// goldenHex renders records field by field, 16 payload bytes a line.
func goldenHex(t *testing.T, b []byte) string {
	var sb strings.Builder
	sb.WriteString("# Golden record frames for package record; checked by TestGolden.\n")
	sb.WriteString("# Regenerate: go test ./record -run TestGolden -update\n")
	sb.WriteString("# Fields: crc (masked CRC-32C of typelen..payload), typelen (type<<30 | length), index; little-endian.\n")
	off := 0
	for i, r := range goldenRecords {
		h, p, err := Decode(b[off:])
		if err != nil {
			t.Fatalf("golden record %d: %v", i, err)
		}
		rec := b[off : off+h.Size()]
		fmt.Fprintf(&sb, "\n# record %d at offset %d (%d bytes): %v, index %d, %s\n", i, off, h.Size(), h.Type, h.Index, r.note)
		fmt.Fprintf(&sb, "crc      % x\n", rec[0:4])
		fmt.Fprintf(&sb, "typelen  % x\n", rec[4:8])
		fmt.Fprintf(&sb, "index    % x\n", rec[8:16])
		for j := 0; j < len(p); j += 16 {
			fmt.Fprintf(&sb, "payload  % x\n", p[j:min(j+16, len(p))])
		}
		off += h.Size()
	}
	fmt.Fprintf(&sb, "\n# end at offset %d\n", off)
	return sb.String()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

package txn

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.hex")

// goldenRecords is the fixed sequence pinned by testdata/golden.hex.
var goldenRecords = []Record{
	{Kind: KindBegin, ID: 1},
	{Kind: KindPut, ID: 1, Key: []byte("k1"), Value: []byte("hello")},
	{Kind: KindDelete, ID: 1, Key: []byte("gone")},
	{Kind: KindPut, ID: 1, Key: []byte{}, Value: []byte{}},
	{Kind: KindCommit, ID: 1},
	{Kind: KindBegin, ID: 0x0102030405060708},
	{Kind: KindAbort, ID: 0x0102030405060708},
}

// specEncode encodes r from the package doc's tables alone, independently
// of Append, so -update cannot bless a layout the doc does not describe.
func specEncode(r Record) []byte {
	b := make([]byte, 10)
	b[0], b[1] = 1, byte(r.Kind)
	binary.LittleEndian.PutUint64(b[2:], r.ID)
	lenField := func(p []byte) {
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(len(p)))
		b = append(append(b, n[:]...), p...)
	}
	switch r.Kind {
	case KindDelete:
		lenField(r.Key)
	case KindPut:
		lenField(r.Key)
		lenField(r.Value)
	}
	return b
}

// goldenText renders the records one per line, fields separated by spaces:
// version, kind, id, then length and bytes of each field.
func goldenText() string {
	var sb strings.Builder
	sb.WriteString("# txn record format v1: version kind id [keylen key [vallen value]]\n")
	for _, r := range goldenRecords {
		b := r.Append(nil)
		fields := []string{hex.EncodeToString(b[:1]), hex.EncodeToString(b[1:2]), hex.EncodeToString(b[2:10])}
		rest := b[10:]
		for len(rest) >= 4 {
			n := binary.LittleEndian.Uint32(rest)
			fields = append(fields, hex.EncodeToString(rest[:4]), hex.EncodeToString(rest[4:4+n]))
			rest = rest[4+n:]
		}
		fmt.Fprintf(&sb, "%s  # %s id=%d key=%q value=%q\n", strings.Join(fields, " "), r.Kind, r.ID, r.Key, r.Value)
	}
	return sb.String()
}

func TestGolden(t *testing.T) {
	for _, r := range goldenRecords {
		if got, want := r.Append(nil), specEncode(r); !bytes.Equal(got, want) {
			t.Fatalf("Append(%+v) = %x; the documented layout gives %x", r, got, want)
		}
	}
	path := filepath.Join("testdata", "golden.hex")
	got := goldenText()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("encoding changed; got:\n%s\nwant:\n%s", got, want)
	}
}

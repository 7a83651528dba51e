package raftlog

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current encoders")

// goldenCase is one entry whose encoding testdata/entries.golden pins.
type goldenCase struct {
	name string
	log  raft.Log
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{"doc-example", raft.Log{Index: 5, Term: 2, Type: raft.LogCommand, Data: []byte("hi")}},
		{"noop-no-data", raft.Log{Index: 1, Term: 1, Type: raft.LogNoop}},
		{"all-fields", raft.Log{Index: 300, Term: 7, Type: raft.LogConfiguration, Data: []byte("config"),
			Extensions: []byte("ext"), AppendedAt: baseTime}},
		{"extensions-only", raft.Log{Index: 128, Term: 128, Type: raft.LogBarrier, Extensions: []byte{0}}},
		{"before-1970", raft.Log{Index: 2, Term: 1, Data: []byte{0xff},
			AppendedAt: time.Date(1969, 7, 20, 20, 17, 40, 500000000, time.UTC)}},
		{"max-values", raft.Log{Index: math.MaxUint64, Term: math.MaxUint64, Type: 255, Data: []byte("x"),
			AppendedAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
	}
}

// TestEntryGolden pins the entry encoding: testdata/entries.golden holds
// the encoding of each golden case, and decoding it gives the case back.
// The package doc, FORMAT.md and this file change together or not at all.
func TestEntryGolden(t *testing.T) {
	path := filepath.Join("testdata", "entries.golden")
	var out strings.Builder
	out.WriteString("# raft.Log entry encoding, version 1: name, then the encoding in hex.\n")
	out.WriteString("# Rewritten by go test -run TestEntryGolden -update ./raftlog/\n")
	for _, c := range goldenCases() {
		fmt.Fprintf(&out, "%s %x\n", c.name, AppendLog(nil, &c.log))
	}
	if *update {
		must(t, os.WriteFile(path, []byte(out.String()), 0o644))
	}
	golden := readGolden(t, path)
	for _, c := range goldenCases() {
		b, ok := golden[c.name]
		if !ok {
			t.Fatalf("%s: missing from %s", c.name, path)
		}
		if got := AppendLog(nil, &c.log); !bytes.Equal(got, b) {
			t.Errorf("%s: encoding\n got %x\nwant %x (golden)", c.name, got, b)
		}
		if n := EncodedLen(&c.log); n != len(b) {
			t.Errorf("%s: EncodedLen = %d, encoding has %d bytes", c.name, n, len(b))
		}
		var l raft.Log
		if err := DecodeLog(b, &l); err != nil {
			t.Fatalf("%s: DecodeLog(golden): %v", c.name, err)
		}
		if why := diffLog(&c.log, &l); why != "" {
			t.Errorf("%s: decoded golden: %s", c.name, why)
		}
	}
	if len(golden) != len(goldenCases()) {
		t.Errorf("%s has %d entries, there are %d cases", path, len(golden), len(goldenCases()))
	}
}

func readGolden(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	m := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, h, _ := strings.Cut(line, " ")
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("%s: %q: %v", path, line, err)
		}
		m[name] = b
	}
	must(t, sc.Err())
	return m
}

// TestDecodeDetails checks what the doc promises of decoded fields: nil
// for empty data and extensions, UTC times, zero time when absent,
// slices that alias the input without spare capacity.
func TestDecodeDetails(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	in := raft.Log{Index: 9, Term: 3, Data: []byte{}, Extensions: []byte{}, AppendedAt: baseTime.In(loc)}
	var out raft.Log
	b := AppendLog(nil, &in)
	must(t, DecodeLog(b, &out))
	if out.Data != nil || out.Extensions != nil {
		t.Errorf("empty data/extensions decode as %#v, %#v; want nil", out.Data, out.Extensions)
	}
	if !out.AppendedAt.Equal(in.AppendedAt) || out.AppendedAt.Location() != time.UTC {
		t.Errorf("AppendedAt = %v, want %v in UTC", out.AppendedAt, in.AppendedAt)
	}
	in = raft.Log{Index: 1, Data: []byte("abc"), Extensions: []byte("e")}
	b = AppendLog([]byte("prefix"), &in)[len("prefix"):]
	must(t, DecodeLog(b, &out))
	if !out.AppendedAt.IsZero() || cap(out.Data) != 3 || cap(out.Extensions) != 1 || &out.Data[0] != &b[len(b)-3] {
		t.Errorf("decoded %+v (data cap %d, ext cap %d)", out, cap(out.Data), cap(out.Extensions))
	}
	// A failed decode leaves the output alone.
	before := out
	if err := DecodeLog([]byte{1, 0, 0}, &out); err == nil || diffLog(&before, &out) != "" {
		t.Errorf("failed decode: err %v, output changed to %+v", err, out)
	}
}

// TestDecodeErrors lists the malformed inputs the decoder must refuse.
func TestDecodeErrors(t *testing.T) {
	zeroTime := append([]byte{1, 0, flagAppendedAt, 1, 1}, appendVarint(time.Time{}.Unix())...)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short header", []byte{1, 0}},
		{"version 0", []byte{0, 0, 0, 1, 1}},
		{"version 2", []byte{2, 0, 0, 1, 1}},
		{"unknown flag bit 2", []byte{1, 0, 4, 1, 1}},
		{"unknown flag bit 7", []byte{1, 0, 0x80, 1, 1}},
		{"no index", []byte{1, 0, 0}},
		{"truncated index", []byte{1, 0, 0, 0x80}},
		{"no term", []byte{1, 0, 0, 1}},
		{"index overflows", append([]byte{1, 0, 0}, bytes.Repeat([]byte{0xff}, 10)...)},
		{"index 11 bytes", append(append([]byte{1, 0, 0}, bytes.Repeat([]byte{0x80}, 10)...), 0)},
		{"non-minimal index", []byte{1, 0, 0, 0x85, 0x00, 1}},
		{"non-minimal term", []byte{1, 0, 0, 1, 0x80, 0x00}},
		{"non-minimal zero", []byte{1, 0, 0, 0x80, 0x00, 1}},
		{"time flag, no time", []byte{1, 0, flagAppendedAt, 1, 1}},
		{"time flag, no nanos", []byte{1, 0, flagAppendedAt, 1, 1, 2}},
		{"nanos 1e9", append([]byte{1, 0, flagAppendedAt, 1, 1, 2}, appendUvarint(1e9)...)},
		{"zero time with flag", append(zeroTime, 0)},
		{"extensions flag, no length", []byte{1, 0, flagExtensions, 1, 1}},
		{"extensions length 0", []byte{1, 0, flagExtensions, 1, 1, 0, 'd'}},
		{"extensions overrun", []byte{1, 0, flagExtensions, 1, 1, 3, 'a', 'b'}},
		{"extensions length non-minimal", []byte{1, 0, flagExtensions, 1, 1, 0x81, 0x00, 'a'}},
	} {
		var l raft.Log
		err := DecodeLog(tc.b, &l)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: DecodeLog(%x) = %v, want ErrCorrupt", tc.name, tc.b, err)
		}
	}
}

func appendUvarint(v uint64) []byte { return AppendLog(nil, &raft.Log{Index: v})[3 : 3+uvarintLen(v)] }

func appendVarint(v int64) []byte { return appendUvarint(zigzag(v)) }

// TestEncodingRoundTrip encodes random entries, decodes them, and checks
// every field, the length and the canonical re-encoding.
func TestEncodingRoundTrip(t *testing.T) {
	rng := newRand(1)
	field := func(max int) []byte {
		if rng.IntN(3) == 0 {
			return nil
		}
		b := make([]byte, rng.IntN(max))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for i := 0; i < 2000; i++ {
		in := raft.Log{
			Index:      rng.Uint64() >> rng.IntN(64),
			Term:       rng.Uint64() >> rng.IntN(64),
			Type:       raft.LogType(rng.IntN(256)),
			Data:       field(300),
			Extensions: field(40),
		}
		if rng.IntN(2) == 0 {
			in.AppendedAt = time.Unix(rng.Int64N(1<<40)-1<<39, rng.Int64N(1e9))
		}
		b := AppendLog(nil, &in)
		var out raft.Log
		if err := DecodeLog(b, &out); err != nil {
			t.Fatalf("DecodeLog(AppendLog(%+v)): %v", in, err)
		}
		if why := diffLog(&in, &out); why != "" {
			t.Fatalf("round trip of %+v: %s", in, why)
		}
		if n := EncodedLen(&in); n != len(b) {
			t.Fatalf("EncodedLen = %d, encoding has %d bytes", n, len(b))
		}
		if re := AppendLog(nil, &out); !bytes.Equal(re, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", b, re)
		}
	}
}

// FuzzDecodeLog checks that the decoder never panics, refuses with
// ErrCorrupt only, and accepts only canonical encodings: whatever decodes
// re-encodes to the same bytes. Seeds: testdata/fuzz/FuzzDecodeLog and the
// golden cases.
func FuzzDecodeLog(f *testing.F) {
	for _, c := range goldenCases() {
		f.Add(AppendLog(nil, &c.log))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var l raft.Log
		if err := DecodeLog(b, &l); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeLog(%x) = %v, not ErrCorrupt", b, err)
			}
			return
		}
		if re := AppendLog(nil, &l); !bytes.Equal(re, b) {
			t.Fatalf("re-encoding of %+v differs:\n in %x\nout %x", l, b, re)
		}
		if n := EncodedLen(&l); n != len(b) {
			t.Fatalf("EncodedLen = %d for %d bytes", n, len(b))
		}
	})
}

// FuzzDecodeStable does the same for the stable file: no panic, only
// ErrCorrupt, and what decodes re-encodes to the same bytes.
func FuzzDecodeStable(f *testing.F) {
	f.Add(encodeStable(map[string][]byte{}))
	f.Add(encodeStable(goldenStable()))
	f.Fuzz(func(t *testing.T, b []byte) {
		kv, err := decodeStable(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decodeStable(%x) = %v, not ErrCorrupt", b, err)
			}
			return
		}
		if re := encodeStable(kv); !bytes.Equal(re, b) {
			t.Fatalf("re-encoding of %q differs:\n in %x\nout %x", kv, b, re)
		}
		// The checksum makes random inputs fail early; also parse the
		// body of inputs whose checksum is fixed up.
		if len(b) >= stableHeaderSize {
			c := bytes.Clone(b)
			putUint32(c[20:], stableCRC(c))
			if kv, err := decodeStable(c); err == nil && !bytes.Equal(encodeStable(kv), c) {
				t.Fatalf("re-encoding of fixed-up %x differs", c)
			}
		}
	})
}

func putUint32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

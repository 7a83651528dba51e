package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
	"strings"
	"testing"
)

// specEncode builds a record from the package doc's diagram alone, without
// calling Append or checksum, so that tests compare the codec against the
// written spec rather than against itself.
func specEncode(t Type, index uint64, payload []byte) []byte {
	rec := make([]byte, HeaderSize+len(payload))
	binary.LittleEndian.PutUint32(rec[4:], uint32(t)<<30|uint32(len(payload)))
	binary.LittleEndian.PutUint64(rec[8:], index)
	copy(rec[HeaderSize:], payload)
	crc := crc32.Checksum(rec[4:], crc32.MakeTable(crc32.Castagnoli))
	binary.LittleEndian.PutUint32(rec[0:], bits.RotateLeft32(crc, -15)+0xa282ead8)
	return rec
}

// pattern returns n deterministic bytes: byte i is i mod 251.
func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i % 251)
	}
	return p
}

var payloadSizes = []struct {
	name string
	n    int
}{
	{"empty", 0},
	{"one", 1},
	{"small", 5},
	{"large", 100 << 10},
}

// TestRoundTrip appends every type with empty, small and large payloads after
// a non-empty prefix and checks that Decode, DecodeHeader, Verify and
// VerifyRecord accept it and return its fields, and that the encoding matches
// the spec byte for byte.
func TestRoundTrip(t *testing.T) {
	for _, typ := range []Type{Full, More, Marker} {
		for _, ps := range payloadSizes {
			for _, index := range []uint64{0, 1, 1 << 40, math.MaxUint64} {
				t.Run(fmt.Sprintf("%v/%s/%d", typ, ps.name, index), func(t *testing.T) {
					checkRoundTrip(t, typ, index, pattern(ps.n))
				})
			}
		}
	}
}

func checkRoundTrip(t *testing.T, typ Type, index uint64, payload []byte) {
	t.Helper()
	prefix := []byte("prefix")
	buf := Append(append([]byte(nil), prefix...), typ, index, payload)
	if !bytes.Equal(buf[:len(prefix)], prefix) {
		t.Fatalf("Append changed dst's existing bytes: %q", buf[:len(prefix)])
	}
	rec := buf[len(prefix):]
	if want := specEncode(typ, index, payload); !bytes.Equal(rec, want) {
		t.Fatalf("Append = %x, spec says %x", rec, want)
	}
	want := Header{Type: typ, Length: uint32(len(payload)), Index: index, CRC: binary.LittleEndian.Uint32(rec)}
	h, err := DecodeHeader(rec)
	if err != nil || h != want {
		t.Fatalf("DecodeHeader = %+v, %v; want %+v, nil", h, err, want)
	}
	if h.Size() != len(rec) {
		t.Fatalf("Size = %d, want %d", h.Size(), len(rec))
	}
	// Trailing bytes after the record must be ignored.
	for _, b := range [][]byte{rec, append(append([]byte(nil), rec...), 0xff, 0, 1)} {
		h, p, err := Decode(b)
		if err != nil || h != want || !bytes.Equal(p, payload) {
			t.Fatalf("Decode = %+v, %d bytes, %v; want %+v, %d bytes, nil", h, len(p), err, want, len(payload))
		}
		if len(p) > 0 && &p[0] != &b[HeaderSize] {
			t.Fatal("Decode's payload does not alias its input")
		}
	}
	if err := Verify(h, rec[4:HeaderSize], rec[HeaderSize:]); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if p, err := VerifyRecord(rec); err != nil || !bytes.Equal(p, payload) {
		t.Fatalf("VerifyRecord = %d bytes, %v", len(p), err)
	}
}

// TestAppendConcatenates checks that records appended one after another decode
// in sequence from the same buffer.
func TestAppendConcatenates(t *testing.T) {
	var buf []byte
	buf = Append(buf, More, 1, []byte("a"))
	buf = Append(buf, Full, 2, nil)
	buf = AppendMarker(buf, MarkerSynced, 33)
	want := []struct {
		typ   Type
		index uint64
		p     string
	}{{More, 1, "a"}, {Full, 2, ""}, {Marker, 33, "\x01"}}
	for i, w := range want {
		h, p, err := Decode(buf)
		if err != nil || h.Type != w.typ || h.Index != w.index || string(p) != w.p {
			t.Fatalf("record %d: Decode = %+v, %q, %v; want %v %d %q", i, h, p, err, w.typ, w.index, w.p)
		}
		buf = buf[h.Size():]
	}
	if len(buf) != 0 {
		t.Fatalf("%d bytes left over", len(buf))
	}
}

// TestDecodeShort cuts records of every type and several sizes at every
// length shorter than the record and expects ErrShort (the sentinel itself)
// from Decode and VerifyRecord, and from DecodeHeader below HeaderSize.
func TestDecodeShort(t *testing.T) {
	for _, typ := range []Type{Full, More, Marker} {
		for _, n := range []int{0, 1, 5, 300} {
			rec := Append(nil, typ, 9, pattern(n))
			for l := 0; l < len(rec); l++ {
				if _, p, err := Decode(rec[:l]); err != ErrShort || p != nil {
					t.Fatalf("%v len %d cut to %d: Decode = %q, %v; want ErrShort", typ, n, l, p, err)
				}
				if _, err := VerifyRecord(rec[:l]); err != ErrShort {
					t.Fatalf("%v len %d cut to %d: VerifyRecord: %v; want ErrShort", typ, n, l, err)
				}
				if _, err := DecodeHeader(rec[:l]); (l < HeaderSize) != (err == ErrShort) {
					t.Fatalf("%v len %d cut to %d: DecodeHeader: %v", typ, n, l, err)
				}
			}
		}
	}
}

// TestDecodeHugeLengthShort: a header claiming MaxPayload bytes over a small
// buffer is ErrShort (a torn tail), decided from the length alone.
func TestDecodeHugeLengthShort(t *testing.T) {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint32(b[4:], uint32(Full)<<30|MaxPayload)
	if _, _, err := Decode(b); err != ErrShort {
		t.Fatalf("Decode: %v; want ErrShort", err)
	}
	if h, err := DecodeHeader(b); err != nil || h.Length != MaxPayload || h.Size() != HeaderSize+MaxPayload {
		t.Fatalf("DecodeHeader = %+v, %v", h, err)
	}
}

// TestDecodeZero: an all-zero header is ErrZero (the sentinel itself) from
// DecodeHeader, Decode and VerifyRecord, whatever follows it; fewer than
// HeaderSize zeros are ErrShort.
func TestDecodeZero(t *testing.T) {
	for _, n := range []int{HeaderSize, HeaderSize + 1, 4096} {
		b := make([]byte, n)
		if _, err := DecodeHeader(b); err != ErrZero {
			t.Errorf("%d zeros: DecodeHeader: %v; want ErrZero", n, err)
		}
		if _, p, err := Decode(b); err != ErrZero || p != nil {
			t.Errorf("%d zeros: Decode = %q, %v; want ErrZero", n, p, err)
		}
		if _, err := VerifyRecord(b); err != ErrZero {
			t.Errorf("%d zeros: VerifyRecord: %v; want ErrZero", n, err)
		}
	}
	b := append(make([]byte, HeaderSize), Append(nil, Full, 1, []byte("x"))...)
	if _, _, err := Decode(b); err != ErrZero {
		t.Errorf("zero header before a record: %v; want ErrZero", err)
	}
	if _, _, err := Decode(make([]byte, HeaderSize-1)); err != ErrShort {
		t.Errorf("%d zeros: %v; want ErrShort", HeaderSize-1, err)
	}
}

// TestDecodeInvalidType: a header of type 0 with any nonzero bit anywhere in
// the header is ErrCorrupt, never ErrZero, from DecodeHeader and Decode.
func TestDecodeInvalidType(t *testing.T) {
	for pos := 0; pos < HeaderSize; pos++ {
		for bit := 0; bit < 8; bit++ {
			b := make([]byte, HeaderSize+8)
			b[pos] = 1 << bit
			if b[7]>>6 != 0 {
				continue // sets the type bits: covered by TestBitFlips
			}
			if _, err := DecodeHeader(b); !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrZero) {
				t.Errorf("byte %d bit %d: DecodeHeader: %v; want ErrCorrupt", pos, bit, err)
			}
			if _, _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
				t.Errorf("byte %d bit %d: Decode: %v; want ErrCorrupt", pos, bit, err)
			}
		}
	}
	// A well-formed record whose type bits are cleared.
	rec := Append(nil, Full, 5, []byte("abc"))
	rec[7] &^= 0xc0
	if _, err := DecodeHeader(rec); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "invalid type") {
		t.Errorf("type cleared: %v; want ErrCorrupt (invalid type)", err)
	}
}

// TestBitFlips flips each bit of every byte of small records, one at a time,
// and asserts precisely:
//
//   - Decode and VerifyRecord never succeed, so the record is never accepted,
//     with its original content or any other;
//   - the error is ErrShort exactly when the flip is in the typelen field, the
//     type stays nonzero, and the altered length runs past the end of the
//     buffer; in every other case it is ErrCorrupt (invalid type or checksum
//     mismatch), never ErrZero.
//
// Each record is checked both alone and followed by 64 KiB of slack, so that
// flips of low length bits are checked by the CRC rather than the buffer end.
func TestBitFlips(t *testing.T) {
	recs := []struct {
		name string
		rec  []byte
	}{
		{"full", Append(nil, Full, 7, []byte("abc"))},
		{"more-empty", Append(nil, More, 1, nil)},
		{"marker", AppendMarker(nil, MarkerSynced, 42)},
		{"full-64", Append(nil, Full, 1<<33, pattern(64))},
	}
	for _, r := range recs {
		for _, slack := range []int{0, 64 << 10} {
			t.Run(fmt.Sprintf("%s/slack=%d", r.name, slack), func(t *testing.T) {
				for pos := range r.rec {
					for bit := 0; bit < 8; bit++ {
						checkFlip(t, r.rec, slack, pos, bit)
					}
				}
			})
		}
	}
}

func checkFlip(t *testing.T, rec []byte, slack, pos, bit int) {
	t.Helper()
	b := append(append([]byte(nil), rec...), make([]byte, slack)...)
	b[pos] ^= 1 << bit
	tl := binary.LittleEndian.Uint32(b[4:])
	wantShort := pos >= 4 && pos < 8 && tl>>30 != 0 && HeaderSize+int(tl&(1<<30-1)) > len(b)
	_, p, err := Decode(b)
	switch {
	case err == nil:
		t.Fatalf("byte %d bit %d: flipped record accepted, payload %q", pos, bit, p)
	case wantShort && err != ErrShort:
		t.Fatalf("byte %d bit %d: Decode: %v; want ErrShort", pos, bit, err)
	case !wantShort && !errors.Is(err, ErrCorrupt):
		t.Fatalf("byte %d bit %d: Decode: %v; want ErrCorrupt", pos, bit, err)
	}
	if p, err := VerifyRecord(b); err == nil {
		t.Fatalf("byte %d bit %d: VerifyRecord accepted %q", pos, bit, p)
	}
}

// TestVerify checks Verify against a header whose stored CRC, header tail or
// payload does not match, and that the error names both checksums.
func TestVerify(t *testing.T) {
	rec := Append(nil, Full, 3, []byte("payload"))
	h, err := DecodeHeader(rec)
	if err != nil {
		t.Fatal(err)
	}
	tail, p := rec[4:HeaderSize], rec[HeaderSize:]
	if err := Verify(h, tail, p); err != nil {
		t.Fatalf("Verify(valid): %v", err)
	}
	badCRC := h
	badCRC.CRC++
	otherTail := Append(nil, Full, 4, []byte("payload"))[4:HeaderSize]
	for _, tc := range []struct {
		name    string
		h       Header
		tail, p []byte
	}{
		{"crc", badCRC, tail, p},
		{"index", h, otherTail, p},
		{"payload", h, tail, []byte("paylaod")},
		{"payload-truncated", h, tail, p[:len(p)-1]},
		{"payload-nil", h, tail, nil},
	} {
		err := Verify(tc.h, tc.tail, tc.p)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "checksum mismatch") {
			t.Errorf("%s: Verify: %v; want ErrCorrupt (checksum mismatch)", tc.name, err)
		}
	}
}

// TestRelocatedRecord: a valid record whose index is rewritten (as if copied
// to where another index is expected) fails the checksum.
func TestRelocatedRecord(t *testing.T) {
	rec := Append(nil, Full, 10, []byte("x"))
	binary.LittleEndian.PutUint64(rec[8:], 11)
	if _, err := VerifyRecord(rec); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("VerifyRecord: %v; want ErrCorrupt", err)
	}
}

// TestAppendAllocs: Append and AppendMarker allocate nothing when dst has
// capacity for the record.
func TestAppendAllocs(t *testing.T) {
	for _, n := range []int{0, 128, 64 << 10} {
		payload := pattern(n)
		dst := make([]byte, 0, HeaderSize+n)
		for _, typ := range []Type{Full, More, Marker} {
			if a := testing.AllocsPerRun(100, func() { dst = Append(dst[:0], typ, 1, payload) }); a != 0 {
				t.Errorf("Append(%v, %d bytes): %v allocs per run; want 0", typ, n, a)
			}
		}
	}
	dst := make([]byte, 0, HeaderSize+1)
	if a := testing.AllocsPerRun(100, func() { dst = AppendMarker(dst[:0], MarkerSynced, 7) }); a != 0 {
		t.Errorf("AppendMarker: %v allocs per run; want 0", a)
	}
}

// TestAppendPanics: Append panics on any type other than Full, More and
// Marker, naming the problem. (The len(payload) > MaxPayload panic is not
// exercised: it would need a 1 GiB slice.)
func TestAppendPanics(t *testing.T) {
	for _, typ := range []Type{Invalid, 4, 0x41, 255} {
		t.Run(fmt.Sprint(uint8(typ)), func(t *testing.T) {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.Contains(s, "record: Append") {
					t.Fatalf("recovered %v; want a panic naming record: Append", r)
				}
			}()
			Append(nil, typ, 1, []byte("x"))
			t.Fatal("Append did not panic")
		})
	}
}

// TestAppendMarkerLayout pins AppendMarker's bytes field by field: typelen
// is type 3 and length 1, the index field holds the value, the payload is
// the one kind byte, and the CRC is the masked CRC-32C of bytes [4, 17).
func TestAppendMarkerLayout(t *testing.T) {
	rec := AppendMarker([]byte("x"), MarkerSynced, 0x0102030405060708)[1:]
	want := []byte{
		0, 0, 0, 0, // crc, filled below
		0x01, 0x00, 0x00, 0xc0, // typelen: 3<<30 | 1
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // value
		0x01, // MarkerSynced
	}
	crc := crc32.Checksum(want[4:], crc32.MakeTable(crc32.Castagnoli))
	binary.LittleEndian.PutUint32(want, bits.RotateLeft32(crc, -15)+0xa282ead8)
	if !bytes.Equal(rec, want) {
		t.Fatalf("AppendMarker =\n%x\nwant\n%x", rec, want)
	}
	h, p, err := Decode(rec)
	if err != nil || h.Type != Marker || h.Index != 0x0102030405060708 || !bytes.Equal(p, []byte{byte(MarkerSynced)}) {
		t.Fatalf("Decode = %+v, %x, %v", h, p, err)
	}
}

// TestMask pins Mask to LevelDB's definition: rotate right 15, add
// 0xa282ead8, modulo 2^32. The "123456789" row uses the standard CRC-32C
// check value.
func TestMask(t *testing.T) {
	for _, tc := range []struct{ crc, want uint32 }{
		{0, 0xa282ead8},
		{1, 0xa284ead8},
		{0x8000, 0xa282ead9},
		{0xffffffff, 0xa282ead7},
		{0x12345678, 0x4f730f40},
		{crc32.Checksum([]byte("123456789"), crc32.MakeTable(crc32.Castagnoli)), 0xc78ab0e5},
	} {
		if got := Mask(tc.crc); got != tc.want {
			t.Errorf("Mask(%#08x) = %#08x; want %#08x", tc.crc, got, tc.want)
		}
	}
	if c := crc32.Checksum([]byte("123456789"), crc32.MakeTable(crc32.Castagnoli)); c != 0xe3069283 {
		t.Fatalf("CRC-32C check value = %#08x", c)
	}
}

// TestType checks String and IsEntry for every valid type and some invalid
// ones.
func TestType(t *testing.T) {
	for _, tc := range []struct {
		t     Type
		s     string
		entry bool
	}{
		{Invalid, "invalid", false},
		{Full, "full", true},
		{More, "more", true},
		{Marker, "marker", false},
		{4, "invalid", false},
		{255, "invalid", false},
	} {
		if s := tc.t.String(); s != tc.s {
			t.Errorf("Type(%d).String() = %q; want %q", uint8(tc.t), s, tc.s)
		}
		if e := tc.t.IsEntry(); e != tc.entry {
			t.Errorf("Type(%d).IsEntry() = %v; want %v", uint8(tc.t), e, tc.entry)
		}
	}
}

// TestWireConstants guards the values the format depends on.
func TestWireConstants(t *testing.T) {
	if HeaderSize != 16 || MaxPayload != 1<<30-1 || Full != 1 || More != 2 || Marker != 3 || MarkerSynced != 1 {
		t.Fatal("a wire constant changed")
	}
	if (Header{Length: 5}).Size() != 21 {
		t.Fatal("Header.Size")
	}
}

func BenchmarkAppend(b *testing.B) {
	payload := pattern(128)
	dst := make([]byte, 0, HeaderSize+len(payload))
	b.ReportAllocs()
	b.SetBytes(int64(HeaderSize + len(payload)))
	for b.Loop() {
		dst = Append(dst[:0], Full, 1, payload)
	}
}

func BenchmarkDecode(b *testing.B) {
	rec := Append(nil, Full, 1, pattern(128))
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if _, _, err := Decode(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMarkerKindValid: only the defined marker kinds are valid.
func TestMarkerKindValid(t *testing.T) {
	for k := range 256 {
		want := MarkerKind(k) == MarkerSynced || MarkerKind(k) == MarkerClosed
		if got := MarkerKind(k).Valid(); got != want {
			t.Errorf("MarkerKind(%d).Valid() = %v; want %v", k, got, want)
		}
	}
	if MarkerClosed != 2 {
		t.Fatal("MarkerClosed changed")
	}
}

// TestAppendHeader: the header AppendHeader encodes, followed by the
// payload it was given, is the record the spec defines (and Append
// encodes); its checksum covers the payload it was given, so the record
// fails to verify if other bytes follow the header; and it allocates
// nothing when dst has room for the header.
func TestAppendHeader(t *testing.T) {
	prefix := []byte("prefix")
	for _, ps := range payloadSizes {
		for _, typ := range []Type{Full, More, Marker} {
			payload := pattern(ps.n)
			h := AppendHeader(append([]byte(nil), prefix...), typ, 42, payload)
			if len(h) != len(prefix)+HeaderSize || !bytes.Equal(h[:len(prefix)], prefix) {
				t.Fatalf("%s %v: AppendHeader returned %d bytes, want the prefix and %d", ps.name, typ, len(h), HeaderSize)
			}
			rec := append(h[len(prefix):], payload...)
			if want := specEncode(typ, 42, payload); !bytes.Equal(rec, want) {
				t.Errorf("%s %v: header + payload = %x, spec says %x", ps.name, typ, rec, want)
			}
			if ps.n > 0 {
				rec[HeaderSize] ^= 1
				if _, err := VerifyRecord(rec); !errors.Is(err, ErrCorrupt) {
					t.Errorf("%s %v: header with other payload bytes: %v, want ErrCorrupt", ps.name, typ, err)
				}
			}
		}
	}
	payload := pattern(64 << 10)
	dst := make([]byte, 0, HeaderSize)
	if a := testing.AllocsPerRun(100, func() { dst = AppendHeader(dst[:0], Full, 1, payload) }); a != 0 {
		t.Errorf("AppendHeader: %v allocs per run; want 0", a)
	}
}

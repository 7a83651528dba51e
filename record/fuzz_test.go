package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/bits"
	"testing"
	"testing/iotest"
)

// fuzzSeeds are shared by both targets; testdata/fuzz/ holds more.
func fuzzSeeds() [][]byte {
	_, _, stream := testStream()
	twoRecs := Append(Append(nil, More, 1, []byte("ab")), Full, 2, []byte("c"))
	torn := Append(nil, Full, 9, []byte("torn write"))
	hugeLen := make([]byte, HeaderSize)
	binary.LittleEndian.PutUint32(hugeLen[4:], uint32(Full)<<30|1<<29)
	return [][]byte{
		nil,
		make([]byte, HeaderSize),
		Append(nil, Full, 1, []byte("hello")),
		Append(nil, More, 2, nil),
		AppendMarker(nil, MarkerSynced, 42),
		twoRecs,
		append(append([]byte(nil), twoRecs...), make([]byte, 20)...),
		torn[:len(torn)-3],
		hugeLen,
		stream[:2000],
	}
}

// fixCRCs returns a copy of b in which every record that DecodeHeader can
// frame, from offset 0 on, carries the checksum the spec calls for (computed
// here with hash/crc32, not by the package). Random bytes almost never pass
// the CRC, so without this the fuzzer would rarely reach the code behind it.
func fixCRCs(b []byte) []byte {
	b = bytes.Clone(b)
	tab := crc32.MakeTable(crc32.Castagnoli)
	for off := 0; ; {
		h, err := DecodeHeader(b[off:])
		if err != nil || h.Size() > len(b)-off {
			return b
		}
		crc := crc32.Checksum(b[off+4:off+h.Size()], tab)
		binary.LittleEndian.PutUint32(b[off:], bits.RotateLeft32(crc, -15)+0xa282ead8)
		off += h.Size()
	}
}

// FuzzDecode: Decode never panics; every error is one of the three sentinels
// and matches the input; and whenever Decode succeeds, Append of the decoded
// type, index and payload reproduces exactly the first h.Size() input bytes,
// so no two byte strings decode to the same record. Each input is checked
// as given and with its checksums repaired by fixCRCs.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
		checkDecode(t, fixCRCs(b))
	})
}

func checkDecode(t *testing.T, b []byte) {
	t.Helper()
	h, p, err := Decode(b)
	if err != nil {
		checkDecodeErr(t, b, h, err)
		return
	}
	if h.Size() > len(b) || len(p) != int(h.Length) {
		t.Fatalf("Decode = %+v with %d payload bytes from %d input bytes", h, len(p), len(b))
	}
	if re := Append(nil, h.Type, h.Index, p); !bytes.Equal(re, b[:h.Size()]) {
		t.Fatalf("re-encoding differs:\n in %x\nout %x", b[:h.Size()], re)
	}
	if h2, err := DecodeHeader(b); err != nil || h2 != h {
		t.Fatalf("DecodeHeader = %+v, %v; Decode said %+v", h2, err, h)
	}
}

// checkDecodeErr checks that a Decode error is the one the input calls for.
func checkDecodeErr(t *testing.T, b []byte, h Header, err error) {
	t.Helper()
	switch {
	case len(b) < HeaderSize:
		if err != ErrShort {
			t.Fatalf("%d bytes: %v; want ErrShort", len(b), err)
		}
	case err == ErrZero:
		if !bytes.Equal(b[:HeaderSize], make([]byte, HeaderSize)) {
			t.Fatalf("ErrZero for nonzero header %x", b[:HeaderSize])
		}
	case err == ErrShort:
		if h.Size() <= len(b) {
			t.Fatalf("ErrShort for a %d-byte record in %d bytes", h.Size(), len(b))
		}
	case !errors.Is(err, ErrCorrupt):
		t.Fatalf("unexpected error %v", err)
	}
}

const fuzzMaxPayload = 1 << 20

// FuzzReader feeds arbitrary bytes to Readers with maxPayload 1 MiB and
// checks that Next never panics; offsets start at 0, strictly increase, and
// are contiguous (each is the previous one plus its record's size); each
// returned record re-encodes to exactly the input bytes at its offset; the
// bytes consumed never exceed the input; the stream ends with io.EOF exactly
// at len(input) or with the error Decode gives at that offset (ErrCorrupt if
// the length exceeds the limit); and a default-buffered bytes.Reader and a
// 16-byte-buffered one-byte reader agree on everything. Each input is
// checked as given and with its checksums repaired by fixCRCs.
func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkReaders(t, b)
		checkReaders(t, fixCRCs(b))
	})
}

func checkReaders(t *testing.T, b []byte) {
	t.Helper()
	a := scanAll(t, NewReader(bytes.NewReader(b), 0, fuzzMaxPayload), b)
	c := scanAll(t, NewReader(iotest.OneByteReader(bytes.NewReader(b)), 16, fuzzMaxPayload), b)
	if len(a.offs) != len(c.offs) || a.end != c.end || !sameErr(a.err, c.err) {
		t.Fatalf("readers disagree: %d records, end %d, %v vs %d records, end %d, %v",
			len(a.offs), a.end, a.err, len(c.offs), c.end, c.err)
	}
}

type scanned struct {
	offs []int64
	end  int64
	err  error
}

// scanAll reads rd to its first error, checking each record against b.
func scanAll(t *testing.T, rd *Reader, b []byte) scanned {
	t.Helper()
	var s scanned
	for {
		off, h, p, err := rd.Next()
		if off != s.end {
			t.Fatalf("Next at offset %d; previous record ended at %d", off, s.end)
		}
		if err != nil {
			s.err = err
			checkScanEnd(t, b, off, err)
			return s
		}
		end := off + int64(h.Size())
		if end <= off || end > int64(len(b)) {
			t.Fatalf("record at %d of size %d overruns %d input bytes", off, h.Size(), len(b))
		}
		if re := Append(nil, h.Type, h.Index, p); !bytes.Equal(re, b[off:end]) {
			t.Fatalf("record at %d re-encodes differently:\n in %x\nout %x", off, b[off:end], re)
		}
		s.offs = append(s.offs, off)
		s.end = end
	}
}

// checkScanEnd checks the Reader's final error at off against Decode's.
func checkScanEnd(t *testing.T, b []byte, off int64, err error) {
	t.Helper()
	if err == io.EOF {
		if off != int64(len(b)) {
			t.Fatalf("io.EOF at %d of %d bytes", off, len(b))
		}
		return
	}
	h, _, derr := Decode(b[off:])
	if h.Type != Invalid && h.Length > fuzzMaxPayload {
		derr = ErrCorrupt
	}
	if !sameErr(err, derr) {
		t.Fatalf("Reader error at %d: %v; Decode says %v", off, err, derr)
	}
}

// sameErr reports whether a and b are the same sentinel.
func sameErr(a, b error) bool {
	for _, s := range []error{io.EOF, ErrShort, ErrZero, ErrCorrupt} {
		if errors.Is(a, s) || errors.Is(b, s) {
			return errors.Is(a, s) && errors.Is(b, s)
		}
	}
	return a == b
}

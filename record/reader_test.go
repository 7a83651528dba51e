package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

type testRec struct {
	typ     Type
	index   uint64
	payload []byte
}

// testStream encodes a mix of types and sizes, including payloads larger
// than the small buffer sizes the tests use, and returns the records, their
// offsets and the bytes.
func testStream() ([]testRec, []int64, []byte) {
	recs := []testRec{
		{More, 1, []byte("a")},
		{Full, 2, nil},
		{Marker, 34, []byte{byte(MarkerSynced)}},
		{Full, 3, pattern(1000)},
		{More, 4, pattern(17)},
		{Full, 5, pattern(70 << 10)},
		{Full, 6, []byte("last")},
	}
	var b []byte
	offs := make([]int64, len(recs))
	for i, r := range recs {
		offs[i] = int64(len(b))
		b = Append(b, r.typ, r.index, r.payload)
	}
	return recs, offs, b
}

// readerCase is one way of delivering a stream to a Reader.
var readerCases = []struct {
	name    string
	bufSize int
	wrap    func(io.Reader) io.Reader
}{
	{"default", 0, nil},
	{"buf16", 16, nil},
	{"buf17", 17, nil},
	{"buf100", 100, nil},
	{"buf16-onebyte", 16, iotest.OneByteReader},
	{"buf100-onebyte", 100, iotest.OneByteReader},
	{"buf64-half", 64, iotest.HalfReader},
	{"buf16-dataerr", 16, iotest.DataErrReader},
	{"default-dataerr", 0, iotest.DataErrReader},
}

func newTestReader(b []byte, bufSize int, wrap func(io.Reader) io.Reader) *Reader {
	var r io.Reader = bytes.NewReader(b)
	if wrap != nil {
		r = wrap(r)
	}
	return NewReader(r, bufSize, 0)
}

// expectRecords reads want from rd, checking Offset before each call and the
// offset, header and payload Next returns.
func expectRecords(t *testing.T, rd *Reader, want []testRec, offs []int64) {
	t.Helper()
	for i, w := range want {
		if o := rd.Offset(); o != offs[i] {
			t.Fatalf("record %d: Offset() = %d; want %d", i, o, offs[i])
		}
		off, h, p, err := rd.Next()
		if err != nil || off != offs[i] || h.Type != w.typ || h.Index != w.index ||
			h.Length != uint32(len(w.payload)) || !bytes.Equal(p, w.payload) {
			t.Fatalf("record %d: Next = %d, %+v, %d bytes, %v; want %d, %v %d, %d bytes",
				i, off, h, len(p), err, offs[i], w.typ, w.index, len(w.payload))
		}
	}
}

// expectErr checks that Next fails with want at off, twice (errors are
// sticky), returning no payload.
func expectErr(t *testing.T, rd *Reader, want error, off int64) {
	t.Helper()
	for range 2 {
		o, _, p, err := rd.Next()
		if !errors.Is(err, want) || o != off || p != nil {
			t.Fatalf("Next = %d, %d bytes, %v; want %d, nil, %v", o, len(p), err, off, want)
		}
		if rd.Offset() != off {
			t.Fatalf("Offset() = %d after error; want %d", rd.Offset(), off)
		}
	}
}

// TestReaderSequence: every record comes back in order with its offset,
// header and payload, then io.EOF (exactly, repeatedly) at the stream end,
// for several buffer sizes and delivery patterns.
func TestReaderSequence(t *testing.T) {
	recs, offs, b := testStream()
	for _, rc := range readerCases {
		t.Run(rc.name, func(t *testing.T) {
			rd := newTestReader(b, rc.bufSize, rc.wrap)
			expectRecords(t, rd, recs, offs)
			for range 2 {
				if off, _, p, err := rd.Next(); err != io.EOF || off != int64(len(b)) || p != nil {
					t.Fatalf("at end: Next = %d, %q, %v; want %d, nil, io.EOF", off, p, err, len(b))
				}
			}
		})
	}
}

// TestReaderEmpty: an empty stream is io.EOF at offset 0.
func TestReaderEmpty(t *testing.T) {
	rd := NewReader(bytes.NewReader(nil), 0, 0)
	if off, _, _, err := rd.Next(); err != io.EOF || off != 0 {
		t.Fatalf("Next = %d, %v; want 0, io.EOF", off, err)
	}
}

// TestReaderGrowth: with a 16-byte buffer a 70 KiB record forces the buffer
// to grow to exactly the record's size, and no more.
func TestReaderGrowth(t *testing.T) {
	rec := Append(nil, Full, 1, pattern(70<<10))
	rd := NewReader(bytes.NewReader(rec), 16, 0)
	if len(rd.buf) != 16 {
		t.Fatalf("initial buffer %d bytes; want 16", len(rd.buf))
	}
	if _, _, p, err := rd.Next(); err != nil || !bytes.Equal(p, pattern(70<<10)) {
		t.Fatalf("Next = %d bytes, %v", len(p), err)
	}
	if len(rd.buf) != len(rec) {
		t.Fatalf("buffer grew to %d bytes; want %d", len(rd.buf), len(rec))
	}
}

// TestReaderBufSizeDefault: bufSize below HeaderSize means the 64 KiB
// default; maxPayload <= 0 or above MaxPayload means MaxPayload.
func TestReaderBufSizeDefault(t *testing.T) {
	for _, tc := range []struct{ bufSize, maxPayload, wantBuf, wantMax int }{
		{0, 0, 64 << 10, MaxPayload},
		{-1, -1, 64 << 10, MaxPayload},
		{15, MaxPayload + 1, 64 << 10, MaxPayload},
		{16, 1, 16, 1},
		{4096, 1 << 20, 4096, 1 << 20},
	} {
		rd := NewReader(bytes.NewReader(nil), tc.bufSize, tc.maxPayload)
		if len(rd.buf) != tc.wantBuf || int(rd.maxPayload) != tc.wantMax {
			t.Errorf("NewReader(%d, %d): buffer %d, maxPayload %d; want %d, %d",
				tc.bufSize, tc.maxPayload, len(rd.buf), rd.maxPayload, tc.wantBuf, tc.wantMax)
		}
	}
}

// TestReaderTruncated cuts the stream at every length. At a record boundary
// the reader ends with io.EOF; anywhere else (mid-header or mid-payload) it
// returns the records before the cut, then ErrShort at the offset of the
// partial record.
func TestReaderTruncated(t *testing.T) {
	recs, offs, b := testStream()
	for _, rc := range []struct {
		name    string
		bufSize int
		wrap    func(io.Reader) io.Reader
	}{{"buf32", 32, nil}, {"default-dataerr", 0, iotest.DataErrReader}} {
		t.Run(rc.name, func(t *testing.T) {
			for cut := 0; cut <= len(b); cut++ {
				if cut > 2000 && cut < len(b)-2000 && cut%97 != 0 {
					continue // the middle of the 70 KiB payload, sampled
				}
				n := 0 // records wholly before the cut
				for n < len(recs) && offs[n]+int64(HeaderSize+len(recs[n].payload)) <= int64(cut) {
					n++
				}
				rd := newTestReader(b[:cut], rc.bufSize, rc.wrap)
				expectRecords(t, rd, recs[:n], offs)
				var end int64 = int64(cut)
				want := io.EOF
				if n < len(recs) && offs[n] < int64(cut) {
					end, want = offs[n], ErrShort
				}
				o, _, _, err := rd.Next()
				if err != want || o != end {
					t.Fatalf("cut at %d: Next = %d, %v; want %d, %v", cut, o, err, end, want)
				}
			}
		})
	}
}

// TestReaderZeros: zeros after the records (preallocated space) are ErrZero
// at the offset where they start, unless fewer than HeaderSize remain, which
// is ErrShort.
func TestReaderZeros(t *testing.T) {
	recs, offs, b := testStream()
	for _, zeros := range []int{1, HeaderSize - 1, HeaderSize, HeaderSize + 1, 4096} {
		for _, rc := range readerCases {
			t.Run(fmt.Sprintf("%d/%s", zeros, rc.name), func(t *testing.T) {
				s := append(append([]byte(nil), b...), make([]byte, zeros)...)
				rd := newTestReader(s, rc.bufSize, rc.wrap)
				expectRecords(t, rd, recs, offs)
				want := ErrZero
				if zeros < HeaderSize {
					want = ErrShort
				}
				expectErr(t, rd, want, int64(len(b)))
			})
		}
	}
}

// TestReaderCorrupt: a flipped bit in the payload of the fourth record yields
// the first three records, then ErrCorrupt at the fourth's offset; the error
// is sticky although valid records follow.
func TestReaderCorrupt(t *testing.T) {
	recs, offs, b := testStream()
	for _, rc := range readerCases {
		t.Run(rc.name, func(t *testing.T) {
			s := append([]byte(nil), b...)
			s[offs[3]+HeaderSize+10] ^= 0x04
			rd := newTestReader(s, rc.bufSize, rc.wrap)
			expectRecords(t, rd, recs[:3], offs)
			expectErr(t, rd, ErrCorrupt, offs[3])
		})
	}
}

// TestReaderInvalidType: a nonzero header of type 0 is ErrCorrupt.
func TestReaderInvalidType(t *testing.T) {
	b := Append(nil, Full, 1, []byte("x"))
	b = append(b, 1) // crc byte of a header that is otherwise zero
	b = append(b, make([]byte, HeaderSize-1)...)
	rd := NewReader(bytes.NewReader(b), 0, 0)
	if _, _, _, err := rd.Next(); err != nil {
		t.Fatal(err)
	}
	expectErr(t, rd, ErrCorrupt, HeaderSize+1)
}

// hugeHeader is a tiny stream whose header claims a payload of n bytes.
func hugeHeader(n uint32) []byte {
	b := make([]byte, HeaderSize+8)
	binary.LittleEndian.PutUint32(b[0:], 0xdeadbeef)
	binary.LittleEndian.PutUint32(b[4:], uint32(Full)<<30|n)
	return b
}

// TestReaderMaxPayload: a header whose length exceeds maxPayload is
// ErrCorrupt, decided before any allocation: the buffer keeps its initial
// 64 bytes, and the whole NewReader+Next costs a few small allocations and
// well under a kilobyte of heap, against a claimed length of 512 MiB.
func TestReaderMaxPayload(t *testing.T) {
	const limit = 1 << 20
	b := hugeHeader(1 << 29)
	rd := NewReader(bytes.NewReader(b), 64, limit)
	expectErr(t, rd, ErrCorrupt, 0)
	if len(rd.buf) != 64 || cap(rd.buf) != 64 {
		t.Fatalf("buffer is %d bytes (cap %d); want 64", len(rd.buf), cap(rd.buf))
	}

	allocs := testing.AllocsPerRun(20, func() {
		rd := NewReader(bytes.NewReader(b), 64, limit)
		if _, _, _, err := rd.Next(); !errors.Is(err, ErrCorrupt) {
			t.Fatal(err)
		}
	})
	if allocs > 10 {
		t.Errorf("%v allocs per NewReader+Next; want few", allocs)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		rd := NewReader(bytes.NewReader(b), 64, limit)
		if _, _, _, err := rd.Next(); !errors.Is(err, ErrCorrupt) {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if perRun := (after.TotalAlloc - before.TotalAlloc) / 10; perRun > 1024 {
		t.Errorf("%d heap bytes per NewReader+Next; want < 1 KiB", perRun)
	}
}

// TestReaderMaxPayloadBoundary: a payload of exactly maxPayload bytes is
// read; one byte more is ErrCorrupt.
func TestReaderMaxPayloadBoundary(t *testing.T) {
	ok := Append(nil, Full, 1, pattern(100))
	rd := NewReader(bytes.NewReader(ok), 16, 100)
	if _, _, p, err := rd.Next(); err != nil || len(p) != 100 {
		t.Fatalf("payload == maxPayload: Next = %d bytes, %v", len(p), err)
	}
	rd = NewReader(bytes.NewReader(Append(nil, Full, 1, pattern(101))), 16, 100)
	expectErr(t, rd, ErrCorrupt, 0)
	// Within the limit but past the end of the stream: a torn tail.
	rd = NewReader(bytes.NewReader(hugeHeader(100)), 16, 100)
	expectErr(t, rd, ErrShort, 0)
}

var errBoom = errors.New("boom")

// dataErrReader returns all of its data together with err in one Read, as
// io.Reader permits.
type dataErrReader struct {
	data []byte
	err  error
	done bool
}

func (r *dataErrReader) Read(p []byte) (int, error) {
	if r.done {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	if len(r.data) == 0 {
		r.done = true
		return n, r.err
	}
	return n, nil
}

// TestReaderReadError: a non-EOF error from the underlying reader is returned
// (sticky, at the offset of the record being read), and records whose bytes
// arrived in the same Read as the error are returned first, as io.Reader's
// contract asks ("process the n > 0 bytes returned before considering the
// error").
func TestReaderReadError(t *testing.T) {
	recs, offs, b := testStream()
	for _, bufSize := range []int{0, 16, 200 << 10} {
		t.Run(fmt.Sprintf("whole/buf%d", bufSize), func(t *testing.T) {
			rd := NewReader(&dataErrReader{data: b, err: errBoom}, bufSize, 0)
			expectRecords(t, rd, recs, offs)
			expectErr(t, rd, errBoom, int64(len(b)))
		})
		t.Run(fmt.Sprintf("mid-record/buf%d", bufSize), func(t *testing.T) {
			cut := int(offs[3]) + HeaderSize + 5
			rd := NewReader(&dataErrReader{data: b[:cut], err: errBoom}, bufSize, 0)
			expectRecords(t, rd, recs[:3], offs)
			expectErr(t, rd, errBoom, offs[3])
		})
	}
	t.Run("immediate", func(t *testing.T) {
		rd := NewReader(iotest.ErrReader(errBoom), 0, 0)
		expectErr(t, rd, errBoom, 0)
	})
	t.Run("timeout", func(t *testing.T) {
		// TimeoutReader fails its second Read; a one-byte reader below it
		// makes the first Read return a single byte.
		rd := NewReader(iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(b))), 0, 0)
		expectErr(t, rd, iotest.ErrTimeout, 0)
	})
}

// TestReaderWrappedEOF: an error wrapping io.EOF ends the stream like io.EOF.
func TestReaderWrappedEOF(t *testing.T) {
	recs, offs, b := testStream()
	rd := NewReader(&dataErrReader{data: b, err: fmt.Errorf("section: %w", io.EOF)}, 16, 0)
	expectRecords(t, rd, recs, offs)
	if _, _, _, err := rd.Next(); err != io.EOF {
		t.Fatalf("Next: %v; want io.EOF", err)
	}
}

// TestReaderPayloadValidUntilNext: the payload Next returns is intact when
// used before the following call, even as the buffer is compacted.
func TestReaderPayloadValidUntilNext(t *testing.T) {
	var b []byte
	for i := range 200 {
		b = Append(b, Full, uint64(i), pattern(i))
	}
	rd := NewReader(bytes.NewReader(b), 64, 0)
	for i := range 200 {
		_, h, p, err := rd.Next()
		if err != nil || h.Index != uint64(i) || !bytes.Equal(p, pattern(i)) {
			t.Fatalf("record %d: %+v, %v", i, h, err)
		}
	}
}

func BenchmarkReader(b *testing.B) {
	var s []byte
	for i := range 1024 {
		s = Append(s, Full, uint64(i), pattern(128))
	}
	br := bytes.NewReader(s)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		br.Reset(s)
		rd := NewReader(br, 64<<10, 0)
		for {
			if _, _, _, err := rd.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

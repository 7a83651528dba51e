package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/waldb/wal/record"
	"github.com/waldb/wal/vfs"
)

// scanResult is what a sequential scan of an unsealed segment found.
type scanResult struct {
	offs      []uint32 // record offsets of the complete entries
	end       int64    // offset just past the last complete batch or marker
	size      int64    // file size
	bad       int64    // offset of the first unreadable record, or -1
	badErr    error
	stop      int64  // where the scan stopped: bad, or the end of the file
	openFirst uint64 // first index of an incomplete batch at the end, or 0
	openLast  uint64
	closed    bool // the last record is a clean-close marker
	voided    bool // scan stopped at the limit index (interrupted TruncateBack)
}

// segScanner reads the records of a segment in order, from the end of its
// header, and checks each against FORMAT.md: its CRC (record.Reader),
// entries in index sequence from the segment's first index, markers valid
// in the segment and never inside a batch. Recovery (scanSegment) and
// Verify (verifySegment) both read segments through it. (walctl's salvage
// does not: it looks for records after damage, at every byte.)
type segScanner struct {
	rd  *record.Reader
	hdr segHeader
	// limit is the last index the segment may hold (an interrupted
	// TruncateBack, see scanSegment), else noLimit.
	limit   uint64
	expect  uint64 // the index the next entry must carry
	pending int    // entries of the batch in progress (More records since the last Full)
}

// errBeyondLimit: the next entry's index is above the scanner's limit.
var errBeyondLimit = errors.New("entry beyond the limit")

// badRecord is a record that decodes but breaks the format in sequence.
type badRecord string

func (e badRecord) Error() string { return string(e) }

// isFormatErr reports whether an error of segScanner.next is about the
// bytes at that offset (a record that breaks the format) rather than a
// failure to read them.
func isFormatErr(err error) bool {
	var b badRecord
	return errors.Is(err, record.ErrShort) || errors.Is(err, record.ErrZero) ||
		errors.Is(err, record.ErrCorrupt) || errors.As(err, &b)
}

// newSegScanner scans segment s's records in [segHeaderSize, end). It
// judges markers by the header in the file, not by s's fields (a segment
// struct made for a re-cut file need not carry the salt). A header that
// does not decode is a badRecord at offset 0.
func newSegScanner(s *segment, end int64, limit uint64, bufSize, maxEntry int) (*segScanner, error) {
	b := make([]byte, segHeaderSize)
	if _, err := s.f.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	h, err := decodeSegHeader(b)
	if err != nil {
		return nil, badRecord(err.Error())
	}
	return &segScanner{
		rd:  record.NewReader(io.NewSectionReader(s.f, segHeaderSize, end-segHeaderSize), bufSize, maxEntry),
		hdr: h, limit: limit, expect: s.first,
	}, nil
}

// next returns the next record, its file offset, and its payload (valid
// until the next call). Errors: io.EOF at the end of the records;
// errBeyondLimit for an entry above the limit; an error for which
// isFormatErr holds if the record at off breaks the format; any other
// error is a read failure. After an error the scan is over.
func (sc *segScanner) next() (int64, record.Header, []byte, error) {
	rel, h, p, err := sc.rd.Next()
	off := rel + segHeaderSize
	if err != nil {
		return off, h, nil, err
	}
	if h.Type.IsEntry() && h.Index > sc.limit {
		return off, h, p, errBeyondLimit
	}
	if err := checkScanned(sc.hdr, h, p, sc.expect, sc.pending, off); err != nil {
		return off, h, p, err
	}
	if h.Type.IsEntry() {
		sc.expect, sc.pending = sc.expect+1, sc.pending+1
		if h.Type == record.Full || h.Index == sc.limit {
			sc.pending = 0 // the entry at limit ends its batch (TruncateBack)
		}
	}
	return off, h, p, nil
}

// scanSegment reads an unsealed segment's records in order. Entries must
// carry consecutive indexes from s.first; a batch is complete at its Full
// record, or at index limit (the last entry kept by a TruncateBack, which
// may end a batch early). Nothing after the entry at limit is read.
func scanSegment(s *segment, size int64, limit uint64, maxEntry int) (scanResult, error) {
	res := scanResult{size: size, bad: -1, end: segHeaderSize, stop: size}
	sc, err := newSegScanner(s, size, limit, 256<<10, maxEntry)
	if err != nil {
		return res, err
	}
	for {
		off, h, p, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errBeyondLimit) {
			res.voided = true
			break
		}
		if err != nil && !isFormatErr(err) {
			// A read error says nothing about the bytes: fail, never cut.
			return res, err
		}
		if err != nil {
			res.bad, res.badErr, res.stop = off, err, off
			break
		}
		if h.Type == record.Marker {
			res.end = off + int64(h.Size())
			res.closed = record.MarkerKind(p[0]) == record.MarkerClosed
			continue
		}
		res.offs = append(res.offs, uint32(off))
		res.closed = false
		if sc.pending == 0 {
			res.end = off + int64(h.Size())
		}
		if h.Index == limit {
			// Everything after the last kept entry is void, whatever it
			// holds: old records, old markers, or a half-written seal.
			res.voided = res.end < size
			break
		}
	}
	if sc.pending > 0 {
		res.openFirst, res.openLast = sc.expect-uint64(sc.pending), sc.expect-1
		res.offs = res.offs[:len(res.offs)-sc.pending]
	}
	return res, nil
}

// checkScanned validates a decoded record in sequence, in the segment
// whose header is hdr.
func checkScanned(hdr segHeader, h record.Header, p []byte, expect uint64, pending int, off int64) error {
	switch {
	case h.Type == record.Marker && pending > 0:
		return badRecord("marker inside a batch")
	case h.Type == record.Marker && int64(h.Index) > off:
		return badRecord("bad marker")
	case h.Type == record.Marker:
		if _, ok := markerOf(hdr, p); !ok {
			return badRecord("bad marker (unknown kind, or not bound to this segment)")
		}
	case h.Type.IsEntry() && h.Index > MaxIndex:
		return badRecord("entry index above MaxIndex")
	case h.Type.IsEntry() && h.Index != expect:
		return badRecord(fmt.Sprintf("entry index %d, want %d", h.Index, expect))
	}
	return nil
}

// findProof looks for the durability proof of the bytes at cut, after the
// scan of segment s stopped at offset stop (cut <= stop <= size): a marker
// of s (markerOf) with value S, cut < S <= its own offset, at a record
// boundary that the proof walk reaches from stop (FORMAT.md, "The proof
// walk"). It returns the marker's offset, or -1.
//
// The walk steps over every record whose header is plausible (a known
// type, a length within maxLen) by its length, valid or not, so a marker
// inside the payload of a torn record, or of any record the walk passes,
// is never taken for proof. A record whose claimed end lies past the end
// of the file ends the walk: nothing follows it. Only where a header gives
// no length (zeros, an invalid type, an impossible length) does the walk
// search forward for the next marker of s, and go on from there.
func findProof(f vfs.File, hdr segHeader, stop, size, cut int64, maxLen int) (int64, error) {
	msize := markerSize(hdr.version)
	w := window{f: f, size: size}
	for p := stop; p+record.HeaderSize <= size; {
		hb, err := w.at(p, record.HeaderSize)
		if err != nil {
			return -1, err
		}
		h, err := record.DecodeHeader(hb)
		if err != nil || int64(h.Length) > int64(maxLen) {
			q, err := nextMarker(f, hdr, p+1, size)
			if err != nil || q < 0 {
				return -1, err
			}
			p = q
			continue
		}
		end := p + int64(h.Size())
		if end > size {
			return -1, nil
		}
		if h.Type == record.Marker && int64(h.Size()) == msize {
			rec, err := w.at(p, int(msize))
			if err != nil {
				return -1, err
			}
			if isProof(hdr, rec, p, cut) {
				return p, nil
			}
		}
		p = end
	}
	return -1, nil
}

// window reads small pieces of a file through one 1 MiB buffer, so the
// proof walk does not cost a system call per record.
type window struct {
	f     vfs.File
	size  int64
	buf   []byte
	start int64
}

// at returns bytes [off, off+n) of the file, n <= 1 MiB, valid until the
// next call. REQUIRES: off+n <= size.
func (w *window) at(off int64, n int) ([]byte, error) {
	if off < w.start || off+int64(n) > w.start+int64(len(w.buf)) {
		if w.buf == nil {
			w.buf = make([]byte, 1<<20)
		}
		w.start = off
		m := min(int64(cap(w.buf)), w.size-off)
		w.buf = w.buf[:m]
		if _, err := w.f.ReadAt(w.buf, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
	}
	return w.buf[off-w.start : off-w.start+int64(n)], nil
}

// isProof reports whether rec, read at offset at of the segment whose
// header is hdr, is a valid marker of that segment proving the bytes at
// cut durable.
func isProof(hdr segHeader, rec []byte, at, cut int64) bool {
	h, p, err := record.Decode(rec)
	if err != nil || h.Type != record.Marker {
		return false
	}
	_, ok := markerOf(hdr, p)
	return ok && int64(h.Index) > cut && int64(h.Index) <= at
}

// nextMarker returns the offset of the first valid marker of the segment
// whose header is hdr in [from, size) of f, or -1.
func nextMarker(f vfs.File, hdr segHeader, from, size int64) (int64, error) {
	const chunk = 1 << 20
	msize := int(markerSize(hdr.version))
	pattern := binary.LittleEndian.AppendUint32(nil, uint32(record.Marker)<<30|uint32(msize-record.HeaderSize))
	buf := make([]byte, chunk+msize)
	for pos := from; pos < size; pos += chunk {
		n := min(int64(len(buf)), size-pos)
		b := buf[:n]
		if _, err := f.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
			return -1, err
		}
		for i := 0; ; {
			j := bytes.Index(b[i:], pattern)
			if j < 0 {
				break
			}
			at := i + j - 4
			i += j + 1
			if at < 0 || at+msize > len(b) || int64(at) >= chunk {
				continue
			}
			h, p, err := record.Decode(b[at : at+msize])
			if err != nil || h.Type != record.Marker || int64(h.Index) > pos+int64(at) {
				continue
			}
			if _, ok := markerOf(hdr, p); ok {
				return pos + int64(at), nil
			}
		}
	}
	return -1, nil
}

// zeroChunk is compared against to find non-zero bytes at memory speed.
var zeroChunk = make([]byte, 1<<20)

// allZero reports whether [from, size) of f reads as zeros.
func allZero(f vfs.File, from, size int64) (bool, error) {
	buf := make([]byte, len(zeroChunk))
	for pos := from; pos < size; {
		n := min(int64(len(buf)), size-pos)
		if _, err := f.ReadAt(buf[:n], pos); err != nil && !errors.Is(err, io.EOF) {
			return false, err
		}
		if !bytes.Equal(buf[:n], zeroChunk[:n]) {
			return false, nil
		}
		pos += n
	}
	return true, nil
}

const noLimit = math.MaxUint64

package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
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
	openFirst uint64 // first index of an incomplete batch at the end, or 0
	openLast  uint64
	closed    bool // the last record is a clean-close marker
	voided    bool // scan stopped at the limit index (interrupted TruncateBack)
}

// scanSegment reads an unsealed segment's records in order. Entries must
// carry consecutive indexes from s.first; a batch is complete at its Full
// record, or at index limit (the last entry kept by a TruncateBack, which
// may end a batch early). Nothing after the entry at limit is read.
func scanSegment(s *segment, size int64, limit uint64, maxEntry int) (scanResult, error) {
	res := scanResult{size: size, bad: -1, end: segHeaderSize}
	rd := record.NewReader(io.NewSectionReader(s.f, segHeaderSize, size-segHeaderSize), 256<<10, maxEntry)
	expect, pending := s.first, 0
	for {
		rel, h, p, err := rd.Next()
		off := rel + segHeaderSize
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil && h.Type.IsEntry() && h.Index > limit {
			res.voided = true
			break
		}
		if err == nil {
			err = checkScanned(h, p, expect, pending, off)
		}
		if err != nil {
			res.bad, res.badErr = off, err
			break
		}
		if h.Type == record.Marker {
			res.end = off + int64(h.Size())
			res.closed = record.MarkerKind(p[0]) == record.MarkerClosed
			continue
		}
		res.offs = append(res.offs, uint32(off))
		expect, pending, res.closed = expect+1, pending+1, false
		if h.Type == record.Full || h.Index == limit {
			pending, res.end = 0, off+int64(h.Size())
		}
		if h.Index == limit {
			// Everything after the last kept entry is void, whatever it
			// holds: old records, old markers, or a half-written seal.
			res.voided = res.end < size
			break
		}
	}
	if pending > 0 {
		res.openFirst, res.openLast = expect-uint64(pending), expect-1
		res.offs = res.offs[:len(res.offs)-pending]
	}
	return res, nil
}

// checkScanned validates a decoded record in sequence.
func checkScanned(h record.Header, p []byte, expect uint64, pending int, off int64) error {
	switch {
	case h.Type == record.Marker && pending > 0:
		return errors.New("marker inside a batch")
	case h.Type == record.Marker && (len(p) != 1 || !record.MarkerKind(p[0]).Valid() || int64(h.Index) > off):
		return errors.New("bad marker")
	case h.Type.IsEntry() && h.Index > MaxIndex:
		return errors.New("entry index above MaxIndex")
	case h.Type.IsEntry() && h.Index != expect:
		return errors.New("entry out of sequence")
	}
	return nil
}

// markerPattern is the typelen field of a one-byte Marker record.
var markerPattern = binary.LittleEndian.AppendUint32(nil, uint32(record.Marker)<<30|1)

// findProof searches [from, size) of f for a valid sync marker whose value
// exceeds cut: proof that bytes at cut were durable before the crash. It
// returns the marker's offset, or -1.
func findProof(f vfs.File, from, size, cut int64) (int64, error) {
	const chunk = 1 << 20
	buf := make([]byte, chunk+record.HeaderSize+1)
	for pos := from; pos < size; pos += chunk {
		n := min(int64(len(buf)), size-pos)
		b := buf[:n]
		if _, err := f.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
			return -1, err
		}
		for i := 0; ; {
			j := bytes.Index(b[i:], markerPattern)
			if j < 0 {
				break
			}
			at := i + j - 4
			i += j + 1
			if at < 0 || at+record.HeaderSize+1 > len(b) || int64(at) >= chunk {
				continue
			}
			h, p, err := record.Decode(b[at:])
			if err == nil && len(p) == 1 && record.MarkerKind(p[0]).Valid() &&
				int64(h.Index) > cut && int64(h.Index) <= pos+int64(at) {
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

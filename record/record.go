// Package record frames the records of a waldb segment. It sees only byte
// slices and io.Readers; file names, rotation and fsync belong to the log.
//
// # Record frame
//
// Every record is a 16-byte header followed by its payload. All integers are
// little-endian. There is no padding and no alignment.
//
//	offset  size  field
//	0       4     crc      masked CRC-32C (Castagnoli) of bytes [4, 16+n)
//	4       4     typelen  bits 31..30: type; bits 29..0: payload length n
//	8       8     index    entry index (types Full, More) or marker value
//	16      n     payload
//
// The checksum covers the type, the length, the index and the payload, so a
// record copied to another position (whose expected index differs), a torn
// write, or a flipped bit is detected. The CRC is masked as in LevelDB
// (rotate right by 15 bits, add 0xa282ead8) so that a CRC computed over bytes
// that themselves contain CRCs is not trivially valid.
//
// # Types
//
//	0  invalid  never written; an all-zero header (preallocated space) decodes
//	            as ErrZero
//	1  Full     an entry that completes its batch (a lone entry is a batch of one)
//	2  More     an entry of a batch whose later entries follow in this segment
//	3  Marker   not an entry; the index field carries a value whose meaning the
//	            first payload byte names (see MarkerKind)
//
// A batch of n entries is written as n-1 More records followed by one Full
// record, contiguously. A batch is complete only when its Full record is
// valid; recovery discards a trailing run of More records.
//
// # Errors
//
// Decode distinguishes what recovery must tell apart:
//
//   - ErrShort: the buffer ends inside the header or payload. At the end of a
//     file this is a torn write.
//   - ErrZero: the header is all zeros: preallocated, never-written space.
//   - ErrCorrupt: a header with an invalid type or an impossible length, or a
//     checksum mismatch. Whether this is a torn tail or corruption of durable
//     data is the log's decision (see FORMAT.md), not this package's.
//
// Lengths are bounded by MaxPayload before any allocation.
package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Wire constants. Never change these: they define the on-disk format.
const (
	// HeaderSize is the size of a record header in bytes.
	HeaderSize = 16
	// MaxPayload is the largest payload a record can carry (1 GiB - 1).
	MaxPayload = 1<<30 - 1

	lenMask   = 1<<30 - 1
	typeShift = 30
	crcMask   = 0xa282ead8
)

// Type is a record's type, stored in the top two bits of the typelen field.
type Type uint8

// Record types. Never change these values.
const (
	Invalid Type = 0
	Full    Type = 1
	More    Type = 2
	Marker  Type = 3
)

// String names the type.
func (t Type) String() string {
	switch t {
	case Full:
		return "full"
	case More:
		return "more"
	case Marker:
		return "marker"
	}
	return "invalid"
}

// IsEntry reports whether records of type t carry a log entry.
func (t Type) IsEntry() bool { return t == Full || t == More }

// MarkerKind is the first payload byte of a Marker record.
type MarkerKind uint8

// Marker kinds. Never change these values.
const (
	// MarkerSynced: the index field holds a segment offset S; every byte of
	// the segment before S was durable (fdatasync had returned) before this
	// marker was written. Recovery uses it to tell corruption of durable data
	// from a torn tail.
	MarkerSynced MarkerKind = 1
	// MarkerClosed: written by a clean Close after everything before it
	// was made durable; the index field holds the marker's own offset. It
	// proves durability as MarkerSynced does, and tells recovery that the
	// log was shut down cleanly.
	MarkerClosed MarkerKind = 2
)

// Valid reports whether k is a known marker kind.
func (k MarkerKind) Valid() bool { return k == MarkerSynced || k == MarkerClosed }

// Errors returned by Decode. See the package doc for what each means.
var (
	ErrShort   = errors.New("record: truncated record")
	ErrZero    = errors.New("record: zeroed header")
	ErrCorrupt = errors.New("record: corrupt record")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is a decoded record header.
type Header struct {
	Type   Type
	Length uint32 // payload length in bytes
	Index  uint64
	CRC    uint32 // masked checksum as stored
}

// Size is the size of the whole record (header plus payload).
func (h Header) Size() int { return HeaderSize + int(h.Length) }

// Mask returns the masked form of a CRC as stored on disk.
func Mask(crc uint32) uint32 { return (crc>>15 | crc<<17) + crcMask }

// Checksum computes the masked CRC-32C of a record's bytes after the crc field:
// hdrTail is header bytes [4, 16), payload follows.
func checksum(hdrTail, payload []byte) uint32 {
	c := crc32.Update(0, castagnoli, hdrTail)
	return Mask(crc32.Update(c, castagnoli, payload))
}

// Append encodes one record onto dst and returns the extended slice. It does
// not allocate when dst has capacity for HeaderSize+len(payload) more bytes.
// REQUIRES: t is Full, More or Marker; len(payload) <= MaxPayload.
func Append(dst []byte, t Type, index uint64, payload []byte) []byte {
	if t == Invalid || t > Marker || len(payload) > MaxPayload {
		panic(fmt.Sprintf("record: Append(%v, len %d): invalid record", t, len(payload)))
	}
	off := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...)
	dst = append(dst, payload...)
	h := dst[off : off+HeaderSize]
	putHeader(h, t, index, len(payload))
	// The checksum reads the copy in dst, not payload, so that payload
	// does not escape (the CRC's assembly leaks its argument).
	binary.LittleEndian.PutUint32(h[0:], checksum(h[4:], dst[off+HeaderSize:]))
	return dst
}

// AppendHeader encodes only the header of the record Append would encode:
// the caller writes payload itself right after it (with a vectored write,
// say), so the payload is never copied. The checksum is computed over
// payload as given; the record is valid only if those exact bytes follow
// the header. It does not allocate when dst has capacity for HeaderSize
// more bytes. Unlike Append's, its payload escapes (the checksum reads it).
// REQUIRES: t is Full, More or Marker; len(payload) <= MaxPayload.
func AppendHeader(dst []byte, t Type, index uint64, payload []byte) []byte {
	if t == Invalid || t > Marker || len(payload) > MaxPayload {
		panic(fmt.Sprintf("record: Append(%v, len %d): invalid record", t, len(payload)))
	}
	off := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...)
	h := dst[off : off+HeaderSize]
	putHeader(h, t, index, len(payload))
	binary.LittleEndian.PutUint32(h[0:], checksum(h[4:], payload))
	return dst
}

// putHeader fills a header's typelen and index fields.
func putHeader(h []byte, t Type, index uint64, n int) {
	binary.LittleEndian.PutUint32(h[4:], uint32(t)<<typeShift|uint32(n))
	binary.LittleEndian.PutUint64(h[8:], index)
}

// AppendMarker encodes a Marker record of the given kind and value.
func AppendMarker(dst []byte, kind MarkerKind, value uint64) []byte {
	return Append(dst, Marker, value, []byte{byte(kind)})
}

// DecodeHeader parses the header at the start of b without verifying the
// checksum. It returns ErrShort if len(b) < HeaderSize, ErrZero for an
// all-zero header, and ErrCorrupt for an invalid type.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, ErrShort
	}
	tl := binary.LittleEndian.Uint32(b[4:])
	h := Header{
		CRC:    binary.LittleEndian.Uint32(b[0:]),
		Type:   Type(tl >> typeShift),
		Length: tl & lenMask,
		Index:  binary.LittleEndian.Uint64(b[8:]),
	}
	if h.Type == Invalid {
		if h.CRC == 0 && tl == 0 && h.Index == 0 {
			return h, ErrZero
		}
		return h, fmt.Errorf("%w: invalid type 0", ErrCorrupt)
	}
	return h, nil
}

// Decode parses and verifies the record at the start of b. The returned
// payload aliases b. Errors: ErrShort if b ends inside the record, ErrZero for
// an all-zero header, ErrCorrupt for an invalid header or checksum mismatch.
func Decode(b []byte) (Header, []byte, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		return h, nil, err
	}
	if len(b) < h.Size() {
		return h, nil, ErrShort
	}
	payload := b[HeaderSize:h.Size()]
	if err := Verify(h, b[4:HeaderSize], payload); err != nil {
		return h, nil, err
	}
	return h, payload, nil
}

// Verify checks h's stored checksum against the header tail (bytes [4,16)
// of the record) and the payload.
func Verify(h Header, hdrTail, payload []byte) error {
	if got := checksum(hdrTail, payload); got != h.CRC {
		return fmt.Errorf("%w: checksum mismatch (stored %#08x, computed %#08x)", ErrCorrupt, h.CRC, got)
	}
	return nil
}

// VerifyRecord checks the checksum of a complete encoded record rec (header
// and payload) and returns its payload.
func VerifyRecord(rec []byte) ([]byte, error) {
	_, p, err := Decode(rec)
	return p, err
}

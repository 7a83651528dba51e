package wal

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"strconv"
	"strings"

	"github.com/waldb/wal/record"
)

// On-disk constants. Never change these: FORMAT.md specifies them and
// testdata/golden pins them.
const (
	// formatVersion is the version of the segments the log writes;
	// minFormatVersion the oldest it reads. Version 2 added the segment
	// salt and bound markers to their segment (FORMAT.md, "Versions").
	formatVersion    = 2
	minFormatVersion = 1
	// metaVersion is META's version: its layout did not change in format
	// version 2.
	metaVersion = 1

	segHeaderSize  = 40
	segTrailerSize = 40
	metaSize       = 56

	segMagic     = "WALDBSEG"
	trailerMagic = "WALDBIDX"
	metaMagic    = "WALDBMET"

	// flagReset marks a segment that supersedes every segment with a
	// smaller sequence number (written by Reset and by emptying the log).
	flagReset = 1

	segSuffix = ".wal"
	tmpSuffix = ".tmp"
	lockName  = "LOCK"
	metaName  = "META"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func maskedCRC(b []byte) uint32 { return record.Mask(crc32.Checksum(b, castagnoli)) }

// segmentName is "<seq as 16 hex digits>-<first index as 20 digits>.wal", so
// names sort by sequence number and show the first index.
func segmentName(seq, first uint64) string {
	return fmt.Sprintf("%016x-%020d%s", seq, first, segSuffix)
}

// parseSegmentName is the inverse of segmentName.
func parseSegmentName(name string) (seq, first uint64, ok bool) {
	base, found := strings.CutSuffix(name, segSuffix)
	if !found || len(base) != 16+1+20 || base[16] != '-' {
		return 0, 0, false
	}
	seq, err1 := strconv.ParseUint(base[:16], 16, 64)
	first, err2 := strconv.ParseUint(base[17:], 10, 64)
	return seq, first, err1 == nil && err2 == nil
}

// segHeader is the fixed header at offset 0 of every segment file.
//
//	0  8  magic "WALDBSEG"
//	8  2  format version (1 or 2)
//	10 2  flags (bit 0: reset)
//	12 4  version 2: salt, a random number chosen when the segment is
//	      created; version 1: zero
//	16 8  sequence number (equals the one in the file name)
//	24 8  index of the segment's first entry
//	32 4  masked CRC-32C of bytes [0, 32)
//	36 4  reserved, zero
type segHeader struct {
	version uint16 // 0 means formatVersion when encoding
	flags   uint16
	salt    uint32
	seq     uint64
	first   uint64
}

func (h segHeader) encode() []byte {
	b := make([]byte, segHeaderSize)
	copy(b, segMagic)
	v := h.version
	if v == 0 {
		v = formatVersion
	}
	binary.LittleEndian.PutUint16(b[8:], v)
	binary.LittleEndian.PutUint16(b[10:], h.flags)
	if v >= 2 {
		binary.LittleEndian.PutUint32(b[12:], h.salt)
	}
	binary.LittleEndian.PutUint64(b[16:], h.seq)
	binary.LittleEndian.PutUint64(b[24:], h.first)
	binary.LittleEndian.PutUint32(b[32:], maskedCRC(b[:32]))
	return b
}

func decodeSegHeader(b []byte) (segHeader, error) {
	if len(b) < segHeaderSize || string(b[:8]) != segMagic {
		return segHeader{}, fmt.Errorf("bad segment magic")
	}
	if got := binary.LittleEndian.Uint32(b[32:]); got != maskedCRC(b[:32]) {
		return segHeader{}, fmt.Errorf("segment header checksum mismatch")
	}
	v := binary.LittleEndian.Uint16(b[8:])
	if v < minFormatVersion || v > formatVersion {
		return segHeader{}, fmt.Errorf("unsupported format version %d", v)
	}
	h := segHeader{
		version: v,
		flags:   binary.LittleEndian.Uint16(b[10:]),
		seq:     binary.LittleEndian.Uint64(b[16:]),
		first:   binary.LittleEndian.Uint64(b[24:]),
	}
	if v >= 2 {
		h.salt = binary.LittleEndian.Uint32(b[12:])
	}
	return h, nil
}

// header is the header s was created or opened with.
func (s *segment) header() segHeader {
	return segHeader{version: s.version, flags: s.flags, salt: s.salt, seq: s.seq, first: s.first}
}

// newSalt returns a random segment salt.
func newSalt() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return binary.LittleEndian.Uint32(b[:])
}

// boundMarkerLen is the payload length of a version-2 marker: the kind,
// then the segment's seq and salt, so that its CRC covers them.
const boundMarkerLen = 1 + 8 + 4

// markerSize is the size of a marker record in a segment of version v.
func markerSize(v uint16) int64 {
	if v >= 2 {
		return record.HeaderSize + boundMarkerLen
	}
	return record.HeaderSize + 1
}

// appendMarker encodes a marker of the given kind and value (an offset in
// the segment) for the segment whose header is h: in version 2 it is bound
// to the segment by its seq and salt.
//
//	payload, version 1: kind (1 byte)
//	payload, version 2: kind (1 byte), seq (8), salt (4)
func appendMarker(dst []byte, h segHeader, kind record.MarkerKind, value uint64) []byte {
	if h.version < 2 {
		return record.AppendMarker(dst, kind, value)
	}
	var p [boundMarkerLen]byte
	p[0] = byte(kind)
	binary.LittleEndian.PutUint64(p[1:], h.seq)
	binary.LittleEndian.PutUint32(p[9:], h.salt)
	return record.Append(dst, record.Marker, value, p[:])
}

// markerOf checks the payload p of a CRC-valid Marker record found in the
// segment whose header is h, and returns its kind: ok is false unless the
// kind is known and, in version 2, the marker is bound to this segment.
func markerOf(h segHeader, p []byte) (kind record.MarkerKind, ok bool) {
	if len(p) == 0 {
		return 0, false
	}
	kind = record.MarkerKind(p[0])
	if !kind.Valid() {
		return 0, false
	}
	if h.version < 2 {
		return kind, len(p) == 1
	}
	return kind, len(p) == boundMarkerLen && binary.LittleEndian.Uint64(p[1:]) == h.seq &&
		binary.LittleEndian.Uint32(p[9:]) == h.salt
}

// segTrailer closes a sealed segment; it is the file's last 40 bytes, and
// the index block (count little-endian uint32 record offsets, one per entry
// in index order) sits right before it.
//
//	0  8  magic "WALDBIDX"
//	8  8  first index
//	16 8  entry count
//	24 8  offset of the index block
//	32 4  masked CRC-32C of the index block
//	36 4  masked CRC-32C of bytes [0, 36)
type segTrailer struct {
	first    uint64
	count    uint64
	indexOff uint64
	indexCRC uint32
}

func (t segTrailer) encode() []byte {
	b := make([]byte, segTrailerSize)
	copy(b, trailerMagic)
	binary.LittleEndian.PutUint64(b[8:], t.first)
	binary.LittleEndian.PutUint64(b[16:], t.count)
	binary.LittleEndian.PutUint64(b[24:], t.indexOff)
	binary.LittleEndian.PutUint32(b[32:], t.indexCRC)
	binary.LittleEndian.PutUint32(b[36:], maskedCRC(b[:36]))
	return b
}

// decodeSegTrailer parses a trailer and checks it against the file size.
func decodeSegTrailer(b []byte, fileSize int64) (segTrailer, bool) {
	if len(b) < segTrailerSize || string(b[:8]) != trailerMagic {
		return segTrailer{}, false
	}
	if binary.LittleEndian.Uint32(b[36:]) != maskedCRC(b[:36]) {
		return segTrailer{}, false
	}
	t := segTrailer{
		first:    binary.LittleEndian.Uint64(b[8:]),
		count:    binary.LittleEndian.Uint64(b[16:]),
		indexOff: binary.LittleEndian.Uint64(b[24:]),
		indexCRC: binary.LittleEndian.Uint32(b[32:]),
	}
	// Every field is bounded before the sum, so a crafted trailer cannot
	// wrap it; first+count may not pass 2^64-1 (MaxIndex+1).
	ok := t.indexOff >= segHeaderSize && t.indexOff <= uint64(fileSize) &&
		t.count <= uint64(fileSize)/4 && t.count <= math.MaxUint64-t.first &&
		t.indexOff+4*t.count+segTrailerSize == uint64(fileSize)
	return t, ok
}

// appendIndexBlock encodes record offsets as an index block.
func appendIndexBlock(dst []byte, offs []uint32) []byte {
	for _, o := range offs {
		dst = binary.LittleEndian.AppendUint32(dst, o)
	}
	return dst
}

// metaRecord is the META file, replaced atomically (temp file, fsync,
// rename, directory fsync) by TruncateFront and TruncateBack.
//
//	0  8  magic "WALDBMET"
//	8  2  version (1, in format versions 1 and 2)
//	10 6  reserved, zero
//	16 8  front: first index of the log
//	24 8  frontSeq: tail segment's sequence number when front was written;
//	      a reset segment with a larger sequence number supersedes front
//	32 8  back: index of the last entry kept by the latest TruncateBack
//	40 8  backSeq: tail segment's sequence number at that TruncateBack, or 0;
//	      entries above back in segments with seq <= backSeq are void
//	48 4  masked CRC-32C of bytes [0, 48)
//	52 4  reserved, zero
type metaRecord struct {
	front, frontSeq uint64
	back, backSeq   uint64
}

func (m metaRecord) encode() []byte {
	b := make([]byte, metaSize)
	copy(b, metaMagic)
	binary.LittleEndian.PutUint16(b[8:], metaVersion)
	binary.LittleEndian.PutUint64(b[16:], m.front)
	binary.LittleEndian.PutUint64(b[24:], m.frontSeq)
	binary.LittleEndian.PutUint64(b[32:], m.back)
	binary.LittleEndian.PutUint64(b[40:], m.backSeq)
	binary.LittleEndian.PutUint32(b[48:], maskedCRC(b[:48]))
	return b
}

func decodeMeta(b []byte) (metaRecord, error) {
	if len(b) != metaSize || string(b[:8]) != metaMagic {
		return metaRecord{}, fmt.Errorf("bad META magic or size")
	}
	if binary.LittleEndian.Uint32(b[48:]) != maskedCRC(b[:48]) {
		return metaRecord{}, fmt.Errorf("META checksum mismatch")
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != metaVersion {
		return metaRecord{}, fmt.Errorf("unsupported META version %d", v)
	}
	return metaRecord{
		front:    binary.LittleEndian.Uint64(b[16:]),
		frontSeq: binary.LittleEndian.Uint64(b[24:]),
		back:     binary.LittleEndian.Uint64(b[32:]),
		backSeq:  binary.LittleEndian.Uint64(b[40:]),
	}, nil
}

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// A payload is a self-verifying log entry written by a crash child:
//
//	0    8  entry ID, little-endian (see entryID)
//	8    n  filler, n >= 0 arbitrary bytes (random length and content)
//	8+n  4  CRC-32 (IEEE), little-endian, of bytes [0, 8+n)
//
// The ID names the writer that produced the entry rather than the log index:
// Append assigns the index under the log's lock after the payload is built,
// so concurrent appenders cannot know it in advance (only a lock around each
// whole Append could, and that would serialize the writers and defeat group
// commit). The child reports "index ID" for every acknowledged Append, and
// the verifier checks that the entry at that index carries that ID.
const (
	idSize         = 8
	crcSize        = 4
	payloadMinSize = idSize + crcSize
)

// Errors of verifyPayload.
var (
	errPayloadShort = errors.New("payload shorter than its fixed fields")
	errPayloadCRC   = errors.New("payload checksum mismatch")
)

// entryID identifies an entry by who wrote it: crash round, writer
// goroutine, and that writer's sequence number (0, 1, 2, ...). A writer
// starts an Append only after its previous one returned, so the entries of
// one writer appear in the log in sequence order.
type entryID struct {
	Round  uint16
	Writer uint16
	Seq    uint32
}

// pack encodes id as round<<48 | writer<<32 | seq.
func (id entryID) pack() uint64 {
	return uint64(id.Round)<<48 | uint64(id.Writer)<<32 | uint64(id.Seq)
}

func unpackID(v uint64) entryID {
	return entryID{Round: uint16(v >> 48), Writer: uint16(v >> 32), Seq: uint32(v)}
}

// String formats id as round.writer.seq, the form used on the ack pipe.
func (id entryID) String() string {
	return fmt.Sprintf("%d.%d.%d", id.Round, id.Writer, id.Seq)
}

func parseID(s string) (entryID, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return entryID{}, fmt.Errorf("bad entry ID %q", s)
	}
	var v [3]uint64
	for i, bits := range [3]int{16, 16, 32} {
		var err error
		if v[i], err = strconv.ParseUint(parts[i], 10, bits); err != nil {
			return entryID{}, fmt.Errorf("bad entry ID %q", s)
		}
	}
	return entryID{Round: uint16(v[0]), Writer: uint16(v[1]), Seq: uint32(v[2])}, nil
}

// appendPayload appends the payload for id with the given filler to dst.
func appendPayload(dst []byte, id entryID, filler []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, id.pack())
	dst = append(dst, filler...)
	return binary.LittleEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}

// verifyPayload checks p's checksum and returns the ID it carries.
func verifyPayload(p []byte) (entryID, error) {
	if len(p) < payloadMinSize {
		return entryID{}, fmt.Errorf("%w: %d bytes", errPayloadShort, len(p))
	}
	body, sum := p[:len(p)-crcSize], binary.LittleEndian.Uint32(p[len(p)-crcSize:])
	if got := crc32.ChecksumIEEE(body); got != sum {
		return entryID{}, fmt.Errorf("%w: stored %08x, computed %08x over %d bytes", errPayloadCRC, sum, got, len(body))
	}
	return unpackID(binary.LittleEndian.Uint64(p)), nil
}

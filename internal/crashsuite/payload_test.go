package crashsuite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

// A payload verifies itself, so a checker needs no stored copy:
//
//	offset size field
//	0      4    magic "WCS1"
//	4      8    index the entry was written at
//	12     8    generation (see the package doc)
//	20     8    first index of the entry's batch (its own index if single)
//	28     4    number of entries in the batch (1 if single)
//	32     4    filler length n
//	36     n    filler (seeded random bytes)
//	36+n   4    CRC-32C (Castagnoli) of bytes [0, 36+n)
const (
	payloadMagic  = "WCS1"
	payloadHeader = 36
	payloadMin    = payloadHeader + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// payload is a decoded payload.
type payload struct {
	Index      uint64
	Gen        uint64
	BatchFirst uint64
	BatchLen   uint32
}

// batchLast is the index of the last entry of p's batch.
func (p payload) batchLast() uint64 { return p.BatchFirst + uint64(p.BatchLen) - 1 }

func (p payload) String() string {
	return fmt.Sprintf("{index %d gen %d batch [%d,%d]}", p.Index, p.Gen, p.BatchFirst, p.batchLast())
}

var errBadPayload = errors.New("bad payload")

// appendPayload appends the encoding of p with filler f to dst.
func appendPayload(dst []byte, p payload, f []byte) []byte {
	start := len(dst)
	dst = append(dst, payloadMagic...)
	dst = binary.LittleEndian.AppendUint64(dst, p.Index)
	dst = binary.LittleEndian.AppendUint64(dst, p.Gen)
	dst = binary.LittleEndian.AppendUint64(dst, p.BatchFirst)
	dst = binary.LittleEndian.AppendUint32(dst, p.BatchLen)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(f)))
	dst = append(dst, f...)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// decodePayload verifies b and returns what it carries.
func decodePayload(b []byte) (payload, error) {
	if len(b) < payloadMin {
		return payload{}, fmt.Errorf("%w: %d bytes, want at least %d", errBadPayload, len(b), payloadMin)
	}
	if string(b[:4]) != payloadMagic {
		return payload{}, fmt.Errorf("%w: magic %q", errBadPayload, b[:4])
	}
	n := binary.LittleEndian.Uint32(b[32:])
	if uint64(n) != uint64(len(b)-payloadMin) {
		return payload{}, fmt.Errorf("%w: filler length %d in a payload of %d bytes", errBadPayload, n, len(b))
	}
	body := b[:len(b)-4]
	if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(b[len(body):]); got != want {
		return payload{}, fmt.Errorf("%w: CRC %08x, stored %08x", errBadPayload, got, want)
	}
	p := payload{
		Index:      binary.LittleEndian.Uint64(b[4:]),
		Gen:        binary.LittleEndian.Uint64(b[12:]),
		BatchFirst: binary.LittleEndian.Uint64(b[20:]),
		BatchLen:   binary.LittleEndian.Uint32(b[28:]),
	}
	if p.BatchLen == 0 || p.Index < p.BatchFirst || p.Index > p.batchLast() {
		return p, fmt.Errorf("%w: index %d outside its batch [%d,%d]", errBadPayload, p.Index, p.BatchFirst, p.batchLast())
	}
	return p, nil
}

// fillerLen draws a payload filler length: mostly small, sometimes a few
// KiB, rarely larger than a small segment.
func fillerLen(rng *rand.Rand) int {
	switch r := rng.IntN(100); {
	case r < 88:
		return rng.IntN(200)
	case r < 99:
		return 200 + rng.IntN(2000)
	default:
		return 2200 + rng.IntN(10000)
	}
}

// fill fills f with seeded random bytes.
func fill(rng *rand.Rand, f []byte) {
	for i := 0; i < len(f); i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rng.Uint64())
		copy(f[i:], w[:])
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		p := payload{Index: uint64(i) + 7, Gen: rng.Uint64(), BatchFirst: uint64(i) + 5, BatchLen: 3}
		f := make([]byte, fillerLen(rng))
		fill(rng, f)
		b := appendPayload(nil, p, f)
		got, err := decodePayload(b)
		if err != nil || got != p {
			t.Fatalf("decode(encode(%v)) = %v, %v", p, got, err)
		}
		// Every single-bit flip is caught.
		bit := rng.IntN(8 * len(b))
		b[bit/8] ^= 1 << (bit % 8)
		if _, err := decodePayload(b); !errors.Is(err, errBadPayload) {
			t.Fatalf("bit %d flipped in %v: decode returned %v", bit, p, err)
		}
	}
	if _, err := decodePayload(make([]byte, 100)); !errors.Is(err, errBadPayload) {
		t.Fatalf("zeros decoded: %v", err)
	}
}

package rdb

import (
	"encoding/binary"
	"math"
	"strconv"
)

// An Encoder builds one payload in the plain encodings: a STRING, LIST,
// SET, HASH or ZSET_2 object (begun by the matching Begin method, then
// filled by Str, Score and so on in the order the type needs), finished
// by Finish, which appends the footer. Redis 7.0 restores every such
// payload, converting small collections to its compact encodings as it
// does when it loads an RDB file.
type Encoder struct{ b []byte }

// BeginString starts a string value; follow with one Str or Bytes.
func (e *Encoder) BeginString() { e.b = append(e.b[:0], typeString) }

// BeginList starts a list of n elements; follow with n Str.
func (e *Encoder) BeginList(n int) { e.begin(typeList, n) }

// BeginSet starts a set of n members; follow with n Str.
func (e *Encoder) BeginSet(n int) { e.begin(typeSet, n) }

// BeginHash starts a hash of n fields; follow with n pairs of Str (field,
// value).
func (e *Encoder) BeginHash(n int) { e.begin(typeHash, n) }

// BeginZSet starts a sorted set of n members; follow with n pairs of Str
// (member) and Score.
func (e *Encoder) BeginZSet(n int) { e.begin(typeZSet2, n) }

func (e *Encoder) begin(t byte, n int) {
	e.b = append(e.b[:0], t)
	e.length(uint64(n))
}

// length appends an RDB length (rdbSaveLen).
func (e *Encoder) length(n uint64) {
	switch {
	case n < 1<<6:
		e.b = append(e.b, byte(n))
	case n < 1<<14:
		e.b = append(e.b, byte(n>>8)|len14<<6, byte(n))
	case n <= math.MaxUint32:
		e.b = binary.BigEndian.AppendUint32(append(e.b, len32), uint32(n))
	default:
		e.b = binary.BigEndian.AppendUint64(append(e.b, len64), n)
	}
}

// Str appends a string object: integer-encoded if s is the canonical text
// of an integer that fits 32 bits (as Redis stores it), else verbatim.
func (e *Encoder) Str(s string) {
	if len(s) <= 11 {
		if v, err := strconv.ParseInt(s, 10, 32); err == nil && strconv.FormatInt(v, 10) == s {
			e.int(v)
			return
		}
	}
	e.length(uint64(len(s)))
	e.b = append(e.b, s...)
}

// Bytes is Str for a byte slice.
func (e *Encoder) Bytes(s []byte) {
	if len(s) <= 11 {
		e.Str(string(s))
		return
	}
	e.length(uint64(len(s)))
	e.b = append(e.b, s...)
}

// int appends v in the smallest integer string encoding (rdbEncodeInteger).
// REQUIRES: v fits 32 bits.
func (e *Encoder) int(v int64) {
	switch {
	case v >= math.MinInt8 && v <= math.MaxInt8:
		e.b = append(e.b, lenEncVal<<6|encInt8, byte(v))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		e.b = binary.LittleEndian.AppendUint16(append(e.b, lenEncVal<<6|encInt16), uint16(v))
	default:
		e.b = binary.LittleEndian.AppendUint32(append(e.b, lenEncVal<<6|encInt32), uint32(v))
	}
}

// Score appends a binary score (ZSET_2).
func (e *Encoder) Score(f float64) {
	e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f))
}

// Finish appends the footer (version and CRC) and returns the payload,
// which the Encoder no longer references.
func (e *Encoder) Finish() []byte {
	b := binary.LittleEndian.AppendUint16(e.b, Version)
	b = binary.LittleEndian.AppendUint64(b, CRC64(b))
	e.b = nil
	return b
}

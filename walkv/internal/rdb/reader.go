package rdb

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// Length prefixes of the RDB format (rdb.h): the top two bits of the first
// byte select 6-bit, 14-bit, 32/64-bit lengths or a special encoding.
const (
	len6      = 0
	len14     = 1
	len32     = 0x80
	len64     = 0x81
	lenEncVal = 3

	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3
)

// reader decodes the object part of a payload. budget is what is left of
// the caller's limit on decoded bytes; arena holds the text of decoded
// integers, so that each does not cost an allocation.
type reader struct {
	b      []byte
	off    int
	budget int
	arena  []byte
}

func (r *reader) rest() int { return len(r.b) - r.off }

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, fmt.Errorf("%w: truncated at offset %d", ErrBadFormat, r.off)
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// take returns the next n bytes.
func (r *reader) take(n uint64) ([]byte, error) {
	if n > uint64(r.rest()) {
		return nil, fmt.Errorf("%w: %d bytes at offset %d, %d left", ErrBadFormat, n, r.off, r.rest())
	}
	p := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return p, nil
}

// length reads a length; enc reports a special string encoding instead
// (rdbLoadLenByRef).
func (r *reader) length() (n uint64, enc bool, err error) {
	c, err := r.byte()
	if err != nil {
		return 0, false, err
	}
	switch {
	case c>>6 == lenEncVal:
		return uint64(c & 0x3f), true, nil
	case c>>6 == len6:
		return uint64(c & 0x3f), false, nil
	case c>>6 == len14:
		d, err := r.byte()
		return uint64(c&0x3f)<<8 | uint64(d), false, err
	case c == len32:
		p, err := r.take(4)
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(p)), false, nil
	case c == len64:
		p, err := r.take(8)
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(p), false, nil
	}
	return 0, false, fmt.Errorf("%w: length prefix %#x", ErrBadFormat, c)
}

// plainLength reads a length where Redis reads one without asking whether
// it is a special encoding (rdbLoadLen(rdb, NULL)): an encoding's first
// byte then counts as its 6-bit number.
func (r *reader) plainLength() (uint64, error) {
	n, _, err := r.length()
	return n, err
}

// count reads the number of elements of a collection, each of which takes
// at least one more byte of the payload: a larger count is refused before
// anything is sized by it.
func (r *reader) count() (int, error) {
	n, err := r.plainLength()
	switch {
	case err != nil:
		return 0, err
	case n == 0:
		return 0, fmt.Errorf("%w: empty collection", ErrBadFormat)
	case n > uint64(r.rest()):
		return 0, fmt.Errorf("%w: count %d with %d bytes left", ErrBadFormat, n, r.rest())
	}
	return int(n), nil
}

// spend charges n decoded bytes against the budget.
func (r *reader) spend(n int) error {
	if n > r.budget {
		return fmt.Errorf("%w: over %d bytes", ErrTooLarge, n)
	}
	r.budget -= n
	return nil
}

// str reads a string object: raw, integer-encoded or LZF-compressed
// (rdbGenericLoadStringObject).
func (r *reader) str() ([]byte, error) {
	n, enc, err := r.length()
	if err != nil {
		return nil, err
	}
	if !enc {
		p, err := r.take(n)
		if err == nil {
			err = r.spend(len(p))
		}
		return p, err
	}
	var v int64
	switch n {
	case encInt8:
		p, err := r.take(1)
		if err != nil {
			return nil, err
		}
		v = int64(int8(p[0]))
	case encInt16:
		p, err := r.take(2)
		if err != nil {
			return nil, err
		}
		v = int64(int16(binary.LittleEndian.Uint16(p)))
	case encInt32:
		p, err := r.take(4)
		if err != nil {
			return nil, err
		}
		v = int64(int32(binary.LittleEndian.Uint32(p)))
	case encLZF:
		return r.lzf()
	default:
		return nil, fmt.Errorf("%w: string encoding %d", ErrBadFormat, n)
	}
	return r.intText(v)
}

// intText returns v in decimal, carved from the arena.
func (r *reader) intText(v int64) ([]byte, error) {
	if cap(r.arena)-len(r.arena) < 20 {
		r.arena = make([]byte, 0, 4096)
	}
	start := len(r.arena)
	r.arena = strconv.AppendInt(r.arena, v, 10)
	p := r.arena[start:len(r.arena):len(r.arena)]
	return p, r.spend(len(p))
}

// lzf reads a compressed string: compressed length, expanded length, data.
func (r *reader) lzf() ([]byte, error) {
	clen, err := r.plainLength()
	if err != nil {
		return nil, err
	}
	ulen, err := r.plainLength()
	if err != nil {
		return nil, err
	}
	in, err := r.take(clen)
	if err != nil {
		return nil, err
	}
	if ulen > maxLZFExpansion*uint64(len(in)) {
		return nil, fmt.Errorf("%w: LZF of %d bytes cannot expand to %d", ErrBadFormat, len(in), ulen)
	}
	if err := r.spend(int(ulen)); err != nil {
		return nil, err
	}
	return lzfDecompress(in, int(ulen))
}

// textScore reads a score of the old ZSET encoding: a length byte (253
// NaN, 254 +inf, 255 -inf) and the number as text (rdbLoadDoubleValue).
func (r *reader) textScore() (float64, error) {
	n, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	p, err := r.take(uint64(n))
	if err != nil {
		return 0, err
	}
	f, ok := parseCFloat(p)
	if !ok {
		return 0, fmt.Errorf("%w: score %q", ErrBadFormat, p)
	}
	return f, nil
}

// binaryScore reads a score of ZSET_2: a float64, little endian.
func (r *reader) binaryScore() (float64, error) {
	p, err := r.take(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(p)), nil
}

// parseCFloat parses the longest prefix of p that is a number, after
// leading white space, as C's strtod and sscanf("%lg") do; ok is false if
// there is none. An out-of-range number is ±Inf or 0, as in C.
func parseCFloat(p []byte) (float64, bool) {
	i := 0
	for i < len(p) && (p[i] == ' ' || p[i] >= '\t' && p[i] <= '\r') {
		i++
	}
	for end := len(p); end > i; end-- {
		if f, err := strconv.ParseFloat(string(p[i:end]), 64); err == nil || isRange(err) {
			return f, true
		}
	}
	return 0, false
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

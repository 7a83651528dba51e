package rdb

import (
	"encoding/binary"
	"fmt"
)

// The containers Redis serializes as one string: listpack (listpack.c),
// ziplist (ziplist.c), intset (intset.c) and zipmap (zipmap.c). Each
// decoder walks the whole container, checks it as Redis's deep integrity
// validation does, and appends its entries to dst; integers become their
// decimal text, carved from r's arena and charged to its budget.

// listpack: <total bytes u32 LE> <count u16 LE, 65535 = unknown>
// entries... 0xFF, where an entry is <encoding+data> <backlen>.
func (r *reader) listpack(lp []byte, dst [][]byte) ([][]byte, error) {
	if len(lp) < 7 || int(binary.LittleEndian.Uint32(lp)) != len(lp) || lp[len(lp)-1] != 0xff {
		return nil, fmt.Errorf("%w: listpack header or terminator", ErrBadFormat)
	}
	declared := int(binary.LittleEndian.Uint16(lp[4:]))
	n := 0
	for p := 6; p < len(lp)-1; n++ {
		size, v, err := r.listpackEntry(lp[p : len(lp)-1])
		if err != nil {
			return nil, err
		}
		dst = append(dst, v)
		p += size
		bl := backlenSize(size)
		if p+bl > len(lp)-1 || !backlenOK(lp[p:p+bl], size) {
			return nil, fmt.Errorf("%w: listpack entry back-length", ErrBadFormat)
		}
		p += bl
	}
	if declared != 65535 && declared != n {
		return nil, fmt.Errorf("%w: listpack says %d entries, has %d", ErrBadFormat, declared, n)
	}
	return dst, nil
}

// listpackEntry decodes the entry at the start of p: its size without the
// back-length, and its value.
func (r *reader) listpackEntry(p []byte) (int, []byte, error) {
	c := p[0]
	var v int64
	var size int
	switch {
	case c&0x80 == 0: // 7-bit unsigned integer
		v, size = int64(c), 1
	case c&0xc0 == 0x80: // 6-bit length string
		return lpString(p, 1, int(c&0x3f))
	case c&0xe0 == 0xc0: // 13-bit integer
		if len(p) < 2 {
			return 0, nil, errTruncated("listpack")
		}
		v, size = signExtend(uint64(c&0x1f)<<8|uint64(p[1]), 13), 2
	case c&0xf0 == 0xe0: // 12-bit length string
		if len(p) < 2 {
			return 0, nil, errTruncated("listpack")
		}
		return lpString(p, 2, int(c&0x0f)<<8|int(p[1]))
	case c == 0xf0: // 32-bit length string
		if len(p) < 5 {
			return 0, nil, errTruncated("listpack")
		}
		return lpString(p, 5, int(binary.LittleEndian.Uint32(p[1:])))
	case c >= 0xf1 && c <= 0xf4: // 16, 24, 32, 64-bit integer
		w := [...]int{2, 3, 4, 8}[c-0xf1]
		if len(p) < 1+w {
			return 0, nil, errTruncated("listpack")
		}
		var u uint64
		for i := w; i >= 1; i-- {
			u = u<<8 | uint64(p[i])
		}
		v, size = signExtend(u, uint(8*w)), 1+w
	default:
		return 0, nil, fmt.Errorf("%w: listpack encoding %#x", ErrBadFormat, c)
	}
	t, err := r.intText(v)
	return size, t, err
}

func lpString(p []byte, hdr, n int) (int, []byte, error) {
	if n < 0 || n > len(p)-hdr {
		return 0, nil, errTruncated("listpack")
	}
	return hdr + n, p[hdr : hdr+n : hdr+n], nil
}

func errTruncated(what string) error { return fmt.Errorf("%w: truncated %s entry", ErrBadFormat, what) }

// signExtend reads the low bits of u as a two's complement integer.
func signExtend(u uint64, bits uint) int64 {
	shift := 64 - bits
	return int64(u<<shift) >> shift
}

// backlenSize is how many bytes encode a listpack entry's back-length.
func backlenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// backlenOK checks a back-length: the most significant 7 bits first,
// every byte but the first with its top bit set.
func backlenOK(b []byte, l int) bool {
	for i := len(b) - 1; i >= 0; i-- {
		want := byte(l & 127)
		if i > 0 {
			want |= 128
		}
		if b[i] != want {
			return false
		}
		l >>= 7
	}
	return l == 0
}

// ziplist: <total bytes u32 LE> <offset of the last entry u32 LE>
// <count u16 LE, 65535 = unknown> entries... 0xFF, where an entry is
// <size of the previous entry: 1 byte < 254, or 0xFE and u32 LE>
// <encoding+data>.
func (r *reader) ziplist(zl []byte, dst [][]byte) ([][]byte, error) {
	const header = 10
	if len(zl) < header+1 || int(binary.LittleEndian.Uint32(zl)) != len(zl) || zl[len(zl)-1] != 0xff {
		return nil, fmt.Errorf("%w: ziplist header or terminator", ErrBadFormat)
	}
	tail := int(binary.LittleEndian.Uint32(zl[4:]))
	declared := int(binary.LittleEndian.Uint16(zl[8:]))
	n, prev, last := 0, 0, header
	for p := header; p < len(zl)-1; n++ {
		body := zl[p : len(zl)-1]
		plen, hdr := int(body[0]), 1
		if plen == 0xfe {
			if len(body) < 5 {
				return nil, errTruncated("ziplist")
			}
			plen, hdr = int(binary.LittleEndian.Uint32(body[1:])), 5
		}
		if plen != prev {
			return nil, fmt.Errorf("%w: ziplist entry's previous length", ErrBadFormat)
		}
		size, v, err := r.ziplistEntry(body[hdr:])
		if err != nil {
			return nil, err
		}
		dst = append(dst, v)
		last, prev = p, hdr+size
		p += hdr + size
	}
	if tail != last || (declared != 65535 && declared != n) {
		return nil, fmt.Errorf("%w: ziplist tail offset or count", ErrBadFormat)
	}
	return dst, nil
}

// ziplistEntry decodes the encoding and data at the start of p.
func (r *reader) ziplistEntry(p []byte) (int, []byte, error) {
	if len(p) == 0 {
		return 0, nil, errTruncated("ziplist")
	}
	c := p[0]
	switch c >> 6 {
	case 0: // string, 6-bit length
		return lpString(p, 1, int(c&0x3f))
	case 1: // string, 14-bit length, big endian
		if len(p) < 2 {
			return 0, nil, errTruncated("ziplist")
		}
		return lpString(p, 2, int(c&0x3f)<<8|int(p[1]))
	case 2: // string, 32-bit length, big endian
		if c != 0x80 || len(p) < 5 {
			return 0, nil, fmt.Errorf("%w: ziplist string encoding %#x", ErrBadFormat, c)
		}
		return lpString(p, 5, int(binary.BigEndian.Uint32(p[1:])))
	}
	w := 0
	switch c {
	case 0xc0:
		w = 2
	case 0xd0:
		w = 4
	case 0xe0:
		w = 8
	case 0xf0:
		w = 3
	case 0xfe:
		w = 1
	default:
		if c < 0xf1 || c > 0xfd {
			return 0, nil, fmt.Errorf("%w: ziplist encoding %#x", ErrBadFormat, c)
		}
		t, err := r.intText(int64(c&0x0f) - 1) // immediate 0..12
		return 1, t, err
	}
	if len(p) < 1+w {
		return 0, nil, errTruncated("ziplist")
	}
	var u uint64
	for i := w; i >= 1; i-- {
		u = u<<8 | uint64(p[i])
	}
	t, err := r.intText(signExtend(u, uint(8*w)))
	return 1 + w, t, err
}

// intset: <width u32 LE: 2, 4 or 8> <count u32 LE> count integers of
// that width, little endian, strictly ascending.
func (r *reader) intset(is []byte, dst [][]byte) ([][]byte, error) {
	if len(is) < 8 {
		return nil, fmt.Errorf("%w: intset header", ErrBadFormat)
	}
	w := uint64(binary.LittleEndian.Uint32(is))
	n := uint64(binary.LittleEndian.Uint32(is[4:]))
	if (w != 2 && w != 4 && w != 8) || n*w != uint64(len(is)-8) {
		return nil, fmt.Errorf("%w: intset width %d, count %d, %d bytes", ErrBadFormat, w, n, len(is))
	}
	var prev int64
	for i := range int(n) {
		p := is[8+uint64(i)*w:]
		var u uint64
		for k := int(w) - 1; k >= 0; k-- {
			u = u<<8 | uint64(p[k])
		}
		v := signExtend(u, uint(8*w))
		if i > 0 && v <= prev {
			return nil, fmt.Errorf("%w: intset not strictly ascending", ErrBadFormat)
		}
		prev = v
		t, err := r.intText(v)
		if err != nil {
			return nil, err
		}
		dst = append(dst, t)
	}
	return dst, nil
}

// zipmap (Redis before 2.6): <count byte, 254 = unknown> then, for each
// pair, <len> field <len> <free byte> value <free bytes>, and 0xFF; a
// <len> is one byte below 254, or 254 and a u32 LE.
func zipmap(zm []byte, dst [][]byte) ([][]byte, error) {
	if len(zm) < 2 || zm[len(zm)-1] != 0xff {
		return nil, fmt.Errorf("%w: zipmap header or terminator", ErrBadFormat)
	}
	n := 0
	p := 1
	for zm[p] != 0xff {
		field, q, err := zipmapString(zm, p, false)
		if err != nil {
			return nil, err
		}
		value, q, err := zipmapString(zm, q, true)
		if err != nil {
			return nil, err
		}
		dst = append(dst, field, value)
		p = q
		n++
	}
	if n == 0 || (zm[0] != 254 && int(zm[0]) != n) {
		return nil, fmt.Errorf("%w: zipmap count", ErrBadFormat)
	}
	return dst, nil
}

// zipmapString reads a length (and, for a value, the free byte) and the
// string at zm[p:]; it returns the string and the offset after it (and
// after the free space). The terminator stays in bounds.
func zipmapString(zm []byte, p int, value bool) ([]byte, int, error) {
	end := len(zm) - 1
	l, s := uint64(zm[p]), 1
	if l >= 254 {
		if p+5 > end {
			return nil, 0, errTruncated("zipmap")
		}
		l, s = uint64(binary.LittleEndian.Uint32(zm[p+1:])), 5
	}
	p += s
	free := uint64(0)
	if value {
		if p >= end {
			return nil, 0, errTruncated("zipmap")
		}
		free = uint64(zm[p])
		p++
	}
	if uint64(p)+l+free > uint64(end) {
		return nil, 0, errTruncated("zipmap")
	}
	return zm[p : p+int(l) : p+int(l)], p + int(l+free), nil
}

package walkv

import "math"

// BITFIELD and BITFIELD_RO, after Redis's bitfieldGeneric: every
// operation is parsed (and any error replied) before any runs; writes
// grow the string to the highest bit written, even if an OVERFLOW FAIL
// then writes nothing; the new value is logged whole.

func init() {
	register(
		&command{name: "bitfield", arity: -2, flags: flagWrite, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdBitfield},
		&command{name: "bitfield_ro", arity: -2, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: 1, step: 1, run: cmdBitfield},
	)
}

const (
	bfGet = iota
	bfSet
	bfIncr
)

const (
	bfWrap = iota
	bfSat
	bfFail
)

type bfOp struct {
	op, overflow int
	signed       bool
	bits         uint
	offset       uint64
	v            int64
}

func cmdBitfield(x *exec) {
	ro := eqFold(x.args[0], "bitfield_ro")
	var ops []bfOp
	overflow := bfWrap
	readonly := true
	var highest uint64
	for j := 2; j < len(x.args); j++ {
		rem := len(x.args) - j - 1
		var o bfOp
		switch a := x.args[j]; {
		case eqFold(a, "get") && rem >= 2:
			o.op = bfGet
		case eqFold(a, "set") && rem >= 3:
			o.op = bfSet
		case eqFold(a, "incrby") && rem >= 3:
			o.op = bfIncr
		case eqFold(a, "overflow") && rem >= 1:
			j++
			switch t := x.args[j]; {
			case eqFold(t, "wrap"):
				overflow = bfWrap
			case eqFold(t, "sat"):
				overflow = bfSat
			case eqFold(t, "fail"):
				overflow = bfFail
			default:
				x.c.WriteError("ERR Invalid OVERFLOW type specified")
				return
			}
			continue
		default:
			x.c.WriteError(errSyntax)
			return
		}
		t := x.args[j+1]
		n, ok := int64(0), len(t) > 1
		if ok {
			n, ok = parseInt(t[1:])
		}
		switch {
		case ok && t[0] == 'i' && n >= 1 && n <= 64:
			o.signed = true
		case ok && t[0] == 'u' && n >= 1 && n <= 63:
		default:
			x.c.WriteError("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
			return
		}
		o.bits = uint(n)
		off := x.args[j+2]
		hash := len(off) > 0 && off[0] == '#'
		if hash {
			off = off[1:]
		}
		v, ok := parseInt(off)
		if ok && hash {
			if v > math.MaxInt64/int64(o.bits) || v < math.MinInt64/int64(o.bits) {
				ok = false
			}
			v *= int64(o.bits)
		}
		if !ok || v < 0 || v>>3 >= int64(x.db.opts.MaxBulk) {
			x.c.WriteError("ERR bit offset is not an integer or out of range")
			return
		}
		o.offset = uint64(v)
		if o.op != bfGet {
			readonly = false
			highest = max(highest, o.offset+uint64(o.bits)-1)
			if o.v, ok = x.argInt(j + 3); !ok {
				return
			}
		}
		o.overflow = overflow
		ops = append(ops, o)
		j += 3
		if o.op == bfGet {
			j--
		}
	}
	if !readonly && ro {
		x.c.WriteError("ERR BITFIELD_RO only supports the GET subcommand")
		return
	}
	key := x.key(1)
	cur := x.live(key)
	if cur != nil && cur.kind != kindString {
		x.c.WriteError(errWrongType)
		return
	}
	var s []byte
	if cur != nil {
		s = cur.str
	}
	if !readonly {
		n := max(len(s), int(highest>>3)+1)
		b := make([]byte, n)
		copy(b, s)
		s = b
	}
	replies := make([]any, 0, len(ops)) // int64, or nil for a FAIL
	for _, o := range ops {
		if o.op == bfGet {
			if o.signed {
				replies = append(replies, getSignedField(s, o.offset, o.bits))
			} else {
				replies = append(replies, int64(getField(s, o.offset, o.bits)))
			}
			continue
		}
		var ret, nv uint64
		var over bool
		if o.signed {
			old := getSignedField(s, o.offset, o.bits)
			var w int64
			if o.op == bfIncr {
				over, w = signedOverflow(old, o.v, o.bits, o.overflow)
				r := old + o.v
				if over {
					r = w
				}
				ret, nv = uint64(r), uint64(r)
			} else {
				r := o.v
				over, w = signedOverflow(r, 0, o.bits, o.overflow)
				if over {
					r = w
				}
				ret, nv = uint64(old), uint64(r)
			}
		} else {
			old := getField(s, o.offset, o.bits)
			var w uint64
			if o.op == bfIncr {
				nv = old + uint64(o.v)
				over, w = unsignedOverflow(old, o.v, o.bits, o.overflow)
				if over {
					nv = w
				}
				ret = nv
			} else {
				nv = uint64(o.v)
				over, w = unsignedOverflow(nv, 0, o.bits, o.overflow)
				if over {
					nv = w
				}
				ret = old
			}
		}
		if over && o.overflow == bfFail {
			replies = append(replies, nil)
			continue
		}
		replies = append(replies, int64(ret))
		setField(s, o.offset, o.bits, nv)
	}
	if !readonly {
		x.planString(key, cur, s)
		if !x.apply() {
			return
		}
	}
	x.c.WriteArray(len(replies))
	for _, r := range replies {
		if r == nil {
			x.c.WriteNull()
		} else {
			x.c.WriteInt64(r.(int64))
		}
	}
}

func getField(p []byte, off uint64, bits uint) uint64 {
	var v uint64
	for i := uint64(0); i < uint64(bits); i++ {
		b := off + i
		v <<= 1
		if b>>3 < uint64(len(p)) && p[b>>3]&(1<<(7-b&7)) != 0 {
			v |= 1
		}
	}
	return v
}

func getSignedField(p []byte, off uint64, bits uint) int64 {
	v := int64(getField(p, off, bits))
	if bits < 64 && v&(1<<(bits-1)) != 0 {
		v |= -1 << bits
	}
	return v
}

func setField(p []byte, off uint64, bits uint, v uint64) {
	for i := uint64(0); i < uint64(bits); i++ {
		b := off + i
		mask := byte(1) << (7 - b&7)
		if v&(1<<(uint64(bits)-1-i)) != 0 {
			p[b>>3] |= mask
		} else {
			p[b>>3] &^= mask
		}
	}
}

// unsignedOverflow is Redis's checkUnsignedBitfieldOverflow: whether
// value+incr leaves [0, 2^bits-1], and the wrapped or saturated result.
func unsignedOverflow(value uint64, incr int64, bits uint, ow int) (bool, uint64) {
	mx := uint64(1)<<bits - 1
	maxincr := int64(mx - value)
	minincr := -int64(value)
	switch {
	case value > mx || (incr > 0 && incr > maxincr):
		if ow == bfSat {
			return true, mx
		}
	case incr < 0 && incr < minincr:
		if ow == bfSat {
			return true, 0
		}
	default:
		return false, 0
	}
	return true, (value + uint64(incr)) &^ (^uint64(0) << bits)
}

// signedOverflow is Redis's checkSignedBitfieldOverflow.
func signedOverflow(value, incr int64, bits uint, ow int) (bool, int64) {
	mx := int64(math.MaxInt64)
	if bits < 64 {
		mx = 1<<(bits-1) - 1
	}
	mn := -mx - 1
	maxincr := int64(uint64(mx) - uint64(value))
	minincr := mn - value
	switch {
	case value > mx || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr):
		if ow == bfSat {
			return true, mx
		}
	case value < mn || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr):
		if ow == bfSat {
			return true, mn
		}
	default:
		return false, 0
	}
	c := uint64(value) + uint64(incr)
	if bits < 64 {
		mask := ^uint64(0) << bits
		if c&(1<<(bits-1)) != 0 {
			c |= mask
		} else {
			c &^= mask
		}
	}
	return true, int64(c)
}

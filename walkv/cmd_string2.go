package walkv

import (
	"math/big"
	"math/bits"
)

// The rest of Redis's string group: GETEX, GETDEL, SETEX, PSETEX, SETNX,
// MSETNX, SETRANGE, GETRANGE/SUBSTR, INCRBYFLOAT, LCS, and the bit
// commands. A command that changes part of a string logs the whole new
// value ('k' Put), and its deadline again if it keeps one, as INCR does.

func init() {
	reg := func(name string, arity int, flags cmdFlags, first, last, step int, run func(*exec)) {
		lock := lockRead
		if flags&flagWrite != 0 {
			lock = lockWrite
		}
		register(&command{name: name, arity: arity, flags: flags, lock: lock, first: first, last: last, step: step, run: run})
	}
	w, r, f := flagWrite, flagReadonly, flagFast
	reg("getdel", 2, w|f, 1, 1, 1, cmdGetdel)
	reg("getex", -2, w|f, 1, 1, 1, cmdGetex)
	reg("setex", 4, w, 1, 1, 1, cmdSetex)
	reg("psetex", 4, w, 1, 1, 1, cmdSetex)
	reg("setnx", 3, w|f, 1, 1, 1, cmdSetnx)
	reg("msetnx", -3, w, 1, -1, 2, cmdMsetnx)
	reg("setrange", 4, w, 1, 1, 1, cmdSetrange)
	reg("getrange", 4, r, 1, 1, 1, cmdGetrange)
	reg("substr", 4, r, 1, 1, 1, cmdGetrange)
	reg("incrbyfloat", 3, w|f, 1, 1, 1, cmdIncrbyfloat)
	reg("lcs", -3, r, 1, 2, 1, cmdLcs)
	reg("setbit", 4, w, 1, 1, 1, cmdSetbit)
	reg("getbit", 3, r|f, 1, 1, 1, cmdGetbit)
	reg("bitcount", -2, r, 1, 1, 1, cmdBitcount)
	reg("bitpos", -3, r, 1, 1, 1, cmdBitpos)
	reg("bitop", -4, w, 2, -1, 1, cmdBitop)
}

// strOpts are the options of SET and GETEX (Redis's
// parseExtendedStringArgumentsOrReply).
type strOpts struct {
	nx, xx, get, keepTTL, persist bool
	expOpt, expVal                []byte // EX, PX, EXAT or PXAT and its value
}

// parseStrOpts parses SET's (get false) or GETEX's (get true) options
// from args[start:], replying a syntax error as Redis does: an option may
// repeat, but not conflict.
func (x *exec) parseStrOpts(start int, get bool) (strOpts, bool) {
	var o strOpts
	set := !get
	timed := func() bool { return o.expOpt != nil }
	for j := start; j < len(x.args); j++ {
		a := x.args[j]
		hasNext := j+1 < len(x.args)
		switch {
		case set && eqFold(a, "nx") && !o.xx:
			o.nx = true
		case set && eqFold(a, "xx") && !o.nx:
			o.xx = true
		case set && eqFold(a, "get"):
			o.get = true
		case set && eqFold(a, "keepttl") && !o.persist && !timed():
			o.keepTTL = true
		case get && eqFold(a, "persist") && !timed() && !o.keepTTL:
			o.persist = true
		case isExpireOpt(a) && !o.keepTTL && !o.persist && hasNext && (!timed() || eqFold(o.expOpt, lowerASCII(string(a)))):
			o.expOpt, o.expVal = a, x.args[j+1]
			j++
		default:
			x.c.WriteError(errSyntax)
			return o, false
		}
	}
	return o, true
}

// expireAt converts the parsed EX/PX/EXAT/PXAT option to an absolute
// deadline (0 if none), replying the error.
func (x *exec) expireAt(o strOpts, cmd string) (int64, bool) {
	if o.expOpt == nil {
		return 0, true
	}
	return x.deadline(o.expOpt, o.expVal, cmd)
}

func cmdGetdel(x *exec) {
	key := x.key(1)
	it, ok := x.stringItem(key)
	switch {
	case !ok:
	case it == nil:
		x.c.WriteNull()
	default:
		x.t.plan(opDelKey(key))
		if x.apply() {
			x.c.WriteBulk(it.str)
		}
	}
}

// cmdGetex: GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST].
func cmdGetex(x *exec) {
	o, ok := x.parseStrOpts(2, true)
	if !ok {
		return
	}
	key := x.key(1)
	it, ok := x.stringItem(key)
	if !ok {
		return
	}
	if it == nil {
		x.c.WriteNull()
		return
	}
	at, ok := x.expireAt(o, "getex")
	if !ok {
		return
	}
	switch {
	case at != 0 && at <= x.now: // EXAT/PXAT in the past
		x.t.plan(opDelKey(key))
	case at != 0:
		x.t.plan(opSetExpire(key, at))
	case o.persist && it.expire != 0:
		x.t.plan(opPersist(key))
	}
	if x.apply() {
		x.c.WriteBulk(it.str)
	}
}

// cmdSetex serves SETEX key seconds value and PSETEX key ms value.
func cmdSetex(x *exec) {
	opt, name := "ex", "setex"
	if eqFold(x.args[0], "psetex") {
		opt, name = "px", "psetex"
	}
	at, ok := x.deadline([]byte(opt), x.args[2], name)
	if !ok {
		return
	}
	key := x.key(1)
	x.t.plan(opSetKey(key, kindString, x.args[3]))
	x.t.plan(opSetExpire(key, at))
	if x.apply() {
		x.c.WriteString("OK")
	}
}

func cmdSetnx(x *exec) {
	key := x.key(1)
	if x.live(key) != nil {
		x.c.WriteInt(0)
		return
	}
	x.t.plan(opSetKey(key, kindString, x.args[2]))
	if x.apply() {
		x.c.WriteInt(1)
	}
}

func cmdMsetnx(x *exec) {
	if len(x.args)%2 != 1 {
		x.c.WriteError(errArity("msetnx"))
		return
	}
	for i := 1; i < len(x.args); i += 2 {
		if x.live(string(x.args[i])) != nil {
			x.c.WriteInt(0)
			return
		}
	}
	for i := 1; i < len(x.args); i += 2 {
		x.t.planSetKey(string(x.args[i]), kindString, x.args[i+1])
	}
	if x.apply() {
		x.c.WriteInt(1)
	}
}

// planString replaces the string at key by v, keeping cur's deadline.
func (x *exec) planString(key string, cur *item, v []byte) {
	x.t.plan(opSetKey(key, kindString, v))
	if cur != nil && cur.expire != 0 {
		x.t.plan(opSetExpire(key, cur.expire))
	}
}

// checkStringLength replies Redis's error if a string of n bytes would
// exceed MaxBulk.
func (x *exec) checkStringLength(n int64) bool {
	if n > int64(x.db.opts.MaxBulk) {
		x.c.WriteError(errTooBig)
		return false
	}
	return true
}

func cmdSetrange(x *exec) {
	off, ok := x.argInt(2)
	if !ok {
		return
	}
	if off < 0 {
		x.c.WriteError("ERR offset is out of range")
		return
	}
	key, v := x.key(1), x.args[3]
	cur, ok := x.stringItem(key)
	if !ok {
		return
	}
	var old []byte
	if cur != nil {
		old = cur.str
	}
	if len(v) == 0 {
		x.c.WriteInt(len(old))
		return
	}
	if off > int64(x.db.opts.MaxBulk) || !x.checkStringLength(off+int64(len(v))) {
		if off > int64(x.db.opts.MaxBulk) {
			x.c.WriteError(errTooBig)
		}
		return
	}
	n := max(len(old), int(off)+len(v))
	b := make([]byte, n)
	copy(b, old)
	copy(b[off:], v)
	x.planString(key, cur, b)
	if x.apply() {
		x.c.WriteInt(n)
	}
}

func cmdGetrange(x *exec) {
	start, ok := x.argInt(2)
	if !ok {
		return
	}
	end, ok := x.argInt(3)
	if !ok {
		return
	}
	it, ok := x.stringItem(x.key(1))
	if !ok {
		return
	}
	var s []byte
	if it != nil {
		s = it.str
	}
	n := int64(len(s))
	if start < 0 && end < 0 && start > end {
		x.c.WriteBulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		x.c.WriteBulk(nil)
		return
	}
	x.c.WriteBulk(s[start : end+1])
}

func cmdIncrbyfloat(x *exec) {
	key := x.key(1)
	cur, ok := x.stringItem(key)
	if !ok {
		return
	}
	v := newLongDouble()
	if cur != nil {
		if v, ok = parseLongDouble(cur.str); !ok {
			x.c.WriteError(errNotFloat)
			return
		}
	}
	incr, ok := parseLongDouble(x.args[2])
	if !ok {
		x.c.WriteError(errNotFloat)
		return
	}
	if v.IsInf() || incr.IsInf() {
		x.c.WriteError("ERR increment would produce NaN or Infinity")
		return
	}
	sum := newLongDouble().SetMode(big.ToNearestEven).Add(v, incr)
	if longDoubleOverflows(sum) {
		x.c.WriteError("ERR increment would produce NaN or Infinity")
		return
	}
	s := formatLongDouble(sum)
	x.planString(key, cur, []byte(s))
	if x.apply() {
		x.c.WriteBulkString(s)
	}
}

// cmdLcs: LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN].
func cmdLcs(x *exec) {
	var a, b []byte
	for i, p := range []*[]byte{&a, &b} {
		if it := x.live(x.key(1 + i)); it != nil {
			if it.kind != kindString {
				x.c.WriteError("ERR The specified keys must contain string values")
				return
			}
			*p = it.str
		}
	}
	var getLen, getIdx, withLen bool
	var minLen int64
	for j := 3; j < len(x.args); j++ {
		switch o := x.args[j]; {
		case eqFold(o, "idx"):
			getIdx = true
		case eqFold(o, "len"):
			getLen = true
		case eqFold(o, "withmatchlen"):
			withLen = true
		case eqFold(o, "minmatchlen") && j+1 < len(x.args):
			n, ok := x.argInt(j + 1)
			if !ok {
				return
			}
			minLen = max(n, 0)
			j++
		default:
			x.c.WriteError(errSyntax)
			return
		}
	}
	if getIdx && getLen {
		x.c.WriteError("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	alen, blen := len(a), len(b)
	if cells := (int64(alen) + 1) * (int64(blen) + 1); cells*4 > int64(x.db.opts.MaxBulk) {
		x.c.WriteError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	w := blen + 1
	t := make([]uint32, (alen+1)*w)
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				t[i*w+j] = t[(i-1)*w+j-1] + 1
			} else {
				t[i*w+j] = max(t[(i-1)*w+j], t[i*w+j-1])
			}
		}
	}
	total := t[alen*w+blen]
	if getLen {
		x.c.WriteInt64(int64(total))
		return
	}
	// Walk back as Redis does, collecting the string and the ranges.
	res := make([]byte, total)
	type match struct{ a0, a1, b0, b1 int }
	var ms []match
	idx := int(total)
	as, ae, bs, be := alen, 0, 0, 0 // as == alen: no range open
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			res[idx-1] = a[i-1]
			if as == alen {
				as, ae, bs, be = i-1, i-1, j-1, j-1
			} else if as == i && bs == j {
				as--
				bs--
			} else {
				emit = true
			}
			if as == 0 || bs == 0 {
				emit = true
			}
			idx, i, j = idx-1, i-1, j-1
		} else {
			if t[(i-1)*w+j] > t[i*w+j-1] {
				i--
			} else {
				j--
			}
			if as != alen {
				emit = true
			}
		}
		if emit {
			if minLen == 0 || int64(ae-as+1) >= minLen {
				ms = append(ms, match{as, ae, bs, be})
			}
			as = alen
		}
	}
	if !getIdx {
		x.c.WriteBulk(res)
		return
	}
	x.typed().WriteMap(2)
	x.c.WriteBulkString("matches")
	x.c.WriteArray(len(ms))
	for _, m := range ms {
		if withLen {
			x.c.WriteArray(3)
		} else {
			x.c.WriteArray(2)
		}
		x.c.WriteArray(2)
		x.c.WriteInt(m.a0)
		x.c.WriteInt(m.a1)
		x.c.WriteArray(2)
		x.c.WriteInt(m.b0)
		x.c.WriteInt(m.b1)
		if withLen {
			x.c.WriteInt(m.a1 - m.a0 + 1)
		}
	}
	x.c.WriteBulkString("len")
	x.c.WriteInt64(int64(total))
}

// bitOffset parses a SETBIT/GETBIT offset, replying Redis's error.
func (x *exec) bitOffset(i int) (int64, bool) {
	n, ok := parseInt(x.args[i])
	if !ok || n < 0 || n>>3 >= int64(x.db.opts.MaxBulk) {
		x.c.WriteError("ERR bit offset is not an integer or out of range")
		return 0, false
	}
	return n, true
}

func cmdSetbit(x *exec) {
	off, ok := x.bitOffset(2)
	if !ok {
		return
	}
	on, ok := parseInt(x.args[3])
	if !ok || on&^1 != 0 {
		x.c.WriteError("ERR bit is not an integer or out of range")
		return
	}
	key := x.key(1)
	cur, ok := x.stringItem(key)
	if !ok {
		return
	}
	var old []byte
	if cur != nil {
		old = cur.str
	}
	byteIdx := int(off >> 3)
	mask := byte(1) << (7 - off&7)
	was := byteIdx < len(old) && old[byteIdx]&mask != 0
	if cur == nil || byteIdx >= len(old) || was != (on == 1) {
		b := make([]byte, max(len(old), byteIdx+1))
		copy(b, old)
		if on == 1 {
			b[byteIdx] |= mask
		} else {
			b[byteIdx] &^= mask
		}
		x.planString(key, cur, b)
		if !x.apply() {
			return
		}
	}
	x.c.WriteInt(b2i(was))
}

func cmdGetbit(x *exec) {
	off, ok := x.bitOffset(2)
	if !ok {
		return
	}
	it, ok := x.stringItem(x.key(1))
	if !ok {
		return
	}
	bit := 0
	if it != nil && int(off>>3) < len(it.str) && it.str[off>>3]&(1<<(7-off&7)) != 0 {
		bit = 1
	}
	x.c.WriteInt(bit)
}

// bitRange converts start and end (bytes, or bits if isBit) into a bit
// range [lo, hi] of a string of n bytes, Redis-style; ok false if empty.
func bitRange(start, end int64, n int64, isBit bool) (lo, hi int64, ok bool) {
	tot := n
	if isBit {
		tot <<= 3
	}
	if start < 0 {
		start += tot
	}
	if end < 0 {
		end += tot
	}
	start, end = max(start, 0), max(end, 0)
	if end >= tot {
		end = tot - 1
	}
	if start > end {
		return 0, 0, false
	}
	if isBit {
		return start, end, true
	}
	return start << 3, end<<3 + 7, true
}

func bitAt(s []byte, i int64) bool { return s[i>>3]&(1<<(7-i&7)) != 0 }

// countBits counts the set bits of s in the bit range [lo, hi].
func countBits(s []byte, lo, hi int64) int64 {
	var n int64
	for lo <= hi && lo&7 != 0 {
		n += int64(b2i(bitAt(s, lo)))
		lo++
	}
	for lo+7 <= hi {
		n += int64(bits.OnesCount8(s[lo>>3]))
		lo += 8
	}
	for ; lo <= hi; lo++ {
		n += int64(b2i(bitAt(s, lo)))
	}
	return n
}

// cmdBitcount: BITCOUNT key [start end [BYTE|BIT]].
func cmdBitcount(x *exec) {
	it, ok := x.stringItem(x.key(1))
	if !ok {
		return
	}
	if it == nil {
		x.c.WriteInt(0)
		return
	}
	s := it.str
	var start, end int64
	isBit := false
	switch len(x.args) {
	case 2:
		start, end = 0, int64(len(s))-1
	case 4, 5:
		if start, ok = x.argInt(2); !ok {
			return
		}
		if end, ok = x.argInt(3); !ok {
			return
		}
		if start < 0 && end < 0 && start > end {
			x.c.WriteInt(0)
			return
		}
		if len(x.args) == 5 {
			switch {
			case eqFold(x.args[4], "bit"):
				isBit = true
			case eqFold(x.args[4], "byte"):
			default:
				x.c.WriteError(errSyntax)
				return
			}
		}
	default:
		x.c.WriteError(errSyntax)
		return
	}
	lo, hi, ok := bitRange(start, end, int64(len(s)), isBit)
	if !ok {
		x.c.WriteInt(0)
		return
	}
	x.c.WriteInt64(countBits(s, lo, hi))
}

// cmdBitpos: BITPOS key bit [start [end [BYTE|BIT]]].
func cmdBitpos(x *exec) {
	bit, ok := x.argInt(2)
	if !ok {
		return
	}
	if bit != 0 && bit != 1 {
		x.c.WriteError("ERR The bit argument must be 1 or 0.")
		return
	}
	it := x.live(x.key(1))
	if it == nil {
		x.c.WriteInt64(-bit) // 0 for a clear bit, -1 for a set one
		return
	}
	if it.kind != kindString {
		x.c.WriteError(errWrongType)
		return
	}
	s := it.str
	n := int64(len(s))
	start, end := int64(0), n-1
	isBit, endGiven := false, false
	switch len(x.args) {
	case 3:
	case 4, 5, 6:
		if start, ok = x.argInt(3); !ok {
			return
		}
		if len(x.args) == 6 {
			switch {
			case eqFold(x.args[5], "bit"):
				isBit = true
			case eqFold(x.args[5], "byte"):
			default:
				x.c.WriteError(errSyntax)
				return
			}
		}
		if len(x.args) >= 5 {
			if end, ok = x.argInt(4); !ok {
				return
			}
			endGiven = true
		} else if isBit {
			end = n<<3 - 1
		}
	default:
		x.c.WriteError(errSyntax)
		return
	}
	lo, hi, ok := bitRange(start, end, n, isBit)
	if !ok {
		x.c.WriteInt(-1)
		return
	}
	want := bit == 1
	for i := lo; i <= hi; i++ {
		if i&7 == 0 && i+7 <= hi {
			if (want && s[i>>3] == 0) || (!want && s[i>>3] == 0xff) {
				i += 7
				continue
			}
		}
		if bitAt(s, i) == want {
			x.c.WriteInt64(i)
			return
		}
	}
	if want || endGiven {
		x.c.WriteInt(-1)
		return
	}
	x.c.WriteInt64(hi + 1) // the string is padded with clear bits
}

// cmdBitop: BITOP AND|OR|XOR|NOT destkey key [key ...].
func cmdBitop(x *exec) {
	op := lowerASCII(string(x.args[1]))
	switch op {
	case "and", "or", "xor", "not":
	default:
		x.c.WriteError(errSyntax)
		return
	}
	if op == "not" && len(x.args) != 4 {
		x.c.WriteError("ERR BITOP NOT must be called with a single source key.")
		return
	}
	srcs := make([][]byte, 0, len(x.args)-3)
	maxLen := 0
	for _, k := range x.args[3:] {
		it, ok := x.stringItem(string(k))
		if !ok {
			return
		}
		var s []byte
		if it != nil {
			s = it.str
		}
		srcs = append(srcs, s)
		maxLen = max(maxLen, len(s))
	}
	dst := x.key(2)
	if maxLen == 0 {
		if x.live(dst) != nil {
			x.t.plan(opDelKey(dst))
		}
	} else {
		res := make([]byte, maxLen)
		at := func(s []byte, i int) byte {
			if i < len(s) {
				return s[i]
			}
			return 0
		}
		for i := range res {
			v := at(srcs[0], i)
			for _, s := range srcs[1:] {
				switch op {
				case "and":
					v &= at(s, i)
				case "or":
					v |= at(s, i)
				case "xor":
					v ^= at(s, i)
				}
			}
			if op == "not" {
				v = ^v
			}
			res[i] = v
		}
		x.t.plan(opSetKey(dst, kindString, res))
	}
	if x.apply() {
		x.c.WriteInt(maxLen)
	}
}

package walkv

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The rest of the hash group (cmd_hash.go has the first commands).

func init() {
	w, r := flagWrite, flagReadonly
	register(
		listCmd("hmset", -4, w|flagFast, cmdHmset),
		listCmd("hsetnx", 4, w|flagFast, cmdHsetnx),
		listCmd("hincrby", 4, w|flagFast, cmdHincrby),
		listCmd("hincrbyfloat", 4, w|flagFast, cmdHincrbyfloat),
		listCmd("hstrlen", 3, r|flagFast, cmdHstrlen),
		listCmd("hrandfield", -2, r, cmdHrandfield),
		listCmd("hscan", -3, r, cmdHscan),
	)
}

const (
	errHashNotInt   = "ERR hash value is not an integer"
	errHashNotFloat = "ERR hash value is not a float"
	errNotFloat     = "ERR value is not a valid float"
	errNaNInf       = "ERR increment would produce NaN or Infinity"
)

// cmdHmset: HMSET key field value [field value ...], HSET replying OK.
func cmdHmset(x *exec) {
	if len(x.args)%2 != 0 {
		x.c.WriteError(errArity("hmset"))
		return
	}
	key := x.key(1)
	it, ok := x.hashItem(key)
	if !ok {
		return
	}
	if it == nil {
		x.t.plan(opSetKey(key, kindHash, nil))
	}
	for i := 2; i < len(x.args); i += 2 {
		x.t.plan(opSetField(key, string(x.args[i]), x.args[i+1]))
	}
	if x.apply() {
		x.c.WriteString("OK")
	}
}

func cmdHsetnx(x *exec) {
	key, f := x.key(1), string(x.args[2])
	it, ok := x.hashItem(key)
	if !ok {
		return
	}
	if _, exists := it.field(f); exists {
		x.c.WriteInt(0)
		return
	}
	if it == nil {
		x.t.plan(opSetKey(key, kindHash, nil))
	}
	x.t.plan(opSetField(key, f, x.args[3]))
	if x.apply() {
		x.c.WriteInt(1)
	}
}

// planHashField plans setting field f of the hash at key (it, which may
// be nil) to v, creating the hash if needed.
func (x *exec) planHashField(key string, it *item, f string, v []byte) {
	if it == nil {
		x.t.plan(opSetKey(key, kindHash, nil))
	}
	x.t.plan(opSetField(key, f, v))
}

func cmdHincrby(x *exec) {
	d, ok := x.intArg(x.args[3])
	if !ok {
		return
	}
	key, f := x.key(1), string(x.args[2])
	it, ok := x.hashItem(key)
	if !ok {
		return
	}
	var v int64
	if cur, exists := it.field(f); exists {
		if v, ok = parseInt(cur); !ok {
			x.c.WriteError(errHashNotInt)
			return
		}
	}
	if (d > 0 && v > math.MaxInt64-d) || (d < 0 && v < math.MinInt64-d) {
		x.c.WriteError(errOverflow)
		return
	}
	v += d
	x.planHashField(key, it, f, strconv.AppendInt(nil, v, 10))
	if x.apply() {
		x.c.WriteInt64(v)
	}
}

func cmdHincrbyfloat(x *exec) {
	d, ok := parseLongDouble(x.args[3])
	if !ok {
		x.c.WriteError(errNotFloat)
		return
	}
	if d.IsInf() {
		x.c.WriteError("ERR value is NaN or Infinity")
		return
	}
	key, f := x.key(1), string(x.args[2])
	it, ok := x.hashItem(key)
	if !ok {
		return
	}
	v := newLongDouble()
	if cur, exists := it.field(f); exists {
		if v, ok = parseLongDouble(cur); !ok {
			x.c.WriteError(errHashNotFloat)
			return
		}
	}
	if v.IsInf() { // the sum is infinite
		x.c.WriteError(errNaNInf)
		return
	}
	sum := newLongDouble().Add(v, d)
	if longDoubleOverflows(sum) {
		x.c.WriteError(errNaNInf)
		return
	}
	out := []byte(formatLongDouble(sum))
	x.planHashField(key, it, f, out)
	if x.apply() {
		x.c.WriteBulk(out)
	}
}

// Redis computes INCRBYFLOAT-style arithmetic in C's long double (x87:
// a 64-bit mantissa) and prints it with "%.17Lf", trailing zeros removed.
// big.Float at 64 bits of precision, rounding to nearest even, gives the
// same sums; its exact decimal conversion gives the same text.

const longDoublePrec = 64

func newLongDouble() *big.Float { return new(big.Float).SetPrec(longDoublePrec) }

// parseLongDouble parses b as Redis's string2ld does (strtold: decimal or
// hexadecimal, inf; no spaces, no nan).
func parseLongDouble(b []byte) (*big.Float, bool) {
	s := string(b)
	if s == "" || len(s) > 5000 || strings.ContainsAny(s[:1], " \t\n\r\v\f") {
		return nil, false
	}
	low := strings.ToLower(strings.TrimLeft(s, "+-"))
	if low == "inf" || low == "infinity" {
		f := newLongDouble().SetInf(s[0] == '-')
		return f, true
	}
	if strings.ContainsAny(low, "_") || strings.HasPrefix(low, "0b") || strings.HasPrefix(low, "0o") || strings.Contains(low, "nan") {
		return nil, false
	}
	f, _, err := big.ParseFloat(s, 0, longDoublePrec, big.ToNearestEven)
	if err != nil || longDoubleOverflows(f) {
		return nil, false
	}
	return f, true
}

// longDoubleOverflows reports whether f is beyond the long double range.
func longDoubleOverflows(f *big.Float) bool { return f.IsInf() || f.MantExp(nil) > 16384 }

// formatLongDouble formats f as Redis's ld2string in human mode.
func formatLongDouble(f *big.Float) string {
	s := f.Text('f', 17)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

func cmdHstrlen(x *exec) {
	if it, ok := x.hashItem(x.key(1)); ok {
		v, _ := it.field(string(x.args[2]))
		x.c.WriteInt(len(v))
	}
}

// cmdHrandfield: HRANDFIELD key [count [WITHVALUES]].
func cmdHrandfield(x *exec) {
	if len(x.args) == 2 {
		it, ok := x.hashItem(x.key(1))
		switch {
		case !ok:
		case it == nil:
			x.c.WriteNull()
		default:
			for f := range it.fields {
				x.c.WriteBulkString(f)
				break
			}
		}
		return
	}
	count, ok := x.intArg(x.args[2])
	switch {
	case !ok:
		return
	case count == math.MinInt64:
		x.c.WriteError(errCountRange)
		return
	case len(x.args) > 4 || (len(x.args) == 4 && !eqFold(x.args[3], "withvalues")):
		x.c.WriteError(errSyntax)
		return
	}
	withValues := len(x.args) == 4
	if withValues && (count < -math.MaxInt64/2 || count > math.MaxInt64/2) {
		x.c.WriteError("ERR value is out of range")
		return
	}
	it, ok := x.hashItem(x.key(1))
	switch {
	case !ok:
	case it == nil || count == 0:
		x.c.WriteArray(0)
	case count > 0:
		n := int(min(count, int64(len(it.fields))))
		x.writeFieldsLen(n, withValues)
		for f, v := range it.fields {
			if n == 0 {
				break
			}
			n--
			if withValues {
				x.typed().WritePair()
			}
			x.c.WriteBulkString(f)
			if withValues {
				x.c.WriteBulk(v)
			}
		}
	default:
		fields := make([]string, 0, len(it.fields))
		for f := range it.fields {
			fields = append(fields, f)
		}
		x.writeFieldsLen(int(-count), withValues)
		for range -count {
			f := fields[rand.IntN(len(fields))]
			if withValues {
				x.typed().WritePair()
			}
			x.c.WriteBulkString(f)
			if withValues {
				x.c.WriteBulk(it.fields[f])
			}
		}
	}
}

// cmdHscan: HSCAN key cursor [MATCH pattern] [COUNT count].
func cmdHscan(x *exec) {
	cursor, ok := x.parseCursor(x.args[2])
	if !ok {
		return
	}
	it := x.live(x.key(1))
	if it == nil {
		x.writeEmptyScan()
		return
	}
	if it.kind != kindHash {
		x.c.WriteError(errWrongType)
		return
	}
	a, ok := x.parseElemScan(3)
	if !ok {
		return
	}
	fields := make([]string, 0, len(it.fields))
	for f := range it.fields {
		fields = append(fields, f)
	}
	next, fields := scanStrings(fields, cursor, a)
	x.c.WriteArray(2)
	x.c.WriteBulkString(formatUint(next))
	x.c.WriteArray(2 * len(fields))
	for _, f := range fields {
		x.c.WriteBulkString(f)
		x.c.WriteBulk(it.fields[f])
	}
}

// writeFieldsLen begins HRANDFIELD's reply of n fields: an array of
// fields, or WITHVALUES of [field, value] pairs (flat under RESP2).
func (x *exec) writeFieldsLen(n int, withValues bool) {
	if withValues {
		x.typed().WritePairs(n)
	} else {
		x.c.WriteArray(n)
	}
}

package walkv

import (
	"math"
	"strconv"
)

func init() {
	register(
		&command{name: "get", arity: 2, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: 1, step: 1, run: cmdGet},
		&command{name: "set", arity: -3, flags: flagWrite, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdSet},
		&command{name: "getset", arity: 3, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdGetset},
		&command{name: "append", arity: 3, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdAppend},
		&command{name: "strlen", arity: 2, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: 1, step: 1, run: cmdStrlen},
		&command{name: "incr", arity: 2, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdIncr},
		&command{name: "decr", arity: 2, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdDecr},
		&command{name: "incrby", arity: 3, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdIncrby},
		&command{name: "decrby", arity: 3, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdDecrby},
		&command{name: "mget", arity: -2, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: -1, step: 1, run: cmdMget},
		&command{name: "mset", arity: -3, flags: flagWrite, lock: lockWrite, first: 1, last: -1, step: 2, run: cmdMset},
	)
}

// stringItem returns key's live string item, nil if absent; ok is false
// (and WRONGTYPE replied) if the key holds another type.
func (x *exec) stringItem(key string) (it *item, ok bool) {
	it = x.live(key)
	if it != nil && it.kind != kindString {
		x.c.WriteError(errWrongType)
		return nil, false
	}
	return it, true
}

func cmdGet(x *exec) {
	it, ok := x.stringItem(x.key(1))
	switch {
	case !ok:
	case it == nil:
		x.db.stats.misses.Add(1)
		x.c.WriteNull()
	default:
		x.db.stats.hits.Add(1)
		x.c.WriteBulk(it.str)
	}
}

// setArgs are SET's options.
type setArgs struct {
	nx, xx, get, keepTTL bool
	expire               int64 // absolute Unix ms; 0 = none
}

// parseSetArgs parses SET's options (see parseStrOpts), then the
// deadline; it replies and returns false on error.
func (x *exec) parseSetArgs() (setArgs, bool) {
	o, ok := x.parseStrOpts(3, false)
	if !ok {
		return setArgs{}, false
	}
	at, ok := x.expireAt(o, "set")
	if !ok {
		return setArgs{}, false
	}
	return setArgs{nx: o.nx, xx: o.xx, get: o.get, keepTTL: o.keepTTL, expire: at}, true
}

func isExpireOpt(b []byte) bool {
	return eqFold(b, "ex") || eqFold(b, "px") || eqFold(b, "exat") || eqFold(b, "pxat")
}

// deadline converts an EX, PX, EXAT or PXAT option with value v into an
// absolute Unix-ms deadline, replying Redis's error if v is not a positive
// integer or the deadline overflows.
func (x *exec) deadline(opt, v []byte, cmd string) (int64, bool) {
	n, ok := parseInt(v)
	if !ok {
		x.c.WriteError(errNotInt)
		return 0, false
	}
	invalid := func() (int64, bool) {
		x.c.WriteError("ERR invalid expire time in '" + cmd + "' command")
		return 0, false
	}
	if n <= 0 {
		return invalid()
	}
	unit, base := int64(1), x.now
	if eqFold(opt, "ex") || eqFold(opt, "exat") {
		unit = 1000
	}
	if eqFold(opt, "exat") || eqFold(opt, "pxat") {
		base = 0
	}
	if n > (math.MaxInt64-base)/unit {
		return invalid()
	}
	return base + n*unit, true
}

// cmdSet: SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL].
func cmdSet(x *exec) {
	a, ok := x.parseSetArgs()
	if !ok {
		return
	}
	key := x.key(1)
	cur := x.live(key)
	if a.get && cur != nil && cur.kind != kindString {
		x.c.WriteError(errWrongType)
		return
	}
	doSet := !(a.nx && cur != nil) && !(a.xx && cur == nil)
	if doSet {
		x.t.planSetKey(key, kindString, x.args[2])
		switch {
		case a.expire != 0:
			x.t.plan(opSetExpire(key, a.expire))
		case a.keepTTL && cur != nil && cur.expire != 0:
			x.t.plan(opSetExpire(key, cur.expire))
		}
		if !x.apply() {
			return
		}
	}
	switch {
	case a.get && cur == nil:
		x.c.WriteNull()
	case a.get:
		x.c.WriteBulk(cur.str)
	case doSet:
		x.c.WriteString("OK")
	default:
		x.c.WriteNull()
	}
}

func cmdGetset(x *exec) {
	key := x.key(1)
	cur, ok := x.stringItem(key)
	if !ok {
		return
	}
	x.t.plan(opSetKey(key, kindString, x.args[2]))
	if !x.apply() {
		return
	}
	if cur == nil {
		x.c.WriteNull()
	} else {
		x.c.WriteBulk(cur.str)
	}
}

func cmdAppend(x *exec) {
	key := x.key(1)
	cur, ok := x.stringItem(key)
	if !ok {
		return
	}
	n := len(x.args[2])
	if cur != nil {
		n += len(cur.str)
	}
	if n > x.db.opts.MaxBulk {
		x.c.WriteError(errTooBig)
		return
	}
	if cur == nil {
		x.t.plan(opSetKey(key, kindString, x.args[2]))
	} else {
		x.t.plan(opAppend(key, x.args[2]))
	}
	if x.apply() {
		x.c.WriteInt(n)
	}
}

func cmdStrlen(x *exec) {
	if it, ok := x.stringItem(x.key(1)); ok {
		n := 0
		if it != nil {
			n = len(it.str)
		}
		x.c.WriteInt(n)
	}
}

func cmdIncr(x *exec) { x.incrBy(1) }
func cmdDecr(x *exec) { x.incrBy(-1) }

func cmdIncrby(x *exec) {
	if d, ok := parseInt(x.args[2]); ok {
		x.incrBy(d)
	} else {
		x.c.WriteError(errNotInt)
	}
}

func cmdDecrby(x *exec) {
	d, ok := parseInt(x.args[2])
	switch {
	case !ok:
		x.c.WriteError(errNotInt)
	case d == math.MinInt64:
		x.c.WriteError("ERR decrement would overflow")
	default:
		x.incrBy(-d)
	}
}

// incrBy adds d to the integer at key (0 if absent), keeping its deadline.
func (x *exec) incrBy(d int64) {
	key := x.key(1)
	cur, ok := x.stringItem(key)
	if !ok {
		return
	}
	var v int64
	if cur != nil {
		if v, ok = parseInt(cur.str); !ok {
			x.c.WriteError(errNotInt)
			return
		}
	}
	if (d > 0 && v > math.MaxInt64-d) || (d < 0 && v < math.MinInt64-d) {
		x.c.WriteError(errOverflow)
		return
	}
	v += d
	x.t.plan(opSetKey(key, kindString, strconv.AppendInt(nil, v, 10)))
	if cur != nil && cur.expire != 0 {
		x.t.plan(opSetExpire(key, cur.expire))
	}
	if x.apply() {
		x.c.WriteInt64(v)
	}
}

func cmdMget(x *exec) {
	x.c.WriteArray(len(x.args) - 1)
	for _, k := range x.args[1:] {
		if it := x.live(string(k)); it != nil && it.kind == kindString {
			x.c.WriteBulk(it.str)
		} else {
			x.c.WriteNull()
		}
	}
}

func cmdMset(x *exec) {
	if len(x.args)%2 != 1 {
		x.c.WriteError(errArity("mset"))
		return
	}
	for i := 1; i < len(x.args); i += 2 {
		x.t.planSetKey(string(x.args[i]), kindString, x.args[i+1])
	}
	if x.apply() {
		x.c.WriteString("OK")
	}
}

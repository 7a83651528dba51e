package walkv

import (
	"math"
	"strings"
)

func init() {
	for _, name := range []string{"expire", "pexpire", "expireat", "pexpireat"} {
		register(&command{name: name, arity: -3, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdExpire})
	}
	register(
		&command{name: "ttl", arity: 2, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: 1, step: 1, run: cmdTTL},
		&command{name: "pttl", arity: 2, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: 1, step: 1, run: cmdTTL},
		&command{name: "persist", arity: 2, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdPersist},
	)
}

// expireCond is EXPIRE's NX, XX, GT or LT option.
type expireCond struct{ nx, xx, gt, lt bool }

func (x *exec) parseExpireCond() (expireCond, bool) {
	var c expireCond
	for _, a := range x.args[3:] {
		switch {
		case eqFold(a, "nx"):
			c.nx = true
		case eqFold(a, "xx"):
			c.xx = true
		case eqFold(a, "gt"):
			c.gt = true
		case eqFold(a, "lt"):
			c.lt = true
		default:
			x.c.WriteError("ERR Unsupported option " + clip(string(a)))
			return c, false
		}
	}
	switch {
	case c.nx && (c.xx || c.gt || c.lt):
		x.c.WriteError("ERR NX and XX, GT or LT options at the same time are not compatible")
		return c, false
	case c.gt && c.lt:
		x.c.WriteError("ERR GT and LT options at the same time are not compatible")
		return c, false
	}
	return c, true
}

// allows reports whether the condition lets a key with deadline cur
// (0 = none, which counts as infinite) take deadline at.
func (c expireCond) allows(cur, at int64) bool {
	switch {
	case c.nx:
		return cur == 0
	case c.xx && cur == 0:
		return false
	case c.gt:
		return cur != 0 && at > cur
	case c.lt:
		return cur == 0 || at < cur
	}
	return true
}

// cmdExpire serves EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT. A deadline
// not in the future deletes the key, as in Redis.
func cmdExpire(x *exec) {
	name := string(x.args[0])
	cond, ok := x.parseExpireCond() // options first, as Redis
	if !ok {
		return
	}
	at, ok := x.expireDeadline(name)
	if !ok {
		return
	}
	key := x.key(1)
	it := x.live(key)
	if it == nil || !cond.allows(it.expire, at) {
		x.c.WriteInt(0)
		return
	}
	if at <= x.now {
		x.t.plan(opDelKey(key))
	} else {
		x.t.plan(opSetExpire(key, at))
	}
	if x.apply() {
		x.c.WriteInt(1)
	}
}

// expireDeadline computes the absolute deadline of an EXPIRE-family
// command; any integer is accepted (negative ones delete the key), but the
// result must not overflow.
func (x *exec) expireDeadline(name string) (int64, bool) {
	n, ok := parseInt(x.args[2])
	if !ok {
		x.c.WriteError(errNotInt)
		return 0, false
	}
	unit, base := int64(1000), x.now
	switch {
	case eqFold(x.args[0], "pexpire"):
		unit = 1
	case eqFold(x.args[0], "expireat"):
		base = 0
	case eqFold(x.args[0], "pexpireat"):
		unit, base = 1, 0
	}
	if n > (math.MaxInt64-base)/unit || n < math.MinInt64/unit {
		x.c.WriteError("ERR invalid expire time in '" + strings.ToLower(clip(name)) + "' command")
		return 0, false
	}
	return base + n*unit, true
}

// cmdTTL serves TTL (seconds, rounded) and PTTL (ms): -2 for a missing
// key, -1 for a key without deadline.
func cmdTTL(x *exec) {
	it := x.live(x.key(1))
	switch {
	case it == nil:
		x.c.WriteInt(-2)
	case it.expire == 0:
		x.c.WriteInt(-1)
	case eqFold(x.args[0], "pttl"):
		x.c.WriteInt64(it.expire - x.now)
	default:
		x.c.WriteInt64((it.expire - x.now + 500) / 1000)
	}
}

func cmdPersist(x *exec) {
	key := x.key(1)
	it := x.live(key)
	if it == nil || it.expire == 0 {
		x.c.WriteInt(0)
		return
	}
	x.t.plan(opPersist(key))
	if x.apply() {
		x.c.WriteInt(1)
	}
}

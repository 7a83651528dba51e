package walkv

import (
	"strconv"
)

func init() {
	register(
		&command{name: "del", arity: -2, flags: flagWrite, lock: lockWrite, first: 1, last: -1, step: 1, run: cmdDel},
		&command{name: "exists", arity: -2, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: -1, step: 1, run: cmdExists},
		&command{name: "type", arity: 2, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: 1, step: 1, run: cmdType},
		&command{name: "keys", arity: 2, flags: flagReadonly, lock: lockRead, run: cmdKeys},
		&command{name: "scan", arity: -2, flags: flagReadonly, lock: lockRead, run: cmdScan},
		&command{name: "dbsize", arity: 1, flags: flagReadonly | flagFast, lock: lockRead, run: cmdDbsize},
		&command{name: "flushdb", arity: -1, flags: flagWrite, lock: lockWrite, run: cmdFlush},
		&command{name: "flushall", arity: -1, flags: flagWrite, lock: lockWrite, run: cmdFlush},
	)
}

// cmdDel deletes the live keys among its arguments (each counted once).
func cmdDel(x *exec) {
	seen := map[string]bool{}
	for _, k := range x.args[1:] {
		key := string(k)
		if !seen[key] && x.live(key) != nil {
			x.t.plan(opDelKey(key))
		}
		seen[key] = true
	}
	n := len(x.t.ops) - x.t.mark
	if x.apply() {
		x.c.WriteInt(n)
	}
}

// cmdExists counts live keys, a key named twice twice (as Redis does).
func cmdExists(x *exec) {
	n := 0
	for _, k := range x.args[1:] {
		if x.live(string(k)) != nil {
			n++
		}
	}
	x.c.WriteInt(n)
}

func cmdType(x *exec) {
	t := "none"
	if it := x.live(x.key(1)); it != nil {
		t = it.kind.String()
	}
	x.c.WriteString(t)
}

func cmdKeys(x *exec) {
	pat := x.key(1)
	var keys []string
	x.ks().each(func(it *item) bool {
		if !it.expired(x.now) && globMatch(pat, it.key) {
			keys = append(keys, it.key)
		}
		return true
	})
	x.writeStrings(keys)
}

// scanArgs are SCAN's options.
type scanArgs struct {
	cursor uint64
	match  string
	count  int
	typ    string
}

func (x *exec) parseScanArgs() (scanArgs, bool) {
	a := scanArgs{count: 10}
	var err error
	if a.cursor, err = strconv.ParseUint(string(x.args[1]), 10, 64); err != nil {
		x.c.WriteError("ERR invalid cursor")
		return a, false
	}
	for i := 2; i < len(x.args); i += 2 {
		if i+1 >= len(x.args) {
			x.c.WriteError(errSyntax)
			return a, false
		}
		v := x.args[i+1]
		switch opt := x.args[i]; {
		case eqFold(opt, "match"):
			a.match = string(v)
		case eqFold(opt, "count"):
			n, ok := parseInt(v)
			if !ok || n < 1 {
				x.c.WriteError(errSyntax)
				return a, false
			}
			a.count = int(min(n, 1<<20))
		case eqFold(opt, "type"):
			a.typ = string(v)
		default:
			x.c.WriteError(errSyntax)
			return a, false
		}
	}
	return a, true
}

// cmdScan walks the keyspace shard by shard from the cursor, which is the
// index of the next shard to visit: whole shards until about COUNT keys
// were visited, and 0 at the end. A key lives in one shard for good, so a
// key present from the first call to the last is returned exactly once,
// whatever is added or removed meanwhile.
func cmdScan(x *exec) {
	a, ok := x.parseScanArgs()
	if !ok {
		return
	}
	var keys []string
	var dead []*item
	next := uint64(0)
	if a.cursor < numShards {
		next = x.ks().scan(a.cursor, a.count, func(it *item) {
			if it.expired(x.now) {
				dead = append(dead, it)
			} else if (a.match == "" || globMatch(a.match, it.key)) && (a.typ == "" || a.typ == it.kind.String()) {
				keys = append(keys, it.key)
			}
		})
	}
	for _, it := range dead { // after the walk: removal changes the shards
		x.sawExpired(it)
	}
	x.c.WriteArray(2)
	x.c.WriteBulkString(strconv.FormatUint(next, 10))
	x.writeStrings(keys)
}

// cmdDbsize counts the keys held, as Redis does: an expired key counts
// until a command touches it or active expiry removes it.
func cmdDbsize(x *exec) { x.c.WriteInt(x.ks().len()) }

// cmdFlush serves FLUSHDB (the current database) and FLUSHALL (every
// database) [ASYNC|SYNC] (both synchronous).
func cmdFlush(x *exec) {
	if len(x.args) > 2 || (len(x.args) == 2 && !eqFold(x.args[1], "async") && !eqFold(x.args[1], "sync")) {
		x.c.WriteError(errSyntax)
		return
	}
	if eqFold(x.args[0], "flushall") {
		x.t.plan(opFlushAll())
	} else {
		x.t.plan(opFlush())
	}
	if x.apply() {
		x.c.WriteString("OK")
	}
}

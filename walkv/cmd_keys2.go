package walkv

import (
	"math/rand/v2"
	"strings"
)

// More of Redis's keyspace group: RENAME, RENAMENX, COPY, RANDOMKEY,
// TOUCH, UNLINK, EXPIRETIME, PEXPIRETIME, OBJECT. A key moved or copied
// is logged as its value rebuilt at the new name (the operations that
// create each type), then its deadline: replay needs nothing new.

func init() {
	register(
		&command{name: "rename", arity: 3, flags: flagWrite, lock: lockWrite, first: 1, last: 2, step: 1, run: cmdRename},
		&command{name: "renamenx", arity: 3, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: 2, step: 1, run: cmdRename},
		&command{name: "copy", arity: -3, flags: flagWrite, lock: lockWrite, first: 1, last: 2, step: 1, run: cmdCopy},
		&command{name: "randomkey", arity: 1, flags: flagReadonly, lock: lockRead, run: cmdRandomkey},
		&command{name: "touch", arity: -2, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: -1, step: 1, run: cmdExists},
		&command{name: "unlink", arity: -2, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: -1, step: 1, run: cmdDel},
		&command{name: "expiretime", arity: 2, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: 1, step: 1, run: cmdExpiretime},
		&command{name: "pexpiretime", arity: 2, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: 1, step: 1, run: cmdExpiretime},
		&command{name: "object", arity: -2, flags: flagReadonly, lock: lockRead, first: 2, last: 2, step: 1, run: cmdObject},
	)
}

// planCopy plans the operations that create at dst a copy of it's value
// and deadline.
func (x *exec) planCopy(dst string, it *item) {
	switch it.kind {
	case kindString:
		x.t.plan(opSetKey(dst, kindString, it.str))
	case kindHash:
		x.t.plan(opSetKey(dst, kindHash, nil))
		for f, v := range it.fields {
			x.t.plan(opSetField(dst, f, v))
		}
	case kindList:
		x.t.plan(opSetKey(dst, kindList, nil))
		if it.list.n > 0 {
			x.t.plan(opListPush(dst, false, it.list.elems()))
		}
	case kindSet:
		x.t.plan(opSetKey(dst, kindSet, nil))
		for m := range it.set {
			x.t.plan(opAddMember(dst, m))
		}
	case kindZSet:
		// The copy keeps the encoding (and so any -0), as Redis's does.
		x.t.plan(opSetKey(dst, kindZSet, zsetHeader(!it.z.listpack)))
		it.z.ascend(0, func(e *zent) bool {
			x.t.plan(opZSet(dst, e.member, e.score))
			return true
		})
	}
	if it.expire != 0 {
		x.t.plan(opSetExpire(dst, it.expire))
	}
}

// cmdRename serves RENAME and RENAMENX.
func cmdRename(x *exec) {
	nx := eqFold(x.args[0], "renamenx")
	src, dst := x.key(1), x.key(2)
	it := x.live(src)
	if it == nil {
		x.c.WriteError("ERR no such key")
		return
	}
	if src == dst || (nx && x.live(dst) != nil) {
		if nx {
			x.c.WriteInt(0)
		} else {
			x.c.WriteString("OK")
		}
		return
	}
	x.planCopy(dst, it)
	x.t.plan(opDelKey(src))
	if !x.apply() {
		return
	}
	if nx {
		x.c.WriteInt(1)
	} else {
		x.c.WriteString("OK")
	}
}

// cmdCopy: COPY source destination [DB destination-db] [REPLACE]. A copy
// to another database is logged as a select of it, then the copy.
func cmdCopy(x *exec) {
	replace, dstDB := false, x.dbi
	for j := 3; j < len(x.args); j++ {
		switch {
		case eqFold(x.args[j], "replace"):
			replace = true
		case eqFold(x.args[j], "db") && j+1 < len(x.args):
			n, ok := x.parseDBIndex(x.args[j+1])
			if !ok {
				return
			}
			dstDB = n
			j++
		default:
			x.c.WriteError(errSyntax)
			return
		}
	}
	src, dst := x.key(1), x.key(2)
	if src == dst && dstDB == x.dbi {
		x.c.WriteError(errSameObject)
		return
	}
	it := x.live(src)
	if it == nil || (x.db.dbs[dstDB].live(dst, x.now) != nil && !replace) {
		x.c.WriteInt(0)
		return
	}
	if dstDB != x.dbi {
		x.t.plan(opSelectDB(dstDB))
	}
	x.planCopy(dst, it)
	if x.apply() {
		x.c.WriteInt(1)
	}
}

// cmdRandomkey returns a live key from a random shard on.
func cmdRandomkey(x *exec) {
	ks := x.ks()
	if ks.len() > 0 {
		start := rand.IntN(numShards)
		for i := range numShards {
			s := ks.shards[(start+i)%numShards]
			if s == nil || len(s.m) == 0 {
				continue
			}
			skip := rand.IntN(len(s.m))
			var pick *item
			for _, it := range s.m {
				if it.expired(x.now) {
					x.sawExpired(it) // in EXEC removed at once: Go allows deleting while ranging, and a copied shard leaves s alone
					continue
				}
				pick = it
				if skip--; skip < 0 {
					break
				}
			}
			if pick != nil {
				x.c.WriteBulkString(pick.key)
				return
			}
		}
	}
	x.c.WriteNull()
}

// cmdExpiretime serves EXPIRETIME (s) and PEXPIRETIME (ms): the absolute
// deadline, -1 without one, -2 for a missing key.
func cmdExpiretime(x *exec) {
	it := x.live(x.key(1))
	switch {
	case it == nil:
		x.c.WriteInt(-2)
	case it.expire == 0:
		x.c.WriteInt(-1)
	case eqFold(x.args[0], "pexpiretime"):
		x.c.WriteInt64(it.expire)
	default:
		x.c.WriteInt64(it.expire / 1000)
	}
}

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

// cmdObject: OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key, OBJECT HELP.
// Encodings are the ones Redis 7.0 would report; walkv does not track
// access times (IDLETIME is 0) and has no LFU policy (FREQ fails as in
// Redis without one).
func cmdObject(x *exec) {
	sub := lowerASCII(string(x.args[1]))
	switch sub {
	case "help":
		if len(x.args) != 2 {
			x.c.WriteError(errArity("object|help"))
			return
		}
		x.c.WriteArray(len(objectHelp))
		for _, l := range objectHelp {
			x.c.WriteString(l)
		}
		return
	case "encoding", "refcount", "idletime", "freq":
	default:
		x.c.WriteError("ERR unknown subcommand '" + clip(string(x.args[1])) + "'. Try OBJECT HELP.")
		return
	}
	if len(x.args) != 3 {
		x.c.WriteError(errArity("object|" + sub))
		return
	}
	it := x.live(x.key(2))
	if it == nil {
		x.c.WriteNull()
		return
	}
	switch sub {
	case "encoding":
		x.c.WriteBulkString(objectEncoding(it))
	case "refcount":
		if n, ok := parseInt(it.str); ok && it.kind == kindString && n >= 0 && n < 10000 {
			x.c.WriteInt64(2147483647) // a shared integer
		} else {
			x.c.WriteInt(1)
		}
	case "idletime":
		x.c.WriteInt(0)
	case "freq":
		x.c.WriteError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
	}
}

// objectEncoding names the encoding Redis 7.0 would most likely use for
// it's value (by its size: walkv has one representation per type).
func objectEncoding(it *item) string {
	switch it.kind {
	case kindString:
		if _, ok := parseInt(it.str); ok {
			return "int"
		}
		if len(it.str) <= 44 {
			return "embstr"
		}
		return "raw"
	case kindHash:
		if len(it.fields) > 512 { // Redis 7.0's hash-max-listpack-entries
			return "hashtable"
		}
		for f, v := range it.fields {
			if len(f) > 64 || len(v) > 64 {
				return "hashtable"
			}
		}
		return "listpack"
	case kindList:
		return "quicklist"
	case kindSet:
		if len(it.set) > 512 {
			return "hashtable"
		}
		for m := range it.set {
			if _, ok := parseInt([]byte(m)); !ok {
				return "hashtable"
			}
		}
		return "intset"
	case kindZSet:
		if it.z.listpack {
			return "listpack"
		}
		return "skiplist"
	}
	return strings.ToLower(it.kind.String())
}

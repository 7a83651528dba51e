package walkv

import (
	"math"
	"math/rand/v2"
)

func init() {
	w, r := flagWrite, flagReadonly
	register(
		listCmd("sadd", -3, w|flagFast, cmdSadd),
		listCmd("srem", -3, w|flagFast, cmdSrem),
		listCmd("smembers", 2, r, cmdSmembers),
		listCmd("sismember", 3, r|flagFast, cmdSismember),
		listCmd("smismember", -3, r|flagFast, cmdSmismember),
		listCmd("scard", 2, r|flagFast, cmdScard),
		listCmd("spop", -2, w|flagFast, cmdSpop),
		listCmd("srandmember", -2, r, cmdSrandmember),
		listCmd("sscan", -3, r, cmdSscan),
		&command{name: "smove", arity: 4, flags: w | flagFast, lock: lockWrite, first: 1, last: 2, step: 1, run: cmdSmove},
		&command{name: "sinter", arity: -2, flags: r, lock: lockRead, first: 1, last: -1, step: 1, run: cmdSinter},
		&command{name: "sunion", arity: -2, flags: r, lock: lockRead, first: 1, last: -1, step: 1, run: cmdSunion},
		&command{name: "sdiff", arity: -2, flags: r, lock: lockRead, first: 1, last: -1, step: 1, run: cmdSdiff},
		&command{name: "sinterstore", arity: -3, flags: w, lock: lockWrite, first: 1, last: -1, step: 1, run: cmdSinterstore},
		&command{name: "sunionstore", arity: -3, flags: w, lock: lockWrite, first: 1, last: -1, step: 1, run: cmdSunionstore},
		&command{name: "sdiffstore", arity: -3, flags: w, lock: lockWrite, first: 1, last: -1, step: 1, run: cmdSdiffstore},
		&command{name: "sintercard", arity: -3, flags: r, lock: lockRead, run: cmdSintercard, keys: numkeysAt(1)},
	)
}

const (
	errLimitNegative = "ERR LIMIT can't be negative"
	errNumkeysArgs   = "ERR Number of keys can't be greater than number of args"
	errCountRange    = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
)

// setItem returns key's live set, nil if absent; ok is false (and
// WRONGTYPE replied) if the key holds another type.
func (x *exec) setItem(key string) (it *item, ok bool) {
	it = x.live(key)
	if it != nil && it.kind != kindSet {
		x.c.WriteError(errWrongType)
		return nil, false
	}
	return it, true
}

// has reports whether a set item (which may be nil) holds m.
func (it *item) has(m string) bool {
	if it == nil {
		return false
	}
	_, ok := it.set[m]
	return ok
}

// card returns a set item's cardinality (0 for nil).
func (it *item) card() int {
	if it == nil {
		return 0
	}
	return len(it.set)
}

func cmdSadd(x *exec) {
	key := x.key(1)
	it, ok := x.setItem(key)
	if !ok {
		return
	}
	if it == nil {
		x.t.plan(opSetKey(key, kindSet, nil))
	}
	added := map[string]bool{}
	for _, m := range x.args[2:] {
		if s := string(m); !it.has(s) && !added[s] {
			added[s] = true
			x.t.plan(opAddMember(key, s))
		}
	}
	if x.apply() {
		x.c.WriteInt(len(added))
	}
}

func cmdSrem(x *exec) {
	key := x.key(1)
	it, ok := x.setItem(key)
	if !ok {
		return
	}
	gone := map[string]bool{}
	for _, m := range x.args[2:] {
		if s := string(m); it.has(s) && !gone[s] {
			gone[s] = true
			x.t.plan(opDelMember(key, s))
		}
	}
	if len(gone) > 0 && len(gone) == it.card() {
		x.t.plan(opDelKey(key))
	}
	if x.apply() {
		x.c.WriteInt(len(gone))
	}
}

// writeMembers writes a set's members as a set (RESP2: an array).
func (x *exec) writeMembers(set map[string]struct{}) {
	x.typed().WriteSet(len(set))
	for m := range set {
		x.c.WriteBulkString(m)
	}
}

func cmdSmembers(x *exec) {
	if it, ok := x.setItem(x.key(1)); ok {
		if it == nil {
			x.typed().WriteSet(0)
			return
		}
		x.writeMembers(it.set)
	}
}

func cmdSismember(x *exec) {
	if it, ok := x.setItem(x.key(1)); ok {
		x.c.WriteInt(b2i(it.has(string(x.args[2]))))
	}
}

func cmdSmismember(x *exec) {
	it, ok := x.setItem(x.key(1))
	if !ok {
		return
	}
	x.c.WriteArray(len(x.args) - 2)
	for _, m := range x.args[2:] {
		x.c.WriteInt(b2i(it.has(string(m))))
	}
}

func cmdScard(x *exec) {
	if it, ok := x.setItem(x.key(1)); ok {
		x.c.WriteInt(it.card())
	}
}

// someMembers returns up to n distinct members, starting from a random
// point of the map's iteration (Go randomizes it): O(n), not uniform
// (neither is Redis's).
func someMembers(set map[string]struct{}, n int) []string {
	out := make([]string, 0, min(n, len(set)))
	for m := range set {
		if len(out) == n {
			break
		}
		out = append(out, m)
	}
	return out
}

// cmdSpop: SPOP key [count]. The members chosen are logged as removals,
// so replay never chooses again.
func cmdSpop(x *exec) {
	if len(x.args) > 3 {
		x.c.WriteError(errSyntax)
		return
	}
	hasCount, count := len(x.args) == 3, int64(1)
	if hasCount {
		var ok bool
		if count, ok = x.positiveArg(x.args[2]); !ok {
			return
		}
	}
	key := x.key(1)
	it, ok := x.setItem(key)
	switch {
	case !ok:
		return
	case it == nil && hasCount:
		x.typed().WriteSet(0)
		return
	case it == nil:
		x.c.WriteNull()
		return
	case count == 0:
		x.typed().WriteSet(0)
		return
	}
	chosen := someMembers(it.set, int(min(count, int64(len(it.set)))))
	for _, m := range chosen {
		x.t.plan(opDelMember(key, m))
	}
	if len(chosen) == len(it.set) {
		x.t.plan(opDelKey(key))
	}
	if !x.apply() {
		return
	}
	if hasCount {
		x.typed().WriteSet(len(chosen)) // a set, as Redis's spopWithCountCommand
		for _, m := range chosen {
			x.c.WriteBulkString(m)
		}
	} else {
		x.c.WriteBulkString(chosen[0])
	}
}

// cmdSrandmember: SRANDMEMBER key [count]; a negative count may repeat
// members and returns exactly -count of them.
func cmdSrandmember(x *exec) {
	if len(x.args) > 3 {
		x.c.WriteError(errSyntax)
		return
	}
	var count int64
	if len(x.args) == 3 {
		var ok bool
		if count, ok = x.intArg(x.args[2]); !ok {
			return
		}
		if count == math.MinInt64 {
			x.c.WriteError(errCountRange)
			return
		}
	}
	it, ok := x.setItem(x.key(1))
	switch {
	case !ok:
	case len(x.args) == 2 && it == nil:
		x.c.WriteNull()
	case len(x.args) == 2:
		x.c.WriteBulkString(someMembers(it.set, 1)[0])
	case it == nil || count == 0:
		x.c.WriteArray(0)
	case count > 0:
		x.writeStrings(someMembers(it.set, int(min(count, int64(len(it.set))))))
	default:
		x.writeSampleWithRepeats(setMembers(it.set), -count)
	}
}

// writeSampleWithRepeats replies n members drawn uniformly with
// repetition, streaming them (n may be huge, as Redis allows).
func (x *exec) writeSampleWithRepeats(all []string, n int64) {
	x.c.WriteArray(int(n))
	for range n {
		x.c.WriteBulkString(all[rand.IntN(len(all))])
	}
}

func setMembers(set map[string]struct{}) []string {
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	return out
}

// cmdSmove: SMOVE source destination member.
func cmdSmove(x *exec) {
	src, dst, m := x.key(1), x.key(2), string(x.args[3])
	sit := x.live(src)
	if sit == nil {
		x.c.WriteInt(0)
		return
	}
	if sit.kind != kindSet {
		x.c.WriteError(errWrongType)
		return
	}
	dit, ok := x.setItem(dst)
	switch {
	case !ok:
		return
	case src == dst || !sit.has(m):
		x.c.WriteInt(b2i(sit.has(m)))
		return
	}
	x.t.plan(opDelMember(src, m))
	if len(sit.set) == 1 {
		x.t.plan(opDelKey(src))
	}
	if dit == nil {
		x.t.plan(opSetKey(dst, kindSet, nil))
	}
	if !dit.has(m) {
		x.t.plan(opAddMember(dst, m))
	}
	if x.apply() {
		x.c.WriteInt(1)
	}
}

// setOp is SINTER, SUNION or SDIFF.
type setOp uint8

const (
	setInter setOp = iota
	setUnion
	setDiff
)

// combine computes op over the sets at keys (a missing key is an empty
// set); ok is false (WRONGTYPE replied) if a key holds another type.
// limit > 0 stops an intersection once it has limit members.
func (x *exec) combine(op setOp, keys [][]byte, limit int) (map[string]struct{}, bool) {
	sets := make([]*item, len(keys))
	for i, k := range keys {
		it, ok := x.setItem(string(k))
		if !ok {
			return nil, false
		}
		sets[i] = it
	}
	out := map[string]struct{}{}
	switch op {
	case setInter:
		smallest := sets[0]
		for _, s := range sets {
			if s.card() < smallest.card() {
				smallest = s
			}
		}
		if smallest == nil {
			return out, true
		}
	members:
		for m := range smallest.set {
			for _, s := range sets {
				if !s.has(m) {
					continue members
				}
			}
			out[m] = struct{}{}
			if limit > 0 && len(out) == limit {
				break
			}
		}
	case setUnion:
		for _, s := range sets {
			if s != nil {
				for m := range s.set {
					out[m] = struct{}{}
				}
			}
		}
	case setDiff:
		if sets[0] == nil {
			return out, true
		}
	diff:
		for m := range sets[0].set {
			for _, s := range sets[1:] {
				if s.has(m) {
					continue diff
				}
			}
			out[m] = struct{}{}
		}
	}
	return out, true
}

func cmdSinter(x *exec) { x.setAlgebra(setInter) }
func cmdSunion(x *exec) { x.setAlgebra(setUnion) }
func cmdSdiff(x *exec)  { x.setAlgebra(setDiff) }

func (x *exec) setAlgebra(op setOp) {
	if set, ok := x.combine(op, x.args[1:], 0); ok {
		x.writeMembers(set)
	}
}

func cmdSinterstore(x *exec) { x.setAlgebraStore(setInter) }
func cmdSunionstore(x *exec) { x.setAlgebraStore(setUnion) }
func cmdSdiffstore(x *exec)  { x.setAlgebraStore(setDiff) }

// setAlgebraStore replaces the destination (args[1]) by the result,
// removing it if the result is empty, and replies the cardinality.
func (x *exec) setAlgebraStore(op setOp) {
	set, ok := x.combine(op, x.args[2:], 0)
	if !ok {
		return
	}
	dst := x.key(1)
	if len(set) == 0 {
		if x.live(dst) != nil {
			x.t.plan(opDelKey(dst))
		}
	} else {
		x.t.plan(opSetKey(dst, kindSet, nil))
		for m := range set {
			x.t.plan(opAddMember(dst, m))
		}
	}
	if x.apply() {
		x.c.WriteInt(len(set))
	}
}

// cmdSintercard: SINTERCARD numkeys key [key ...] [LIMIT limit].
func cmdSintercard(x *exec) {
	n, ok := parseInt(x.args[1])
	switch {
	case !ok || n <= 0:
		x.c.WriteError(errNumkeys)
		return
	case n > int64(len(x.args)-2):
		x.c.WriteError(errNumkeysArgs)
		return
	}
	keys, limit := x.args[2:2+n], int64(0)
	for i := 2 + int(n); i < len(x.args); i += 2 {
		if !eqFold(x.args[i], "limit") || i+1 >= len(x.args) {
			x.c.WriteError(errSyntax)
			return
		}
		if limit, ok = parseInt(x.args[i+1]); !ok || limit < 0 {
			x.c.WriteError(errLimitNegative)
			return
		}
	}
	if set, ok := x.combine(setInter, keys, int(min(limit, math.MaxInt32))); ok {
		x.c.WriteInt(len(set))
	}
}

// cmdSscan: SSCAN key cursor [MATCH pattern] [COUNT count].
func cmdSscan(x *exec) {
	cursor, ok := x.parseCursor(x.args[2])
	if !ok {
		return
	}
	it := x.live(x.key(1))
	if it == nil {
		x.writeEmptyScan()
		return
	}
	if it.kind != kindSet {
		x.c.WriteError(errWrongType)
		return
	}
	a, ok := x.parseElemScan(3)
	if !ok {
		return
	}
	next, members := scanStrings(setMembers(it.set), cursor, a)
	x.c.WriteArray(2)
	x.c.WriteBulkString(formatUint(next))
	x.writeStrings(members)
}

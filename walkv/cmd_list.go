package walkv

import (
	"bytes"
	"math"
)

func init() {
	w, r := flagWrite, flagReadonly
	register(
		listCmd("lpush", -3, w|flagFast, cmdLpush),
		listCmd("rpush", -3, w|flagFast, cmdRpush),
		listCmd("lpushx", -3, w|flagFast, cmdLpushx),
		listCmd("rpushx", -3, w|flagFast, cmdRpushx),
		listCmd("lpop", -2, w|flagFast, cmdLpop),
		listCmd("rpop", -2, w|flagFast, cmdRpop),
		listCmd("llen", 2, r|flagFast, cmdLlen),
		listCmd("lrange", 4, r, cmdLrange),
		listCmd("lindex", 3, r, cmdLindex),
		listCmd("lset", 4, w, cmdLset),
		listCmd("linsert", 5, w, cmdLinsert),
		listCmd("lrem", 4, w, cmdLrem),
		listCmd("ltrim", 4, w, cmdLtrim),
		listCmd("lpos", -3, r, cmdLpos),
		&command{name: "lmove", arity: 5, flags: w, lock: lockWrite, first: 1, last: 2, step: 1, run: cmdLmove},
		&command{name: "rpoplpush", arity: 3, flags: w, lock: lockWrite, first: 1, last: 2, step: 1, run: cmdRpoplpush},
		&command{name: "lmpop", arity: -4, flags: w, lock: lockWrite, run: cmdLmpop, keys: numkeysAt(1)},
	)
}

// listCmd is a list command whose only key is its first argument.
func listCmd(name string, arity int, flags cmdFlags, run func(*exec)) *command {
	lock := lockRead
	if flags&flagWrite != 0 {
		lock = lockWrite
	}
	return &command{name: name, arity: arity, flags: flags, lock: lock, first: 1, last: 1, step: 1, run: run}
}

// Error replies of the list commands, worded as Redis 7.0 words them.
const (
	errNoSuchKey     = "ERR no such key"
	errIndexRange    = "ERR index out of range"
	errMustPositive  = "ERR value is out of range, must be positive"
	errRankZero      = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	errCountNegative = "ERR COUNT can't be negative"
	errMaxlenNeg     = "ERR MAXLEN can't be negative"
	errNumkeys       = "ERR numkeys should be greater than 0"
	errCountZero     = "ERR count should be greater than 0"
)

// listItem returns key's live list, nil if absent; ok is false (and
// WRONGTYPE replied) if the key holds another type.
func (x *exec) listItem(key string) (it *item, ok bool) {
	it = x.live(key)
	if it != nil && it.kind != kindList {
		x.c.WriteError(errWrongType)
		return nil, false
	}
	return it, true
}

// llen returns the length of a list item that may be nil.
func (it *item) llen() int {
	if it == nil {
		return 0
	}
	return it.list.n
}

func cmdLpush(x *exec)  { x.push(true, false) }
func cmdRpush(x *exec)  { x.push(false, false) }
func cmdLpushx(x *exec) { x.push(true, true) }
func cmdRpushx(x *exec) { x.push(false, true) }

// push serves [LR]PUSH[X]: one logged operation for all the elements.
func (x *exec) push(left, onlyExisting bool) {
	key := x.key(1)
	it, ok := x.listItem(key)
	if !ok {
		return
	}
	if it == nil {
		if onlyExisting {
			x.c.WriteInt(0)
			return
		}
		x.t.plan(opSetKey(key, kindList, nil))
	}
	n := it.llen() + len(x.args) - 2
	x.t.plan(opListPush(key, left, x.args[2:]))
	if x.apply() {
		x.c.WriteInt(n)
	}
}

// planPop plans removing k elements (0 < k <= length) from an end of the
// list it, and the key if that empties it, and returns them in pop order.
func (x *exec) planPop(it *item, left bool, k int) [][]byte {
	l := it.list
	out := make([][]byte, 0, k)
	collect := func(_ int, v []byte) bool { out = append(out, v); return true }
	if left {
		l.each(0, k-1, collect)
	} else {
		l.eachReverse(l.n-k, l.n-1, collect)
	}
	x.t.plan(opListPop(it.key, left, k))
	if k == l.n {
		x.t.plan(opDelKey(it.key))
	}
	return out
}

func cmdLpop(x *exec) { x.pop(true) }
func cmdRpop(x *exec) { x.pop(false) }

// pop serves LPOP and RPOP key [count].
func (x *exec) pop(left bool) {
	if len(x.args) > 3 {
		x.c.WriteError(errArity(string(x.args[0])))
		return
	}
	hasCount, count := len(x.args) == 3, int64(1)
	if hasCount {
		var ok bool
		if count, ok = x.positiveArg(x.args[2]); !ok {
			return
		}
	}
	it, ok := x.listItem(x.key(1))
	switch {
	case !ok:
		return
	case it == nil && hasCount:
		x.typed().WriteNullArray()
		return
	case it == nil:
		x.c.WriteNull()
		return
	case count == 0:
		x.c.WriteArray(0)
		return
	}
	vals := x.planPop(it, left, int(min(count, int64(it.list.n))))
	if !x.apply() {
		return
	}
	if hasCount {
		x.writeBulks(vals)
	} else {
		x.c.WriteBulk(vals[0])
	}
}

// positiveArg parses a count that must be >= 0, replying Redis's error
// otherwise.
func (x *exec) positiveArg(b []byte) (int64, bool) {
	n, ok := parseInt(b)
	switch {
	case !ok || n < 0: // Redis replies the range message for both
		x.c.WriteError(errMustPositive)
	default:
		return n, true
	}
	return 0, false
}

// intArg parses an integer argument, replying Redis's error if it is not
// one.
func (x *exec) intArg(b []byte) (int64, bool) {
	n, ok := parseInt(b)
	if !ok {
		x.c.WriteError(errNotInt)
	}
	return n, ok
}

// argInt is intArg of argument i.
func (x *exec) argInt(i int) (int64, bool) { return x.intArg(x.args[i]) }

// writeBulks writes an array of bulk strings.
func (x *exec) writeBulks(vals [][]byte) {
	x.c.WriteArray(len(vals))
	for _, v := range vals {
		x.c.WriteBulk(v)
	}
}

func cmdLlen(x *exec) {
	if it, ok := x.listItem(x.key(1)); ok {
		x.c.WriteInt(it.llen())
	}
}

// listRange converts Redis's start and stop (negative from the end) for a
// list of length n into 0 <= start <= stop < n, or reports an empty range.
func listRange(start, stop int64, n int) (int, int, bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if stop < 0 {
		stop += ln
	}
	start = max(start, 0)
	if start > stop || start >= ln {
		return 0, 0, false
	}
	return int(start), int(min(stop, ln-1)), true
}

func cmdLrange(x *exec) {
	start, ok := x.intArg(x.args[2])
	if !ok {
		return
	}
	stop, ok := x.intArg(x.args[3])
	if !ok {
		return
	}
	it, ok := x.listItem(x.key(1))
	if !ok {
		return
	}
	from, to, some := listRange(start, stop, it.llen())
	if !some {
		x.c.WriteArray(0)
		return
	}
	x.c.WriteArray(to - from + 1)
	it.list.each(from, to, func(_ int, v []byte) bool {
		x.c.WriteBulk(v)
		return true
	})
}

// listIndex converts Redis's index (negative from the end) for a list of
// length n, and reports whether it is inside.
func listIndex(i int64, n int) (int, bool) {
	if i < 0 {
		i += int64(n)
	}
	return int(i), i >= 0 && i < int64(n)
}

func cmdLindex(x *exec) {
	it, ok := x.listItem(x.key(1))
	if !ok {
		return
	}
	if it == nil {
		x.c.WriteNull()
		return
	}
	idx, ok := x.intArg(x.args[2])
	if !ok {
		return
	}
	if i, in := listIndex(idx, it.list.n); in {
		x.c.WriteBulk(it.list.at(i))
	} else {
		x.c.WriteNull()
	}
}

func cmdLset(x *exec) {
	key := x.key(1)
	it, ok := x.listItem(key)
	if !ok {
		return
	}
	if it == nil {
		x.c.WriteError(errNoSuchKey)
		return
	}
	idx, ok := x.intArg(x.args[2])
	if !ok {
		return
	}
	i, in := listIndex(idx, it.list.n)
	if !in {
		x.c.WriteError(errIndexRange)
		return
	}
	x.t.plan(opListIndexed(key, listSet, i, x.args[3]))
	if x.apply() {
		x.c.WriteString("OK")
	}
}

func cmdLinsert(x *exec) {
	var after bool
	switch {
	case eqFold(x.args[2], "after"):
		after = true
	case eqFold(x.args[2], "before"):
	default:
		x.c.WriteError(errSyntax)
		return
	}
	key := x.key(1)
	it, ok := x.listItem(key)
	if !ok {
		return
	}
	if it == nil {
		x.c.WriteInt(0)
		return
	}
	at := -1
	if it.list.n > 0 {
		it.list.each(0, it.list.n-1, func(i int, v []byte) bool {
			if bytes.Equal(v, x.args[3]) {
				at = i
				return false
			}
			return true
		})
	}
	if at < 0 {
		x.c.WriteInt(-1)
		return
	}
	if after {
		at++
	}
	n := it.list.n + 1
	x.t.plan(opListIndexed(key, listInsert, at, x.args[4]))
	if x.apply() {
		x.c.WriteInt(n)
	}
}

func cmdLrem(x *exec) {
	count, ok := x.intArg(x.args[2])
	if !ok {
		return
	}
	key := x.key(1)
	it, ok := x.listItem(key)
	if !ok {
		return
	}
	if it == nil {
		x.c.WriteInt(0)
		return
	}
	// Count the matches without changing anything: the operation does
	// the removal, at apply and at replay alike.
	n := countMatches(it.list, count, x.args[3])
	if n == 0 {
		x.c.WriteInt(0)
		return
	}
	x.t.plan(opListRem(key, count, x.args[3]))
	if n == it.list.n {
		x.t.plan(opDelKey(key))
	}
	if x.apply() {
		x.c.WriteInt(n)
	}
}

// countMatches returns how many elements LREM count e would remove.
func countMatches(l *list, count int64, e []byte) int {
	limit := remLimit(count)
	n := 0
	if l.n > 0 {
		l.each(0, l.n-1, func(_ int, v []byte) bool {
			if bytes.Equal(v, e) {
				n++
			}
			return limit == 0 || int64(n) < limit // enough found: stop
		})
	}
	return n
}

func cmdLtrim(x *exec) {
	start, ok := x.intArg(x.args[2])
	if !ok {
		return
	}
	stop, ok := x.intArg(x.args[3])
	if !ok {
		return
	}
	key := x.key(1)
	it, ok := x.listItem(key)
	if !ok {
		return
	}
	if it == nil {
		x.c.WriteString("OK")
		return
	}
	n := it.list.n
	from, to, some := listRange(start, stop, n)
	switch {
	case !some:
		x.t.plan(opDelKey(key))
	default:
		if from > 0 {
			x.t.plan(opListPop(key, true, from))
		}
		if to < n-1 {
			x.t.plan(opListPop(key, false, n-1-to))
		}
	}
	if x.apply() {
		x.c.WriteString("OK")
	}
}

// lposArgs are LPOS's options.
type lposArgs struct {
	rank, count, maxlen int64 // count -1: not given
}

func (x *exec) parseLpos() (lposArgs, bool) {
	a := lposArgs{rank: 1, count: -1}
	for i := 3; i < len(x.args); i++ {
		opt, more := x.args[i], i+1 < len(x.args)
		var ok bool
		switch {
		case eqFold(opt, "rank") && more:
			i++
			if a.rank, ok = x.intArg(x.args[i]); !ok {
				return a, false
			}
			switch a.rank {
			case math.MinInt64:
				a.rank = -1 // Redis 7.0 negates it, overflows, and so skips no match
			case 0:
				x.c.WriteError(errRankZero)
				return a, false
			}
		case eqFold(opt, "count") && more:
			i++
			if a.count, ok = parseInt(x.args[i]); !ok || a.count < 0 {
				x.c.WriteError(errCountNegative)
				return a, false
			}
		case eqFold(opt, "maxlen") && more:
			i++
			if a.maxlen, ok = parseInt(x.args[i]); !ok || a.maxlen < 0 {
				x.c.WriteError(errMaxlenNeg)
				return a, false
			}
		default:
			x.c.WriteError(errSyntax)
			return a, false
		}
	}
	return a, true
}

// cmdLpos: LPOS key element [RANK rank] [COUNT num] [MAXLEN len].
func cmdLpos(x *exec) {
	a, ok := x.parseLpos()
	if !ok {
		return
	}
	it, ok := x.listItem(x.key(1))
	switch {
	case !ok:
		return
	case it == nil && a.count >= 0:
		x.c.WriteArray(0)
		return
	case it == nil:
		x.c.WriteNull()
		return
	}
	l, e := it.list, x.args[2]
	skip := a.rank - 1 // matches to pass over
	if a.rank < 0 {
		skip = -a.rank - 1
	}
	var found []int64
	scanned := int64(0)
	visit := func(i int, v []byte) bool {
		if a.maxlen != 0 && scanned >= a.maxlen {
			return false
		}
		scanned++
		if bytes.Equal(v, e) {
			if skip > 0 {
				skip--
				return true
			}
			found = append(found, int64(i))
			return a.count != -1 && (a.count == 0 || int64(len(found)) < a.count)
		}
		return true
	}
	if l.n > 0 {
		if a.rank < 0 {
			l.eachReverse(0, l.n-1, visit)
		} else {
			l.each(0, l.n-1, visit)
		}
	}
	switch {
	case a.count >= 0:
		x.c.WriteArray(len(found))
		for _, i := range found {
			x.c.WriteInt64(i)
		}
	case len(found) > 0:
		x.c.WriteInt64(found[0])
	default:
		x.c.WriteNull()
	}
}

// parseWhere parses LEFT or RIGHT, replying a syntax error otherwise.
func (x *exec) parseWhere(b []byte) (left, ok bool) {
	switch {
	case eqFold(b, "left"):
		return true, true
	case eqFold(b, "right"):
		return false, true
	}
	x.c.WriteError(errSyntax)
	return false, false
}

// cmdLmove: LMOVE source destination LEFT|RIGHT LEFT|RIGHT.
func cmdLmove(x *exec) {
	from, ok := x.parseWhere(x.args[3])
	if !ok {
		return
	}
	to, ok := x.parseWhere(x.args[4])
	if ok {
		x.lmove(from, to)
	}
}

// cmdRpoplpush: RPOPLPUSH source destination, LMOVE source destination
// RIGHT LEFT.
func cmdRpoplpush(x *exec) { x.lmove(false, true) }

// lmove moves one element from source (args[1]) to destination (args[2])
// and replies it.
func (x *exec) lmove(fromLeft, toLeft bool) {
	if v, ok := x.planMove(x.key(1), x.key(2), fromLeft, toLeft); ok && v == nil {
		x.c.WriteNull()
	} else if ok && x.apply() {
		x.c.WriteBulk(v)
	}
}

// planMove plans moving one element from src to dst and returns it: nil
// if src is empty; ok false if an error was replied.
func (x *exec) planMove(src, dst string, fromLeft, toLeft bool) (v []byte, ok bool) {
	sit, ok := x.listItem(src)
	if !ok || sit == nil {
		return nil, ok
	}
	dit, ok := x.listItem(dst)
	if !ok {
		return nil, false
	}
	l := sit.list
	if fromLeft {
		v = l.at(0)
	} else {
		v = l.at(l.n - 1)
	}
	x.t.plan(opListPop(src, fromLeft, 1))
	if src != dst { // a list moving onto itself never empties
		if l.n == 1 {
			x.t.plan(opDelKey(src))
		}
		if dit == nil {
			x.t.plan(opSetKey(dst, kindList, nil))
		}
	}
	x.t.plan(opListPush(dst, toLeft, [][]byte{v}))
	return v, true
}

// mpopArgs are LMPOP's arguments after numkeys.
type mpopArgs struct {
	keys  [][]byte
	left  bool
	count int64
}

// parseMpop parses numkeys key... LEFT|RIGHT [COUNT count] from args[at].
func (x *exec) parseMpop(at int) (mpopArgs, bool) {
	var a mpopArgs
	n, ok := parseInt(x.args[at])
	switch {
	case !ok || n <= 0:
		x.c.WriteError(errNumkeys)
		return a, false
	case n >= int64(len(x.args)-at-1):
		x.c.WriteError(errSyntax)
		return a, false
	}
	a.keys = x.args[at+1 : at+1+int(n)]
	i := at + 1 + int(n)
	if a.left, ok = x.parseWhere(x.args[i]); !ok {
		return a, false
	}
	a.count = -1
	for i++; i < len(x.args); i++ {
		if a.count == -1 && eqFold(x.args[i], "count") && i+1 < len(x.args) {
			i++
			c, ok := parseInt(x.args[i])
			if !ok || c <= 0 {
				x.c.WriteError(errCountZero)
				return a, false
			}
			a.count = c
			continue
		}
		x.c.WriteError(errSyntax)
		return a, false
	}
	if a.count == -1 {
		a.count = 1
	}
	return a, true
}

// cmdLmpop: LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count].
func cmdLmpop(x *exec) {
	a, ok := x.parseMpop(1)
	if !ok {
		return
	}
	if x.mpop(a) {
		return
	}
	x.typed().WriteNullArray()
}

// mpop pops from the first non-empty list of a.keys and replies
// [key, [elements]]; it returns false, replying nothing, if every list is
// empty, and true if it replied (an error included).
func (x *exec) mpop(a mpopArgs) bool {
	for _, k := range a.keys {
		it, ok := x.listItem(string(k))
		if !ok {
			return true
		}
		if it == nil {
			continue
		}
		vals := x.planPop(it, a.left, int(min(a.count, int64(it.list.n))))
		if x.apply() {
			x.c.WriteArray(2)
			x.c.WriteBulk(k)
			x.writeBulks(vals)
		}
		return true
	}
	return false
}

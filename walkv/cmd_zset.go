package walkv

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

func init() {
	w := flagWrite
	r := flagReadonly
	f := flagFast
	reg := func(name string, arity int, flags cmdFlags, first, last int, run func(*exec)) {
		lock := lockRead
		if flags&flagWrite != 0 {
			lock = lockWrite
		}
		step := 0
		if first > 0 {
			step = 1
		}
		register(&command{name: name, arity: arity, flags: flags, lock: lock, first: first, last: last, step: step, run: run})
	}
	reg("zadd", -4, w|f, 1, 1, cmdZadd)
	reg("zincrby", 4, w|f, 1, 1, cmdZadd)
	reg("zrem", -3, w|f, 1, 1, cmdZrem)
	reg("zcard", 2, r|f, 1, 1, cmdZcard)
	reg("zscore", 3, r|f, 1, 1, cmdZscore)
	reg("zmscore", -3, r|f, 1, 1, cmdZmscore)
	reg("zrank", 3, r|f, 1, 1, cmdZrank)
	reg("zrevrank", 3, r|f, 1, 1, cmdZrank)
	reg("zcount", 4, r|f, 1, 1, cmdZcount)
	reg("zlexcount", 4, r|f, 1, 1, cmdZlexcount)
	reg("zrange", -4, r, 1, 1, cmdZrange)
	reg("zrevrange", -4, r, 1, 1, cmdZrange)
	reg("zrangebyscore", -4, r, 1, 1, cmdZrange)
	reg("zrevrangebyscore", -4, r, 1, 1, cmdZrange)
	reg("zrangebylex", -4, r, 1, 1, cmdZrange)
	reg("zrevrangebylex", -4, r, 1, 1, cmdZrange)
	reg("zrangestore", -5, w, 1, 2, cmdZrange)
	reg("zremrangebyrank", 4, w, 1, 1, cmdZremrange)
	reg("zremrangebyscore", 4, w, 1, 1, cmdZremrange)
	reg("zremrangebylex", 4, w, 1, 1, cmdZremrange)
	reg("zpopmin", -2, w|f, 1, 1, cmdZpop)
	reg("zpopmax", -2, w|f, 1, 1, cmdZpop)
	reg("zmpop", -4, w, 0, 0, cmdZmpop)
	reg("zrandmember", -2, r, 1, 1, cmdZrandmember)
	reg("zunion", -3, r, 0, 0, cmdZsetop)
	reg("zinter", -3, r, 0, 0, cmdZsetop)
	reg("zdiff", -3, r, 0, 0, cmdZsetop)
	reg("zunionstore", -4, w, 1, 1, cmdZsetop)
	reg("zinterstore", -4, w, 1, 1, cmdZsetop)
	reg("zdiffstore", -4, w, 1, 1, cmdZsetop)
	reg("zintercard", -3, r, 0, 0, cmdZsetop)
	reg("zscan", -3, r, 1, 1, cmdZscan)
	setNumkeys("zmpop", 1)
	setNumkeys("zunion", 1)
	setNumkeys("zinter", 1)
	setNumkeys("zdiff", 1)
	setNumkeys("zintercard", 1)
	setNumkeys("zunionstore", 2, 1)
	setNumkeys("zinterstore", 2, 1)
	setNumkeys("zdiffstore", 2, 1)
}

const (
	errNaNScore     = "ERR resulting score is not a number (NaN)"
	errRangeFloat   = "ERR min or max is not a float"
	errRangeLex     = "ERR min or max not valid string range item"
	errNotPositive  = "ERR value is out of range, must be positive"
	zsetSmallMaxLen = 128 // Redis's zset-max-listpack-entries default
)

// zsetItem returns key's live sorted set, nil if absent; ok is false (and
// WRONGTYPE replied) if the key holds another type.
func (x *exec) zsetItem(key string) (it *item, ok bool) {
	it = x.live(key)
	if it != nil && it.kind != kindZSet {
		x.c.WriteError(errWrongType)
		return nil, false
	}
	return it, true
}

func (x *exec) writeScore(f float64) { x.typed().WriteDouble(f) }

// cmdZadd serves ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ...
// and ZINCRBY key increment member.
func cmdZadd(x *exec) {
	var nx, xx, gt, lt, ch bool
	incr := eqFold(x.args[0], "zincrby")
	i := 2
	for ; i < len(x.args); i++ {
		switch a := x.args[i]; {
		case eqFold(a, "nx"):
			nx = true
		case eqFold(a, "xx"):
			xx = true
		case eqFold(a, "ch"):
			ch = true
		case eqFold(a, "incr"):
			incr = true
		case eqFold(a, "gt"):
			gt = true
		case eqFold(a, "lt"):
			lt = true
		default:
			goto parsed
		}
	}
parsed:
	n := len(x.args) - i
	switch {
	case n == 0 || n%2 != 0:
		x.c.WriteError(errSyntax)
		return
	case nx && xx:
		x.c.WriteError("ERR XX and NX options at the same time are not compatible")
		return
	case (gt && nx) || (lt && nx) || (gt && lt):
		x.c.WriteError("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	case incr && n > 2:
		x.c.WriteError("ERR INCR option supports a single increment-element pair")
		return
	}
	scores := make([]float64, n/2)
	for j := range scores {
		var ok bool
		if scores[j], ok = parseScore(x.args[i+2*j]); !ok {
			x.c.WriteError(errNotFloat)
			return
		}
	}
	key := x.key(1)
	it, ok := x.zsetItem(key)
	if !ok {
		return
	}
	if it == nil && xx {
		if incr {
			x.c.WriteNull()
		} else {
			x.c.WriteInt(0)
		}
		return
	}
	if it == nil {
		// Redis 7.0 creates a skip list if the first member is long.
		x.t.plan(opSetKey(key, kindZSet, zsetHeader(len(x.args[i+1]) > zsetListpackValue)))
	}
	// pending holds the scores this command set so far (ZADD may name a
	// member twice).
	pending := map[string]float64{}
	current := func(m string) (float64, bool) {
		if s, ok := pending[m]; ok {
			return s, true
		}
		if it == nil {
			return 0, false
		}
		return it.z.score(m)
	}
	added, updated, processed := 0, 0, 0
	var last float64
	for j, score := range scores {
		m := string(x.args[i+2*j+1])
		cur, exists := current(m)
		switch {
		case exists && nx:
			continue
		case exists:
			if incr {
				score += cur
				if math.IsNaN(score) {
					x.t.ops = x.t.ops[:x.t.mark]
					x.c.WriteError(errNaNScore)
					return
				}
			}
			if (lt && score >= cur) || (gt && score <= cur) {
				continue
			}
			processed++
			last = score
			if score != cur {
				updated++
				pending[m] = score
				x.t.plan(opZSet(key, m, score))
			}
		case !xx:
			added++
			processed++
			last = score
			pending[m] = score
			x.t.plan(opZSet(key, m, score))
		}
	}
	if !x.apply() {
		return
	}
	switch {
	case incr && processed > 0:
		x.writeScore(last)
	case incr:
		x.c.WriteNull()
	case ch:
		x.c.WriteInt(added + updated)
	default:
		x.c.WriteInt(added)
	}
}

// planZDel plans the removal of members (distinct, present) from the
// sorted set it at key: the key itself if they are all of it.
func (x *exec) planZDel(key string, it *item, members []string) {
	if len(members) == it.z.len() {
		x.t.plan(opDelKey(key))
		return
	}
	for _, m := range members {
		x.t.plan(opZDel(key, m))
	}
}

func cmdZrem(x *exec) {
	key := x.key(1)
	it, ok := x.zsetItem(key)
	if !ok {
		return
	}
	var gone []string
	if it != nil {
		seen := map[string]bool{}
		for _, a := range x.args[2:] {
			m := string(a)
			if _, ok := it.z.score(m); ok && !seen[m] {
				seen[m] = true
				gone = append(gone, m)
			}
		}
		if len(gone) > 0 {
			x.planZDel(key, it, gone)
		}
	}
	if x.apply() {
		x.c.WriteInt(len(gone))
	}
}

func cmdZcard(x *exec) {
	if it, ok := x.zsetItem(x.key(1)); ok {
		n := 0
		if it != nil {
			n = it.z.len()
		}
		x.c.WriteInt(n)
	}
}

func cmdZscore(x *exec) {
	it, ok := x.zsetItem(x.key(1))
	if !ok {
		return
	}
	if it != nil {
		if s, ok := it.z.score(string(x.args[2])); ok {
			x.writeScore(s)
			return
		}
	}
	x.c.WriteNull()
}

func cmdZmscore(x *exec) {
	it, ok := x.zsetItem(x.key(1))
	if !ok {
		return
	}
	x.c.WriteArray(len(x.args) - 2)
	for _, m := range x.args[2:] {
		if it != nil {
			if s, ok := it.z.score(string(m)); ok {
				x.writeScore(s)
				continue
			}
		}
		x.c.WriteNull()
	}
}

func cmdZrank(x *exec) {
	it, ok := x.zsetItem(x.key(1))
	if !ok {
		return
	}
	if it != nil {
		if r, ok := it.z.rank(string(x.args[2])); ok {
			if eqFold(x.args[0], "zrevrank") {
				r = it.z.len() - 1 - r
			}
			x.c.WriteInt(r)
			return
		}
	}
	x.c.WriteNull()
}

// parseScoreRange parses ZRANGEBYSCORE's min and max, replying the error.
func (x *exec) parseScoreRange(min, max []byte) (scoreRange, bool) {
	var r scoreRange
	ok := true
	r.min, r.minEx, ok = parseScoreBound(min)
	if ok {
		r.max, r.maxEx, ok = parseScoreBound(max)
	}
	if !ok {
		x.c.WriteError(errRangeFloat)
	}
	return r, ok
}

func parseScoreBound(b []byte) (float64, bool, bool) {
	ex := len(b) > 0 && b[0] == '('
	if ex {
		b = b[1:]
	}
	v, ok := parseRangeScore(string(b))
	return v, ex, ok
}

// parseLexRange parses ZRANGEBYLEX's min and max, replying the error.
func (x *exec) parseLexRange(min, max []byte) (lexRange, bool) {
	var r lexRange
	var ok1, ok2 bool
	r.min, ok1 = parseLexBound(min)
	r.max, ok2 = parseLexBound(max)
	if !ok1 || !ok2 {
		x.c.WriteError(errRangeLex)
		return r, false
	}
	return r, true
}

func parseLexBound(b []byte) (lexBound, bool) {
	if len(b) == 0 {
		return lexBound{}, false
	}
	switch b[0] {
	case '+', '-':
		if len(b) != 1 {
			return lexBound{}, false
		}
		inf := 1
		if b[0] == '-' {
			inf = -1
		}
		return lexBound{inf: inf, ex: true}, true
	case '(':
		return lexBound{s: string(b[1:]), ex: true}, true
	case '[':
		return lexBound{s: string(b[1:])}, true
	}
	return lexBound{}, false
}

func cmdZcount(x *exec) {
	r, ok := x.parseScoreRange(x.args[2], x.args[3])
	if !ok {
		return
	}
	it, ok := x.zsetItem(x.key(1))
	if !ok {
		return
	}
	n := 0
	if it != nil {
		lo, hi := it.z.scoreRanks(r)
		n = hi - lo
	}
	x.c.WriteInt(n)
}

func cmdZlexcount(x *exec) {
	r, ok := x.parseLexRange(x.args[2], x.args[3])
	if !ok {
		return
	}
	it, ok := x.zsetItem(x.key(1))
	if !ok {
		return
	}
	n := 0
	if it != nil {
		lo, hi := it.z.lexRanks(r, false)
		n = hi - lo
	}
	x.c.WriteInt(n)
}

// zrangeKind is how a ZRANGE-family command selects its range.
type zrangeKind uint8

const (
	zrAuto zrangeKind = iota
	zrRank
	zrScore
	zrLex
)

// zrangeReq is a parsed ZRANGE-family request.
type zrangeReq struct {
	kind          zrangeKind
	rev           bool
	withScores    bool
	offset, limit int64
	start, stop   int64
	score         scoreRange
	lex           lexRange
}

// cmdZrange serves ZRANGE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE,
// ZRANGEBYLEX, ZREVRANGEBYLEX and ZRANGESTORE (Redis's
// zrangeGenericCommand).
func cmdZrange(x *exec) {
	req := zrangeReq{limit: -1}
	revAuto := true
	store := false
	switch name := x.args[0]; {
	case eqFold(name, "zrange"):
	case eqFold(name, "zrangestore"):
		store = true
	case eqFold(name, "zrevrange"):
		req.kind, req.rev, revAuto = zrRank, true, false
	case eqFold(name, "zrangebyscore"):
		req.kind, revAuto = zrScore, false
	case eqFold(name, "zrevrangebyscore"):
		req.kind, req.rev, revAuto = zrScore, true, false
	case eqFold(name, "zrangebylex"):
		req.kind, revAuto = zrLex, false
	case eqFold(name, "zrevrangebylex"):
		req.kind, req.rev, revAuto = zrLex, true, false
	}
	base := 1
	if store {
		base = 2
	}
	kindAuto := req.kind == zrAuto
	for j := base + 3; j < len(x.args); j++ {
		a, left := x.args[j], len(x.args)-j-1
		switch {
		case !store && eqFold(a, "withscores"):
			req.withScores = true
		case eqFold(a, "limit") && left >= 2:
			var ok bool
			if req.offset, ok = x.argInt(j + 1); !ok {
				return
			}
			if req.limit, ok = x.argInt(j + 2); !ok {
				return
			}
			j += 2
		case revAuto && !req.rev && eqFold(a, "rev"):
			req.rev = true
		case kindAuto && req.kind == zrAuto && eqFold(a, "bylex"):
			req.kind = zrLex
		case kindAuto && req.kind == zrAuto && eqFold(a, "byscore"):
			req.kind = zrScore
		default:
			x.c.WriteError(errSyntax)
			return
		}
	}
	if req.kind == zrAuto {
		req.kind = zrRank
	}
	if req.limit != -1 && req.kind == zrRank {
		x.c.WriteError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return
	}
	if req.withScores && req.kind == zrLex {
		x.c.WriteError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		return
	}
	lo, hi := x.args[base+1], x.args[base+2]
	if req.rev && req.kind != zrRank {
		lo, hi = hi, lo
	}
	var ok bool
	switch req.kind {
	case zrRank:
		if req.start, ok = x.argInt(base + 1); !ok {
			return
		}
		if req.stop, ok = x.argInt(base + 2); !ok {
			return
		}
	case zrScore:
		if req.score, ok = x.parseScoreRange(lo, hi); !ok {
			return
		}
	case zrLex:
		if req.lex, ok = x.parseLexRange(lo, hi); !ok {
			return
		}
	}
	it, ok := x.zsetItem(x.key(base))
	if !ok {
		return
	}
	var res []*zent
	if it != nil {
		res = it.z.selectRange(&req)
	}
	if store {
		// Redis 7.0 starts a listpack unless a rank range is known to be
		// long; adding members converts it as usual.
		x.zstore(x.key(1), res, req.kind == zrRank && len(res) > zsetListpackEntries)
		return
	}
	x.writeZents(res, req.withScores)
}

// selectRange returns the entries req selects, in reply order.
func (z *zset) selectRange(req *zrangeReq) []*zent {
	n := int64(z.len())
	var lo, hi int // ranks [lo, hi) in range
	switch req.kind {
	case zrRank:
		start, stop := req.start, req.stop
		if start < 0 {
			start += n
		}
		if stop < 0 {
			stop += n
		}
		start = max(start, 0)
		if start > stop || start >= n {
			return nil
		}
		stop = min(stop, n-1)
		if req.rev {
			lo, hi = int(n-1-stop), int(n-start)
		} else {
			lo, hi = int(start), int(stop+1)
		}
	case zrScore:
		lo, hi = z.scoreRanks(req.score)
	case zrLex:
		lo, hi = z.lexRanks(req.lex, req.rev)
	}
	if req.kind != zrRank {
		if req.offset < 0 {
			return nil
		}
		if req.offset >= int64(hi-lo) {
			return nil
		}
		if req.rev {
			hi -= int(req.offset)
		} else {
			lo += int(req.offset)
		}
		if req.limit >= 0 && req.limit < int64(hi-lo) {
			if req.rev {
				lo = hi - int(req.limit)
			} else {
				hi = lo + int(req.limit)
			}
		}
	}
	if lo >= hi {
		return nil
	}
	res := make([]*zent, 0, hi-lo)
	collect := func(e *zent) bool {
		res = append(res, e)
		return len(res) < hi-lo
	}
	if req.rev {
		z.descend(hi-1, collect)
	} else {
		z.ascend(lo, collect)
	}
	return res
}

// writeZents replies entries as an array of members, or with scores as
// Redis's zrangeResultHandler: RESP2 a flat array of members and scores,
// RESP3 an array of [member, score] pairs with double scores.
func (x *exec) writeZents(es []*zent, withScores bool) {
	if !withScores {
		x.c.WriteArray(len(es))
		for _, e := range es {
			x.c.WriteBulkString(e.member)
		}
		return
	}
	w := x.typed()
	w.WritePairs(len(es))
	for _, e := range es {
		w.WritePair()
		x.c.WriteBulkString(e.member)
		w.WriteDouble(e.score)
	}
}

// writeZentsFlat replies entries as a flat array of members and scores
// as bulk strings, in either protocol (ZSCAN).
func (x *exec) writeZentsFlat(es []*zent) {
	x.c.WriteArray(2 * len(es))
	for _, e := range es {
		x.c.WriteBulkString(e.member)
		x.c.WriteBulkString(formatScore(e.score))
	}
}

// zstore replaces dst by a sorted set of es (deleting it if es is empty)
// and replies its size. big says whether Redis creates it as a skip list.
func (x *exec) zstore(dst string, es []*zent, big bool) {
	if len(es) == 0 {
		if x.live(dst) != nil {
			x.t.plan(opDelKey(dst))
		}
	} else {
		x.t.plan(opSetKey(dst, kindZSet, zsetHeader(big)))
		for _, e := range es {
			x.t.plan(opZSet(dst, e.member, e.score))
		}
	}
	if x.apply() {
		x.c.WriteInt(len(es))
	}
}

// cmdZremrange serves ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX.
func cmdZremrange(x *exec) {
	req := zrangeReq{limit: -1}
	var ok bool
	switch name := x.args[0]; {
	case eqFold(name, "zremrangebyrank"):
		req.kind = zrRank
		if req.start, ok = x.argInt(2); !ok {
			return
		}
		if req.stop, ok = x.argInt(3); !ok {
			return
		}
	case eqFold(name, "zremrangebyscore"):
		req.kind = zrScore
		if req.score, ok = x.parseScoreRange(x.args[2], x.args[3]); !ok {
			return
		}
	default:
		req.kind = zrLex
		if req.lex, ok = x.parseLexRange(x.args[2], x.args[3]); !ok {
			return
		}
	}
	key := x.key(1)
	it, ok := x.zsetItem(key)
	if !ok {
		return
	}
	var gone []string
	if it != nil {
		for _, e := range it.z.selectRange(&req) {
			gone = append(gone, e.member)
		}
		if len(gone) > 0 {
			x.planZDel(key, it, gone)
		}
	}
	if x.apply() {
		x.c.WriteInt(len(gone))
	}
}

// cmdZpop serves ZPOPMIN and ZPOPMAX key [count].
func cmdZpop(x *exec) {
	if len(x.args) > 3 {
		x.c.WriteError(errSyntax)
		return
	}
	count := int64(-1)
	if len(x.args) == 3 {
		n, ok := parseInt(x.args[2])
		if !ok || n < 0 {
			x.c.WriteError(errNotPositive)
			return
		}
		count = n
	}
	x.zpop([]string{x.key(1)}, eqFold(x.args[0], "zpopmax"), count, false)
}

// zpop pops up to count (-1: one, flat reply) entries from the first
// non-empty sorted set of keys, lowest or highest first. nested is
// ZMPOP's reply: [key, [[member, score], ...]], or a null array if no key
// holds a sorted set.
func (x *exec) zpop(keys []string, highest bool, count int64, nested bool) {
	var key string
	var it *item
	for _, k := range keys {
		var ok bool
		if it, ok = x.zsetItem(k); !ok {
			return
		}
		if it != nil {
			key = k
			break
		}
	}
	switch {
	case it == nil && nested:
		x.typed().WriteNullArray()
		return
	case it == nil || count == 0:
		x.c.WriteArray(0)
		return
	}
	n := int(min(max(count, 1), int64(it.z.len())))
	req := zrangeReq{kind: zrRank, start: 0, stop: int64(n - 1), rev: highest}
	es := it.z.selectRange(&req)
	gone := make([]string, len(es))
	for i, e := range es {
		gone[i] = e.member
	}
	x.planZDel(key, it, gone)
	if !x.apply() {
		return
	}
	switch {
	case !nested && count < 0: // [member, score], whatever the protocol
		x.c.WriteArray(2)
		x.c.WriteBulkString(es[0].member)
		x.writeScore(es[0].score)
	case !nested:
		x.writeZents(es, true)
	default:
		x.c.WriteArray(2)
		x.c.WriteBulkString(key)
		x.c.WriteArray(len(es))
		for _, e := range es {
			x.c.WriteArray(2)
			x.c.WriteBulkString(e.member)
			x.writeScore(e.score)
		}
	}
}

// cmdZmpop serves ZMPOP numkeys key [key ...] MIN|MAX [COUNT count].
func cmdZmpop(x *exec) {
	keys, highest, count, ok := x.parseZmpop(1)
	if ok {
		x.zpop(keys, highest, count, true)
	}
}

// parseZmpop parses ZMPOP's arguments from numkeys at index i.
func (x *exec) parseZmpop(i int) (keys []string, highest bool, count int64, ok bool) {
	numkeys, isInt := parseInt(x.args[i])
	switch {
	case !isInt || numkeys < 1:
		x.c.WriteError("ERR numkeys should be greater than 0")
		return
	case numkeys > int64(len(x.args)-i-2):
		x.c.WriteError(errSyntax)
		return
	}
	w := i + int(numkeys) + 1
	switch {
	case eqFold(x.args[w], "min"):
	case eqFold(x.args[w], "max"):
		highest = true
	default:
		x.c.WriteError(errSyntax)
		return
	}
	count = -1
	for j := w + 1; j < len(x.args); j++ {
		if count != -1 || !eqFold(x.args[j], "count") || j+1 >= len(x.args) {
			x.c.WriteError(errSyntax)
			return
		}
		j++
		n, isInt := parseInt(x.args[j])
		if !isInt || n < 1 {
			x.c.WriteError("ERR count should be greater than 0")
			return
		}
		count = n
	}
	if count == -1 {
		count = 1
	}
	for _, k := range x.args[i+1 : w] {
		keys = append(keys, string(k))
	}
	return keys, highest, count, true
}

// cmdZrandmember serves ZRANDMEMBER key [count [WITHSCORES]].
func cmdZrandmember(x *exec) {
	if len(x.args) == 2 {
		it, ok := x.zsetItem(x.key(1))
		switch {
		case !ok:
		case it == nil:
			x.c.WriteNull()
		default:
			x.c.WriteBulkString(it.z.at(rand.IntN(it.z.len())).member)
		}
		return
	}
	l, ok := parseInt(x.args[2])
	switch {
	case !ok:
		x.c.WriteError(errNotInt)
		return
	case l == math.MinInt64:
		x.c.WriteError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	withScores := false
	if len(x.args) > 4 || (len(x.args) == 4 && !eqFold(x.args[3], "withscores")) {
		x.c.WriteError(errSyntax)
		return
	} else if len(x.args) == 4 {
		withScores = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			x.c.WriteError("ERR value is out of range")
			return
		}
	}
	it, ok := x.zsetItem(x.key(1))
	if !ok {
		return
	}
	if it == nil || l == 0 {
		x.c.WriteArray(0)
		return
	}
	size := it.z.len()
	var es []*zent
	switch {
	case l < 0: // repeats allowed: written as drawn, so a huge count costs
		// only its reply (bounded by the output buffer limit), as SRANDMEMBER
		n := int(-l)
		w := x.typed()
		if withScores {
			w.WritePairs(n)
		} else {
			x.c.WriteArray(n)
		}
		for range n {
			e := it.z.at(rand.IntN(size))
			if withScores {
				w.WritePair()
			}
			x.c.WriteBulkString(e.member)
			if withScores {
				w.WriteDouble(e.score)
			}
		}
		return
	case l >= int64(size):
		it.z.ascend(0, func(e *zent) bool { es = append(es, e); return true })
	default:
		// A partial Fisher-Yates shuffle of the ranks picks l distinct ones.
		picked := map[int]int{}
		for i := range int(l) {
			j := i + rand.IntN(size-i)
			vi, ok := picked[i]
			if !ok {
				vi = i
			}
			vj, ok := picked[j]
			if !ok {
				vj = j
			}
			picked[i], picked[j] = vj, vi
			es = append(es, it.z.at(vj))
		}
	}
	x.writeZents(es, withScores)
}

// zsetOp is ZUNION, ZINTER or ZDIFF.
type zsetOp uint8

const (
	zopUnion zsetOp = iota
	zopInter
	zopDiff
)

// zsrc is one input of a set operation.
type zsrc struct {
	z      *zset // nil: missing key
	weight float64
}

func (s zsrc) len() int {
	if s.z == nil {
		return 0
	}
	return s.z.len()
}

// cmdZsetop serves ZUNION, ZINTER, ZDIFF, their STORE forms and
// ZINTERCARD (Redis's zunionInterDiffGenericCommand).
func cmdZsetop(x *exec) {
	name := string(x.args[0])
	var op zsetOp
	var store, card bool
	switch {
	case eqFold(x.args[0], "zunion"):
	case eqFold(x.args[0], "zinter"):
		op = zopInter
	case eqFold(x.args[0], "zdiff"):
		op = zopDiff
	case eqFold(x.args[0], "zunionstore"):
		store = true
	case eqFold(x.args[0], "zinterstore"):
		op, store = zopInter, true
	case eqFold(x.args[0], "zdiffstore"):
		op, store = zopDiff, true
	case eqFold(x.args[0], "zintercard"):
		op, card = zopInter, true
	}
	ni := 1
	if store {
		ni = 2
	}
	numkeys, ok := x.argInt(ni)
	if !ok {
		return
	}
	if numkeys < 1 {
		x.c.WriteError("ERR at least 1 input key is needed for '" + lowerASCII(name) + "' command")
		return
	}
	if numkeys > int64(len(x.args)-ni-1) {
		x.c.WriteError(errSyntax)
		return
	}
	srcs := make([]zsrc, numkeys)
	j := ni + 1
	for i := range srcs {
		it := x.live(x.key(j))
		switch {
		case it == nil:
		case it.kind == kindZSet:
			srcs[i].z = it.z
		case it.kind == kindSet: // as Redis: a set's members score 1
			srcs[i].z = newZSet(false)
			for m := range it.set {
				srcs[i].z.set(m, 1)
			}
		default:
			x.c.WriteError(errWrongType)
			return
		}
		srcs[i].weight = 1
		j++
	}
	agg := "sum"
	withScores := false
	limit := int64(0)
	for j < len(x.args) {
		left := len(x.args) - j
		a := x.args[j]
		switch {
		case op != zopDiff && !card && left >= len(srcs)+1 && eqFold(a, "weights"):
			j++
			for i := range srcs {
				w, ok := parseScore(x.args[j])
				if !ok {
					x.c.WriteError("ERR weight value is not a float")
					return
				}
				srcs[i].weight = w
				j++
			}
		case op != zopDiff && !card && left >= 2 && eqFold(a, "aggregate"):
			v := x.args[j+1]
			switch {
			case eqFold(v, "sum"), eqFold(v, "min"), eqFold(v, "max"):
				agg = lowerASCII(string(v))
			default:
				x.c.WriteError(errSyntax)
				return
			}
			j += 2
		case !store && !card && eqFold(a, "withscores"):
			withScores = true
			j++
		case card && left >= 2 && eqFold(a, "limit"):
			n, ok := parseInt(x.args[j+1])
			switch {
			case !ok || n < 0:
				x.c.WriteError("ERR LIMIT can't be negative")
				return
			}
			limit = n
			j += 2
		default:
			x.c.WriteError(errSyntax)
			return
		}
	}
	res := zcombine(op, srcs, agg, card, limit)
	switch {
	case card:
		x.c.WriteInt(len(res))
	case store:
		// Redis builds a skip list and converts it if it is small.
		big := len(res) > zsetListpackEntries
		for _, e := range res {
			big = big || len(e.member) > zsetListpackValue
		}
		x.zstore(x.key(1), res, big)
	default:
		x.writeZents(res, withScores)
	}
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// zaggregate combines two weighted scores as AGGREGATE says, with C's
// comparisons (a NaN v never wins MIN or MAX); a sum that is NaN (+inf
// plus -inf, or a NaN v) is 0, as in Redis.
func zaggregate(agg string, acc, v float64) float64 {
	switch agg {
	case "min":
		if v < acc {
			return v
		}
		return acc
	case "max":
		if v > acc {
			return v
		}
		return acc
	}
	s := acc + v
	if math.IsNaN(s) {
		return 0
	}
	return s
}

// weighted returns w*s, 0 if that is NaN (0 * inf), as Redis does for
// the first input of an intersection and every input of a union.
func weighted(w, s float64) float64 {
	v := w * s
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// zcombine computes a set operation and returns the result sorted by
// (score, member). With card it returns only enough entries to count, up
// to limit (0: no limit), unsorted.
func zcombine(op zsetOp, srcs []zsrc, agg string, card bool, limit int64) []*zent {
	var res []*zent
	switch op {
	case zopDiff:
		if srcs[0].z == nil {
			return nil
		}
		srcs[0].z.ascend(0, func(e *zent) bool {
			for _, s := range srcs[1:] {
				if s.z != nil {
					if _, ok := s.z.score(e.member); ok {
						return true
					}
				}
			}
			res = append(res, e)
			return true
		})
		return res // already in order
	case zopInter:
		// Smallest input first, as Redis iterates (this fixes the order of
		// a sum's additions too).
		slices.SortStableFunc(srcs, func(a, b zsrc) int { return a.len() - b.len() })
		if srcs[0].len() == 0 {
			return nil
		}
		srcs[0].z.ascend(0, func(e *zent) bool {
			score := weighted(srcs[0].weight, e.score)
			for _, s := range srcs[1:] {
				v, ok := s.z.score(e.member)
				if !ok {
					return true
				}
				score = zaggregate(agg, score, s.weight*v)
			}
			res = append(res, &zent{member: e.member, score: score})
			return !card || limit == 0 || int64(len(res)) < limit
		})
	case zopUnion:
		slices.SortStableFunc(srcs, func(a, b zsrc) int { return a.len() - b.len() })
		acc := map[string]*zent{}
		for _, s := range srcs {
			if s.z == nil {
				continue
			}
			s.z.ascend(0, func(e *zent) bool {
				v := weighted(s.weight, e.score)
				if r := acc[e.member]; r != nil {
					r.score = zaggregate(agg, r.score, v)
				} else {
					r = &zent{member: e.member, score: v}
					acc[e.member] = r
					res = append(res, r)
				}
				return true
			})
		}
	}
	if !card {
		slices.SortFunc(res, func(a, b *zent) int {
			switch {
			case zentByScore(a, b):
				return -1
			case zentByScore(b, a):
				return 1
			}
			return 0
		})
	}
	return res
}

// cmdZscan serves ZSCAN key cursor [MATCH pattern] [COUNT count]. A set
// of up to 128 members is returned whole, in order, with cursor 0 (as
// Redis returns a listpack-encoded one); a larger one is walked in member
// order, the cursor being the position of the next member.
func cmdZscan(x *exec) {
	cursor, ok := x.parseCursor(x.args[2]) // scan_elems.go, shared with SSCAN and HSCAN
	if !ok {
		return
	}
	it, ok := x.zsetItem(x.key(1))
	if !ok {
		return
	}
	if it == nil {
		x.writeEmptyScan()
		return
	}
	opts, ok := x.parseElemScan(3)
	if !ok {
		return
	}
	count, match := int64(opts.count), opts.match
	if match == "*" {
		match = ""
	}
	var es []*zent
	keep := func(e *zent) {
		if match == "" || globMatch(match, e.member) {
			es = append(es, e)
		}
	}
	next := uint64(0)
	z := it.z
	if n := uint64(z.len()); n <= zsetSmallMaxLen {
		z.ascend(0, func(e *zent) bool { keep(e); return true })
	} else if cursor < n {
		end := min(n, cursor+uint64(min(count, 1<<20)))
		i := cursor
		z.byMember.Ascend(z.byMember.GetAt(int(cursor)), func(v any) bool {
			keep(v.(*zent))
			i++
			return i < end
		})
		if end < n {
			next = end
		}
	}
	x.c.WriteArray(2)
	x.c.WriteBulkString(strconv.FormatUint(next, 10))
	x.writeZentsFlat(es)
}

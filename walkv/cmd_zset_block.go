package walkv

// BZPOPMIN, BZPOPMAX and BZMPOP, on the blocking machinery of the list
// commands (see blocking.go): a client that finds every sorted set empty
// waits for a write to one of its keys that leaves a sorted set there.

func init() {
	register(
		&command{name: "bzpopmin", arity: -3, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: -2, step: 1, run: cmdBzpop},
		&command{name: "bzpopmax", arity: -3, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: -2, step: 1, run: cmdBzpop},
		&command{name: "bzmpop", arity: -5, flags: flagWrite, lock: lockWrite, run: cmdBzmpop, keys: numkeysAt(2)},
	)
}

// cmdBzpop: BZPOPMIN|BZPOPMAX key [key ...] timeout.
func cmdBzpop(x *exec) {
	timeout, ok := x.parseTimeout(x.args[len(x.args)-1])
	if !ok {
		return
	}
	highest := eqFold(x.args[0], "bzpopmax")
	keys := stringsOf(x.args[1 : len(x.args)-1])
	for _, k := range keys {
		it, ok := x.zsetItem(k)
		if !ok {
			return
		}
		if it != nil {
			x.zpopOne(k, it, highest)
			return
		}
	}
	x.zblock(&waiter{kind: blockZpop, keys: keys, left: !highest}, timeout)
}

// cmdBzmpop: BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count].
func cmdBzmpop(x *exec) {
	keys, highest, count, ok := x.parseZmpop(2)
	if !ok {
		return
	}
	timeout, ok := x.parseTimeout(x.args[1]) // after the other arguments, as in Redis
	if !ok {
		return
	}
	for _, k := range keys {
		it, ok := x.zsetItem(k)
		if !ok {
			return
		}
		if it != nil {
			x.zpop([]string{k}, highest, count, true)
			return
		}
	}
	x.zblock(&waiter{kind: blockZmpop, keys: keys, left: !highest, count: count}, timeout)
}

// zblock blocks x's connection with w, or replies a null array where a
// command may not block (MULTI, cluster mode), as on a timeout.
func (x *exec) zblock(w *waiter, timeout int64) {
	c, ok := x.canBlock()
	if !ok {
		x.typed().WriteNullArray()
		return
	}
	x.blockOn(c, w, timeout)
}

// zpopOne pops the lowest (highest) member of the sorted set it at key
// and replies [key, member, score].
func (x *exec) zpopOne(key string, it *item, highest bool) {
	req := zrangeReq{kind: zrRank, start: 0, stop: 0, rev: highest}
	e := it.z.selectRange(&req)[0]
	x.planZDel(key, it, []string{e.member})
	if x.apply() {
		x.c.WriteArray(3)
		x.c.WriteBulkString(key)
		x.c.WriteBulkString(e.member)
		x.writeScore(e.score)
	}
}

// waiterKind is the type of key a waiter of kind k is served from.
func waiterKind(k blockKind) kind {
	if k == blockZpop || k == blockZmpop {
		return kindZSet
	}
	return kindList
}

// serveZWaiter serves a sorted-set waiter from key (see serveWaiter).
func (x *exec) serveZWaiter(w *waiter, key string) {
	it := x.live(key)
	if w.kind == blockZpop {
		x.zpopOne(key, it, !w.left)
		return
	}
	x.zpop([]string{key}, !w.left, w.count, true)
}

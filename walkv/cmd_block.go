package walkv

func init() {
	register(
		&command{name: "blpop", arity: -3, flags: flagWrite, lock: lockWrite, first: 1, last: -2, step: 1, run: cmdBlpop},
		&command{name: "brpop", arity: -3, flags: flagWrite, lock: lockWrite, first: 1, last: -2, step: 1, run: cmdBrpop},
		&command{name: "brpoplpush", arity: 4, flags: flagWrite, lock: lockWrite, first: 1, last: 2, step: 1, run: cmdBrpoplpush},
		&command{name: "blmove", arity: 6, flags: flagWrite, lock: lockWrite, first: 1, last: 2, step: 1, run: cmdBlmove},
		&command{name: "blmpop", arity: -5, flags: flagWrite, lock: lockWrite, run: cmdBlmpop, keys: numkeysAt(2)},
	)
}

func cmdBlpop(x *exec) { x.bpop(true) }
func cmdBrpop(x *exec) { x.bpop(false) }

// bpop serves BLPOP and BRPOP key [key ...] timeout: it pops from the
// first non-empty list, or blocks.
func (x *exec) bpop(left bool) {
	timeout, ok := x.parseTimeout(x.args[len(x.args)-1])
	if !ok {
		return
	}
	keys := x.args[1 : len(x.args)-1]
	for _, k := range keys {
		it, ok := x.listItem(string(k))
		if !ok {
			return
		}
		if it == nil {
			continue
		}
		vals := x.planPop(it, left, 1)
		if x.apply() {
			x.c.WriteArray(2)
			x.c.WriteBulk(k)
			x.c.WriteBulk(vals[0])
		}
		return
	}
	c, ok := x.canBlock()
	if !ok {
		x.typed().WriteNullArray()
		return
	}
	x.blockOn(c, &waiter{kind: blockPop, keys: stringsOf(keys), left: left}, timeout)
}

func stringsOf(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

// cmdBlmove: BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout.
func cmdBlmove(x *exec) {
	from, ok := x.parseWhere(x.args[3])
	if !ok {
		return
	}
	to, ok := x.parseWhere(x.args[4])
	if !ok {
		return
	}
	if timeout, ok := x.parseTimeout(x.args[5]); ok {
		x.bmove(from, to, timeout)
	}
}

// cmdBrpoplpush: BRPOPLPUSH source destination timeout.
func cmdBrpoplpush(x *exec) {
	if timeout, ok := x.parseTimeout(x.args[3]); ok {
		x.bmove(false, true, timeout)
	}
}

func (x *exec) bmove(from, to bool, timeout int64) {
	src := x.key(1)
	it, ok := x.listItem(src)
	switch {
	case !ok:
		return
	case it != nil:
		x.lmove(from, to)
		return
	}
	c, ok := x.canBlock()
	if !ok {
		x.c.WriteNull()
		return
	}
	x.blockOn(c, &waiter{kind: blockMove, keys: []string{src}, left: from, dst: x.key(2), toLeft: to}, timeout)
}

// cmdBlmpop: BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count].
func cmdBlmpop(x *exec) {
	a, ok := x.parseMpop(2)
	if !ok {
		return
	}
	timeout, ok := x.parseTimeout(x.args[1]) // after the other arguments, as in Redis
	if !ok || x.mpop(a) {
		return
	}
	c, ok := x.canBlock()
	if !ok {
		x.typed().WriteNullArray()
		return
	}
	x.blockOn(c, &waiter{kind: blockMpop, keys: stringsOf(a.keys), left: a.left, count: a.count}, timeout)
}

package walkv

func init() {
	register(
		&command{name: "hset", arity: -4, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdHset},
		&command{name: "hget", arity: 3, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: 1, step: 1, run: cmdHget},
		&command{name: "hdel", arity: -3, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdHdel},
		&command{name: "hgetall", arity: 2, flags: flagReadonly, lock: lockRead, first: 1, last: 1, step: 1, run: cmdHgetall},
		&command{name: "hlen", arity: 2, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: 1, step: 1, run: cmdHlen},
		&command{name: "hexists", arity: 3, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: 1, step: 1, run: cmdHexists},
		&command{name: "hmget", arity: -3, flags: flagReadonly | flagFast, lock: lockRead, first: 1, last: 1, step: 1, run: cmdHmget},
		&command{name: "hkeys", arity: 2, flags: flagReadonly, lock: lockRead, first: 1, last: 1, step: 1, run: cmdHkeys},
		&command{name: "hvals", arity: 2, flags: flagReadonly, lock: lockRead, first: 1, last: 1, step: 1, run: cmdHvals},
	)
}

// hashItem returns key's live hash, nil if absent; ok is false (and
// WRONGTYPE replied) if the key holds another type.
func (x *exec) hashItem(key string) (it *item, ok bool) {
	it = x.live(key)
	if it != nil && it.kind != kindHash {
		x.c.WriteError(errWrongType)
		return nil, false
	}
	return it, true
}

// cmdHset: HSET key field value [field value ...]; replies the number of
// fields added. A missing (or expired) key is created first.
func cmdHset(x *exec) {
	if len(x.args)%2 != 0 {
		x.c.WriteError(errArity("hset"))
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
	added := map[string]bool{}
	for i := 2; i < len(x.args); i += 2 {
		f := string(x.args[i])
		if _, exists := it.field(f); !exists {
			added[f] = true
		}
		x.t.plan(opSetField(key, f, x.args[i+1]))
	}
	if x.apply() {
		x.c.WriteInt(len(added))
	}
}

// field returns a hash field; it may be nil.
func (it *item) field(f string) ([]byte, bool) {
	if it == nil {
		return nil, false
	}
	v, ok := it.fields[f]
	return v, ok
}

func cmdHget(x *exec) {
	it, ok := x.hashItem(x.key(1))
	if !ok {
		return
	}
	if v, ok := it.field(string(x.args[2])); ok {
		x.c.WriteBulk(v)
	} else {
		x.c.WriteNull()
	}
}

// cmdHdel removes fields; removing the last one removes the key.
func cmdHdel(x *exec) {
	key := x.key(1)
	it, ok := x.hashItem(key)
	if !ok {
		return
	}
	gone := map[string]bool{}
	for _, f := range x.args[2:] {
		if _, exists := it.field(string(f)); exists && !gone[string(f)] {
			gone[string(f)] = true
			x.t.plan(opDelField(key, string(f)))
		}
	}
	if it != nil && len(gone) == len(it.fields) && len(gone) > 0 {
		x.t.plan(opDelKey(key))
	}
	if x.apply() {
		x.c.WriteInt(len(gone))
	}
}

func cmdHgetall(x *exec) {
	it, ok := x.hashItem(x.key(1))
	if !ok {
		return
	}
	if it == nil {
		x.typed().WriteMap(0)
		return
	}
	x.typed().WriteMap(len(it.fields))
	for f, v := range it.fields {
		x.c.WriteBulkString(f)
		x.c.WriteBulk(v)
	}
}

func cmdHlen(x *exec) {
	if it, ok := x.hashItem(x.key(1)); ok {
		n := 0
		if it != nil {
			n = len(it.fields)
		}
		x.c.WriteInt(n)
	}
}

func cmdHexists(x *exec) {
	if it, ok := x.hashItem(x.key(1)); ok {
		_, exists := it.field(string(x.args[2]))
		x.c.WriteInt(b2i(exists))
	}
}

func cmdHmget(x *exec) {
	it, ok := x.hashItem(x.key(1))
	if !ok {
		return
	}
	x.c.WriteArray(len(x.args) - 2)
	for _, f := range x.args[2:] {
		if v, ok := it.field(string(f)); ok {
			x.c.WriteBulk(v)
		} else {
			x.c.WriteNull()
		}
	}
}

func cmdHkeys(x *exec) { x.hashList(true) }
func cmdHvals(x *exec) { x.hashList(false) }

// hashList replies a hash's fields or values.
func (x *exec) hashList(keys bool) {
	it, ok := x.hashItem(x.key(1))
	if !ok {
		return
	}
	if it == nil {
		x.c.WriteArray(0)
		return
	}
	x.c.WriteArray(len(it.fields))
	for f, v := range it.fields {
		if keys {
			x.c.WriteBulkString(f)
		} else {
			x.c.WriteBulk(v)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

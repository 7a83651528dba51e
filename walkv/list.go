package walkv

import (
	"encoding/binary"
	"slices"
)

// listChunk is the number of elements a list chunk holds (at most
// 2*listChunk after inserts in its middle).
const listChunk = 128

// list is a Redis list: a deque of chunks of elements, copy-on-write at
// chunk granularity for snapshots.
//
// Cost: push and pop at either end are O(1) (amortized; O(listChunk) to
// shift within a chunk at the head); LINDEX, LSET and LINSERT O(n/listChunk
// + listChunk); LRANGE O(n/listChunk + range). Cloning the list (the first
// change after a snapshot froze its item, see item.clone) copies only the
// chunk pointers: 8 bytes per listChunk elements, 64 KiB for a list of a
// million elements; each chunk is then copied on its first change only.
// Popping whole chunks never copies them.
//
// Invariant (copy on write): a chunk whose gen is at or below the
// keyspace's frozen generation may be shared with a frozen item and is
// immutable; elements (byte slices) are never modified in place.
// Invariant: n is the sum of the chunks' lengths; no chunk is empty.
type list struct {
	chunks []*lchunk
	n      int
}

// lchunk is a run of consecutive list elements.
type lchunk struct {
	e   [][]byte
	gen uint64
}

// cowGen says which chunks a list may change in place: those with gen
// above frozen; new and copied chunks get gen.
type cowGen struct{ gen, frozen uint64 }

func (ks *keyspace) cow() cowGen { return cowGen{gen: ks.gen, frozen: ks.frozen} }

// clone returns a list sharing every chunk (see the type's invariant).
func (l *list) clone() *list { return &list{chunks: slices.Clone(l.chunks), n: l.n} }

// own returns chunk i, copied first if it may be shared.
func (l *list) own(i int, g cowGen) *lchunk {
	c := l.chunks[i]
	if c.gen > g.frozen {
		return c
	}
	c = &lchunk{e: slices.Clone(c.e), gen: g.gen}
	l.chunks[i] = c
	return c
}

// pushBack appends v.
func (l *list) pushBack(v []byte, g cowGen) {
	l.n++
	if k := len(l.chunks); k > 0 && len(l.chunks[k-1].e) < listChunk {
		c := l.own(k-1, g)
		c.e = append(c.e, v)
		return
	}
	e := make([][]byte, 1, 8)
	e[0] = v
	l.chunks = append(l.chunks, &lchunk{e: e, gen: g.gen})
}

// pushFront prepends v.
func (l *list) pushFront(v []byte, g cowGen) {
	l.n++
	if len(l.chunks) > 0 && len(l.chunks[0].e) < listChunk {
		c := l.own(0, g)
		c.e = slices.Insert(c.e, 0, v)
		return
	}
	e := make([][]byte, 1, 8)
	e[0] = v
	l.chunks = slices.Insert(l.chunks, 0, &lchunk{e: e, gen: g.gen})
}

// popFront removes and returns the first k elements (k <= n).
func (l *list) popFront(k int, g cowGen) [][]byte {
	out := make([][]byte, 0, k)
	for k > 0 {
		c := l.chunks[0]
		if len(c.e) <= k {
			out = append(out, c.e...)
			k -= len(c.e)
			l.n -= len(c.e)
			l.chunks[0] = nil
			l.chunks = l.chunks[1:]
			continue
		}
		c = l.own(0, g)
		out = append(out, c.e[:k]...)
		clear(c.e[:k])
		c.e = c.e[k:]
		l.n -= k
		k = 0
	}
	return out
}

// popBack removes and returns the last k elements (k <= n), last first.
func (l *list) popBack(k int, g cowGen) [][]byte {
	out := make([][]byte, 0, k)
	for k > 0 {
		last := len(l.chunks) - 1
		c := l.chunks[last]
		take := min(k, len(c.e))
		for j := len(c.e) - 1; j >= len(c.e)-take; j-- {
			out = append(out, c.e[j])
		}
		k -= take
		l.n -= take
		if take == len(c.e) {
			l.chunks[last] = nil
			l.chunks = l.chunks[:last]
			continue
		}
		c = l.own(last, g)
		clear(c.e[len(c.e)-take:])
		c.e = c.e[:len(c.e)-take]
	}
	return out
}

// locate returns the chunk holding element i (0 <= i < n) and i's offset
// in it, walking from the nearer end.
func (l *list) locate(i int) (ci, off int) {
	if i < l.n/2 {
		for ci, c := range l.chunks {
			if i < len(c.e) {
				return ci, i
			}
			i -= len(c.e)
		}
	}
	rest := l.n - i // elements from i to the end
	for ci = len(l.chunks) - 1; ci >= 0; ci-- {
		c := l.chunks[ci]
		if rest <= len(c.e) {
			return ci, len(c.e) - rest
		}
		rest -= len(c.e)
	}
	panic("walkv: list index out of range")
}

// at returns element i (0 <= i < n).
func (l *list) at(i int) []byte {
	ci, off := l.locate(i)
	return l.chunks[ci].e[off]
}

// set replaces element i (0 <= i < n).
func (l *list) set(i int, v []byte, g cowGen) {
	ci, off := l.locate(i)
	l.own(ci, g).e[off] = v
}

// insert inserts v before element i (0 <= i <= n), splitting a chunk
// that grows past twice listChunk.
func (l *list) insert(i int, v []byte, g cowGen) {
	switch {
	case i == 0:
		l.pushFront(v, g)
		return
	case i == l.n:
		l.pushBack(v, g)
		return
	}
	ci, off := l.locate(i)
	c := l.own(ci, g)
	c.e = slices.Insert(c.e, off, v)
	l.n++
	if len(c.e) > 2*listChunk {
		tail := &lchunk{e: slices.Clone(c.e[listChunk:]), gen: g.gen}
		clear(c.e[listChunk:])
		c.e = c.e[:listChunk:listChunk]
		l.chunks = slices.Insert(l.chunks, ci+1, tail)
	}
}

// each calls fn for elements start..stop (inclusive, 0 <= start <= stop
// < n) in order, until fn returns false.
func (l *list) each(start, stop int, fn func(i int, v []byte) bool) {
	ci, off := l.locate(start)
	for i := start; i <= stop; ci, off = ci+1, 0 {
		for _, v := range l.chunks[ci].e[off:] {
			if i > stop || !fn(i, v) {
				return
			}
			i++
		}
	}
}

// eachReverse calls fn for elements stop down to start, until fn returns
// false.
func (l *list) eachReverse(start, stop int, fn func(i int, v []byte) bool) {
	ci, off := l.locate(stop)
	for i := stop; i >= start; ci-- {
		e := l.chunks[ci].e
		for j := off; j >= 0; j-- {
			if i < start || !fn(i, e[j]) {
				return
			}
			i--
		}
		if ci > 0 {
			off = len(l.chunks[ci-1].e) - 1
		}
	}
}

// elems returns every element in order.
func (l *list) elems() [][]byte {
	out := make([][]byte, 0, l.n)
	for _, c := range l.chunks {
		out = append(out, c.e...)
	}
	return out
}

// newList returns a list of elems (taken over), in fresh chunks owned by
// generation gen.
func newList(elems [][]byte, gen uint64) *list {
	l := &list{n: len(elems)}
	for len(elems) > 0 {
		k := min(len(elems), listChunk)
		l.chunks = append(l.chunks, &lchunk{e: slices.Clone(elems[:k]), gen: gen})
		elems = elems[k:]
	}
	return l
}

// appendSnapList appends a list's snapshot encoding: 4-byte element count
// n, then n length-prefixed elements, head first.
func appendSnapList(b []byte, it *item) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(it.list.n))
	for _, c := range it.list.chunks {
		for _, e := range c.e {
			b = appendLenBytes(b, e)
		}
	}
	return b
}

// list decodes a list entry's value (see appendSnapList).
func (sr *snapReader) list(it *item) error {
	n, err := sr.u32()
	if err != nil {
		return err
	}
	if int64(n)*4 > sr.left {
		return corruptSnap("%d elements cannot fit in %d bytes", n, sr.left)
	}
	elems := make([][]byte, n)
	for i := range elems {
		if elems[i], err = sr.lenBytes(); err != nil {
			return err
		}
	}
	it.list = newList(elems, 0)
	return nil
}

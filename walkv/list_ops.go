package walkv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/waldb/wal/txn"
)

// List operations (tag 'l', always a Put; see the package doc): the key is
// 'l' <key>, the value an opcode and its arguments. Never change them.
//
//	'L' (<uvarint len> <element>)...  push each element at the head, in order
//	'R' (<uvarint len> <element>)...  push each element at the tail, in order
//	'<' <uvarint k>                   remove the first k elements (k <= length)
//	'>' <uvarint k>                   remove the last k elements
//	'=' <uvarint i> <element>         replace element i (i < length)
//	'I' <uvarint i> <element>         insert before element i (i <= length)
//	'D' <varint count> <element>      LREM: remove up to |count| elements equal
//	                                  to element, from the tail if count < 0,
//	                                  all if 0
//
// Each costs the log O(its arguments), never the list's length.
const (
	tagList = 'l'

	listPushHead = 'L'
	listPushTail = 'R'
	listPopHead  = '<'
	listPopTail  = '>'
	listSet      = '='
	listInsert   = 'I'
	listRem      = 'D'
)

func listOp(key string, v []byte) txn.Op {
	return txn.Op{Kind: txn.KindPut, Key: tagged(tagList, key), Value: v}
}

// opListPush pushes elems at the head (left) or tail, one after another.
func opListPush(key string, left bool, elems [][]byte) txn.Op {
	code := byte(listPushTail)
	if left {
		code = listPushHead
	}
	n := 1
	for _, e := range elems {
		n += binary.MaxVarintLen64 + len(e)
	}
	v := make([]byte, 1, n)
	v[0] = code
	for _, e := range elems {
		v = binary.AppendUvarint(v, uint64(len(e)))
		v = append(v, e...)
	}
	return listOp(key, v)
}

// opListPop removes k elements at the head (left) or tail.
func opListPop(key string, left bool, k int) txn.Op {
	code := byte(listPopTail)
	if left {
		code = listPopHead
	}
	return listOp(key, binary.AppendUvarint([]byte{code}, uint64(k)))
}

// opListIndexed is '=' or 'I' at index i with element e.
func opListIndexed(key string, code byte, i int, e []byte) txn.Op {
	v := binary.AppendUvarint([]byte{code}, uint64(i))
	return listOp(key, append(v, e...))
}

// opListRem removes up to |count| elements equal to e (LREM).
func opListRem(key string, count int64, e []byte) txn.Op {
	v := binary.AppendVarint([]byte{listRem}, count)
	return listOp(key, append(v, e...))
}

func corruptList(key, format string, args ...any) error {
	return fmt.Errorf("%w: list %q: "+format, append([]any{ErrCorruptLog, key}, args...)...)
}

// applyList applies a list operation to the list at key.
func (ks *keyspace) applyList(key string, v []byte) error {
	it := ks.lookup(key)
	if it == nil || it.kind != kindList || len(v) == 0 {
		return corruptList(key, "operation on a missing key, another type, or empty")
	}
	it = ks.mutable(it)
	l, g, code, arg := it.list, ks.cow(), v[0], v[1:]
	switch code {
	case listPushHead, listPushTail:
		return applyListPush(key, l, code == listPushHead, arg, g)
	case listPopHead, listPopTail:
		k, w := binary.Uvarint(arg)
		if w <= 0 || w != len(arg) || k > uint64(l.n) {
			return corruptList(key, "bad pop")
		}
		if code == listPopHead {
			l.popFront(int(k), g)
		} else {
			l.popBack(int(k), g)
		}
		return nil
	case listSet, listInsert:
		i, w := binary.Uvarint(arg)
		if w <= 0 || i > uint64(l.n) || (code == listSet && i == uint64(l.n)) {
			return corruptList(key, "bad index")
		}
		if code == listSet {
			l.set(int(i), arg[w:], g)
		} else {
			l.insert(int(i), arg[w:], g)
		}
		return nil
	case listRem:
		count, w := binary.Varint(arg)
		if w <= 0 {
			return corruptList(key, "bad count")
		}
		listRemove(it, count, arg[w:], g.gen)
		return nil
	}
	return corruptList(key, "unknown opcode %q", code)
}

func applyListPush(key string, l *list, left bool, arg []byte, g cowGen) error {
	for len(arg) > 0 {
		n, w := binary.Uvarint(arg)
		if w <= 0 || n > uint64(len(arg)-w) {
			return corruptList(key, "bad element length")
		}
		e := arg[w : w+int(n) : w+int(n)]
		arg = arg[w+int(n):]
		if left {
			l.pushFront(e, g)
		} else {
			l.pushBack(e, g)
		}
	}
	return nil
}

// listRemove removes up to |count| elements equal to e from the list of
// it (all if count is 0, from the tail if count < 0) and returns how many;
// the list is rebuilt only if something matched.
func listRemove(it *item, count int64, e []byte, gen uint64) int {
	l := it.list
	limit := remLimit(count)
	drop := make(map[int]bool)
	match := func(i int, v []byte) bool {
		if bytes.Equal(v, e) {
			drop[i] = true
		}
		return limit == 0 || int64(len(drop)) < limit
	}
	if l.n > 0 {
		if count < 0 {
			l.eachReverse(0, l.n-1, match)
		} else {
			l.each(0, l.n-1, match)
		}
	}
	if len(drop) == 0 {
		return 0
	}
	keep := make([][]byte, 0, l.n-len(drop))
	l.each(0, l.n-1, func(i int, v []byte) bool {
		if !drop[i] {
			keep = append(keep, v)
		}
		return true
	})
	it.list = newList(keep, gen)
	return len(drop)
}

// remLimit is the number of matches LREM count removes, 0 for all. Redis
// negates a negative count, so the smallest int64 stays negative and never
// equals the number removed: it removes all.
func remLimit(count int64) int64 {
	switch {
	case count == math.MinInt64:
		return 0
	case count < 0:
		return -count
	}
	return count
}

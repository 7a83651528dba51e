package walkv

import (
	"encoding/binary"
	"fmt"

	"github.com/waldb/wal/txn"
)

// Set operations (see the package doc). Never change them.
//
//	's' Put     's' <uvarint len(key)> <key> <member>   empty   add member to the set at key
//	's' Delete  's' <uvarint len(key)> <key> <member>           remove member
const tagSet = 's'

func memberKey(key, member string) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(key)+len(member))
	b = append(b, tagSet)
	b = binary.AppendUvarint(b, uint64(len(key)))
	return append(append(b, key...), member...)
}

// opAddMember adds member to the set at key.
func opAddMember(key, member string) txn.Op {
	return txn.Op{Kind: txn.KindPut, Key: memberKey(key, member), Value: []byte{}}
}

// opDelMember removes member from the set at key.
func opDelMember(key, member string) txn.Op {
	return txn.Op{Kind: txn.KindDelete, Key: memberKey(key, member)}
}

// applyMember adds or removes a member of the set at key.
func (ks *keyspace) applyMember(op txn.Op, put bool) error {
	key, member, err := splitFieldKey(op.Key)
	if err != nil {
		return err
	}
	it := ks.lookup(key)
	if it == nil || it.kind != kindSet || (put && len(op.Value) != 0) {
		return fmt.Errorf("%w: member of %q, which is not a set, or with a value", ErrCorruptLog, key)
	}
	it = ks.mutable(it)
	if put {
		it.set[member] = struct{}{}
	} else {
		delete(it.set, member)
	}
	return nil
}

// appendSnapSet appends a set's snapshot encoding: 4-byte member count n,
// then n length-prefixed members, in no particular order.
func appendSnapSet(b []byte, it *item) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(it.set)))
	for m := range it.set {
		b = appendLenBytes(b, []byte(m))
	}
	return b
}

// set decodes a set entry's value (see appendSnapSet).
func (sr *snapReader) set(it *item) error {
	n, err := sr.u32()
	if err != nil {
		return err
	}
	if int64(n)*4 > sr.left {
		return corruptSnap("%d members cannot fit in %d bytes", n, sr.left)
	}
	it.set = make(map[string]struct{}, n)
	for range n {
		m, err := sr.lenBytes()
		if err != nil {
			return err
		}
		it.set[string(m)] = struct{}{}
	}
	return nil
}

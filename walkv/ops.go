package walkv

import (
	"encoding/binary"
	"fmt"

	"github.com/waldb/wal/txn"
)

// Tags of log operation keys (see the package doc). Never change them.
const (
	tagKey    = 'k'
	tagField  = 'h'
	tagExpire = 'x'
	tagFlush  = 'f'
	tagAppend = 'a'
)

// opSetKey creates or replaces key with a fresh value of kind k (for a
// string, holding str; a hash starts empty) and no deadline.
func opSetKey(key string, k kind, str []byte) txn.Op { return setKeyOp(tagged(tagKey, key), k, str) }

// setKeyOp is opSetKey with its key already tagged (see tx.taggedKey).
func setKeyOp(tkey []byte, k kind, str []byte) txn.Op {
	v := make([]byte, 1+len(str))
	v[0] = byte(k)
	copy(v[1:], str)
	return txn.Op{Kind: txn.KindPut, Key: tkey, Value: v}
}

// opDelKey removes key whatever its type.
func opDelKey(key string) txn.Op {
	return txn.Op{Kind: txn.KindDelete, Key: tagged(tagKey, key)}
}

// opSetField sets a field of the hash at key.
func opSetField(key, field string, value []byte) txn.Op {
	return txn.Op{Kind: txn.KindPut, Key: fieldKey(key, field), Value: append([]byte(nil), value...)}
}

// opDelField removes a field of the hash at key.
func opDelField(key, field string) txn.Op {
	return txn.Op{Kind: txn.KindDelete, Key: fieldKey(key, field)}
}

// opSetExpire sets key's deadline (Unix ms).
func opSetExpire(key string, at int64) txn.Op {
	return txn.Op{Kind: txn.KindPut, Key: tagged(tagExpire, key), Value: binary.LittleEndian.AppendUint64(nil, uint64(at))}
}

// opPersist removes key's deadline.
func opPersist(key string) txn.Op {
	return txn.Op{Kind: txn.KindDelete, Key: tagged(tagExpire, key)}
}

// opAppend appends suffix to the string at key, keeping its deadline.
func opAppend(key string, suffix []byte) txn.Op {
	return txn.Op{Kind: txn.KindPut, Key: tagged(tagAppend, key), Value: append([]byte(nil), suffix...)}
}

// opFlush removes every key.
func opFlush() txn.Op { return txn.Op{Kind: txn.KindPut, Key: []byte{tagFlush}, Value: []byte{}} }

func tagged(tag byte, key string) []byte {
	b := make([]byte, 1+len(key))
	b[0] = tag
	copy(b[1:], key)
	return b
}

func fieldKey(key, field string) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(key)+len(field))
	b = append(b, tagField)
	b = binary.AppendUvarint(b, uint64(len(key)))
	return append(append(b, key...), field...)
}

// opRedisKey returns the Redis key an operation touches, and false for a
// flush (which touches all).
func opRedisKey(op txn.Op) (string, bool) {
	switch op.Key[0] {
	case tagKey, tagExpire, tagAppend, tagList:
		return string(op.Key[1:]), true
	case tagField, tagSet, tagZMember:
		key, _, err := splitFieldKey(op.Key)
		return key, err == nil
	}
	return "", false
}

func splitFieldKey(b []byte) (key, field string, err error) {
	n, w := binary.Uvarint(b[1:])
	if w <= 0 || n > uint64(len(b)-1-w) {
		return "", "", fmt.Errorf("%w: bad hash field key %q", ErrCorruptLog, b)
	}
	rest := b[1+w:]
	return string(rest[:n]), string(rest[n:]), nil
}

// apply performs one logged operation on the keyspace. The live path and
// recovery both go through it, so a replayed log rebuilds exactly the
// state the live server had. Values are kept without copying: the caller
// hands over op's memory. Errors wrap ErrCorruptLog; the live path never
// produces one.
func (ks *keyspace) apply(op txn.Op) error {
	if len(op.Key) == 0 {
		return fmt.Errorf("%w: empty operation key", ErrCorruptLog)
	}
	put := op.Kind == txn.KindPut
	switch tag := op.Key[0]; {
	case tag == tagKey && put:
		return ks.applySetKey(string(op.Key[1:]), op.Value)
	case tag == tagKey:
		ks.remove(string(op.Key[1:]))
		return nil
	case tag == tagField:
		return ks.applyField(op, put)
	case tag == tagZMember:
		return ks.applyZMember(op, put)
	case tag == tagExpire:
		return ks.applyExpire(string(op.Key[1:]), op.Value, put)
	case tag == tagAppend && put:
		return ks.applyAppend(string(op.Key[1:]), op.Value)
	case tag == tagList && put:
		return ks.applyList(string(op.Key[1:]), op.Value)
	case tag == tagSet:
		return ks.applyMember(op, put)
	case tag == tagFlush && put && len(op.Key) == 1:
		ks.clear()
		return nil
	}
	return fmt.Errorf("%w: %s of key %q", ErrCorruptLog, op.Kind, op.Key)
}

func (ks *keyspace) applySetKey(key string, v []byte) error {
	if len(v) == 0 || (kind(v[0]) != kindString && kind(v[0]) != kindHash && kind(v[0]) != kindList && kind(v[0]) != kindSet && kind(v[0]) != kindZSet) {
		return fmt.Errorf("%w: bad value header for key %q", ErrCorruptLog, key)
	}
	it := ks.newItem(key, kind(v[0]))
	switch it.kind {
	case kindString:
		it.str = v[1:]
	case kindZSet:
		it.z = newZSetFromHeader(v[1:])
	case kindHash:
		it.fields = make(map[string][]byte)
	case kindList:
		it.list = &list{}
	case kindSet:
		it.set = make(map[string]struct{})
	}
	ks.put(it)
	return nil
}

func (ks *keyspace) applyField(op txn.Op, put bool) error {
	key, field, err := splitFieldKey(op.Key)
	if err != nil {
		return err
	}
	it := ks.lookup(key)
	if it == nil || it.kind != kindHash {
		return fmt.Errorf("%w: field of %q, which is not a hash", ErrCorruptLog, key)
	}
	it = ks.mutable(it)
	if put {
		it.fields[field] = op.Value
	} else {
		delete(it.fields, field)
	}
	return nil
}

func (ks *keyspace) applyExpire(key string, v []byte, put bool) error {
	it := ks.lookup(key)
	if it == nil || (put && len(v) != 8) {
		return fmt.Errorf("%w: deadline of missing key %q or bad value", ErrCorruptLog, key)
	}
	at := int64(0)
	if put {
		at = int64(binary.LittleEndian.Uint64(v))
	}
	ks.setExpire(ks.mutable(it), at)
	return nil
}

// applyAppend extends a string in place when its array has room: only the
// live item ever appends, and a frozen item sharing the array sees only
// its own length, so no visible byte changes (see item).
func (ks *keyspace) applyAppend(key string, suffix []byte) error {
	it := ks.lookup(key)
	if it == nil || it.kind != kindString {
		return fmt.Errorf("%w: append to %q, which is not a string", ErrCorruptLog, key)
	}
	it = ks.mutable(it)
	it.str = append(it.str, suffix...)
	return nil
}

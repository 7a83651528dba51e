package walkv

import (
	"hash/maphash"
	"maps"
)

// kind is the Redis type of a key's value. The values are part of the log
// and snapshot formats: never change them.
type kind uint8

const (
	kindString kind = 1
	kindHash   kind = 2
	kindList   kind = 3
	kindSet    kind = 4
	kindZSet   kind = 5
)

// String returns the name TYPE replies with.
func (k kind) String() string {
	switch k {
	case kindString:
		return "string"
	case kindHash:
		return "hash"
	case kindList:
		return "list"
	case kindSet:
		return "set"
	case kindZSet:
		return "zset"
	}
	return "none"
}

// item is one key and its value.
//
// Invariant (copy on write): an item whose gen is at or below the
// keyspace's frozen generation may be shared with a snapshot being written
// and is immutable; keyspace.mutable returns an owned copy. The bytes of
// str are never modified: a new value is a new slice, and APPEND only
// writes past the end of the live item's slice, where no other item looks.
type item struct {
	key    string
	kind   kind
	expire int64 // deadline, Unix milliseconds; 0 = none
	str    []byte
	fields map[string][]byte
	list   *list               // kindList
	set    map[string]struct{} // kindSet
	z      *zset               // kindZSet
	gen    uint64
}

// expired reports whether the item's deadline has passed at now (Unix ms).
func (it *item) expired(now int64) bool { return it.expire != 0 && it.expire <= now }

// clone returns a copy owned by generation gen; a hash's fields map is
// copied, strings are shared (they are immutable).
func (it *item) clone(gen uint64) *item {
	c := *it
	c.gen = gen
	if c.fields != nil {
		c.fields = maps.Clone(c.fields)
	}
	if c.list != nil {
		c.list = c.list.clone()
	}
	if c.set != nil {
		c.set = maps.Clone(c.set)
	}
	if c.z != nil {
		c.z = c.z.copy()
	}
	return &c
}

// hasher computes key hashes (for sharding) with a per-DB seed.
type hasher struct{ seed maphash.Seed }

func (h hasher) sum(key string) uint64 { return maphash.String(h.seed, key) }

package walkv

import (
	"fmt"
	"hash/maphash"
	"maps"

	"github.com/tidwall/btree"

	"github.com/waldb/wal/internal/invariants"
)

// shardBits sets the number of keyspace shards (4096): the unit of
// copy-on-write for snapshots and of SCAN's cursor.
const (
	shardBits = 12
	numShards = 1 << shardBits
)

// keyspace is the in-memory database: keys spread by hash over numShards
// Go maps. It is not safe for concurrent use; DB.mu guards it. Reads may
// run concurrently (under DB.mu.RLock) because lookups change nothing.
//
// Snapshots (copy on write, two levels): freeze returns a copy of the
// shard array and raises frozen. A shard or item whose gen is at or below
// frozen may be shared with that copy and is immutable: the first change
// to such a shard after a freeze replaces it with a copy of its map
// (O(keys/numShards)), and the first in-place change to such an item
// (a hash field, a deadline, an append) replaces it with a copy of the
// item. So a snapshot writer reads the frozen shards without any lock,
// while clients go on, and freezing costs O(numShards), not O(keys).
type keyspace struct {
	h      hasher
	shards [numShards]*shard
	n      int // keys
	// byKind counts the keys of each kind (INFO keys per type, Stats).
	// Invariant: its sum is n.
	byKind [kindZSet + 1]int
	gen    uint64 // generation of shards and items created or copied now
	frozen uint64 // shards and items with gen <= frozen are immutable
	// deadlines indexes the items with a deadline by (deadline, key), for
	// active expiry and INFO. Invariant: it holds exactly one deadline for
	// each key whose item has expire set.
	deadlines *btree.BTree
}

// shard is one map of the keyspace.
type shard struct {
	m   map[string]*item
	gen uint64
}

// frozenKeys is a point-in-time copy of the keyspace's shards.
type frozenKeys [numShards]*shard

// each calls fn for every item, shard by shard, until fn returns false.
func (f *frozenKeys) each(fn func(*item) bool) { eachItem(f[:], fn) }

func eachItem(shards []*shard, fn func(*item) bool) {
	for _, s := range shards {
		if s == nil {
			continue
		}
		for _, it := range s.m {
			if !fn(it) {
				return
			}
		}
	}
}

// deadline is an entry of keyspace.deadlines.
type deadline struct {
	at  int64
	key string
}

func deadlineLess(a, b any) bool {
	x, y := a.(deadline), b.(deadline)
	if x.at != y.at {
		return x.at < y.at
	}
	return x.key < y.key
}

func newKeyspace() *keyspace {
	return &keyspace{h: hasher{seed: maphash.MakeSeed()}, deadlines: btree.NewNonConcurrent(deadlineLess), gen: 1}
}

// shardOf returns the shard index of key.
func (ks *keyspace) shardOf(key string) int { return int(ks.h.sum(key) >> (64 - shardBits)) }

// lookup returns the item of key, expired or not, or nil.
func (ks *keyspace) lookup(key string) *item {
	if s := ks.shards[ks.shardOf(key)]; s != nil {
		return s.m[key]
	}
	return nil
}

// live returns the item of key unless it is absent or expired at now.
func (ks *keyspace) live(key string, now int64) *item {
	if it := ks.lookup(key); it != nil && !it.expired(now) {
		return it
	}
	return nil
}

// newItem returns an empty item of kind k for key, owned by the current
// generation.
func (ks *keyspace) newItem(key string, k kind) *item {
	return &item{key: key, kind: k, gen: ks.gen}
}

// writable returns shard i, creating it or replacing a frozen one by an
// owned copy.
func (ks *keyspace) writable(i int) *shard {
	s := ks.shards[i]
	switch {
	case s == nil:
		s = &shard{m: make(map[string]*item), gen: ks.gen}
	case s.gen <= ks.frozen:
		s = &shard{m: maps.Clone(s.m), gen: ks.gen}
	default:
		return s
	}
	ks.shards[i] = s
	return s
}

// put inserts or replaces it.
func (ks *keyspace) put(it *item) {
	s := ks.writable(ks.shardOf(it.key))
	prev := s.m[it.key]
	s.m[it.key] = it
	if prev == nil {
		ks.n++
	} else {
		ks.byKind[prev.kind]--
	}
	ks.byKind[it.kind]++
	ks.checkKinds()
	ks.untrack(prev)
	ks.track(it)
}

// remove deletes key and returns its item, or nil.
func (ks *keyspace) remove(key string) *item {
	i := ks.shardOf(key)
	if s := ks.shards[i]; s == nil || s.m[key] == nil {
		return nil
	}
	s := ks.writable(i)
	it := s.m[key]
	delete(s.m, key)
	ks.n--
	ks.byKind[it.kind]--
	ks.checkKinds()
	ks.untrack(it)
	return it
}

// track adds it's deadline to the index.
func (ks *keyspace) track(it *item) {
	if it.expire != 0 {
		ks.deadlines.Set(deadline{it.expire, it.key})
	}
}

// untrack removes the deadline of it (which may be nil) from the index.
func (ks *keyspace) untrack(it *item) {
	if it != nil && it.expire != 0 {
		ks.deadlines.Delete(deadline{it.expire, it.key})
	}
}

// mutable returns it itself if the current generation owns it, or an owned
// copy that replaces it in its shard.
func (ks *keyspace) mutable(it *item) *item {
	if it.gen > ks.frozen {
		return it
	}
	c := it.clone(ks.gen)
	ks.writable(ks.shardOf(it.key)).m[it.key] = c
	return c
}

// setExpire changes it's deadline; it must be mutable.
func (ks *keyspace) setExpire(it *item, at int64) {
	ks.untrack(it)
	it.expire = at
	ks.track(it)
}

// clear removes every key.
func (ks *keyspace) clear() {
	ks.shards = [numShards]*shard{}
	ks.n = 0
	ks.byKind = [len(ks.byKind)]int{}
	ks.deadlines = btree.NewNonConcurrent(deadlineLess)
}

// len returns the number of keys, expired ones not yet removed included
// (as Redis's DBSIZE).
func (ks *keyspace) len() int { return ks.n }

// expires returns the number of keys with a deadline.
func (ks *keyspace) expires() int { return ks.deadlines.Len() }

// expiredKeys returns up to n keys whose deadline is at or before now,
// earliest first.
func (ks *keyspace) expiredKeys(now int64, n int) []string {
	var keys []string
	ks.deadlines.Ascend(nil, func(v any) bool {
		d := v.(deadline)
		if d.at > now || len(keys) == n {
			return false
		}
		keys = append(keys, d.key)
		return true
	})
	return keys
}

// freeze returns a copy of the shards that stays unchanged while the
// keyspace goes on, for a snapshot.
func (ks *keyspace) freeze() *frozenKeys {
	ks.frozen = ks.gen
	ks.gen++
	f := frozenKeys(ks.shards)
	return &f
}

// scan calls fn for the items of the shards from cursor on, a whole shard
// at a time, until at least count items were visited, and returns the
// next cursor (0 after the last shard).
func (ks *keyspace) scan(cursor uint64, count int, fn func(*item)) uint64 {
	visited := 0
	for i := cursor; i < numShards; i++ {
		if visited >= count {
			return i
		}
		if s := ks.shards[i]; s != nil {
			for _, it := range s.m {
				fn(it)
				visited++
			}
		}
	}
	return 0
}

// each calls fn for every item until fn returns false.
func (ks *keyspace) each(fn func(*item) bool) { eachItem(ks.shards[:], fn) }

// checkKinds panics, in builds with the invariants tag, if the per-kind
// counts do not add up to the number of keys.
func (ks *keyspace) checkKinds() {
	if !invariants.Enabled {
		return
	}
	sum := 0
	for _, n := range ks.byKind {
		sum += n
	}
	if sum != ks.n {
		panic(fmt.Sprintf("walkv: keys by kind %v add up to %d, not %d", ks.byKind, sum, ks.n))
	}
}

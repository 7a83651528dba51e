package walkv

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/tidwall/btree"
	"github.com/waldb/wal/internal/invariants"
	"github.com/waldb/wal/txn"
)

// A sorted set (kindZSet) is two B-trees (github.com/tidwall/btree) over
// the same immutable entries: byScore orders them by (score, member), as
// Redis's skip list does, and byMember by member, for ZSCORE and for
// finding a member's entry. Both trees copy on write in O(1) (Copy), so a
// snapshot freezes a sorted set of any size without copying it (see
// item.clone).
//
// The trees count the items under each node, so the entry at a rank is
// found in O(log n) (GetAt). tidwall/btree has no "rank of an item", so
// a rank is found by binary search over GetAt: O(log² n) with a tree of
// height log₁₂₈ n, which BenchmarkZRank measures (a 1M-member ZRANK takes
// microseconds). Ranges walk the tree from their first entry (Ascend,
// Descend), O(log n + m).
//
// Scores are never NaN; -0 and 0 compare equal (as in Redis), so they
// order by member.
type zset struct {
	byScore  *btree.BTree // *zent by (score, member)
	byMember *btree.BTree // *zent by member
	// listpack mirrors Redis 7.0's choice of encoding, which shows in
	// replies: a listpack stores a score as text, so -0 reads back as 0.
	// A set starts as a listpack unless created big (see zsetHeader) and
	// stops being one for good once it would hold more than
	// zsetListpackEntries members or a member longer than
	// zsetListpackValue bytes. It changes only with applied operations, so
	// replay reproduces it.
	listpack bool
}

// Redis's zset-max-listpack-entries and zset-max-listpack-value defaults.
const (
	zsetListpackEntries = 128
	zsetListpackValue   = 64
)

// zent is one member and its score. Entries in a zset's trees are never
// modified: a new score is a new entry. top marks a search pivot that
// sorts after every member with its score.
type zent struct {
	member string
	score  float64
	top    bool
}

func zentByScore(a, b any) bool {
	x, y := a.(*zent), b.(*zent)
	if x.score != y.score {
		return x.score < y.score
	}
	if x.top || y.top {
		return !x.top && y.top
	}
	return x.member < y.member
}

func zentByMember(a, b any) bool { return a.(*zent).member < b.(*zent).member }

func newZSet(listpack bool) *zset {
	return &zset{byScore: btree.NewNonConcurrent(zentByScore), byMember: btree.NewNonConcurrent(zentByMember), listpack: listpack}
}

// zsetHeader is the value suffix of the 'k' operation creating a sorted
// set: empty for one that starts as a listpack, {1} for a big one.
func zsetHeader(big bool) []byte {
	if big {
		return []byte{1}
	}
	return nil
}

// newZSetFromHeader returns the empty sorted set a 'k' operation creates.
func newZSetFromHeader(h []byte) *zset { return newZSet(len(h) == 0 || h[0] == 0) }

// copy returns a copy sharing the trees' nodes until either side changes
// (copy on write).
func (z *zset) copy() *zset {
	return &zset{byScore: z.byScore.Copy(), byMember: z.byMember.Copy(), listpack: z.listpack}
}

func (z *zset) len() int { return z.byMember.Len() }

// score returns member's score.
func (z *zset) score(member string) (float64, bool) {
	if e, _ := z.byMember.Get(&zent{member: member}).(*zent); e != nil {
		return e.score, true
	}
	return 0, false
}

// set gives member the score, adding it if needed.
func (z *zset) set(member string, score float64) {
	if z.listpack {
		if _, ok := z.score(member); !ok && (z.len()+1 > zsetListpackEntries || len(member) > zsetListpackValue) {
			z.listpack = false
		} else if score == 0 {
			score = 0 // a listpack has no -0
		}
	}
	e := &zent{member: member, score: score}
	if old, _ := z.byMember.Set(e).(*zent); old != nil {
		z.byScore.Delete(old)
	}
	z.byScore.Set(e)
	z.check()
}

// check panics, in builds with the invariants tag, if the two trees do
// not hold the same number of entries.
func (z *zset) check() {
	if invariants.Enabled && z.byScore.Len() != z.byMember.Len() {
		panic("walkv: invariant violated: sorted set trees disagree")
	}
}

// del removes member and reports whether it was there.
func (z *zset) del(member string) bool {
	old, _ := z.byMember.Delete(&zent{member: member}).(*zent)
	if old != nil {
		z.byScore.Delete(old)
	}
	z.check()
	return old != nil
}

// at returns the entry of rank i (0 = lowest score).
func (z *zset) at(i int) *zent { return z.byScore.GetAt(i).(*zent) }

// search returns the smallest rank i in [0, len) at which f is true, or
// len, for f false up to some rank and true from there on.
func (z *zset) search(f func(*zent) bool) int {
	return sort.Search(z.len(), func(i int) bool { return f(z.at(i)) })
}

// rank returns member's rank (0 = lowest score).
func (z *zset) rank(member string) (int, bool) {
	e, _ := z.byMember.Get(&zent{member: member}).(*zent)
	if e == nil {
		return 0, false
	}
	return z.search(func(x *zent) bool { return !zentByScore(x, e) }), true
}

// ascend calls fn for the entries from rank i upwards until fn returns
// false.
func (z *zset) ascend(i int, fn func(*zent) bool) {
	if i < 0 || i >= z.len() {
		return
	}
	z.byScore.Ascend(z.at(i), func(v any) bool { return fn(v.(*zent)) })
}

// descend calls fn for the entries from rank i downwards until fn returns
// false.
func (z *zset) descend(i int, fn func(*zent) bool) {
	if i < 0 || i >= z.len() {
		return
	}
	z.byScore.Descend(z.at(i), func(v any) bool { return fn(v.(*zent)) })
}

// scoreRange is a score interval as ZRANGEBYSCORE takes it.
type scoreRange struct {
	min, max     float64
	minEx, maxEx bool
}

func (r scoreRange) empty() bool {
	return r.min > r.max || (r.min == r.max && (r.minEx || r.maxEx))
}
func (r scoreRange) aboveMin(s float64) bool { return s > r.min || (!r.minEx && s == r.min) }
func (r scoreRange) belowMax(s float64) bool { return s < r.max || (!r.maxEx && s == r.max) }

// scoreRanks returns the ranks [lo, hi) of the entries within r.
func (z *zset) scoreRanks(r scoreRange) (lo, hi int) {
	if r.empty() {
		return 0, 0
	}
	lo = z.search(func(e *zent) bool { return r.aboveMin(e.score) })
	hi = z.search(func(e *zent) bool { return !r.belowMax(e.score) })
	return lo, max(lo, hi)
}

// lexBound is one end of a ZRANGEBYLEX interval: "-" (inf < 0), "+"
// (inf > 0), or "[s" / "(s".
type lexBound struct {
	inf int
	s   string
	ex  bool
}

// lexCmp compares member m with the bound's value.
func (b lexBound) cmp(m string) int {
	switch {
	case b.inf < 0:
		return 1
	case b.inf > 0:
		return -1
	case m < b.s:
		return -1
	case m > b.s:
		return 1
	}
	return 0
}

type lexRange struct{ min, max lexBound }

func (r lexRange) empty() bool {
	c := cmpLexBounds(r.min, r.max)
	return c > 0 || (c == 0 && (r.min.ex || r.max.ex))
}

// cmpLexBounds compares two bounds as Redis's sdscmplex does.
func cmpLexBounds(a, b lexBound) int {
	switch {
	case a.inf != 0 && a.inf == b.inf:
		return 0
	case a.inf < 0 || b.inf > 0:
		return -1
	case a.inf > 0 || b.inf < 0:
		return 1
	}
	return strings.Compare(a.s, b.s)
}

func (r lexRange) aboveMin(m string) bool {
	c := r.min.cmp(m)
	return c > 0 || (c == 0 && !r.min.ex)
}
func (r lexRange) belowMax(m string) bool {
	c := r.max.cmp(m)
	return c < 0 || (c == 0 && !r.max.ex)
}

// lexRanks returns the ranks [lo, hi) of the entries within r, found as
// Redis finds them: the range starts at the first entry (last, for rev)
// in score order that is past min (before max, for rev) and goes on while
// entries stay within r. With equal scores, as ZRANGEBYLEX expects, that
// is just the entries within r. Redis scans a listpack linearly, and so
// does this (at most zsetListpackEntries); a bigger set is searched in
// O(log² n), which gives Redis's result whenever it is well defined.
func (z *zset) lexRanks(r lexRange, rev bool) (lo, hi int) {
	n := z.len()
	if r.empty() || n == 0 || !r.aboveMin(z.at(n-1).member) || !r.belowMax(z.at(0).member) {
		return 0, 0
	}
	if !rev {
		i := z.firstLex(func(e *zent) bool { return r.aboveMin(e.member) })
		hi = i
		z.ascend(i, func(e *zent) bool {
			if !r.belowMax(e.member) {
				return false
			}
			hi++
			return true
		})
		return i, hi
	}
	j := z.firstLex(func(e *zent) bool { return !r.belowMax(e.member) }) - 1
	if z.listpack {
		j = n - 1
		for j >= 0 && !r.belowMax(z.at(j).member) {
			j--
		}
	}
	lo = j + 1
	z.descend(j, func(e *zent) bool {
		if !r.aboveMin(e.member) {
			return false
		}
		lo--
		return true
	})
	return lo, j + 1
}

// firstLex returns the first rank at which f holds: by a linear scan in a
// listpack, by binary search otherwise.
func (z *zset) firstLex(f func(*zent) bool) int {
	if !z.listpack {
		return z.search(f)
	}
	i := 0
	z.ascend(0, func(e *zent) bool {
		if f(e) {
			return false
		}
		i++
		return true
	})
	return i
}

// Log operations on sorted sets. Tag 'z', key 'z' <uvarint len(key)>
// <key> <member>; Put carries the score (float64 bits, little endian),
// Delete removes the member.
const tagZMember = 'z'

func zmemberKey(key, member string) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(key)+len(member))
	b = append(b, tagZMember)
	b = binary.AppendUvarint(b, uint64(len(key)))
	return append(append(b, key...), member...)
}

// opZSet gives member of the sorted set at key the score.
func opZSet(key, member string, score float64) txn.Op {
	return txn.Op{Kind: txn.KindPut, Key: zmemberKey(key, member), Value: binary.LittleEndian.AppendUint64(nil, math.Float64bits(score))}
}

// opZDel removes member from the sorted set at key.
func opZDel(key, member string) txn.Op {
	return txn.Op{Kind: txn.KindDelete, Key: zmemberKey(key, member)}
}

// applyZMember applies a 'z' operation.
func (ks *keyspace) applyZMember(op txn.Op, put bool) error {
	key, member, err := splitFieldKey(op.Key)
	if err != nil {
		return err
	}
	it := ks.lookup(key)
	if it == nil || it.kind != kindZSet {
		return fmt.Errorf("%w: member of %q, which is not a sorted set", ErrCorruptLog, key)
	}
	if !put {
		ks.mutable(it).z.del(member)
		return nil
	}
	if len(op.Value) != 8 {
		return fmt.Errorf("%w: bad score of %q in %q", ErrCorruptLog, member, key)
	}
	score := math.Float64frombits(binary.LittleEndian.Uint64(op.Value))
	if math.IsNaN(score) {
		return fmt.Errorf("%w: NaN score of %q in %q", ErrCorruptLog, member, key)
	}
	ks.mutable(it).z.set(member, score)
	return nil
}

// Snapshot entry of a sorted set (kind 5), after the key:
// 4-byte member count n, then n times: 4-byte length, member, 8-byte
// score (float64 bits), in ascending (score, member) order.

func appendZSetEntry(b []byte, it *item) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(it.z.len()))
	it.z.byScore.Ascend(nil, func(v any) bool {
		e := v.(*zent)
		b = appendLenBytes(b, []byte(e.member))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(e.score))
		return true
	})
	return b
}

func (sr *snapReader) zsetEntry(it *item) error {
	n, err := sr.u32()
	if err != nil {
		return err
	}
	if int64(n)*12 > sr.left {
		return corruptSnap("%d members cannot fit in %d bytes", n, sr.left)
	}
	it.z = newZSet(false)
	var prev *zent
	small := n <= zsetListpackEntries
	for range n {
		m, err := sr.lenBytes()
		if err != nil {
			return err
		}
		bits, err := sr.u64()
		if err != nil {
			return err
		}
		e := &zent{member: string(m), score: math.Float64frombits(bits)}
		if math.IsNaN(e.score) || (prev != nil && !zentByScore(prev, e)) {
			return corruptSnap("sorted set %q: member %q out of order or NaN", it.key, m)
		}
		it.z.byScore.Load(e)
		it.z.byMember.Set(e)
		prev = e
		small = small && len(m) <= zsetListpackValue
	}
	if small {
		// As Redis loading an RDB file: a small set becomes a listpack.
		it.z.toListpack()
	}
	return nil
}

// toListpack marks z as a listpack, turning -0 scores into 0.
func (z *zset) toListpack() {
	z.listpack = true
	var zeros []*zent
	z.byScore.Ascend(&zent{score: 0}, func(v any) bool {
		e := v.(*zent)
		if e.score != 0 {
			return false
		}
		if math.Signbit(e.score) {
			zeros = append(zeros, e)
		}
		return true
	})
	for _, e := range zeros {
		z.set(e.member, 0)
	}
}

package vfs

import (
	"bytes"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
)

// CrashBlockSize is the granularity at which CrashClone keeps or drops
// unsynced file data.
const CrashBlockSize = 4 << 10

// CrashOptions says how much unsynced state survives MemFS.CrashClone. The
// zero value keeps exactly the synced state.
type CrashOptions struct {
	// KeepUnsyncedBlocks is the probability (0..1) that each unsynced
	// CrashBlockSize block of a file's live data survives: a block that
	// differs from the synced copy or lies beyond the synced size. It is also
	// the probability that an unsynced shrink (Truncate below the synced
	// size) survives.
	KeepUnsyncedBlocks float64
	// KeepUnsyncedDirOps is the probability (0..1) that each directory entry
	// operation (create, rename, remove) logged since that directory's last
	// SyncDir survives. A rename within a directory survives or not as a
	// unit.
	KeepUnsyncedDirOps float64
	// Rand draws the random choices; nil means a fixed seed, so a nil Rand
	// gives the same result for the same MemFS every time.
	Rand *rand.Rand
}

// CrashClone returns a new, independent MemFS holding what a power loss at
// this instant could leave, with no locks held and every file's synced copy
// equal to its contents. m itself is unchanged.
//
// Namespace: each directory reachable from the root starts from its durable
// entries, then each logged op is replayed, in order, with probability
// KeepUnsyncedDirOps; an op whose precondition no longer holds (its source
// entry is gone, or a create whose name exists) is skipped. A file renamed
// between directories is removed from one and linked into the other as two
// independent ops.
//
// File contents, for each surviving inode (hard links stay shared):
//   - The size starts at the synced size S. If the live size L < S (an
//     unsynced shrink), the shrink survives with probability
//     KeepUnsyncedBlocks and the size becomes L; otherwise the bytes in
//     [L, S) keep their synced values.
//   - Each block [b, b+CrashBlockSize) ∩ [0, L) that is unsynced survives
//     with probability KeepUnsyncedBlocks; a surviving block takes its live
//     bytes and extends the size to the block's end, capped at L. Unsynced
//     blocks that do not survive keep their synced bytes, or read as zeros
//     where they lie beyond S (gaps before a surviving block).
//
// With both probabilities 1 the clone equals the live state; with both 0 it
// is exactly the synced state: durable entries pointing to synced contents.
// Draws are made in a fixed order (directories depth first in name order,
// ops in log order, blocks in offset order), so a seeded Rand reproduces a
// clone.
func (m *MemFS) CrashClone(opts CrashOptions) *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := &crasher{opts: opts, rng: opts.Rand, clones: map[*memNode]*memNode{}}
	if c.rng == nil {
		c.rng = rand.New(rand.NewPCG(0x5eed, 0xc0ffee))
	}
	return &MemFS{root: c.clone(m.root), locks: map[string]struct{}{}}
}

// crasher builds one crash clone. clones maps each original inode to its
// clone so that an inode reachable by two names is cloned once.
type crasher struct {
	opts   CrashOptions
	rng    *rand.Rand
	clones map[*memNode]*memNode
}

// keep draws whether an unsynced item survives with probability p. It draws
// nothing when p <= 0 or p >= 1.
func (c *crasher) keep(p float64) bool {
	switch {
	case p <= 0:
		return false
	case p >= 1:
		return true
	}
	return c.rng.Float64() < p
}

func (c *crasher) clone(n *memNode) *memNode {
	if cl, ok := c.clones[n]; ok {
		return cl
	}
	var cl *memNode
	if n.dir != nil {
		cl = c.cloneDir(n.dir)
	} else {
		data := c.crashData(n)
		cl = &memNode{data: data, synced: bytes.Clone(data), dirtyFrom: math.MaxInt64}
	}
	c.clones[n] = cl
	return cl
}

// cloneDir replays d's op log on its durable entries and clones the result.
func (c *crasher) cloneDir(d *memDir) *memNode {
	ents := maps.Clone(d.durable)
	for _, op := range d.ops {
		if c.keep(c.opts.KeepUnsyncedDirOps) {
			op.apply(ents)
		}
	}
	cl := newMemDir()
	for _, name := range slices.Sorted(maps.Keys(ents)) {
		child := c.clone(ents[name])
		cl.dir.live[name] = child
		cl.dir.durable[name] = child
	}
	return cl
}

// crashData returns the contents a crash leaves for file n; see CrashClone.
func (c *crasher) crashData(n *memNode) []byte {
	live, synced := n.data, n.synced
	size := len(synced)
	if len(live) < size && c.keep(c.opts.KeepUnsyncedBlocks) {
		size = len(live)
	}
	out := make([]byte, size, max(size, len(live)))
	copy(out, synced)
	for lo := firstDirtyBlock(n); lo < len(live); lo += CrashBlockSize {
		hi := min(lo+CrashBlockSize, len(live))
		if !blockUnsynced(live, synced, lo, hi) || !c.keep(c.opts.KeepUnsyncedBlocks) {
			continue
		}
		if hi > len(out) {
			out = out[:hi] // capacity len(live); bytes past size are still zero
		}
		copy(out[lo:hi], live[lo:hi])
	}
	return out
}

// firstDirtyBlock returns the start of the block holding n.dirtyFrom; blocks
// before it are equal in the live and synced copies.
func firstDirtyBlock(n *memNode) int {
	lo := min(n.dirtyFrom, int64(len(n.data)), int64(len(n.synced)))
	return int(lo) / CrashBlockSize * CrashBlockSize
}

// blockUnsynced reports whether live[lo:hi] reaches past the synced size or
// differs from the synced bytes.
func blockUnsynced(live, synced []byte, lo, hi int) bool {
	return hi > len(synced) || !bytes.Equal(live[lo:hi], synced[lo:hi])
}

package vfs

import (
	"bytes"
	"maps"
	"math"
	"math/rand/v2"
	"path"
	"slices"
)

// CrashBlockSize is the granularity at which CrashClone keeps or drops
// unsynced file data: a page.
const CrashBlockSize = 4 << 10

// CrashSectorSize is the granularity of a torn page (CrashOptions.TearPages):
// a disk sector.
const CrashSectorSize = 512

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

	// The options below model a hostile disk (FoundationDB's simulated
	// disk, TigerBeetle's storage fault model). Their zero values draw
	// nothing, so they leave the clones of the options above unchanged.

	// TearPages is the probability (0..1) that an unsynced page that does
	// not survive whole is torn: each of its unsynced CrashSectorSize
	// sectors is then kept (probability KeepUnsyncedBlocks), garbled
	// (GarbleUnsynced) or dropped on its own.
	TearPages float64
	// GarbleUnsynced is the probability (0..1) that an unsynced page (or,
	// when torn, sector) that is not kept is garbled instead of dropped:
	// all of it, or a random part, is overwritten with random bytes, as a
	// write interrupted by the power loss can leave. Garbage lands only on
	// the unsynced part of the page or sector (from its first byte that
	// differs from the synced copy or lies past the synced size) and never
	// beyond the live size; it extends the file like a kept block.
	GarbleUnsynced float64
	// LoseNeverSynced makes every unsynced directory entry operation that
	// would create or link a file whose data was never synced lost,
	// whatever KeepUnsyncedDirOps draws (a file neither synced nor made
	// durable by its directory's sync vanishes).
	LoseNeverSynced bool
}

// CrashReport says what one CrashCloneReport did to the unsynced state.
type CrashReport struct {
	// Pages and sectors of unsynced data kept, dropped and garbled; a
	// torn page counts its sectors, not itself.
	KeptPages, DroppedPages, GarbledPages       int
	KeptSectors, DroppedSectors, GarbledSectors int
	// LostTruncates counts unsynced shrinks that did not survive.
	LostTruncates int
	// KeptDirOps and LostDirOps count unsynced directory entry operations.
	KeptDirOps, LostDirOps int
	// Garbled lists the byte ranges overwritten with garbage.
	Garbled []GarbledRange
}

// GarbledRange is a byte range [Off, End) of the file at Path (its first
// name in a depth-first walk) that a crash overwrote with garbage.
type GarbledRange struct {
	Path     string
	Off, End int64
}

// Faults sums the faults of r: garbled pages and sectors, dropped pages
// and sectors, lost truncates and lost directory operations.
func (r CrashReport) Faults() int {
	return r.DroppedPages + r.GarbledPages + r.DroppedSectors + r.GarbledSectors + r.LostTruncates + r.LostDirOps
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
//
// With TearPages or GarbleUnsynced, an unsynced block that does not survive
// whole is torn or garbled as those options say, still in offset order;
// with LoseNeverSynced, see there. Latent faults of the running MemFS
// (FlipBit, MisdirectWrite) are in its contents and so in every clone.
func (m *MemFS) CrashClone(opts CrashOptions) *MemFS {
	c, _ := m.CrashCloneReport(opts)
	return c
}

// CrashCloneReport is CrashClone, also reporting what the crash did.
func (m *MemFS) CrashCloneReport(opts CrashOptions) (*MemFS, CrashReport) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := &crasher{opts: opts, rng: opts.Rand, clones: map[*memNode]*memNode{}}
	if c.rng == nil {
		c.rng = rand.New(rand.NewPCG(0x5eed, 0xc0ffee))
	}
	fs := &MemFS{root: c.clone(m.root, "/"), locks: map[string]struct{}{}}
	return fs, c.report
}

// crasher builds one crash clone. clones maps each original inode to its
// clone so that an inode reachable by two names is cloned once.
type crasher struct {
	opts   CrashOptions
	rng    *rand.Rand
	clones map[*memNode]*memNode
	report CrashReport
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

func (c *crasher) clone(n *memNode, name string) *memNode {
	if cl, ok := c.clones[n]; ok {
		return cl
	}
	var cl *memNode
	if n.dir != nil {
		cl = c.cloneDir(n.dir, name)
	} else {
		data := c.crashData(n, name)
		cl = &memNode{data: data, synced: bytes.Clone(data), dirtyFrom: math.MaxInt64, everSynced: true}
	}
	c.clones[n] = cl
	return cl
}

// cloneDir replays d's op log on its durable entries and clones the result.
func (c *crasher) cloneDir(d *memDir, dir string) *memNode {
	ents := maps.Clone(d.durable)
	for _, op := range d.ops {
		lost := c.opts.LoseNeverSynced && (op.kind == opCreate || op.kind == opLink) && op.node.dir == nil && !op.node.everSynced
		if !lost && c.keep(c.opts.KeepUnsyncedDirOps) {
			op.apply(ents)
			c.report.KeptDirOps++
		} else {
			c.report.LostDirOps++
		}
	}
	cl := newMemDir()
	for _, name := range slices.Sorted(maps.Keys(ents)) {
		child := c.clone(ents[name], path.Join(dir, name))
		cl.dir.live[name] = child
		cl.dir.durable[name] = child
	}
	return cl
}

// crashData returns the contents a crash leaves for file n, named name;
// see CrashClone.
func (c *crasher) crashData(n *memNode, name string) []byte {
	live, synced := n.data, n.synced
	size := len(synced)
	if len(live) < size {
		if c.keep(c.opts.KeepUnsyncedBlocks) {
			size = len(live)
		} else {
			c.report.LostTruncates++
		}
	}
	out := make([]byte, size, max(size, len(live)))
	copy(out, synced)
	for lo := firstDirtyBlock(n); lo < len(live); lo += CrashBlockSize {
		hi := min(lo+CrashBlockSize, len(live))
		if !blockUnsynced(live, synced, lo, hi) {
			continue
		}
		switch {
		case c.keep(c.opts.KeepUnsyncedBlocks):
			out = keepRange(out, live, lo, hi)
			c.report.KeptPages++
		case c.keep(c.opts.TearPages):
			out = c.tear(out, live, synced, lo, hi, name)
		case c.keep(c.opts.GarbleUnsynced):
			out = c.garble(out, live, synced, lo, hi, name)
			c.report.GarbledPages++
		default:
			c.report.DroppedPages++
		}
	}
	return out
}

// tear decides each unsynced sector of the page [lo, hi) on its own.
func (c *crasher) tear(out, live, synced []byte, lo, hi int, name string) []byte {
	for s := lo; s < hi; s += CrashSectorSize {
		e := min(s+CrashSectorSize, hi)
		if !blockUnsynced(live, synced, s, e) {
			continue
		}
		switch {
		case c.keep(c.opts.KeepUnsyncedBlocks):
			out = keepRange(out, live, s, e)
			c.report.KeptSectors++
		case c.keep(c.opts.GarbleUnsynced):
			out = c.garble(out, live, synced, s, e, name)
			c.report.GarbledSectors++
		default:
			c.report.DroppedSectors++
		}
	}
	return out
}

// keepRange copies live[lo:hi] into out, extending out to hi.
func keepRange(out, live []byte, lo, hi int) []byte {
	if hi > len(out) {
		out = out[:hi] // capacity len(live); bytes past size are still zero
	}
	copy(out[lo:hi], live[lo:hi])
	return out
}

// garble overwrites all or a random part of the unsynced bytes of [lo, hi)
// with random bytes, extending out to the garbage's end.
func (c *crasher) garble(out, live, synced []byte, lo, hi int, name string) []byte {
	from := lo
	for from < hi && from < len(synced) && live[from] == synced[from] {
		from++
	}
	if from >= hi {
		return out
	}
	a, b := from, hi
	if c.rng.IntN(2) == 0 { // part of it
		a = from + c.rng.IntN(hi-from)
		b = a + 1 + c.rng.IntN(hi-a)
	}
	if b > len(out) {
		out = out[:b]
	}
	for i := a; i < b; i++ {
		out[i] = byte(c.rng.Uint32())
	}
	c.report.Garbled = append(c.report.Garbled, GarbledRange{Path: name, Off: int64(a), End: int64(b)})
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

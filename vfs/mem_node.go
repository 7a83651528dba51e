package vfs

import (
	"maps"
	"math"
	"os"
	"slices"
	"time"
)

// memNode is a MemFS inode: a directory if dir is non-nil, else a file.
// Nodes are guarded by the owning MemFS's mutex.
type memNode struct {
	dir *memDir

	// Files only.
	//
	// Invariant: data and synced never share a backing array.
	// Invariant: data[:k] == synced[:k] for k = min(dirtyFrom, len(data), len(synced)).
	data       []byte // live contents; len(data) is the live size
	synced     []byte // contents as of the last Sync; len(synced) is the synced size
	dirtyFrom  int64  // lowest offset changed since the last Sync; math.MaxInt64 if none
	everSynced bool   // Sync ran at least once (CrashOptions.LoseNeverSynced)
}

func newMemFile() *memNode { return &memNode{dirtyFrom: math.MaxInt64} }

func newMemDir() *memNode {
	return &memNode{dir: &memDir{live: map[string]*memNode{}, durable: map[string]*memNode{}}}
}

// markDirty records that bytes from off on may differ from the synced copy.
func (n *memNode) markDirty(off int64) { n.dirtyFrom = min(n.dirtyFrom, off) }

// resize sets the live size, zero-filling any extension.
func (n *memNode) resize(size int64) {
	old := int64(len(n.data))
	if size <= old {
		n.data = n.data[:size]
		n.markDirty(size)
		return
	}
	n.data = slices.Grow(n.data, int(size-old))[:size]
	clear(n.data[old:])
	n.markDirty(old)
}

// writeAt writes p at off, extending the file (holes read as zeros).
func (n *memNode) writeAt(p []byte, off int64) {
	if end := off + int64(len(p)); end > int64(len(n.data)) {
		n.resize(end)
	}
	copy(n.data[off:], p)
	n.markDirty(off)
}

// sync makes the live contents and size the synced ones, copying only the
// bytes from dirtyFrom on.
func (n *memNode) sync() {
	lo := min(n.dirtyFrom, int64(len(n.data)), int64(len(n.synced)))
	n.synced = append(n.synced[:lo], n.data[lo:]...)
	n.dirtyFrom = math.MaxInt64
	n.everSynced = true
}

// memDir holds a directory's entries.
//
// Invariant: replaying ops in order on durable (dirOp.apply) yields live.
type memDir struct {
	live    map[string]*memNode
	durable map[string]*memNode // as of the last SyncDir
	ops     []dirOp             // entry operations since the last SyncDir
}

// create adds a new entry; name must not exist in live.
func (d *memDir) create(name string, n *memNode) { d.apply(dirOp{kind: opCreate, name: name, node: n}) }

// link sets name to n, replacing any entry.
func (d *memDir) link(name string, n *memNode) { d.apply(dirOp{kind: opLink, name: name, node: n}) }

// remove deletes the entry name, which must exist in live.
func (d *memDir) remove(name string) {
	d.apply(dirOp{kind: opRemove, name: name, node: d.live[name]})
}

// rename moves the entry old, which must be n, to name, replacing any entry.
func (d *memDir) rename(old, name string, n *memNode) {
	d.apply(dirOp{kind: opRename, name: old, newName: name, node: n})
}

func (d *memDir) apply(op dirOp) {
	op.apply(d.live)
	d.ops = append(d.ops, op)
}

// sync makes the live entries durable, as fsync on the directory does.
func (d *memDir) sync() {
	d.durable = maps.Clone(d.live)
	d.ops = nil
}

type dirOpKind uint8

const (
	opCreate dirOpKind = iota // add name -> node unless name exists
	opLink                    // set name -> node, replacing any entry
	opRemove                  // delete name if it is node
	opRename                  // move name to newName (replacing) if name is node
)

// dirOp is one logged directory entry operation. Replaying an op whose
// precondition no longer holds (because an earlier op was lost in a crash)
// does nothing.
type dirOp struct {
	kind    dirOpKind
	name    string
	newName string // opRename only
	node    *memNode
}

// apply performs op on the entries ents.
func (op dirOp) apply(ents map[string]*memNode) {
	switch op.kind {
	case opCreate:
		if _, ok := ents[op.name]; !ok {
			ents[op.name] = op.node
		}
	case opLink:
		ents[op.name] = op.node
	case opRemove:
		if ents[op.name] == op.node {
			delete(ents, op.name)
		}
	case opRename:
		if ents[op.name] == op.node {
			delete(ents, op.name)
			ents[op.newName] = op.node
		}
	}
}

// memFileInfo implements os.FileInfo for MemFS.
type memFileInfo struct {
	name  string
	size  int64
	isDir bool
}

func (fi memFileInfo) Name() string       { return fi.name }
func (fi memFileInfo) Size() int64        { return fi.size }
func (fi memFileInfo) ModTime() time.Time { return time.Time{} }
func (fi memFileInfo) IsDir() bool        { return fi.isDir }
func (fi memFileInfo) Sys() any           { return nil }

func (fi memFileInfo) Mode() os.FileMode {
	if fi.isDir {
		return os.ModeDir | 0o755
	}
	return 0o644
}

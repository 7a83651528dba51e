package vfs

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// MemFS is an in-memory FS that implements the durability model of the
// package doc exactly and can produce the state a power loss would leave
// (CrashClone). It is safe for concurrent use.
//
// MemFS has one namespace rooted at "/": names are cleaned with path.Clean
// after filepath.ToSlash, and relative names resolve from the root, so "a/b"
// and "/a/b" are the same file. Names that climb above the root ("../x") are
// rejected with os.ErrInvalid.
//
// Each file is an inode holding its live contents and a synced copy (the
// contents and size as of its last File.Sync). Each directory holds its live
// entries, its durable entries (as of its last SyncDir) and an ordered log of
// the entry operations since then (create, rename, remove).
//
// Simplifications, all deliberate:
//   - A directory made by MkdirAll is durable at once: MkdirAll syncs the
//     parent of each directory it creates, which also makes the parent's other
//     pending entry changes durable. This is stronger than POSIX.
//   - Rename moves files only; renaming a directory returns an error wrapping
//     ErrUnsupported. A rename between two directories is logged as a remove
//     in the old one and a link in the new one, which a crash may keep or
//     drop independently (the file may then appear in both or neither).
//   - Open of a directory fails with syscall.EISDIR. Permissions are ignored;
//     modification times are always zero.
//   - Files do not implement Mmapper.
//
// Beyond the POSIX model, a MemFS can suffer latent faults while it runs
// (FlipBit, MisdirectWrite) and a crash can tear and garble unsynced pages
// (CrashOptions), to test recovery against a hostile disk.
type MemFS struct {
	mu sync.Mutex
	// Guarded by mu.
	root      *memNode
	locks     map[string]struct{} // cleaned names currently locked
	misdirect *Misdirection       // a pending misdirected write (mem_latent.go)
	latent    []LatentFault       // latent faults that happened
}

var _ FS = (*MemFS)(nil)

// NewMem returns an empty MemFS holding only its root directory.
func NewMem() *MemFS {
	return &MemFS{root: newMemDir(), locks: map[string]struct{}{}}
}

// Create creates or truncates name. A new entry is logged in the parent and
// is durable after SyncDir; truncating an existing file keeps its inode and
// entry, and the new size is durable after File.Sync.
func (m *MemFS) Create(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.createLocked(name, true)
	if err != nil {
		return nil, err
	}
	return &memFile{fs: m, node: n, name: name}, nil
}

// createLocked returns the file name, creating it if missing and otherwise
// truncating it if trunc is set.
// REQUIRES: m.mu is held.
func (m *MemFS) createLocked(name string, trunc bool) (*memNode, error) {
	parent, base, err := m.parent(name)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	n := parent.dir.live[base]
	switch {
	case n == nil:
		n = newMemFile()
		parent.dir.create(base, n)
	case n.dir != nil:
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
	case trunc:
		n.resize(0)
	}
	return n, nil
}

// Open opens an existing file read-only.
func (m *MemFS) Open(name string) (File, error) { return m.open(name, true) }

// OpenReadWrite opens an existing file for reading and writing.
func (m *MemFS) OpenReadWrite(name string) (File, error) { return m.open(name, false) }

func (m *MemFS) open(name string, readOnly bool) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(name)
	if err == nil && n.dir != nil {
		err = syscall.EISDIR
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return &memFile{fs: m, node: n, name: name, readOnly: readOnly}, nil
}

// Rename moves the file oldname to newname, replacing any file there. Open
// handles of either file stay usable. Renaming a name to itself is a no-op.
func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.renameLocked(oldname, newname); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return nil
}

// REQUIRES: m.mu is held.
func (m *MemFS) renameLocked(oldname, newname string) error {
	op, ob, err := m.parent(oldname)
	if err != nil {
		return err
	}
	np, nb, err := m.parent(newname)
	if err != nil {
		return err
	}
	n := op.dir.live[ob]
	target := np.dir.live[nb]
	switch {
	case n == nil:
		return os.ErrNotExist
	case n.dir != nil:
		return fmt.Errorf("%w: MemFS cannot rename directories", ErrUnsupported)
	case target != nil && target.dir != nil:
		return syscall.EISDIR
	case target == n:
		return nil
	case op == np:
		op.dir.rename(ob, nb, n)
	default:
		op.dir.remove(ob)
		np.dir.link(nb, n)
	}
	return nil
}

// Remove deletes a file or an empty directory. Open handles of a removed
// file stay usable, as in POSIX.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parent, base, err := m.parent(name)
	if err == nil {
		err = removable(parent.dir.live[base])
	}
	if err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	parent.dir.remove(base)
	return nil
}

func removable(n *memNode) error {
	switch {
	case n == nil:
		return os.ErrNotExist
	case n.dir != nil && len(n.dir.live) > 0:
		return syscall.ENOTEMPTY
	}
	return nil
}

// List returns the names of the live entries of dir, sorted.
func (m *MemFS) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(dir)
	if err == nil && n.dir == nil {
		err = syscall.ENOTDIR
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	names := make([]string, 0, len(n.dir.live))
	for name := range n.dir.live {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// MkdirAll creates dir and any missing parents; perm is ignored. Each
// directory it creates is durable at once: its parent is synced as a whole
// (see MemFS).
func (m *MemFS) MkdirAll(dir string, perm os.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts, err := splitPath(dir)
	if err != nil {
		return &os.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	n := m.root
	for _, part := range parts {
		child := n.dir.live[part]
		if child == nil {
			child = newMemDir()
			n.dir.create(part, child)
			n.dir.sync()
		} else if child.dir == nil {
			return &os.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
		}
		n = child
	}
	return nil
}

// Stat returns information about name. ModTime is always zero.
func (m *MemFS) Stat(name string) (os.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(name)
	if err != nil {
		return nil, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	return memFileInfo{name: path.Base(cleanPath(name)), size: int64(len(n.data)), isDir: n.dir != nil}, nil
}

// SyncDir makes the live entries of dir durable and empties its op log.
func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(dir)
	if err == nil && n.dir == nil {
		err = syscall.ENOTDIR
	}
	if err != nil {
		return &os.PathError{Op: "fsync", Path: dir, Err: err}
	}
	n.dir.sync()
	return nil
}

// Lock creates name if missing (a logged entry, like Create, but without
// truncating) and locks the cleaned name. Locks belong to names, not inodes:
// a second Lock of the name fails with an error wrapping ErrLocked until the
// returned Closer is closed. Locks do not survive CrashClone.
func (m *MemFS) Lock(name string) (io.Closer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := cleanPath(name)
	if _, ok := m.locks[key]; ok {
		return nil, fmt.Errorf("vfs: lock %s: %w", name, ErrLocked)
	}
	if _, err := m.createLocked(name, false); err != nil {
		return nil, err
	}
	m.locks[key] = struct{}{}
	return &memLock{fs: m, key: key}, nil
}

// memLock releases a MemFS lock when closed.
type memLock struct {
	fs  *MemFS
	key string
	// Guarded by fs.mu.
	closed bool
}

// Close releases the lock. A second Close returns os.ErrClosed.
func (l *memLock) Close() error {
	l.fs.mu.Lock()
	defer l.fs.mu.Unlock()
	if l.closed {
		return &os.PathError{Op: "unlock", Path: l.key, Err: os.ErrClosed}
	}
	l.closed = true
	delete(l.fs.locks, l.key)
	return nil
}

// cleanPath returns the canonical form of name: slash-separated, cleaned,
// rooted at "/".
func cleanPath(name string) string {
	return path.Clean("/" + filepath.ToSlash(name))
}

// splitPath returns the components of name below the root; none for the
// root itself.
func splitPath(name string) ([]string, error) {
	p := path.Clean(filepath.ToSlash(name))
	if p == ".." || strings.HasPrefix(p, "../") {
		return nil, os.ErrInvalid
	}
	p = strings.TrimPrefix(p, "/")
	if p == "" || p == "." {
		return nil, nil
	}
	return strings.Split(p, "/"), nil
}

// lookup returns the live node named name.
// REQUIRES: m.mu is held.
func (m *MemFS) lookup(name string) (*memNode, error) {
	parts, err := splitPath(name)
	if err != nil {
		return nil, err
	}
	n := m.root
	for _, part := range parts {
		if n.dir == nil {
			return nil, syscall.ENOTDIR
		}
		if n = n.dir.live[part]; n == nil {
			return nil, os.ErrNotExist
		}
	}
	return n, nil
}

// parent returns the live directory that holds name, and name's last
// component. The root has no parent (os.ErrInvalid).
// REQUIRES: m.mu is held.
func (m *MemFS) parent(name string) (*memNode, string, error) {
	parts, err := splitPath(name)
	if err != nil {
		return nil, "", err
	}
	if len(parts) == 0 {
		return nil, "", os.ErrInvalid
	}
	dir, err := m.lookup(strings.Join(parts[:len(parts)-1], "/"))
	if err == nil && dir.dir == nil {
		err = syscall.ENOTDIR
	}
	return dir, parts[len(parts)-1], err
}

// String describes the live tree for debugging: one line per entry with, for
// files, the live and synced sizes, and for directories the number of entry
// operations not yet made durable by SyncDir.
func (m *MemFS) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	describe(&b, "/", m.root)
	return b.String()
}

func describe(b *strings.Builder, name string, n *memNode) {
	if n.dir == nil {
		fmt.Fprintf(b, "%s (live %d, synced %d)\n", name, len(n.data), len(n.synced))
		return
	}
	fmt.Fprintf(b, "%s (%d unsynced ops)\n", name, len(n.dir.ops))
	for _, child := range slices.Sorted(maps.Keys(n.dir.live)) {
		describe(b, path.Join(name, child)+dirSuffix(n.dir.live[child]), n.dir.live[child])
	}
}

func dirSuffix(n *memNode) string {
	if n.dir != nil {
		return "/"
	}
	return ""
}

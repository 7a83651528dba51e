// Package errorfs injects I/O errors into a vfs.FS, to test how the log
// handles them.
//
// Wrap decorates an FS: before each operation it asks an Injector whether
// the operation should fail. If the Injector returns an error, the operation
// is not performed and the error is returned, wrapped with the operation and
// path (*os.PathError, or *os.LinkError for Rename), so errors.Is sees the
// injected error (say syscall.EIO or syscall.ENOSPC). The one exception is
// Close: the inner file is always closed, so no handle leaks, and the
// injected error is returned instead of the inner result.
//
// A failed WriteAt writes nothing and returns 0; so does a failed vectored
// write (vfs.VectorWriter), which is one OpWrite however many buffers it
// has. Files opened through the
// wrapper are wrapped too, and keep implementing vfs.Mmapper when the inner
// file does (Mmap is OpMmap). File.Size counts as OpStat.
//
// The ready injectors (OnIndex, FromIndex, Counter) count only the
// operations they match, with atomic counters, and are safe for concurrent
// use. A typical test first runs a workload under a Counter, then reruns it
// once for each index i < Count() under OnIndex(i, ...).
package errorfs

import (
	"fmt"
	"io"
	"os"

	"github.com/waldb/wal/vfs"
)

// Op is a kind of filesystem operation.
type Op uint8

// The operations an Injector is consulted about. Never reorder: OpSet bits
// follow these values.
const (
	OpCreate      Op = iota // FS.Create
	OpOpen                  // FS.Open and FS.OpenReadWrite
	OpRename                // FS.Rename (path is the old name)
	OpRemove                // FS.Remove
	OpList                  // FS.List
	OpMkdir                 // FS.MkdirAll
	OpStat                  // FS.Stat and File.Size
	OpSyncDir               // FS.SyncDir
	OpLock                  // FS.Lock (not the release)
	OpRead                  // File.ReadAt
	OpWrite                 // File.WriteAt and vfs.VectorWriter.WriteAtv
	OpSync                  // File.Sync
	OpTruncate              // File.Truncate
	OpPreallocate           // File.Preallocate
	OpClose                 // File.Close
	OpMmap                  // vfs.Mmapper.Mmap (not the unmap)
	numOps
)

var opNames = [numOps]string{
	"create", "open", "rename", "remove", "list", "mkdir", "stat", "syncdir",
	"lock", "read", "write", "sync", "truncate", "preallocate", "close", "mmap",
}

// String returns the lower-case name of op, used as the Op of returned
// *os.PathError values.
func (op Op) String() string {
	if op < numOps {
		return opNames[op]
	}
	return fmt.Sprintf("Op(%d)", uint8(op))
}

// Injector decides whether an operation fails. MaybeError is called before
// op runs on path; a non-nil result fails op with that error. It may be
// called concurrently.
type Injector interface {
	MaybeError(op Op, path string) error
}

// InjectorFunc adapts a function to Injector.
type InjectorFunc func(op Op, path string) error

// MaybeError calls fn.
func (fn InjectorFunc) MaybeError(op Op, path string) error { return fn(op, path) }

// Wrap returns fs with errors injected by inj. A nil inj injects nothing.
func Wrap(fs vfs.FS, inj Injector) vfs.FS {
	if inj == nil {
		inj = InjectorFunc(func(Op, string) error { return nil })
	}
	return &errFS{fs: fs, inj: inj}
}

// errFS is the decorator returned by Wrap.
type errFS struct {
	fs  vfs.FS
	inj Injector
}

var _ vfs.FS = (*errFS)(nil)

// check consults the injector, wrapping its error with op and path.
func (e *errFS) check(op Op, path string) error {
	if err := e.inj.MaybeError(op, path); err != nil {
		return &os.PathError{Op: op.String(), Path: path, Err: err}
	}
	return nil
}

func (e *errFS) Create(name string) (vfs.File, error) {
	return e.openWith(OpCreate, name, e.fs.Create)
}

func (e *errFS) Open(name string) (vfs.File, error) {
	return e.openWith(OpOpen, name, e.fs.Open)
}

func (e *errFS) OpenReadWrite(name string) (vfs.File, error) {
	return e.openWith(OpOpen, name, e.fs.OpenReadWrite)
}

func (e *errFS) openWith(op Op, name string, open func(string) (vfs.File, error)) (vfs.File, error) {
	if err := e.check(op, name); err != nil {
		return nil, err
	}
	f, err := open(name)
	if err != nil {
		return nil, err
	}
	return wrapFile(e, f, name), nil
}

func (e *errFS) Rename(oldname, newname string) error {
	if err := e.inj.MaybeError(OpRename, oldname); err != nil {
		return &os.LinkError{Op: OpRename.String(), Old: oldname, New: newname, Err: err}
	}
	return e.fs.Rename(oldname, newname)
}

func (e *errFS) Remove(name string) error {
	if err := e.check(OpRemove, name); err != nil {
		return err
	}
	return e.fs.Remove(name)
}

func (e *errFS) List(dir string) ([]string, error) {
	if err := e.check(OpList, dir); err != nil {
		return nil, err
	}
	return e.fs.List(dir)
}

func (e *errFS) MkdirAll(dir string, perm os.FileMode) error {
	if err := e.check(OpMkdir, dir); err != nil {
		return err
	}
	return e.fs.MkdirAll(dir, perm)
}

func (e *errFS) Stat(name string) (os.FileInfo, error) {
	if err := e.check(OpStat, name); err != nil {
		return nil, err
	}
	return e.fs.Stat(name)
}

func (e *errFS) SyncDir(dir string) error {
	if err := e.check(OpSyncDir, dir); err != nil {
		return err
	}
	return e.fs.SyncDir(dir)
}

func (e *errFS) Lock(name string) (io.Closer, error) {
	if err := e.check(OpLock, name); err != nil {
		return nil, err
	}
	return e.fs.Lock(name)
}

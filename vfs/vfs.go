// Package vfs is the filesystem seam of waldb: every file operation the log
// performs goes through the small FS and File interfaces declared here, so
// tests can substitute a crashable in-memory filesystem (NewMem) or an
// error-injecting decorator (package vfs/errorfs) for the real one (Default).
//
// The interfaces are sized to what a write-ahead log needs and no more:
// create, open, rename, remove, list, lock, sync a file, sync a directory,
// preallocate and truncate.
//
// # Durability model
//
// All implementations follow the POSIX model the log is written against:
//
//   - File data written with WriteAt is durable only after File.Sync returns
//     nil. Sync is fdatasync: it makes the file's data and its size durable.
//   - A directory entry created, renamed or removed is durable only after
//     FS.SyncDir of its parent directory returns nil. A file that was synced
//     but whose directory entry was not may vanish in a crash.
//   - Truncate and Preallocate change the size; like data, the new size is
//     durable after Sync.
//
// The in-memory FS returned by NewMem implements exactly this model and can
// produce the state a power loss would leave (MemFS.CrashClone), including,
// for fault-model tests, what a hostile disk could leave: torn and garbled
// unsynced pages and sectors (CrashOptions), bit rot in synced data
// (MemFS.FlipBit) and misdirected writes (MemFS.MisdirectWrite).
package vfs

import (
	"errors"
	"io"
	"os"
)

// ErrLocked is returned (wrapped) by FS.Lock when another holder, in this
// process or another, owns the lock.
var ErrLocked = errors.New("vfs: locked by another holder")

// ErrUnsupported is returned (wrapped) by File.Preallocate when the
// filesystem cannot preallocate; callers may continue without it.
var ErrUnsupported = errors.New("vfs: operation not supported")

// File is an open file. Offsets are absolute; there is no implicit file
// position, so a File may be shared by concurrent readers.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Sync makes the file's data and size durable (fdatasync).
	Sync() error
	// Truncate sets the file's size, discarding or zero-extending.
	Truncate(size int64) error
	// Preallocate reserves space for [0, size) and extends the size to at
	// least size; the new bytes read as zeros. It returns an error wrapping
	// ErrUnsupported if the filesystem cannot do it.
	Preallocate(size int64) error
	// Size reports the current size in bytes.
	Size() (int64, error)
}

// Prefetcher is implemented by files that can start reading a byte range
// into the page cache without waiting for it (posix_fadvise WILLNEED), so
// that many small reads of different files overlap on the device instead
// of queueing one after another. It is a hint: it changes no data and
// reports no error.
type Prefetcher interface {
	Prefetch(off, n int64)
}

// WritebackStarter is implemented by files that can start writing a byte
// range of dirty pages to the device without waiting for it
// (sync_file_range SYNC_FILE_RANGE_WRITE), so that a later fsync finds
// less to write. It is a hint: it makes nothing durable and reports no
// error (a failed write-back shows at the fsync).
type WritebackStarter interface {
	StartWriteback(off, n int64)
}

// Mmapper is implemented by files that can be mapped read-only into memory.
// The returned slice must not be written; unmap releases it and must be
// called exactly once. Files without it are read with ReadAt.
type Mmapper interface {
	Mmap(length int) (data []byte, unmap func() error, err error)
}

// FS is a filesystem. Names are slash- or OS-separated paths as accepted by
// package path/filepath.
type FS interface {
	// Create creates name, truncating it if it exists, open for reading and
	// writing. The new directory entry is not durable until SyncDir.
	Create(name string) (File, error)
	// Open opens an existing file read-only.
	Open(name string) (File, error)
	// OpenReadWrite opens an existing file for reading and writing.
	OpenReadWrite(name string) (File, error)
	// Rename atomically replaces newname with oldname. Durable after SyncDir
	// of the parent directory.
	Rename(oldname, newname string) error
	// Remove deletes a file or empty directory. Durable after SyncDir.
	Remove(name string) error
	// List returns the names (not paths) of the entries in dir, sorted.
	List(dir string) ([]string, error)
	// MkdirAll creates dir and any missing parents. On a real filesystem the
	// new entries are durable after SyncDir of each new directory's parent;
	// MemFS makes them durable at once.
	MkdirAll(dir string, perm os.FileMode) error
	// Stat returns information about name.
	Stat(name string) (os.FileInfo, error)
	// SyncDir makes the directory entries of dir durable (fsync on the
	// directory).
	SyncDir(dir string) error
	// Lock takes an exclusive, non-blocking lock on the file name, creating
	// it if needed. It fails at once with an error wrapping ErrLocked if any
	// other holder, in this process or another, owns it. Closing the
	// returned Closer releases the lock; the file is never deleted.
	Lock(name string) (io.Closer, error)
}

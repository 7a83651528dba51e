package raftlog

import (
	"errors"
)

// Sentinel errors, for errors.Is. Errors from the underlying log (package
// wal) are passed on wrapped, so errors.Is(err, wal.ErrCorrupt) and the
// like work too.
var (
	// ErrKeyNotFound is returned, unwrapped, by Get and GetUint64 for a key
	// that was never set. Its text is exactly "not found" because
	// hashicorp/raft recognises a missing key by comparing err.Error() with
	// that string (as raft-boltdb's ErrKeyNotFound and raft's InmemStore
	// do); do not wrap it.
	ErrKeyNotFound = errors.New("not found")
	// ErrCorrupt: an entry or the stable file does not decode (bad version,
	// flags, varint, length or checksum), or an entry is stored under an
	// index other than its own.
	ErrCorrupt = errors.New("raftlog: corrupt")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("raftlog: closed")
	// ErrNotContiguous: StoreLogs was given entries whose indexes are not
	// consecutive, or index 0, or a nil entry.
	ErrNotContiguous = errors.New("raftlog: entries not contiguous")
	// ErrGap: DeleteRange would remove entries strictly inside the stored
	// range, leaving a hole that a monotonic log cannot hold. raft never
	// asks for this.
	ErrGap = errors.New("raftlog: deletion would leave a gap")
	// ErrFailed: an earlier replacement of the stable file failed after it
	// may have reached the disk, so the stable state in memory may differ
	// from the one on disk; every later Set fails with an error wrapping
	// ErrFailed and the cause (fail-stop, as the log does). Reopen the
	// store to recover.
	ErrFailed = errors.New("raftlog: stable store failed")
)

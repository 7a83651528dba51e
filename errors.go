package wal

import (
	"errors"
	"fmt"

	"github.com/waldb/wal/vfs"
)

// Sentinel errors. Every error the log returns that has one of these causes
// wraps it, so callers test with errors.Is; the wrapping adds context such
// as the segment file, byte offset or index.
var (
	// ErrCorrupt: bytes that were durable are damaged, or the directory's
	// structure is inconsistent (a missing middle segment, a bad header).
	// Distinct from a torn tail, which recovery repairs silently and
	// reports in Report.
	ErrCorrupt = errors.New("wal: corrupt")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("wal: closed")
	// ErrNotFound: the index is outside [FirstIndex, LastIndex].
	ErrNotFound = errors.New("wal: not found")
	// ErrOutOfOrder: Write or WriteBatch was given an index other than
	// LastIndex()+1 (or a batch whose indexes are not consecutive).
	ErrOutOfOrder = errors.New("wal: out of order")
	// ErrOutOfRange: a truncation or reset index is outside what the
	// operation allows, or a write would take an index above MaxIndex.
	ErrOutOfRange = errors.New("wal: out of range")
	// ErrTooLarge: an entry is larger than Options.MaxEntrySize, or a batch
	// could never fit in one segment file.
	ErrTooLarge = errors.New("wal: entry too large")
	// ErrLocked: another Log, in this process or another, has the directory
	// open. It wraps vfs.ErrLocked.
	ErrLocked = fmt.Errorf("wal: directory locked: %w", vfs.ErrLocked)
	// ErrNotLog: the directory is not empty and holds nothing of a waldb log.
	ErrNotLog = errors.New("wal: not a waldb directory")
	// ErrReadOnly: a write or truncation on a log opened with OpenReadOnly.
	ErrReadOnly = errors.New("wal: read-only")
	// ErrFailed: an earlier write or fsync failed, so the log refuses every
	// further write (fail-stop). The error returned wraps both ErrFailed
	// and the original cause. Reads of durable entries keep working;
	// reopen to recover.
	ErrFailed = errors.New("wal: failed")
)

// corruptf wraps ErrCorrupt with context.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// failedError is the sticky error of a failed log: it matches ErrFailed and
// its cause.
type failedError struct{ cause error }

func (e *failedError) Error() string   { return "wal: failed: " + e.cause.Error() }
func (e *failedError) Unwrap() []error { return []error{ErrFailed, e.cause} }

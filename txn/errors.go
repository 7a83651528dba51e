package txn

import "errors"

// Sentinel errors; errors returned by this package wrap them (test with
// errors.Is) or wrap an error of package wal.
var (
	// ErrCorrupt: a record does not follow the documented layout, or the
	// records of a transaction are out of protocol (an operation before
	// its Begin or after its end, a second Begin). Recovery stops at the
	// first such record; the log itself is intact (it checks its own
	// checksums), so this means a bug in the writer or a foreign log.
	ErrCorrupt = errors.New("txn: corrupt record")
	// ErrVersion: a record has a format version this package does not
	// know.
	ErrVersion = errors.New("txn: unsupported record version")
	// ErrDone: Put, Delete, Commit or Abort on a transaction that already
	// committed, aborted or failed.
	ErrDone = errors.New("txn: transaction already finished")
	// ErrInvalidOp: an Op given to Writer.Commit has a kind other than
	// KindPut or KindDelete.
	ErrInvalidOp = errors.New("txn: operation kind must be put or delete")
)

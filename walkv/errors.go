package walkv

import "errors"

// Sentinel errors. Errors returned by this package wrap one of them, or an
// error of package wal or txn, with context; test with errors.Is.
var (
	// ErrInvalidOption: an Options field or a flag value is invalid.
	ErrInvalidOption = errors.New("walkv: invalid option")
	// ErrClosed: the DB or Server was closed.
	ErrClosed = errors.New("walkv: closed")
	// ErrCorruptSnapshot: the newest snapshot file fails its checksum or
	// does not follow the format. Open refuses to start rather than fall
	// back to older state, because the log before the snapshot may already
	// be gone.
	ErrCorruptSnapshot = errors.New("walkv: corrupt snapshot")
	// ErrCorruptLog: a committed transaction in the log carries an
	// operation the keyspace cannot apply (an unknown key tag, a field of
	// a key that is not a hash).
	ErrCorruptLog = errors.New("walkv: corrupt log operation")
	// ErrFailed: writing or syncing the log failed. The DB stops serving
	// (fail-stop) because memory may hold writes that are not in the log;
	// restart to recover from what is durable.
	ErrFailed = errors.New("walkv: log failed; restart to recover")
	// ErrSnapshotRunning: a snapshot was requested while one is running.
	ErrSnapshotRunning = errors.New("walkv: snapshot already in progress")
	// ErrClusterMode: the operation (SAVE, BGSAVE, WATCH) is not
	// available in cluster mode, where raft takes the snapshots.
	ErrClusterMode = errors.New("walkv: not supported in cluster mode")
)

package walkv

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waldb/wal/txn"
)

// snapshotter is the snapshot machinery's state.
//
// Protocol (DB.snapshot), one snapshot at a time (mu):
//
//  1. Under DB.mu for writing, briefly: freeze the keyspace (a
//     copy-on-write copy of its shard array, see keyspace), and note the
//     id of the last transaction applied, the log index of its last
//     record, and the time.
//  2. Without DB.mu: write the frozen copy to a temporary file, fsync it,
//     rename it to snapshot-<id>.snap, fsync the directory
//     (writeSnapFile). Clients keep reading and writing meanwhile.
//  3. Delete the log segments wholly at or below the noted index
//     (truncateLog), then older snapshot files.
//
// Crash safety: until step 2's directory fsync, the previous snapshot and
// the whole log since it are intact, and a leftover temporary file is
// ignored and deleted by Open. After it, the new snapshot holds every
// transaction up to its id, and recovery replays only later ones from the
// log, whether or not step 3 happened (TruncateFront is itself atomic).
// Nothing a client was told is durable is lost at any point.
type snapshotter struct {
	mu      sync.Mutex    // held for a whole snapshot
	req     chan struct{} // a background snapshot is wanted (buffer 1)
	running atomic.Bool

	// Guarded by DB.mu:
	lastID    uint64 // id of the newest durable snapshot
	baseBytes int64  // DB.logBytes when it was frozen

	count    atomic.Int64 // snapshots written by this process
	lastUnix atomic.Int64 // time of the last success, Unix seconds
	lastErr  atomic.Pointer[string]
	lastDur  atomic.Int64 // duration of the last success, ns
	loaded   txn.Stats    // what Open replayed
}

// request asks the background loop for a snapshot; it never blocks.
func (sn *snapshotter) request() {
	select {
	case sn.req <- struct{}{}:
	default:
	}
}

// snapshotLoop takes the snapshots requested by request until stop is
// closed; a snapshot in progress finishes first.
func (db *DB) snapshotLoop(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-db.snap.req:
			if err := db.Snapshot(); err != nil {
				db.opts.Logger.Error("walkv: background snapshot failed", "err", err)
			}
		}
	}
}

// Snapshot writes a snapshot now and truncates the log (SAVE); it waits
// for a snapshot in progress to finish first.
func (db *DB) Snapshot() error {
	if db.clustered() {
		return ErrClusterMode
	}
	db.snap.mu.Lock()
	defer db.snap.mu.Unlock()
	db.snap.running.Store(true)
	db.applyProcs()
	defer func() {
		db.snap.running.Store(false)
		db.applyProcs()
	}()
	start := time.Now()
	err := db.snapshot()
	if err != nil {
		msg := err.Error()
		db.snap.lastErr.Store(&msg)
		return err
	}
	db.snap.lastErr.Store(nil)
	db.snap.count.Add(1)
	db.snap.lastUnix.Store(time.Now().Unix())
	db.snap.lastDur.Store(int64(time.Since(start)))
	return nil
}

// BackgroundSnapshot asks for a snapshot in the background (BGSAVE);
// ErrSnapshotRunning if one is running.
func (db *DB) BackgroundSnapshot() error {
	if db.clustered() {
		return ErrClusterMode
	}
	if db.snap.running.Load() {
		return ErrSnapshotRunning
	}
	db.snap.request()
	return nil
}

// snapshot runs the protocol above. REQUIRES: snap.mu held.
func (db *DB) snapshot() error {
	db.mu.Lock()
	if db.failed != nil {
		db.mu.Unlock()
		return db.failed
	}
	keys := db.freezeAll()
	h := snapHeader{id: db.dur.lastID.Load(), created: db.now()}
	cut, bytesAt, dirtyAt := db.lastIndex, db.logBytes, db.dirty
	db.mu.Unlock()

	if _, err := db.writeSnapFile(keys, h, h.created); err != nil {
		return fmt.Errorf("walkv: %w", err)
	}
	db.mu.Lock()
	db.snap.lastID, db.snap.baseBytes = h.id, bytesAt
	db.dirty -= dirtyAt
	db.mu.Unlock()
	if err := db.truncateLog(cut); err != nil {
		return fmt.Errorf("walkv: truncating the log after snapshot %d: %w", h.id, err)
	}
	if err := db.removeSnapshots(h.id); err != nil {
		return fmt.Errorf("walkv: removing old snapshots: %w", err)
	}
	return nil
}

// truncateLog deletes the log's sealed segments whose entries all lie at
// or below index cut (their transactions are in a durable snapshot). The
// entries of the segment holding cut stay; recovery skips them by id.
//
// One TruncateFront removes them all: it records the new first index in
// META before unlinking, and wal.Open drops whatever segments a crash part
// way left below it (wal's TestPowerLossDuringMultiSegmentTruncateFront).
func (db *DB) truncateLog(cut uint64) error {
	var front uint64
	for _, s := range db.log.Segments() {
		if !s.Sealed || s.LastIndex > cut {
			break
		}
		front = s.LastIndex + 1
	}
	if front == 0 {
		return nil
	}
	return db.log.TruncateFront(front)
}

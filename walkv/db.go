package walkv

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waldb/wal"
	"github.com/waldb/wal/txn"
	"github.com/waldb/wal/vfs"
)

// logDirName is the log's directory inside the data directory; snapshots
// sit beside it.
const logDirName = "wal"

// recordFraming approximates the log's per-entry framing (a record header
// and an index slot), for the log-size accounting behind automatic
// snapshots.
const recordFraming = 20

// DB is the key-value engine: an in-memory keyspace whose every change is
// a transaction in a write-ahead log, plus snapshots that let the log be
// truncated. All methods are safe for concurrent use.
//
// # Locking
//
// mu guards the keyspaces, the watch registry, the counters below it and
// failed. Commands that change data hold it for writing while they apply
// their operations and append their transaction to the log, so log order
// is apply order; commands that only read hold it for reading. Nobody
// holds mu while waiting for durability (see durability) or while writing a
// snapshot file (see snapshotter).
type DB struct {
	procs    atomic.Pointer[procs] // set by a server with AutoProcs
	opts     Options
	dir      string
	log      *wal.Log
	w        *txn.Writer
	dur      durability
	fsync    atomic.Int32 // Fsync policy
	snap     snapshotter
	start    time.Time
	stats    stats
	logStats logStats // the log's figures (logstats.go)
	// lastNow is the largest clock reading now handed out (Unix ms).
	lastNow atomic.Int64
	// appliedNow (cluster mode) is the largest command time applied so
	// far (Unix ms): the clock of the replicated state, the same on every
	// node at the same log position. Guarded by mu.
	appliedNow int64

	mu sync.RWMutex
	// dbs are the databases, by index (databases.go). SWAPDB exchanges
	// two entries; nothing outside mu keeps a pointer to a keyspace.
	dbs     [numDBs]*keyspace
	watches map[dbKey]map[*session]struct{}
	blk     blockRegistry // clients blocked on lists (blocking.go)
	// lastIndex is the log index of the last entry of the last committed
	// transaction (0 before any): a snapshot frozen now covers the log up
	// to it.
	lastIndex uint64
	// logBytes counts log bytes written by this process; dirty counts
	// transactions since the last snapshot.
	logBytes int64
	dirty    int64
	failed   error
	// activeExpireOff: DEBUG SET-ACTIVE-EXPIRE 0 stopped the expiry loop.
	activeExpireOff atomic.Bool
	// clientsPaused: CLIENT PAUSE is on; the expiry loop waits too.
	clientsPaused atomic.Bool

	closeOnce sync.Once
	stop      chan struct{}
	bg        sync.WaitGroup
}

// stats are counters for INFO, updated without mu.
type stats struct {
	commands    atomic.Int64
	connections atomic.Int64
	clients     atomic.Int64
	expired     atomic.Int64
	hits        atomic.Int64
	misses      atomic.Int64
	netIn       atomic.Int64 // bytes received from clients
	netOut      atomic.Int64 // reply bytes queued to clients
	cmds        []cmdStat    // indexed by command.id (cmdstats.go)
	errors      errorStats
}

// Open opens or creates the database in dir: it loads the newest snapshot,
// opens the log in dir/wal, replays the committed transactions after the
// snapshot, and starts the background work (active expiry, everysec
// fsyncs, automatic snapshots).
func Open(dir string, opts *Options) (*DB, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	db := &DB{opts: o, dir: dir, dbs: newKeyspaces(), watches: map[dbKey]map[*session]struct{}{},
		stop: make(chan struct{}), start: time.Now()}
	db.snap.req = make(chan struct{}, 1)
	db.stats.cmds = make([]cmdStat, len(commandList))
	db.fsync.Store(int32(o.AppendFsync))
	if o.Replicator != nil {
		db.startBackground()
		return db, nil
	}
	if err := db.open(); err != nil {
		if db.log != nil {
			db.log.Close()
		}
		return nil, fmt.Errorf("walkv: open %s: %w", dir, err)
	}
	db.startBackground()
	return db, nil
}

// open runs the steps of Open.
func (db *DB) open() error {
	// The data directory's own entry must be durable before anything in
	// it counts: MkdirAllSynced fsyncs the parent of each directory it
	// creates; the parent is synced again in case dir already existed
	// but was made by someone else without the fsync.
	if err := vfs.MkdirAllSynced(db.opts.FS, db.dir, 0o755); err != nil {
		return err
	}
	if err := db.opts.FS.SyncDir(filepath.Dir(filepath.Clean(db.dir))); err != nil {
		return err
	}
	snapID, err := db.loadSnapshot()
	if err != nil {
		return err
	}
	db.log, err = wal.Open(filepath.Join(db.dir, logDirName), &wal.Options{
		FS: db.opts.FS, SyncPolicy: wal.SyncNever, SegmentSize: db.opts.SegmentSize, MaxEntrySize: maxTxnBytes,
		EventListener: db.logStats.listener(db.opts.LogEvents),
	})
	if err != nil {
		return err
	}
	return db.replay(snapID)
}

// replay applies the committed transactions after the snapshot's; each
// starts in database 0 (see databases.go).
func (db *DB) replay(snapID uint64) error {
	a, txID := dbApplier{db: db}, uint64(0)
	st, err := txn.Recover(db.log, snapID, func(id uint64, op txn.Op) error {
		if id != txID {
			a.cur, txID = 0, id
		}
		return a.apply(op)
	}, nil)
	if err != nil {
		return err
	}
	last := max(snapID, st.MaxID)
	db.w = txn.NewWriter(db.log, last)
	db.dur = durability{log: db.log}
	lastIndex, err := db.log.LastIndex()
	if err != nil {
		return err
	}
	db.dur.logged.Store(lastIndex) // Open made what it recovered durable
	db.dur.lastID.Store(last)
	db.dur.durableID.Store(last)
	db.snap.lastID = snapID
	db.snap.loaded = st
	db.dropExpiredReplayed()
	if err := db.syncRecovered(); err != nil {
		return err
	}
	db.lastIndex, err = db.log.LastIndex()
	return err
}

// syncRecovered makes what recovery read back durable. After a process crash the
// log's tail may hold bytes that reached the OS but were never fsynced; the
// log reads them back and treats them as durable without an fsync, so a
// power loss now could still lose them although clients may read them. An
// empty transaction followed by Sync fsyncs the tail file, and with it
// those bytes. A cleanly closed or new log needs nothing.
func (db *DB) syncRecovered() error {
	switch db.log.Recovery().State {
	case wal.RecoveryClean, wal.RecoveryNew:
		return nil
	}
	info, err := db.w.Commit(nil)
	if err != nil {
		return err
	}
	db.dur.logged.Store(info.Index)
	db.dur.lastID.Store(info.ID)
	return db.dur.syncAll()
}

// newKeyspaces returns numDBs empty databases.
func newKeyspaces() [numDBs]*keyspace {
	var dbs [numDBs]*keyspace
	for i := range dbs {
		dbs[i] = newKeyspace()
	}
	return dbs
}

func (db *DB) startBackground() {
	loops := []func(<-chan struct{}){db.everysec, db.expireLoop, db.snapshotLoop}
	if db.clustered() {
		loops = loops[1:2] // no log to fsync or snapshot: raft does both
	}
	for _, fn := range loops {
		db.bg.Add(1)
		go func() {
			defer db.bg.Done()
			fn(db.stop)
		}()
	}
}

// Close stops the background work (waiting for a snapshot in progress)
// and closes the log, which makes every committed transaction durable.
func (db *DB) Close() error {
	err := ErrClosed
	db.closeOnce.Do(func() {
		close(db.stop)
		db.bg.Wait()
		if db.clustered() {
			err = nil
			return
		}
		err = db.log.Close()
		if db.isFailed() != nil && errors.Is(err, wal.ErrFailed) {
			err = nil // already reported to every client
		}
	})
	return err
}

// Fsync returns the current appendfsync policy.
func (db *DB) Fsync() Fsync { return Fsync(db.fsync.Load()) }

// SetFsync changes the appendfsync policy. Moving to a stricter policy
// does not retroactively make earlier writes durable; the next wait or
// tick does.
func (db *DB) SetFsync(f Fsync) {
	db.fsync.Store(int32(f))
	db.applyProcs()
}

// applyProcs lets the server's GOMAXPROCS follow the policy and the
// snapshot state, if a server with AutoProcs serves db.
func (db *DB) applyProcs() {
	if p := db.procs.Load(); p != nil {
		p.apply(db)
	}
}

// now returns the clock in Unix milliseconds, never less than a value it
// returned before (a clock stepping back must not revive expired keys).
func (db *DB) now() int64 {
	t := db.opts.Clock().UnixMilli()
	for {
		last := db.lastNow.Load()
		if t <= last {
			return last
		}
		if db.lastNow.CompareAndSwap(last, t) {
			return t
		}
	}
}

// commit logs t as one transaction and returns the log index of its last
// entry, what a reply that reports it depends on (0 if t is empty). A log
// failure makes the DB fail-stop. REQUIRES: mu held for writing.
func (db *DB) commit(t *tx) (uint64, error) {
	if t.empty() || db.clustered() {
		return 0, nil // in cluster mode raft's log already holds the command
	}
	info, err := db.w.Commit(t.ops[:t.mark])
	if err != nil {
		db.failLocked(err)
		return 0, db.failed
	}
	db.dur.lastID.Store(info.ID)
	db.dur.logged.Store(info.Index)
	db.lastIndex = info.Index
	db.logBytes += int64(info.Bytes + recordFraming*(t.mark+2))
	db.dirty++
	if db.opts.SnapshotLogBytes > 0 && db.logBytes-db.snap.baseBytes >= db.opts.SnapshotLogBytes {
		db.snap.request()
	}
	return info.Index, nil
}

// fail makes the DB fail-stop with cause.
func (db *DB) fail(cause error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.failLocked(cause)
}

// failLocked: REQUIRES mu held for writing.
func (db *DB) failLocked(cause error) {
	if db.failed == nil {
		db.failed = fmt.Errorf("%w: %w", ErrFailed, cause)
		db.opts.Logger.Error("walkv: log failed; refusing further commands", "err", cause)
	}
}

// isFailed returns the fail-stop error, or nil.
func (db *DB) isFailed() error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.failed
}

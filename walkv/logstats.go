package walkv

import (
	"sync/atomic"
	"time"

	"github.com/waldb/wal"
)

// logStats counts what the DB's log does, from its EventListener, for
// INFO's log figures (section "log" and the aof_* fields of
// "persistence"). Its callbacks are a few atomic adds: they run on the
// log's write and fsync paths.
type logStats struct {
	writes, entries, bytes, writeErrors       atomic.Int64
	fsyncs, fsyncNanos, lastFsync, maxFsync   atomic.Int64
	fsyncErrors, stalls, rotations, truncs    atomic.Int64
	lastWriteFailed, lastFsyncFailed, stalled atomic.Bool
}

// LogStats are the log's figures since the DB was opened.
type LogStats struct {
	Writes          int64         // write syscalls of buffered entries (group commits)
	Entries         int64         // entries appended
	Bytes           int64         // bytes written (records, headers, markers)
	WriteErrors     int64         // failed writes
	Fsyncs          int64         // fdatasyncs of the tail segment
	FsyncTime       time.Duration // their total duration
	LastFsync       time.Duration // the last one's duration
	MaxFsync        time.Duration // the longest one's
	FsyncErrors     int64         // failed fdatasyncs
	FsyncStalls     int64         // reports of an fdatasync running past the slow-sync threshold (1 s)
	Stalled         bool          // an fdatasync is running past the threshold now
	Rotations       int64         // segments sealed
	Truncations     int64         // truncations of the front (after snapshots)
	LastWriteFailed bool          // the last write or fdatasync failed
}

// listener returns the EventListener that counts into ls and then calls
// user's callbacks (Options.LogEvents; may be nil).
func (ls *logStats) listener(user *wal.EventListener) *wal.EventListener {
	if user == nil {
		user = &wal.EventListener{}
	}
	el := *user
	el.WriteEnd = func(i wal.WriteInfo) {
		ls.wrote(i)
		if user.WriteEnd != nil {
			user.WriteEnd(i)
		}
	}
	el.SyncEnd = func(i wal.SyncInfo) {
		ls.synced(i)
		if user.SyncEnd != nil {
			user.SyncEnd(i)
		}
	}
	el.SyncStall = func(i wal.StallInfo) {
		ls.stalls.Add(1)
		ls.stalled.Store(true)
		if user.SyncStall != nil {
			user.SyncStall(i)
		}
	}
	el.SegmentSealed = func(i wal.SegmentInfo) {
		ls.rotations.Add(1)
		if user.SegmentSealed != nil {
			user.SegmentSealed(i)
		}
	}
	el.Truncated = func(i wal.TruncateInfo) {
		if i.Err == nil {
			ls.truncs.Add(1)
		}
		if user.Truncated != nil {
			user.Truncated(i)
		}
	}
	return &el
}

func (ls *logStats) wrote(i wal.WriteInfo) {
	ls.lastWriteFailed.Store(i.Err != nil)
	if i.Err != nil {
		ls.writeErrors.Add(1)
		return
	}
	ls.writes.Add(1)
	ls.entries.Add(int64(i.Entries))
	ls.bytes.Add(int64(i.Bytes))
}

func (ls *logStats) synced(i wal.SyncInfo) {
	ls.stalled.Store(false)
	ls.lastFsyncFailed.Store(i.Err != nil)
	if i.Err != nil {
		ls.fsyncErrors.Add(1)
		return
	}
	d := int64(i.Duration)
	ls.fsyncs.Add(1)
	ls.fsyncNanos.Add(d)
	ls.lastFsync.Store(d)
	for m := ls.maxFsync.Load(); d > m && !ls.maxFsync.CompareAndSwap(m, d); m = ls.maxFsync.Load() {
	}
}

func (ls *logStats) snapshot() LogStats {
	return LogStats{
		Writes: ls.writes.Load(), Entries: ls.entries.Load(), Bytes: ls.bytes.Load(),
		WriteErrors: ls.writeErrors.Load(), Fsyncs: ls.fsyncs.Load(),
		FsyncTime: time.Duration(ls.fsyncNanos.Load()), LastFsync: time.Duration(ls.lastFsync.Load()),
		MaxFsync: time.Duration(ls.maxFsync.Load()), FsyncErrors: ls.fsyncErrors.Load(),
		FsyncStalls: ls.stalls.Load(), Stalled: ls.stalled.Load(), Rotations: ls.rotations.Load(),
		Truncations:     ls.truncs.Load(),
		LastWriteFailed: ls.lastWriteFailed.Load() || ls.lastFsyncFailed.Load(),
	}
}

// logInfo is INFO's "log" section: the log's figures, walkv's own, so
// wal_-prefixed. REQUIRES: DB.mu held.
func (srv *Server) logInfo() []infoField {
	db := srv.db
	if db.clustered() {
		return nil // the raft log's figures are the raft node's
	}
	l := db.logStats.snapshot()
	first, _ := db.log.FirstIndex()
	last, _ := db.log.LastIndex()
	avg := int64(0)
	if l.Fsyncs > 0 {
		avg = l.FsyncTime.Microseconds() / l.Fsyncs
	}
	return []infoField{
		{"wal_entries_written", l.Entries}, {"wal_bytes_written", l.Bytes}, {"wal_writes", l.Writes},
		{"wal_write_errors", l.WriteErrors},
		{"wal_fsyncs", l.Fsyncs}, {"wal_fsync_usec", l.FsyncTime.Microseconds()},
		{"wal_fsync_avg_usec", avg}, {"wal_last_fsync_usec", l.LastFsync.Microseconds()},
		{"wal_max_fsync_usec", l.MaxFsync.Microseconds()}, {"wal_fsync_errors", l.FsyncErrors},
		{"wal_fsync_stalls", l.FsyncStalls}, {"wal_fsync_stalled", b2i(l.Stalled)},
		{"wal_rotations", l.Rotations}, {"wal_truncations", l.Truncations},
		{"wal_first_index", first}, {"wal_last_index", last},
	}
}

package wal

import (
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/waldb/wal/record"
	"github.com/waldb/wal/vfs"
)

// SyncPolicy says when written entries are made durable.
type SyncPolicy int

const (
	// SyncAlways (the default): a write returns only after an fdatasync
	// covering its bytes succeeded. Concurrent writers share fsyncs (group
	// commit).
	SyncAlways SyncPolicy = iota
	// SyncInterval: a background fsync every Options.SyncInterval (Redis's
	// appendfsync everysec). A power loss may lose the writes of the last
	// interval; a process crash loses at most what was still buffered
	// (see Options.FlushInterval and Options.BufferSize).
	SyncInterval
	// SyncNever: the log never fsyncs by itself; the OS writes back when it
	// likes, and Sync, Close, rotation and truncations make data durable.
	SyncNever
)

// String returns the policy's name.
func (p SyncPolicy) String() string {
	switch p {
	case SyncAlways:
		return "always"
	case SyncInterval:
		return "interval"
	case SyncNever:
		return "never"
	}
	return fmt.Sprintf("SyncPolicy(%d)", int(p))
}

// RecoveryMode says how Open treats damage in the tail segment, the only
// segment it scans (modelled on RocksDB's WALRecoveryMode).
type RecoveryMode int

const (
	// TolerateTornTail (the default): a torn tail (partial record, an
	// incomplete batch, preallocated zeros, garbage after the last good
	// record) is truncated and reported. Damage to bytes that a later sync
	// marker proves were durable is ErrCorrupt.
	TolerateTornTail RecoveryMode = iota
	// AbsoluteConsistency: any partial record or garbage after the last
	// good record is ErrCorrupt; only zeros (never-written preallocated
	// space) may follow it.
	AbsoluteConsistency
	// PointInTime: recover to the last good record before the first damage,
	// even where a sync marker proves later bytes were durable; what is
	// dropped is reported, never served.
	PointInTime
)

// Defaults and limits.
const (
	DefaultSegmentSize   = 64 << 20
	DefaultMaxEntrySize  = 64 << 20
	DefaultBufferSize    = 1 << 20
	DefaultSyncInterval  = time.Second
	DefaultFlushInterval = 10 * time.Millisecond
	// MaxIndex is the largest index an entry can have. Writes that would
	// pass it, and Reset(math.MaxUint64), fail with ErrOutOfRange, so
	// LastIndex()+1 never wraps to 0. (An emptied log may report
	// FirstIndex() == MaxIndex+1.)
	MaxIndex uint64 = math.MaxUint64 - 1
	// MaxSegmentSize bounds SegmentSize so record offsets fit the 32-bit
	// entries of a sealed segment's index block.
	MaxSegmentSize = 2 << 30
)

// Options configures a Log. The zero value of every field means its
// documented default; a nil *Options means all defaults.
type Options struct {
	// FS is the filesystem. Default vfs.Default (the OS).
	FS vfs.FS
	// SyncPolicy; default SyncAlways.
	SyncPolicy SyncPolicy
	// NoSync, if true, makes the policy SyncNever whatever SyncPolicy
	// says: Open ignores SyncPolicy then, even when it is set.
	//
	// Deprecated: set SyncPolicy to SyncNever. NoSync is kept for code
	// written for tidwall/wal, where it is the only sync option.
	NoSync bool
	// SyncInterval is the fsync period, used only by the SyncInterval
	// policy (the SyncPolicy constant of the same name): the other
	// policies ignore it. Default 1s (DefaultSyncInterval).
	SyncInterval time.Duration
	// FlushInterval bounds how long written bytes may sit in the log's
	// buffer before they are handed to the OS under SyncInterval and
	// SyncNever, and so what a process crash (not a power loss) can lose.
	// Default 10ms.
	FlushInterval time.Duration
	// BufferSize is the write buffer's flush threshold in bytes (IoTDB's
	// flush_wal_threshold): under SyncInterval and SyncNever, buffered bytes
	// are written to the OS as soon as they reach it. Default 1 MiB.
	BufferSize int
	// SegmentSize is the size in bytes at which the log moves to a new
	// segment file. A segment holds at least one batch, so it may exceed
	// this by the size of one batch. Default 64 MiB, at most 2 GiB.
	SegmentSize int
	// MaxEntrySize is the largest entry accepted, in bytes. Default 64 MiB,
	// at most record.MaxPayload.
	MaxEntrySize int
	// NoCopy makes Read return slices that alias the log's memory (the
	// memory map of a sealed segment) where it can; entries of the tail
	// segment, and every entry under NoMmap or on a filesystem without
	// memory maps, are still returned as copies. Such a slice is
	// read-only. Its exact lifetime: it stays valid until the first of
	//   - Close of the log;
	//   - the removal of its entry by TruncateFront, TruncateBack or
	//     Reset (a TruncateBack that cuts the entry's segment keeps the
	//     old map alive for the entries it keeps, so their slices stay
	//     valid; the replaced file's disk space is then freed only when
	//     the cut segment is removed or the log closed);
	//   - for a log opened with OpenReadOnly, the next Refresh.
	// Using it later may crash the process or read other bytes. A slice
	// whose lifetime is not clear to its user should be a copy:
	// AppendEntry into a reused buffer costs about the same as NoCopy and
	// has no lifetime rule.
	NoCopy bool
	// NoPreallocate disables preallocation of segment files. By default a
	// segment is preallocated to SegmentSize so fdatasync need not update
	// file metadata.
	NoPreallocate bool
	// NoMmap reads sealed segments with pread instead of a memory map.
	NoMmap bool
	// EagerOpen makes Open open every segment file and check its header
	// and trailer, and so the whole chain of segments, before it returns.
	// By default Open opens only the last two segments and leaves the
	// older, sealed ones closed until an entry of theirs is read (or the
	// log is truncated or verified through them): their index ranges
	// follow from the file names, so Open's time and memory do not grow
	// with the log. A missing or damaged old segment is then reported as
	// ErrCorrupt by the first read of its range instead of by Open;
	// Verify, and walctl verify, still check every segment. Read-only
	// logs always open eagerly.
	EagerOpen bool
	// RecoveryMode; default TolerateTornTail.
	RecoveryMode RecoveryMode
	// EventListener receives write, fsync, rotation, truncation, recovery
	// and failure events, for metrics (see EventListener). Default none.
	EventListener *EventListener
	// Logger, if set, receives warnings (an fdatasync stalled past
	// SlowSyncThreshold, a recovery that dropped bytes, a failed
	// truncation), errors (the log failing) and debug messages (rotations,
	// truncations). Default none: the log logs nothing.
	Logger *slog.Logger
	// SlowSyncThreshold is how long an fdatasync may run before
	// EventListener.SyncStall and the Logger are told, while it still
	// runs. Default DefaultSlowSyncThreshold (1s); negative: never.
	SlowSyncThreshold time.Duration

	// newTicker makes the background tickers; nil means time.NewTicker
	// (the monotonic clock). Tests substitute a fake clock.
	newTicker func(d time.Duration) (c <-chan time.Time, stop func())
	// directMin is the size from which an entry is written straight from
	// the caller's slice instead of being copied into the write buffer
	// (write_direct.go): 0 means the default (directMinDefault), a
	// negative value never. Tests lower it to run the fault suites
	// through that path.
	directMin int
	// segmentSalt chooses a new segment's salt; nil means random. The
	// golden test fixes it so that its files are reproducible.
	segmentSalt func(seq uint64) uint32
}

func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// withDefaults validates o and returns a copy with defaults filled in.
func (o *Options) withDefaults() (Options, error) {
	var c Options
	if o != nil {
		c = *o
	}
	if c.FS == nil {
		c.FS = vfs.Default
	}
	if c.newTicker == nil {
		c.newTicker = realTicker
	}
	if c.NoSync {
		c.SyncPolicy = SyncNever
	}
	if c.SyncPolicy < SyncAlways || c.SyncPolicy > SyncNever {
		return c, fmt.Errorf("wal: invalid SyncPolicy %d", c.SyncPolicy)
	}
	if c.RecoveryMode < TolerateTornTail || c.RecoveryMode > PointInTime {
		return c, fmt.Errorf("wal: invalid RecoveryMode %d", c.RecoveryMode)
	}
	setDefault(&c.SyncInterval, DefaultSyncInterval)
	setDefault(&c.FlushInterval, DefaultFlushInterval)
	setDefault(&c.BufferSize, DefaultBufferSize)
	setDefault(&c.SegmentSize, DefaultSegmentSize)
	setDefault(&c.MaxEntrySize, DefaultMaxEntrySize)
	setDefault(&c.SlowSyncThreshold, DefaultSlowSyncThreshold)
	switch {
	case c.SyncInterval < 0 || c.FlushInterval < 0:
		return c, fmt.Errorf("wal: negative interval")
	case c.BufferSize < 0:
		return c, fmt.Errorf("wal: negative BufferSize %d", c.BufferSize)
	case c.SegmentSize < 0 || c.SegmentSize > MaxSegmentSize:
		return c, fmt.Errorf("wal: SegmentSize %d outside (0, %d]", c.SegmentSize, MaxSegmentSize)
	case c.MaxEntrySize < 0 || c.MaxEntrySize > record.MaxPayload:
		return c, fmt.Errorf("wal: MaxEntrySize %d outside (0, %d]", c.MaxEntrySize, record.MaxPayload)
	}
	return c, nil
}

func setDefault[T int | time.Duration](p *T, def T) {
	if *p == 0 {
		*p = def
	}
}

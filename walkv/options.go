package walkv

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
)

// Fsync is the appendfsync policy: when a write becomes durable relative
// to its reply. The names and meanings are Redis's.
type Fsync int32

const (
	// FsyncAlways (the default): a reply that depends on a write — the
	// write's own reply, or a read that observed it — is sent only after
	// the write is durable. Concurrent clients share each fsync.
	FsyncAlways Fsync = iota
	// FsyncEverysec: the log is fsynced once a second in the background.
	// A power loss may lose about the last second of acknowledged writes;
	// a process crash loses at most what was still in the log's buffer
	// (up to 10 ms, the log's FlushInterval).
	FsyncEverysec
	// FsyncNo: the server never fsyncs; the OS writes back when it likes.
	FsyncNo
)

// ParseFsync parses Redis's names: "always", "everysec", "no".
func ParseFsync(s string) (Fsync, error) {
	switch s {
	case "always":
		return FsyncAlways, nil
	case "everysec":
		return FsyncEverysec, nil
	case "no":
		return FsyncNo, nil
	}
	return 0, fmt.Errorf("%w: appendfsync %q (want always, everysec or no)", ErrInvalidOption, s)
}

// String returns the Redis name of the policy.
func (f Fsync) String() string {
	switch f {
	case FsyncAlways:
		return "always"
	case FsyncEverysec:
		return "everysec"
	case FsyncNo:
		return "no"
	}
	return fmt.Sprintf("Fsync(%d)", int32(f))
}

// Defaults.
const (
	// DefaultSnapshotLogBytes is the log growth after which a snapshot is
	// taken automatically.
	DefaultSnapshotLogBytes = 64 << 20
	// DefaultMaxBulk is Redis's proto-max-bulk-len: 512 MiB.
	DefaultMaxBulk = 512 << 20
	// MaxMaxBulk bounds MaxBulk so that any single value fits one log
	// entry.
	MaxMaxBulk = 512 << 20
	// DefaultExpireInterval is the period of active expiry.
	DefaultExpireInterval = 100 * time.Millisecond
)

// Options configures a DB. The zero value of every field means its
// documented default; a nil *Options means all defaults.
type Options struct {
	// FS is the filesystem for the log and the snapshots. Default
	// vfs.Default (the OS).
	FS vfs.FS
	// AppendFsync is the initial durability policy; CONFIG SET appendfsync
	// changes it at run time. Default FsyncAlways.
	AppendFsync Fsync
	// SnapshotLogBytes is how many bytes of log records written since the
	// last snapshot trigger an automatic one (followed by a truncation of
	// the log's front). Default 64 MiB; negative disables automatic
	// snapshots (SAVE and BGSAVE still work).
	SnapshotLogBytes int64
	// MaxBulk is the largest bulk string (key, value or argument) a client
	// may send, in bytes, and the largest string APPEND may build (Redis's
	// proto-max-bulk-len). Default and maximum 512 MiB.
	MaxBulk int
	// SegmentSize is the log's segment size in bytes; default the log's
	// (64 MiB).
	SegmentSize int
	// ExpireInterval is the period of active expiry, which removes expired
	// keys nobody reads. Default 100ms.
	ExpireInterval time.Duration
	// Clock returns the wall-clock time used for expiry deadlines, which
	// are absolute Unix milliseconds and so survive restarts. Default
	// time.Now.
	Clock func() time.Time
	// Logger receives background errors (a failed automatic snapshot).
	// Default: discard.
	Logger *slog.Logger
	// Replicator, if set, puts the DB in cluster mode (see cluster.go):
	// no log or snapshot files of its own, writes replicated through it
	// and applied by ApplyEntry. Default nil: single-node mode.
	Replicator Replicator
	// ReadMode is how a cluster node serves reads (see cluster.go).
	// Ignored without Replicator. Default ReadLinearizable.
	ReadMode ReadMode
	// LogEvents, if set, receives the log's events (wal.Options.
	// EventListener), e.g. walprom's for Prometheus. Default none.
	LogEvents *wal.EventListener
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
	if c.AppendFsync < FsyncAlways || c.AppendFsync > FsyncNo {
		return c, fmt.Errorf("%w: AppendFsync %d", ErrInvalidOption, c.AppendFsync)
	}
	if c.ReadMode < ReadLinearizable || c.ReadMode > ReadStale {
		return c, fmt.Errorf("%w: ReadMode %d", ErrInvalidOption, c.ReadMode)
	}
	if c.SnapshotLogBytes == 0 {
		c.SnapshotLogBytes = DefaultSnapshotLogBytes
	}
	if c.MaxBulk == 0 {
		c.MaxBulk = DefaultMaxBulk
	}
	if c.MaxBulk < 0 || c.MaxBulk > MaxMaxBulk {
		return c, fmt.Errorf("%w: MaxBulk %d outside (0, %d]", ErrInvalidOption, c.MaxBulk, MaxMaxBulk)
	}
	if err := capBulkToLog(&c); err != nil { // cluster mode: see entrylimit.go
		return c, err
	}
	if c.ExpireInterval == 0 {
		c.ExpireInterval = DefaultExpireInterval
	}
	if c.ExpireInterval < 0 || c.SegmentSize < 0 {
		return c, fmt.Errorf("%w: negative ExpireInterval or SegmentSize", ErrInvalidOption)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

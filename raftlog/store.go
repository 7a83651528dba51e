package raftlog

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
	wal "github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
)

// Compile-time checks that Store implements raft's interfaces.
var (
	_ raft.LogStore          = (*Store)(nil)
	_ raft.MonotonicLogStore = (*Store)(nil)
	_ raft.StableStore       = (*Store)(nil)
)

// Names inside a store's directory. Never change these.
const (
	logDirName    = "log"
	stableName    = "STABLE"
	stableTmpName = stableName + vfs.TempSuffix
)

// Options configures a Store. A nil *Options means all defaults.
type Options struct {
	// FS is the filesystem holding both the log and the stable file.
	// Default vfs.Default (the OS).
	FS vfs.FS
	// Log configures the raft log (a wal.Log in the "log" subdirectory);
	// nil means the wal's defaults: SyncAlways, 64 MiB segments, 64 MiB
	// entries. Its FS must be nil or equal to FS above. NoCopy is refused:
	// raft keeps the Data slices GetLog returns beyond any truncation.
	// A SyncPolicy other than SyncAlways lets StoreLogs return before its
	// entries are durable, which breaks raft's safety after a power loss
	// (like raft-boltdb's NoSync); the stable file is fsynced regardless.
	Log *wal.Options
}

// withDefaults validates o and returns the options for the log.
func (o *Options) withDefaults() (vfs.FS, wal.Options, error) {
	var fs vfs.FS
	var lo wal.Options
	if o != nil {
		fs = o.FS
		if o.Log != nil {
			lo = *o.Log
		}
	}
	switch {
	case fs == nil && lo.FS != nil:
		fs = lo.FS
	case fs == nil:
		fs = vfs.Default
	case lo.FS != nil && lo.FS != fs:
		return nil, lo, errors.New("raftlog: Options.Log.FS differs from Options.FS")
	}
	if lo.NoCopy {
		return nil, lo, errors.New("raftlog: Options.Log.NoCopy is not supported: raft keeps the entries GetLog returns")
	}
	lo.FS = fs
	return fs, lo, nil
}

// Store is a raft.LogStore, raft.MonotonicLogStore and raft.StableStore on
// a waldb log. All methods are safe for concurrent use. See the package doc
// for the layout, the mapping of raft's calls to log operations and the
// crash guarantees.
type Store struct {
	dir      string
	fs       vfs.FS
	log      *wal.Log
	maxEntry int // the log's MaxEntrySize

	// bounds is what FirstIndex and LastIndex report, {0, 0} while the
	// store is empty. Only the writer (holding w) stores it, after each
	// change; readers load it without a lock.
	bounds atomic.Pointer[bounds]
	// recent holds the latest stored entries for GetLog (see recent.go).
	// The writer replaces it after each append and clears it before any
	// other change to the log, so it never holds an entry the log lost.
	// Only under SyncAlways (keepRecent): there every stored entry is
	// durable when StoreLogs returns, so a later I/O failure, which rolls
	// the log back to what is durable, cannot take one away; under other
	// policies a background flush may fail and do so without the writer.
	recent     atomic.Pointer[recent]
	keepRecent bool

	// w serializes the log's writers. raft calls StoreLogs from its main
	// goroutine and DeleteRange from its snapshot goroutine; each decides
	// on the current bounds and then performs one or two log operations,
	// which must not interleave with another writer's. GetLog, FirstIndex
	// and LastIndex never take it: the log's Read is safe beside writers.
	w struct {
		sync.Mutex
		batch wal.Batch // reused by StoreLogs
		buf   []byte    // one entry's encoding, reused
	}

	stable stable
}

// bounds is an immutable pair published by the writer; closed is set by
// Close.
type bounds struct {
	first, last uint64
	closed      bool
}

// Open opens the store in dir, creating dir, its log and an empty stable
// state as needed. The log is opened first and holds an exclusive lock
// (ErrLocked from package wal while another Store has dir open).
//
// Open proceeds as a pipeline: make the directories durable, open and
// recover the log, load the stable file, publish the bounds.
func Open(dir string, opts *Options) (*Store, error) {
	fs, lo, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, fs: fs, maxEntry: lo.MaxEntrySize, keepRecent: lo.SyncPolicy == wal.SyncAlways}
	if s.maxEntry == 0 {
		s.maxEntry = wal.DefaultMaxEntrySize
	}
	if err := s.makeDirs(); err != nil {
		return nil, err
	}
	if s.log, err = wal.Open(filepath.Join(dir, logDirName), &lo); err != nil {
		return nil, fmt.Errorf("raftlog: opening the log: %w", err)
	}
	if err := s.stable.open(fs, dir); err != nil {
		s.log.Close()
		return nil, err
	}
	s.bounds.Store(&bounds{})
	s.publish()
	return s, nil
}

// makeDirs creates dir and dir/log as needed with vfs.MkdirAllSynced: a new
// directory's entry is durable only once its parent is fsynced, otherwise a
// power loss could take the whole store, with entries raft believed
// durable, away.
func (s *Store) makeDirs() error {
	d := filepath.Join(s.dir, logDirName)
	if err := vfs.MkdirAllSynced(s.fs, d, 0o755); err != nil {
		return fmt.Errorf("raftlog: %w", err)
	}
	return nil
}

// Close closes the log (syncing it) and the stable store. Later calls of
// any method return an error wrapping ErrClosed or wal.ErrClosed.
func (s *Store) Close() error {
	s.w.Lock()
	defer s.w.Unlock()
	s.stable.close()
	s.recent.Store(nil) // GetLog then reads the closed log: ErrClosed
	s.bounds.Store(&bounds{closed: true})
	if err := s.log.Close(); err != nil {
		return fmt.Errorf("raftlog: %w", err)
	}
	return nil
}

// Sync makes every stored entry durable. It is needed only when
// Options.Log chose a SyncPolicy other than SyncAlways.
func (s *Store) Sync() error {
	if err := s.log.Sync(); err != nil {
		return fmt.Errorf("raftlog: %w", err)
	}
	return nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

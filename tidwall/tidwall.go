package wal

import (
	"errors"
	"os"
	"path/filepath"
	"sync"

	root "github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
)

// Sentinel errors, returned unwrapped so that err == ErrX works as with
// tidwall/wal. Except ErrEmptyLog they are the root package's sentinels.
var (
	// ErrCorrupt is returned when the log is corrupt.
	ErrCorrupt = root.ErrCorrupt
	// ErrClosed is returned when an operation cannot be completed because
	// the log is closed.
	ErrClosed = root.ErrClosed
	// ErrNotFound is returned by Read when the index is outside
	// [FirstIndex, LastIndex].
	ErrNotFound = root.ErrNotFound
	// ErrOutOfOrder is returned by Write and WriteBatch when an index is
	// not LastIndex()+1 (for a batch, the next consecutive index).
	ErrOutOfOrder = root.ErrOutOfOrder
	// ErrOutOfRange is returned by TruncateFront and TruncateBack when the
	// index is outside the range the operation accepts, including, without
	// AllowEmpty, an index that would remove every entry.
	ErrOutOfRange = root.ErrOutOfRange
	// ErrEmptyLog is returned by Open when AllowEmpty is off and the log
	// has been emptied by TruncateFront or TruncateBack.
	ErrEmptyLog = errors.New("wal: empty log")
)

// LogFormat is the format of tidwall/wal's segment files. It selects how
// Open reads an existing tidwall directory; new entries are always written
// in waldb's format.
type LogFormat byte

const (
	// Binary is tidwall's default format: a uvarint length, then the data.
	Binary LogFormat = 0
	// JSON is tidwall's JSON-lines format.
	JSON LogFormat = 1
)

// Options for Open. Zero fields take DefaultOptions' values.
type Options struct {
	// NoSync disables the fsync after each write: a power loss may lose
	// writes since the last Sync, truncation or Close.
	NoSync bool
	// SegmentSize is the target size of a segment file in bytes.
	// Default 20 MB.
	SegmentSize int
	// LogFormat is the format of an existing tidwall directory to convert.
	// Default Binary.
	LogFormat LogFormat
	// SegmentCacheSize is accepted for compatibility and has no effect:
	// sealed segments are memory-mapped rather than cached.
	SegmentCacheSize int
	// NoCopy makes Read return a slice of the log's memory where it can.
	// Do not modify it; it is valid until its entry is truncated away or
	// the log is closed.
	NoCopy bool
	// AllowEmpty allows TruncateFront and TruncateBack to remove every
	// entry. An empty log then reports FirstIndex() == LastIndex()+1, and a
	// new log FirstIndex 1 and LastIndex 0 (both 0 without AllowEmpty).
	AllowEmpty bool
	// DirPerms and FilePerms are the modes of the directories and files
	// the log creates (subject to the umask). Default 0750 and 0640.
	DirPerms  os.FileMode
	FilePerms os.FileMode
}

// DefaultOptions are the options Open uses for a nil *Options, and for the
// zero fields of a non-nil one.
var DefaultOptions = &Options{
	NoSync:           false,
	SegmentSize:      20971520,
	LogFormat:        Binary,
	SegmentCacheSize: 2,
	NoCopy:           false,
	AllowEmpty:       false,
	DirPerms:         0750,
	FilePerms:        0640,
}

// withDefaults returns a copy of o with zero fields defaulted.
func withDefaults(o *Options) Options {
	if o == nil {
		o = DefaultOptions
	}
	c := *o
	if c.SegmentCacheSize <= 0 {
		c.SegmentCacheSize = DefaultOptions.SegmentCacheSize
	}
	if c.SegmentSize <= 0 {
		c.SegmentSize = DefaultOptions.SegmentSize
	}
	if c.DirPerms == 0 {
		c.DirPerms = DefaultOptions.DirPerms
	}
	if c.FilePerms == 0 {
		c.FilePerms = DefaultOptions.FilePerms
	}
	return c
}

// rootOptions are the options of the underlying waldb log.
func (o *Options) rootOptions() *root.Options {
	seg := o.SegmentSize
	if seg > root.MaxSegmentSize {
		seg = root.MaxSegmentSize
	}
	ro := &root.Options{
		FS:          vfs.OSWithPerms(o.FilePerms, o.DirPerms),
		NoCopy:      o.NoCopy,
		SegmentSize: seg,
	}
	if o.NoSync {
		ro.SyncPolicy = root.SyncNever
	}
	return ro
}

// Log is a write-ahead log in one directory, with tidwall/wal's API. All
// methods are safe for concurrent use; writes and truncations are
// serialised, reads run concurrently with them.
type Log struct {
	opts Options
	path string
	log  *root.Log

	// mu serialises writes, truncations and Close, so that a truncation's
	// range check and its effect are one step.
	mu     sync.Mutex
	closed bool
}

// Open opens the log in the directory path, creating it if needed. A
// directory written by tidwall/wal is converted first (see the package
// doc). A nil opts means DefaultOptions.
func Open(path string, opts *Options) (*Log, error) {
	o := withDefaults(opts)
	if path == ":memory:" {
		return nil, errors.New("wal: in-memory log not supported")
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	fs := vfs.OSWithPerms(o.FilePerms, o.DirPerms)
	if err := vfs.MkdirAllSynced(fs, path, o.DirPerms); err != nil {
		return nil, err
	}
	if err := prepare(fs, path, &o); err != nil {
		return nil, plain(err)
	}
	wl, err := root.Open(path, o.rootOptions())
	if err != nil {
		return nil, plain(err)
	}
	l := &Log{opts: o, path: path, log: wl}
	if first, last, err := l.bounds(); err != nil {
		wl.Close()
		return nil, plain(err)
	} else if last > 0 && first > last && !o.AllowEmpty {
		wl.Close()
		return nil, ErrEmptyLog
	}
	return l, nil
}

// plain returns the bare sentinel an error wraps, so that callers may
// compare with ==; other errors (I/O errors, a failed log) are returned as
// they are.
func plain(err error) error {
	if err == nil || errors.Is(err, root.ErrFailed) {
		return err
	}
	for _, s := range []error{ErrClosed, ErrCorrupt, ErrNotFound, ErrOutOfOrder, ErrOutOfRange} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// bounds returns tidwall's first and last index: while the log is empty,
// first is last+1 (1 for a new log).
func (l *Log) bounds() (first, last uint64, err error) {
	first, last, err = l.log.Bounds()
	if err != nil {
		return 0, 0, err
	}
	if first == 0 || first > last {
		first = last + 1
	}
	return first, last, nil
}

// Close makes every entry durable and closes the log. A second Close
// returns ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.closed = true
	return plain(l.log.Close())
}

// Write appends an entry, whose index must be LastIndex()+1
// (ErrOutOfOrder otherwise). Unless NoSync, it returns once the entry is
// durable.
func (l *Log) Write(index uint64, data []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	return plain(l.log.Write(index, data))
}

// Batch collects entries for WriteBatch. It copies the data it is given.
type Batch struct {
	b root.Batch
}

// Write adds an entry to the batch.
func (b *Batch) Write(index uint64, data []byte) { b.b.Write(index, data) }

// Clear empties the batch for reuse, keeping its memory.
func (b *Batch) Clear() { b.b.Clear() }

// WriteBatch writes the batch's entries, whose indexes must run on from
// LastIndex()+1, as one unit: after a crash all or none are in the log.
// On success the batch is cleared; on failure it is left as it was.
func (l *Log) WriteBatch(b *Batch) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if b == nil || b.b.Len() == 0 {
		return nil
	}
	if err := l.log.WriteBatch(&b.b); err != nil {
		return plain(err)
	}
	b.Clear()
	return nil
}

// Read returns the entry at index, or ErrNotFound. The result is a copy
// unless NoCopy is set.
func (l *Log) Read(index uint64) ([]byte, error) {
	data, err := l.log.Read(index)
	return data, plain(err)
}

// FirstIndex returns the index of the first entry. Without AllowEmpty it
// returns 0 while the log has no entries; with AllowEmpty an empty log
// returns LastIndex()+1, the index of the next write.
func (l *Log) FirstIndex() (uint64, error) {
	first, last, err := l.bounds()
	if err != nil {
		return 0, plain(err)
	}
	if !l.opts.AllowEmpty && last == 0 {
		return 0, nil
	}
	return first, nil
}

// LastIndex returns the index of the last entry, 0 for a new log; with
// AllowEmpty an empty log returns FirstIndex()-1.
func (l *Log) LastIndex() (uint64, error) {
	_, last, err := l.bounds()
	return last, plain(err)
}

// IsEmpty reports whether the log holds no entries.
func (l *Log) IsEmpty() (bool, error) {
	first, last, err := l.bounds()
	if err != nil {
		return false, plain(err)
	}
	return first > last, nil
}

// TruncateFront removes every entry before index, which becomes the first.
// index must be in [FirstIndex(), LastIndex()+1]; LastIndex()+1, which
// removes every entry, is allowed only with AllowEmpty (ErrOutOfRange
// otherwise). The truncation is durable when it returns.
func (l *Log) TruncateFront(index uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	first, last, err := l.bounds()
	switch {
	case err != nil:
		return plain(err)
	case index < first || index > last+1:
		return ErrOutOfRange
	case index == last+1 && !l.opts.AllowEmpty:
		return ErrOutOfRange
	case index == first:
		return nil
	case index == last+1:
		return plain(l.log.Reset(index))
	}
	return plain(l.log.TruncateFront(index))
}

// TruncateBack removes every entry after index, which becomes the last.
// index must be in [FirstIndex()-1, LastIndex()]; FirstIndex()-1, which
// removes every entry, is allowed only with AllowEmpty (ErrOutOfRange
// otherwise). The truncation is durable when it returns.
func (l *Log) TruncateBack(index uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	first, last, err := l.bounds()
	switch {
	case err != nil:
		return plain(err)
	case index+1 < first || index > last:
		return ErrOutOfRange
	case index+1 == first && !l.opts.AllowEmpty:
		return ErrOutOfRange
	case index == last:
		return nil
	case index+1 == first:
		return plain(l.log.Reset(first))
	}
	return plain(l.log.TruncateBack(index))
}

// Sync makes every entry written so far durable (useful with NoSync).
func (l *Log) Sync() error {
	return plain(l.log.Sync())
}

// ClearCache exists for compatibility: the log keeps no segment cache, so
// it only reports ErrClosed on a closed log.
func (l *Log) ClearCache() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	return nil
}

package wal

import (
	"io"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/waldb/wal/vfs"
)

// Log is a write-ahead log in one directory. Open (or OpenReadOnly)
// returns one; Close releases it. Append or Write entries (AppendBatch and
// WriteBatch for several at once, all or none), Read them back by index or
// stream them with Iter, drop a prefix with TruncateFront once a checkpoint
// covers it, a suffix with TruncateBack, or everything with Reset. All
// methods are safe for concurrent use; concurrent Appends share fsyncs.
// Under the default SyncAlways a write returns once it is durable; see
// SyncPolicy for the others, and EventListener to observe the log.
//
// # Concurrency protocol
//
// mu guards every field below it. Writers encode records into buf under mu
// and, under SyncAlways, wait for synced to pass the end of their bytes. The
// writer that finds no flush in progress becomes the leader: it swaps buf
// for the spare buffer, releases mu, writes the old buffer and fdatasyncs,
// reacquires mu, advances written and synced, and broadcasts cond. While it
// is in the syscalls, other writers fill the fresh buffer; each flush
// therefore covers every writer that arrived during the previous one, so
// the batch size adapts to the fsync latency and the arrival rate without
// a delay knob: a lone writer flushes at once, a crowd shares each fsync.
// The asynchronous API's syncer goroutine (async.go) is one more writer in
// this protocol: it leads a flush when an asynchronous request is not yet
// durable and nobody flushes, and otherwise waits like a follower.
//
// Positions are LSNs: byte counts since Open, monotonic across segments. A
// byte at LSN x of the tail lives at file offset x - tailBase.
//
// Invariants (when !flushing): synced <= written <= lsn, and buf holds the
// bytes [written, lsn). While flushing, flushBuf holds [written,
// written+len(flushBuf)), flushExt (usually empty) the bytes right after
// those, and buf the rest. Every sealed segment's bytes are durable.
// first <= last+1; the log is empty iff last < first.
//
// Large entries skip buf (write_direct.go): their writer encodes only the
// record header into buf and, without releasing mu, flushes buf with its
// own payload as flushExt, written from the caller's slice by one vectored
// write. The slice is referenced only while that writer is inside flush,
// so it is free again when Append returns.
//
// Sealed segments are also published, immutable, in view, so Read of a
// sealed entry takes no lock.
type Log struct {
	dir    string
	opts   Options
	fs     vfs.FS
	lock   io.Closer
	report Report
	view   atomic.Pointer[view]
	bg     background
	// readOnly: opened with OpenReadOnly; no tail, no lock, no writes.
	readOnly bool

	mu   sync.Mutex
	cond sync.Cond // state changes: flushes end, entries added, failure
	// roomCond is signalled when a flush's write ends: writers waiting
	// for buffer room (commit) wait on it, so that the end of a write
	// before a sync does not wake the waiters for durability.
	roomCond sync.Cond
	closed   bool
	err      error // sticky failure; see ErrFailed
	meta     metaRecord
	first    uint64
	last     uint64
	sealed   []*segment
	tail     *segment
	tailOffs []uint32 // record offset of each tail entry, in index order
	tailBase int64
	lsn      int64
	written  int64
	synced   int64
	entryEnd int64  // LSN just past the last entry record
	synIdx   uint64 // last index whose record is durable
	buf      []byte
	spare    []byte
	flushing bool // a flush is writing flushBuf to the tail
	syncing  bool // a flush is fdatasyncing the tail (see flush)
	// exclusive is the gate of exclusively: while set, writers wait.
	exclusive bool
	// backs records recent TruncateBack and Reset cuts for iterators.
	backs    []backEvent
	backGen  uint64
	flushBuf []byte
	prep     *prepared
	tmpSeq   int
	notify   chan struct{} // closed when entries are added; nil if nobody waits
	// bufEntries counts the entries encoded into buf since its last flush
	// (for EventListener.WriteEnd).
	bufEntries int
	// ev reports events; nil if neither a listener nor a logger is set.
	ev *events
	// async is the asynchronous API's state (async.go).
	async asyncState
	// durIdx mirrors synIdx for DurableIndex, which takes no lock.
	durIdx atomic.Uint64

	// flushExt is the payload of a large entry that the flush in progress
	// writes from its writer's slice, after flushBuf (write_direct.go);
	// nil otherwise. Readers may copy from it under mu: its writer cannot
	// return before the flush reacquires mu and clears it.
	flushExt []byte
	// iov is the flush's vector of buffers, kept here so that building it
	// allocates nothing. The flush role guards it.
	iov [2][]byte
}

// view is the lock-free snapshot Read uses for sealed segments.
type view struct {
	closed bool
	first  uint64
	last   uint64 // the log's last index when published; reads above it take the lock
	sealed []*segment
}

func joinPath(dir, name string) string { return filepath.Join(dir, name) }

// publish makes the current sealed segments and first index visible to
// lock-free readers. The slice is copied: a published view is immutable,
// while l.sealed is later cut and appended to in place. REQUIRES: mu held.
func (l *Log) publish() {
	l.view.Store(&view{closed: l.closed, first: l.first, last: l.last, sealed: slices.Clone(l.sealed)})
}

// reportedFirst is FirstIndex's result. REQUIRES: mu held.
func (l *Log) reportedFirst() uint64 {
	if l.last < l.first && l.first == 1 {
		return 0
	}
	return l.first
}

// FirstIndex returns the index of the first entry. While the log is empty
// it returns LastIndex()+1, the index the next write takes, except that a
// log whose next index is 1 reports 0 (as a new log does).
func (l *Log) FirstIndex() (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	return l.reportedFirst(), nil
}

// LastIndex returns the index of the last entry, or FirstIndex()-1 while the
// log is empty (0 for a new log).
func (l *Log) LastIndex() (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	return l.last, nil
}

// Bounds returns FirstIndex and LastIndex from one consistent view.
func (l *Log) Bounds() (first, last uint64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, 0, ErrClosed
	}
	return l.reportedFirst(), l.last, nil
}

// Recovery returns the report of what Open found and repaired.
func (l *Log) Recovery() Report {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.report
}

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// ClearCache does nothing and returns nil. It exists so that code written
// for tidwall/wal compiles: this log keeps no cache of decoded segments to
// clear (sealed segments are memory-mapped, and the OS reclaims those
// pages as it needs; Close unmaps them).
func (l *Log) ClearCache() error { return nil }

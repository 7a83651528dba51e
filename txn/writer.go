package txn

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/waldb/wal"
)

// Op is one change of a transaction: a Put of Value at Key, or a Delete
// of Key.
type Op struct {
	Kind  Kind // KindPut or KindDelete
	Key   []byte
	Value []byte // KindPut only
}

// Info describes a finished transaction.
type Info struct {
	ID uint64 // the transaction id
	// Index is the log index of the transaction's Commit or Abort record.
	Index uint64
	// Bytes is the encoded size of the transaction's records, without the
	// log's per-entry framing.
	Bytes int
}

// Writer assigns transaction ids and appends transaction records to a
// log. It is safe for concurrent use.
//
// Ids are unique and increasing in the order Commit and Begin are called.
// Concurrent Commit calls may reach the log in another order than their ids
// (the log appends and waits for durability in one call, so the Writer
// cannot hold a lock across it without serializing fsyncs); a caller that
// needs id order == log order, for a checkpoint label, calls Commit under
// its own lock from a log opened with wal.SyncNever or wal.SyncInterval,
// and waits for durability with (*wal.Log).Sync after releasing it.
type Writer struct {
	log    *wal.Log
	lastID atomic.Uint64 // Invariant: no id <= lastID will be handed out
	pool   sync.Pool     // of *encoder

	mu sync.Mutex
	// active maps each unfinished streaming transaction to a lower bound of
	// the log index of its Begin record (see OldestActive).
	active map[uint64]uint64
}

// encoder is the reusable memory of one Commit.
type encoder struct {
	batch wal.Batch
	buf   []byte
}

// maxPooledBuffer bounds the memory a pooled encoder may keep, so one huge
// transaction does not pin its size forever.
const maxPooledBuffer = 1 << 20

// NewWriter returns a Writer for log whose first id is lastID+1. Pass the
// largest id the log or the checkpoint may hold (Stats.MaxID of Recover, or
// the checkpoint's id if that is larger), so no id is reused.
func NewWriter(log *wal.Log, lastID uint64) *Writer {
	w := &Writer{log: log, active: make(map[uint64]uint64)}
	w.lastID.Store(lastID)
	w.pool.New = func() any { return new(encoder) }
	return w
}

// LastID returns the largest id handed out so far (or the writer's
// starting lastID).
func (w *Writer) LastID() uint64 { return w.lastID.Load() }

// nextID hands out a fresh id.
func (w *Writer) nextID() uint64 { return w.lastID.Add(1) }

// Commit logs a whole transaction atomically: Begin, ops, Commit as one
// wal.Batch. On error the transaction is not acknowledged and its id is
// never used again. If the log refused the batch (an invalid op, too
// large, the log closed), nothing of it is in the log. If a write or fsync
// failed (wal.ErrFailed), the log fails and serves none of it, but its
// bytes may have reached the disk: a reopen finds either the whole
// transaction or none of it, never a part (the log recovers a batch
// completely or not at all).
// Ops are copied; the caller may reuse them when Commit returns.
func (w *Writer) Commit(ops []Op) (Info, error) {
	for i, op := range ops {
		if !op.Kind.isOp() {
			return Info{}, fmt.Errorf("%w: op %d is %s", ErrInvalidOp, i, op.Kind)
		}
	}
	e := w.pool.Get().(*encoder)
	id := w.nextID()
	e.batch.Clear()
	size := e.add(Record{Kind: KindBegin, ID: id})
	for _, op := range ops {
		size += e.add(Record{Kind: op.Kind, ID: id, Key: op.Key, Value: op.Value})
	}
	size += e.add(Record{Kind: KindCommit, ID: id})
	defer w.release(e, size)
	first, err := w.log.AppendBatch(&e.batch)
	if err != nil {
		return Info{ID: id}, fmt.Errorf("txn: commit of transaction %d: %w", id, err)
	}
	return Info{ID: id, Index: first + uint64(len(ops)) + 1, Bytes: size}, nil
}

// add encodes r into the batch and returns its size.
func (e *encoder) add(r Record) int {
	e.buf = r.Append(e.buf[:0])
	e.batch.Append(e.buf)
	return len(e.buf)
}

// release returns e to the pool unless the transaction it encoded (size
// bytes) was so large that keeping its memory would pin it: Clear keeps a
// batch's capacity.
func (w *Writer) release(e *encoder, size int) {
	if size > maxPooledBuffer {
		return
	}
	e.batch.Clear()
	w.pool.Put(e)
}

// OldestActive returns a lower bound of the log index of the Begin record
// of the oldest unfinished streaming transaction, and false if there is
// none. A checkpoint may let the log be truncated in front only up to this
// index (see the package doc).
func (w *Writer) OldestActive() (uint64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var low uint64
	found := false
	for _, idx := range w.active {
		if !found || idx < low {
			low, found = idx, true
		}
	}
	return low, found
}

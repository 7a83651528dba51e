package txn

import (
	"fmt"
)

// Txn is a streaming transaction: its records are appended as they are
// made, and only its Commit record makes it count. A Txn is not safe for
// concurrent use; many may be open at once on one Writer.
//
// Invariant: while a Txn is unfinished, its id is in the Writer's active
// set with a lower bound of the index of its Begin record.
type Txn struct {
	w    *Writer
	id   uint64
	size int
	done bool
	buf  []byte
}

// Begin starts a streaming transaction by appending its Begin record.
func (w *Writer) Begin() (*Txn, error) {
	id := w.nextID()
	last, err := w.log.LastIndex()
	if err != nil {
		return nil, fmt.Errorf("txn: begin: %w", err)
	}
	// Register before appending, with a lower bound of the Begin's index,
	// so OldestActive never misses a Begin already in the log.
	w.mu.Lock()
	w.active[id] = last + 1
	w.mu.Unlock()
	t := &Txn{w: w, id: id}
	if err := t.append(Record{Kind: KindBegin, ID: id}); err != nil {
		t.finish()
		return nil, fmt.Errorf("txn: begin of transaction %d: %w", id, err)
	}
	return t, nil
}

// ID returns the transaction's id.
func (t *Txn) ID() uint64 { return t.id }

// Put appends a Put record. On error the record is not in the log and the
// transaction stays open: the caller may retry, go on, or Abort.
func (t *Txn) Put(key, value []byte) error {
	return t.op(Record{Kind: KindPut, ID: t.id, Key: key, Value: value})
}

// Delete appends a Delete record; errors as for Put.
func (t *Txn) Delete(key []byte) error {
	return t.op(Record{Kind: KindDelete, ID: t.id, Key: key})
}

func (t *Txn) op(r Record) error {
	if t.done {
		return fmt.Errorf("%w: transaction %d", ErrDone, t.id)
	}
	if err := t.append(r); err != nil {
		return fmt.Errorf("txn: %s in transaction %d: %w", r.Kind, t.id, err)
	}
	return nil
}

// Commit appends the Commit record, which makes the transaction count at
// recovery once it is durable (at return under wal.SyncAlways). The
// transaction is finished whatever the outcome; after an error it is
// unfinished in the log, and recovery skips it.
func (t *Txn) Commit() (Info, error) {
	return t.end(KindCommit)
}

// Abort appends the Abort record and finishes the transaction. Recovery
// skips an aborted transaction, and an unfinished one too, so an Abort that
// fails loses nothing.
func (t *Txn) Abort() error {
	_, err := t.end(KindAbort)
	return err
}

func (t *Txn) end(k Kind) (Info, error) {
	if t.done {
		return Info{ID: t.id}, fmt.Errorf("%w: transaction %d", ErrDone, t.id)
	}
	defer t.finish()
	t.buf = Record{Kind: k, ID: t.id}.Append(t.buf[:0])
	idx, err := t.w.log.Append(t.buf)
	if err != nil {
		return Info{ID: t.id}, fmt.Errorf("txn: %s of transaction %d: %w", k, t.id, err)
	}
	t.size += len(t.buf)
	return Info{ID: t.id, Index: idx, Bytes: t.size}, nil
}

// append encodes r and appends it to the log.
func (t *Txn) append(r Record) error {
	t.buf = r.Append(t.buf[:0])
	if _, err := t.w.log.Append(t.buf); err != nil {
		return err
	}
	t.size += len(t.buf)
	return nil
}

// finish marks the transaction done and drops it from the active set.
func (t *Txn) finish() {
	t.done = true
	t.w.mu.Lock()
	delete(t.w.active, t.id)
	t.w.mu.Unlock()
}

package wal

import (
	"fmt"
	"slices"
)

// This file holds the asynchronous write API: append now, learn later when
// the entry is durable. It adds no second group commit: the syncer below
// leads flushes through the same flush/waitDurable protocol as a writer
// under SyncAlways (see Log's concurrency protocol), and every waiter,
// blocking or not, is resolved by the LSN an fsync covered, which never
// moves backwards. The package doc's "Asynchronous durability" section
// states the rules.

// asyncState is the asynchronous API's part of a Log: sync requests, the
// pending callbacks and the syncer goroutine that serves both. Its fields
// are guarded by Log.mu.
//
// Invariant: notes is sorted by end; syncerDone is nil until the first
// request and closed once the syncer returned.
type asyncState struct {
	// syncWant is the largest LSN an asynchronous append or a callback
	// asked to be made durable.
	syncWant int64
	// notes are the NotifyDurable callbacks not yet run, by end.
	notes []durableNote
	// running is the syncer's scratch for the callbacks it runs.
	running []durableNote
	// syncerCond wakes an idle syncer (its L is Log.mu).
	syncerCond  chanCond
	syncerDone  chan struct{}
	syncerAwake bool // the syncer is not idle: no need to wake it
}

// durableNote is one NotifyDurable callback: fn runs once the LSN end is
// durable, or with the sticky error.
type durableNote struct {
	end int64
	fn  func(error)
}

// chanCond is a condition variable for one waiter (the syncer), so that
// waking it never disturbs the writers waiting on Log.cond.
type chanCond struct{ c chan struct{} }

func (c *chanCond) init() { c.c = make(chan struct{}, 1) }

// signal wakes the waiter, now or at its next wait.
func (c *chanCond) signal() {
	select {
	case c.c <- struct{}{}:
	default:
	}
}

// AppendAsync appends an entry at the next index and returns that index
// without waiting for it to be durable. The entry is then ordered and
// readable like any written entry. Under SyncAlways (or with Batch.Sync
// for AppendBatchAsync) it also asks the log's syncer to make it durable
// at once, sharing an fsync with every other writer (a lone writer waits
// for no timer); under SyncInterval and SyncNever the policy decides when.
// Learn the outcome with WaitDurable, NotifyDurable or DurableIndex.
//
// AppendAsync never fsyncs on its caller's goroutine, but like Append under
// SyncInterval it may write a full buffer to the OS, or wait while the
// buffer is four times BufferSize and a write is in progress.
func (l *Log) AppendAsync(data []byte) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(len(data)); err != nil {
		return 0, err
	}
	return l.writeOne(0, data, true)
}

// AppendBatchAsync is AppendBatch without waiting for durability (see
// AppendAsync): it writes b's entries as one unit at the next indexes and
// returns the first and last index used (last = first-1 for an empty
// batch). With b.Sync it asks for an fsync under every policy.
func (l *Log) AppendBatchAsync(b *Batch) (first, last uint64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(0); err != nil {
		return 0, 0, err
	}
	first, err = l.writeBatch(b, false, true)
	if err != nil {
		return 0, 0, err
	}
	return first, first + uint64(len(b.entries)) - 1, nil
}

// DurableIndex returns the largest index d such that every entry the log
// holds up to d is durable: an fsync covering it succeeded, or Open
// recovered it (Open syncs what it recovers). It never blocks on I/O.
// TruncateBack(i) and Reset(i) lower it to i and i-1 with the entries they
// remove; otherwise it only grows.
func (l *Log) DurableIndex() uint64 { return l.durIdx.Load() }

// WaitDurable blocks until the entry at index is durable and returns nil,
// making it durable now under any policy: if no fsync covering it is in
// progress, the caller leads one, shared with every other waiter (group
// commit), as Sync does. Otherwise it returns
//   - the sticky error (ErrFailed) if the log failed before an fsync
//     covered the entry (fail drops such entries, so this holds even if
//     index is past LastIndex() by then);
//   - ErrNotFound if index > LastIndex() when called: no such entry, either
//     never written or removed by TruncateBack or Reset;
//   - ErrClosed if the log is closed when called (a waiter already waiting
//     when Close runs gets nil, because Close syncs everything, or Close's
//     error);
//   - ErrReadOnly on a log opened with OpenReadOnly.
//
// An entry below FirstIndex, and index 0, count as durable: truncations
// sync every entry before they cut (see "Asynchronous durability" in the
// package doc), so a waiter for an entry that a truncation later removes
// gets nil.
func (l *Log) WaitDurable(index uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	end, err := l.durableTarget(index)
	if err != nil || end == 0 {
		return err
	}
	return l.waitDurable(end)
}

// NotifyDurable arranges for fn to be called once the entry at index is
// durable, and asks the log's syncer to make it durable at once under any
// policy (a non-blocking WaitDurable, for event loops). If it returns an
// error (those WaitDurable returns at once), fn is never called. Otherwise fn is called exactly
// once, with nil once an fsync covering the entry succeeded (or at once if
// it is durable already), or with the sticky error if the log failed
// first. Close calls every pending fn before it returns.
//
// fn runs on the log's syncer goroutine, never on the caller's and never
// while the log's mutex is held; callbacks run in the order of their
// entries. fn must not block and must not call Close (Close waits for the
// syncer); it may call any other method of the log. A slow fn delays the
// callbacks after it and the syncer's next fsync, not the writers.
func (l *Log) NotifyDurable(index uint64, fn func(error)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	end, err := l.durableTarget(index) // 0 if durable already: due at once
	if err != nil {
		return err
	}
	n := durableNote{end: end, fn: fn}
	i, _ := slices.BinarySearchFunc(l.async.notes, n, func(a, b durableNote) int { return cmpInt64(a.end, b.end+1) })
	l.async.notes = slices.Insert(l.async.notes, i, n)
	l.requestSync(end)
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// durableTarget returns the LSN that must be durable for index to be, or
// 0 if it is durable already, or the error WaitDurable returns at once.
// REQUIRES: mu held.
func (l *Log) durableTarget(index uint64) (int64, error) {
	switch {
	case l.closed:
		return 0, ErrClosed
	case l.readOnly:
		return 0, ErrReadOnly
	case index <= l.synIdx || index < l.first:
		return 0, nil
	case l.err != nil:
		return 0, l.err // fail dropped what was not durable
	case index > l.last:
		return 0, fmt.Errorf("%w: index %d is not durable and past the last index %d", ErrNotFound, index, l.last)
	}
	t := l.tail
	if t == nil || index < t.first {
		return l.entryEnd, nil // unreachable: sealed entries are durable
	}
	if k := index - t.first + 1; k < uint64(len(l.tailOffs)) {
		return l.tailBase + int64(l.tailOffs[k]), nil
	}
	return l.entryEnd, nil
}

// requestSync asks the syncer to make the bytes before LSN end durable.
// Once Close has begun it does nothing: Close syncs everything itself, and
// a syncer started now would outlive it (a large entry's writer releases
// mu while it writes, so Close may begin before it commits).
// REQUIRES: mu held.
func (l *Log) requestSync(end int64) {
	if l.closed {
		return
	}
	a := &l.async
	if end > a.syncWant {
		a.syncWant = end
	}
	if a.syncerDone == nil {
		a.syncerCond.init()
		a.syncerDone = make(chan struct{})
		a.syncerAwake = true
		go l.runSyncer()
		return
	}
	l.wakeSyncer()
}

// wakeSyncer wakes the syncer if it sleeps. REQUIRES: mu held.
func (l *Log) wakeSyncer() {
	if l.async.syncerDone != nil && !l.async.syncerAwake {
		l.async.syncerAwake = true
		l.async.syncerCond.signal()
	}
}

// syncerWanted reports whether the syncer has work: a callback to run or a
// requested sync to lead. Flushes, fail and Close call it to decide
// whether to wake the syncer. REQUIRES: mu held.
func (l *Log) syncerWanted() bool {
	a := &l.async
	return len(a.notes) > 0 && (a.notes[0].end <= l.synced || l.err != nil) ||
		l.err == nil && a.syncWant > l.synced
}

// runSyncer is the syncer goroutine, started by the first asynchronous
// request. It leads a flush with fdatasync whenever a requested LSN is not
// durable and no flush is in progress (so it is one more participant of
// the group commit, not a second one), and runs due callbacks without mu.
// It returns once the log is closed; Close then resolves what is left.
func (l *Log) runSyncer() {
	a := &l.async
	l.mu.Lock()
	defer func() {
		close(a.syncerDone)
		l.mu.Unlock()
	}()
	for {
		if l.runDue() {
			continue // mu was released: look again
		}
		switch {
		case l.closed:
			return
		case l.err == nil && a.syncWant > l.synced && l.tail != nil:
			if l.flushing || l.syncing {
				l.cond.Wait() // the flush in progress broadcasts at its end
				continue
			}
			l.flush(true)
		default:
			a.syncerAwake = false
			l.mu.Unlock()
			<-a.syncerCond.c
			l.mu.Lock()
			a.syncerAwake = true
		}
	}
}

// runDue runs the callbacks whose entries are durable, and every callback
// if the log failed, with mu released. It reports whether it ran any.
// REQUIRES: mu held.
func (l *Log) runDue() bool {
	a := &l.async
	n := len(a.notes)
	if l.err == nil {
		n, _ = slices.BinarySearchFunc(a.notes, l.synced, func(x durableNote, s int64) int { return cmpInt64(x.end, s+1) })
	}
	if n == 0 {
		return false
	}
	run := append(a.running[:0], a.notes[:n]...)
	a.notes = a.notes[:copy(a.notes, a.notes[n:])]
	clear(a.notes[len(a.notes):][:n])
	synced, err := l.synced, l.err
	l.mu.Unlock()
	for _, n := range run {
		n.fn(noteResult(n.end, synced, err))
	}
	clear(run)
	l.mu.Lock()
	a.running = run[:0]
	return true
}

// noteResult is a callback's argument: nil if its LSN end is durable.
func noteResult(end, synced int64, err error) error {
	if end <= synced {
		return nil
	}
	return err
}

// stopSyncer waits for the syncer to return; Close calls it with mu
// released, after setting closed. REQUIRES: mu not held.
func (l *Log) stopSyncer(done chan struct{}) {
	if done == nil {
		return
	}
	l.async.syncerCond.signal()
	<-done
}

// takeNotes removes every pending callback, for Close to run once the log
// is synced or failed. REQUIRES: mu held.
func (l *Log) takeNotes() (notes []durableNote, synced int64) {
	notes, l.async.notes = l.async.notes, nil
	return notes, l.synced
}

// runNotes runs the callbacks Close took. REQUIRES: mu not held.
func runNotes(notes []durableNote, synced int64, err error) {
	if err == nil {
		err = ErrClosed
	}
	for _, n := range notes {
		n.fn(noteResult(n.end, synced, err))
	}
}

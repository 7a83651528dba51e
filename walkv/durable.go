package walkv

import (
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/waldb/wal"
)

// durability records what replies depend on; the log makes it durable.
//
// The log is opened with wal.SyncNever: a commit, made under DB.mu so that
// log order is apply order, only appends to the log's buffer, and a reply
// depends on the log index of the last entry its command wrote or read
// (session.pending). walkv has no group commit and no fsync of its own:
// a client that must not be answered before its transaction is durable
// (appendfsync always, WAITAOF) asks the log, either with
// wal.Log.NotifyDurable from its event loop (loopWait), which must not
// block, or with wal.Log.WaitDurable from a goroutine that may (SHUTDOWN,
// cluster-mode pipelines, everysec). Either request makes the log's syncer
// lead an fsync shared with every other waiting client (the log's group
// commit), and a lone client waits for no timer.
//
// Invariants: every entry with index <= logged is in the log (logged is
// stored after the append returns, under DB.mu); lastID is the id of the
// transaction ending at logged.
type durability struct {
	log    *wal.Log
	logged atomic.Uint64 // log index of the last committed transaction's last entry
	lastID atomic.Uint64 // that transaction's id (snapshot headers, INFO)
	// durableID caches the last transaction id seen durable, for INFO.
	durableID atomic.Uint64
	syncs     atomic.Int64 // durability requests walkv made (INFO)
}

// durableIndex returns the log index up to which everything is durable.
func (d *durability) durableIndex() uint64 {
	if d.log == nil {
		return 0 // cluster mode: nothing is logged here
	}
	return d.log.DurableIndex()
}

// wait returns once the entry at index is durable (the log leads or joins
// an fsync). REQUIRES: index <= logged.
func (d *durability) wait(index uint64) error {
	if index == 0 || d.log == nil || index <= d.log.DurableIndex() {
		return nil
	}
	d.syncs.Add(1)
	return d.log.WaitDurable(index)
}

// syncAll makes every transaction committed so far durable.
func (d *durability) syncAll() error { return d.wait(d.logged.Load()) }

// durableTxn returns the id of the last transaction known durable: lastID
// once everything logged is, else the last such id seen.
// REQUIRES: DB.mu held (logged and lastID then agree).
func (d *durability) durableTxn() uint64 {
	if d.durableIndex() >= d.logged.Load() {
		d.durableID.Store(d.lastID.Load())
	}
	return d.durableID.Load()
}

// everysec syncs once a second while the policy is everysec, until stop
// is closed. A failure makes the DB fail-stop.
func (db *DB) everysec(stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if db.Fsync() != FsyncEverysec {
			continue
		}
		if err := db.dur.syncAll(); err != nil {
			db.fail(err)
		}
	}
}

// loopWait is one event loop's queue of connections whose replies wait
// until the log says their transactions are durable (appendfsync always,
// WAITAOF). Only the loop's goroutine touches it.
//
// A connection whose replies depend on an entry that is not yet durable
// is queued (syncing) and the loop schedules a request task, which gnet
// runs after the events of its current poll: by then every client whose
// request was ready has been served and queued, so one request covers
// them all. The task asks the log for the largest index queued
// (NotifyDurable, which makes the log's syncer sync at once); the log's
// callback, on the syncer's goroutine, hands control back to the loop with
// another task (gnet's AsyncWrite), which sends every queued connection
// whose entry is now durable its replies and runs what each sent
// meanwhile. The loop never blocks: while the log syncs, it serves the
// other connections, whose requests the log's next fsync then covers.
//
// Invariant: a connection is in waiting iff syncing; release takes each
// out exactly once. Every queued connection is covered by a request made
// after it was queued (a request task is scheduled on every add unless
// one is already scheduled).
type loopWait struct {
	db        *DB
	waiting   []queuedConn
	scheduled bool // a request task is queued on the loop
}

// queuedConn is a connection waiting until the entry at index is durable.
type queuedConn struct {
	c     *conn
	index uint64
}

// add queues c until index is durable. REQUIRES: on the loop, c.syncing.
func (q *loopWait) add(c *conn, index uint64) {
	q.waiting = append(q.waiting, queuedConn{c, index})
	if q.scheduled {
		return
	}
	q.scheduled = true
	// AsyncWrite of nothing queues request as a loop task; gnet calls it
	// even if c closes first.
	if err := c.gc.AsyncWrite(nil, q.request); err != nil {
		q.scheduled = false
		q.db.opts.Logger.Warn("walkv: scheduling a durability request failed; asking now", "err", err)
		q.request(c.gc, nil)
	}
}

// request asks the log to tell the loop when the largest index queued is
// durable. It runs on the loop.
func (q *loopWait) request(gnet.Conn, error) error {
	q.scheduled = false
	var top uint64
	var gc gnet.Conn
	for _, w := range q.waiting {
		if w.index > top {
			top, gc = w.index, w.c.gc
		}
	}
	if gc == nil || top <= q.db.dur.durableIndex() {
		q.release(nil)
		return nil
	}
	q.db.dur.syncs.Add(1)
	err := q.db.log.NotifyDurable(top, func(err error) {
		// On the log's syncer: hand back to the loop. gc may have closed
		// meanwhile; gnet still runs the task on its loop. If the loop
		// itself stopped, the server is closing and nobody is answered.
		_ = gc.AsyncWrite(nil, func(gnet.Conn, error) error {
			q.release(err)
			return nil
		})
	})
	if err != nil {
		q.release(err)
	}
	return nil
}

// release sends their replies to the queued connections whose entries are
// durable and, if err is set (the log failed), breaks the others. It runs
// on the loop.
func (q *loopWait) release(err error) {
	if err != nil {
		q.db.fail(err)
	}
	durable := q.db.dur.durableIndex()
	batch := q.waiting
	q.waiting = nil
	var keep []queuedConn
	for _, w := range batch {
		if w.index > durable && err == nil {
			keep = append(keep, w) // a later request covers it
			continue
		}
		c := w.c
		c.syncing = false
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed {
			continue // OnClose cleaned up
		}
		if w.index > durable {
			c.s.broken = true
		}
		if act := c.resume(); act == gnet.Close {
			_ = c.gc.Close()
		}
	}
	// resume may have queued connections again (q.waiting); put the ones
	// still waiting first, in their order.
	q.waiting = append(keep, q.waiting...)
	if len(q.waiting) == len(keep) {
		q.waiting = append(batch[:0], keep...) // reuse the batch's memory
		clear(batch[len(keep):])
	}
}

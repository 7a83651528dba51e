package walkv

import (
	"github.com/panjf2000/gnet/v2"
)

// loopSync is one event loop's group-commit queue: the connections whose
// replies wait for durability (appendfsync always). Only the loop's
// goroutine touches it.
//
// A connection whose requests logged a transaction that is not yet durable
// is queued (syncing) and the loop schedules a flush task, which gnet runs
// after the events of its current poll and of the next one: by then every
// client whose request was ready has been served and queued. The flush
// makes everything logged durable (durability.wait: one fsync, shared with
// the other loops), sends every queued connection its replies and runs
// what each sent meanwhile. The loop itself blocks in fdatasync, as
// redis-server's does under appendfsync always: handing the fsync to
// another goroutine (the design before this one) let a loop go on serving
// during the fsync, but cost about twice the CPU per request in thread
// hand-offs and lost 20% of the throughput on 2 CPUs.
//
// Invariant: a connection is in waiting iff syncing; flush takes each out
// exactly once.
type loopSync struct {
	db        *DB
	waiting   []queuedConn
	scheduled bool // a flush task is queued on the loop
}

// queuedConn is a connection waiting until transaction id is durable.
type queuedConn struct {
	c  *conn
	id uint64
}

// add queues c until id is durable. REQUIRES: on the loop, c.syncing.
func (q *loopSync) add(c *conn, id uint64) {
	q.waiting = append(q.waiting, queuedConn{c, id})
	if q.scheduled {
		return
	}
	q.scheduled = true
	// AsyncWrite of nothing queues flush as a loop task; gnet calls it
	// even if c closes first.
	if err := c.gc.AsyncWrite(nil, q.flush); err != nil {
		q.scheduled = false
		q.db.opts.Logger.Warn("walkv: scheduling a group commit failed; syncing now", "err", err)
		q.flush(nil, nil)
	}
}

// flush makes the queued connections' transactions durable and releases
// them. It runs on the loop.
func (q *loopSync) flush(gnet.Conn, error) error {
	q.scheduled = false
	batch := q.waiting
	q.waiting = nil
	var top uint64
	for _, w := range batch {
		top = max(top, w.id)
	}
	err := q.db.dur.wait(top) // the fsync covers everything logged when it starts
	if err != nil {
		q.db.fail(err)
	}
	for _, w := range batch {
		c := w.c
		c.syncing = false
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed {
			continue // OnClose cleaned up
		}
		if err != nil {
			c.s.broken = true
		}
		if act := c.resume(); act == gnet.Close {
			_ = c.gc.Close()
		}
	}
	if q.waiting == nil {
		q.waiting = batch[:0]
		clear(batch)
	}
	return nil
}

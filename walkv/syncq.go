package walkv

import (
	"sync"
)

// syncQueue holds the connections whose replies wait for durability
// (appendfsync always) and releases them, a whole group per fsync, from
// one goroutine: the event loops only enqueue, so a waiting request costs
// no goroutine, no channel and no wake-up of its loop (see conn.finish).
//
// Rounds: the goroutine takes the whole queue, makes everything logged so
// far durable (durability.wait: one fsync, shared with any other waiter),
// and finishes every queued connection, then starts over with what queued
// meanwhile. It does not pause to gather more connections before an
// fsync, so clients fall into groups that alternate (redis-benchmark -c
// 50: about 21 per fsync), each group's fsync overlapping the other's
// replies, turnaround and command processing. Pausing measured slower
// with -c 50 (median of 5 interleaved runs each): waiting for as many as
// the last round released (100 us quiet, 1 ms at most) by 11%; waiting
// for as many as were active (released plus queued, about 47 per fsync)
// by 20%, because a round then serializes those stages.
//
// Invariant: a queued connection is busy; it is finished exactly once,
// by the round whose fsync covers its id (or fails).
type syncQueue struct {
	db *DB

	mu      sync.Mutex
	waiting []queuedConn
	arrived chan struct{} // (buffer 1) a connection queued
	stop    chan struct{}
	stopped chan struct{}
}

// queuedConn is a connection waiting until transaction id is durable.
type queuedConn struct {
	c  *conn
	id uint64
}

func newSyncQueue(db *DB) *syncQueue {
	q := &syncQueue{db: db, arrived: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go q.run()
	return q
}

// add queues c until id is durable. REQUIRES: c busy.
func (q *syncQueue) add(c *conn, id uint64) {
	q.mu.Lock()
	q.waiting = append(q.waiting, queuedConn{c, id})
	q.mu.Unlock()
	select {
	case q.arrived <- struct{}{}:
	default:
	}
}

// close stops the goroutine once the queue is empty. The caller makes
// sure nothing is added any more.
func (q *syncQueue) close() {
	close(q.stop)
	<-q.stopped
}

func (q *syncQueue) run() {
	defer close(q.stopped)
	var batch []queuedConn
	for {
		select {
		case <-q.arrived:
		case <-q.stop:
			q.mu.Lock()
			n := len(q.waiting)
			q.mu.Unlock()
			if n == 0 {
				return
			}
		}
		q.mu.Lock()
		batch, q.waiting = q.waiting, batch[:0]
		q.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		var top uint64
		for _, w := range batch {
			top = max(top, w.id)
		}
		err := q.db.dur.wait(top) // the fsync covers everything logged when it starts
		if err != nil {
			q.db.fail(err)
		}
		for i, w := range batch {
			if err != nil {
				w.c.s.broken = true
			}
			w.c.finish()
			batch[i] = queuedConn{}
		}
	}
}

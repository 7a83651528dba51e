package walkv

import (
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/waldb/wal/txn"
)

// Blocking list commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP)
//
// A blocking command that finds every list empty registers a waiter for
// its keys (blockRegistry, guarded by DB.mu) and marks its connection
// blocked: the connection's event loop goes on serving other clients,
// and runs none of the connection's later requests, which wait in its
// input buffer. Every operation applied to a key that has waiters marks
// the key ready (signalReady, from tx.apply); after a write command or
// an EXEC has committed, and before DB.mu is released, serveBlocked
// serves the ready keys in the order they became ready, and each key's
// waiters in the order they blocked (Redis's order): for each it runs the
// non-blocking form of the command on that key (LPOP, RPOP, LMOVE, LMPOP)
// as a transaction of its own, logged like any other. An LMOVE that
// pushes onto a key with waiters makes that key ready in turn.
//
// The reply goes to the blocked connection through its own event loop
// (gnet's AsyncWrite callback), which appends it, unblocks the
// connection, settles it (under appendfsync always the reply waits until
// the pop's transaction is durable, as any reply) and runs the requests
// that arrived meanwhile. A timeout (a timer) or the connection closing
// removes the waiter instead.
//
// Inside MULTI/EXEC, and in cluster mode (where commands replay on every
// node), blocking commands do not block: they reply as on a timeout.

// blockRegistry holds the blocked clients. Guarded by DB.mu.
type blockRegistry struct {
	keys     map[dbKey][]*waiter // waiters per key of a database, in blocking order
	ready    []dbKey             // keys with waiters that changed, in order
	readySet map[dbKey]bool
	n        int // blocked clients (INFO blocked_clients)
}

// blockKind says which non-blocking command serves a waiter.
type blockKind uint8

const (
	blockPop   blockKind = iota // BLPOP, BRPOP: [key, element]
	blockMove                   // BLMOVE, BRPOPLPUSH: element
	blockMpop                   // BLMPOP: [key, [elements]]
	blockZpop                   // BZPOPMIN, BZPOPMAX: [key, member, score]
	blockZmpop                  // BZMPOP: [key, [[member, score], ...]]
)

// waiter is one blocked client.
type waiter struct {
	c      *conn
	kind   blockKind
	db     int // the database of keys and dst
	keys   []string
	left   bool   // pop at the head
	dst    string // blockMove
	toLeft bool   // blockMove: push at the head
	count  int64  // blockMpop
	timer  *time.Timer
	done   bool // served, timed out or dropped; guarded by DB.mu
}

// signalReady marks the key op touches in database dbi ready if a client
// waits on it (for a database operation, see signalDBOp). REQUIRES:
// DB.mu held for writing.
func (db *DB) signalReady(dbi int, op txn.Op) {
	if len(db.blk.keys) == 0 || db.signalDBOp(op) {
		return
	}
	if key, ok := opRedisKey(op); ok {
		db.markReady(dbKey{dbi, key})
	}
}

// markReady marks k ready if a client waits on it. REQUIRES: DB.mu held
// for writing.
func (db *DB) markReady(k dbKey) {
	b := &db.blk
	if len(b.keys[k]) == 0 || b.readySet[k] {
		return
	}
	if b.readySet == nil {
		b.readySet = map[dbKey]bool{}
	}
	b.readySet[k] = true
	b.ready = append(b.ready, k)
}

// signalExisting marks ready every key of database dbi that has waiters
// and exists (Redis's scanDatabaseForReadyKeys, after a SWAPDB), in key
// order (Redis's is its hash table's). REQUIRES: DB.mu held for writing.
func (db *DB) signalExisting(dbi int) {
	var ready []dbKey
	for k := range db.blk.keys {
		if k.db == dbi && db.dbs[dbi].lookup(k.key) != nil {
			ready = append(ready, k)
		}
	}
	slices.SortFunc(ready, func(a, b dbKey) int { return strings.Compare(a.key, b.key) })
	for _, k := range ready {
		db.markReady(k)
	}
}

// block registers w on its keys. REQUIRES: DB.mu held for writing.
func (db *DB) block(w *waiter) {
	b := &db.blk
	if b.keys == nil {
		b.keys = map[dbKey][]*waiter{}
	}
	b.n++
	seen := map[string]bool{}
	for _, k := range w.keys {
		if !seen[k] {
			seen[k] = true
			dk := dbKey{w.db, k}
			b.keys[dk] = append(b.keys[dk], w)
		}
	}
}

// unblockLocked removes w from the registry and stops its timer.
// REQUIRES: DB.mu held for writing.
func (db *DB) unblockLocked(w *waiter) {
	if w.done {
		return
	}
	w.done = true
	if w.timer != nil {
		w.timer.Stop()
	}
	b := &db.blk
	b.n--
	for _, key := range w.keys {
		k := dbKey{w.db, key}
		ws := b.keys[k]
		for i, o := range ws {
			if o == w {
				ws = append(ws[:i:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(b.keys, k)
		} else {
			b.keys[k] = ws
		}
	}
}

// dropWaiter removes w, whose connection closed.
func (db *DB) dropWaiter(w *waiter) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.unblockLocked(w)
}

// serveBlocked serves the waiters of the ready keys (see above).
// REQUIRES: DB.mu held for writing.
func (srv *Server) serveBlocked() {
	db := srv.db
	b := &db.blk
	for len(b.ready) > 0 {
		k := b.ready[0]
		b.ready = b.ready[1:]
		delete(b.readySet, k)
		for len(b.keys[k]) > 0 && db.failed == nil {
			it := db.dbs[k.db].live(k.key, db.now())
			if it == nil {
				break
			}
			var w *waiter // the first waiter for the key's type, as Redis
			for _, o := range b.keys[k] {
				if waiterKind(o.kind) == it.kind {
					w = o
					break
				}
			}
			if w == nil {
				break
			}
			db.unblockLocked(w)
			reply, id, failed := srv.serveWaiter(w, k.key)
			w.deliver(reply, id, failed)
		}
	}
	b.ready = nil
}

// serveWaiter runs w's command on key of w's database, which holds a
// non-empty list, as a transaction of its own, and returns the reply, the
// transaction's id, and whether logging it failed. REQUIRES: DB.mu held
// for writing.
func (srv *Server) serveWaiter(w *waiter, key string) ([]byte, uint64, bool) {
	db := srv.db
	rc := &replyConn{s: &w.c.s} // in the blocked connection's protocol (it runs nothing meanwhile)
	x := &exec{srv: srv, db: db, c: rc, t: &tx{db: db}, now: db.now(), dbi: w.db}
	switch w.kind {
	case blockPop:
		it := x.live(key)
		vals := x.planPop(it, w.left, 1)
		if x.apply() {
			x.c.WriteArray(2)
			x.c.WriteBulkString(key)
			x.c.WriteBulk(vals[0])
		}
	case blockMove:
		if v, ok := x.planMove(key, w.dst, w.left, w.toLeft); ok && x.apply() {
			x.c.WriteBulk(v)
		}
	case blockMpop:
		x.mpop(mpopArgs{keys: [][]byte{[]byte(key)}, left: w.left, count: w.count})
	case blockZpop, blockZmpop:
		x.serveZWaiter(w, key)
	}
	id, err := db.commit(x.t)
	return rc.buf, id, err != nil
}

// deliver hands a reply to w's connection on its event loop.
func (w *waiter) deliver(reply []byte, id uint64, failed bool) {
	c := w.c
	_ = c.gc.AsyncWrite(nil, func(gnet.Conn, error) error {
		c.unblock(w, reply, id, failed)
		return nil
	}) // fails only if the connection closed; OnClose cleans up
}

// unblock ends c's wait for w with reply. It runs on c's event loop.
func (c *conn) unblock(w *waiter, reply []byte, id uint64, failed bool) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed || c.blocked != w {
		return
	}
	c.blocked = nil
	c.buf = append(c.buf, reply...)
	c.s.depend(id)
	if failed {
		c.s.broken = true
	}
	if c.syncing {
		return // the loop's flush resumes c
	}
	if c.resume() == gnet.Close {
		_ = c.gc.Close()
	}
}

// canBlock returns the connection of x if its command may block: not
// inside EXEC (which runs its queue on a tx of its own), not in cluster
// mode.
func (x *exec) canBlock() (*conn, bool) {
	c, ok := x.c.(*conn)
	if !ok || x.db.clustered() || x.s == nil || x.t != &x.s.t {
		return nil, false
	}
	return c, true
}

// blockOn blocks the connection of x on w's keys for timeout ms (0:
// forever). REQUIRES: DB.mu held for writing; canBlock.
func (x *exec) blockOn(c *conn, w *waiter, timeout int64) {
	w.c = c
	w.db = x.dbi
	db := x.db
	db.block(w)
	c.blocked = w
	if timeout > 0 {
		w.timer = time.AfterFunc(time.Duration(timeout)*time.Millisecond, func() {
			db.mu.Lock()
			defer db.mu.Unlock()
			if !w.done {
				db.unblockLocked(w)
				w.deliver(appendNullArray(nil, c.s.resp3.Load()), 0, false)
			}
		})
	}
}

// parseTimeout parses a blocking command's timeout in seconds (a float)
// into milliseconds as Redis 7.0 does: the product with 1000 truncated
// to a 64-bit integer, where the x87 conversion of anything out of range
// gives the smallest integer, "negative".
func (x *exec) parseTimeout(b []byte) (int64, bool) {
	f, ok := parseLongDouble(b)
	if !ok {
		x.c.WriteError("ERR timeout is not a float or out of range")
		return 0, false
	}
	ms := math.MinInt64
	if !f.IsInf() {
		p := new(big.Float).SetPrec(longDoublePrec).Mul(f, big.NewFloat(1000))
		if v, acc := p.Int64(); acc == big.Exact || (v != math.MaxInt64 && v != math.MinInt64) {
			ms = int(v)
		}
	}
	switch {
	case ms < 0:
		x.c.WriteError("ERR timeout is negative")
		return 0, false
	case int64(ms) > math.MaxInt64-x.now:
		x.c.WriteError("ERR timeout is out of range")
		return 0, false
	}
	return int64(ms), true
}

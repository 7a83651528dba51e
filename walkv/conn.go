package walkv

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/tidwall/redcon"
)

// keepBuffer is the capacity a connection keeps of its request and reply
// buffers between requests; larger ones are dropped once used.
const keepBuffer = 64 << 10

// conn is one client connection: the request bytes not yet run, the
// replies not yet sent, and the session. Commands see it as the
// redcon.Conn they write replies to (embedded replyConn: buf holds them).
//
// Ownership: the event loop of gc runs every handler of the connection,
// and owns all fields while the connection is not busy (a syncing
// connection is the loop's too). While busy (cluster mode), a goroutine
// owns buf, the session and work, and the loop touches only in, sc and
// violation; mu guards the hand-back (busy, finished, received, closed),
// see serveAsync and finish.
type conn struct {
	replyConn
	srv  *Server
	gc   gnet.Conn
	s    session
	addr string

	in        []byte   // received request bytes not yet run
	args      [][]byte // parser scratch
	sc        reqScanner
	violation error // the stream broke a limit after in: reply it, then close
	closing   bool  // QUIT or SHUTDOWN ran, or the request stream is bad: close once buf is sent

	loop    *loopWait // the event loop's queue of connections waiting for durability
	syncing bool      // queued in loop: its replies wait until the log says durable
	blocked *waiter   // a blocking command waits: run nothing more (blocking.go)

	work []byte // cluster mode: the complete requests the goroutine runs

	// Limits (see security.go); the loop's, but outQueued, softSince and
	// overLimit are the goroutine's while busy.
	outQueued  int64        // bytes gnet held unsent when serving began
	softSince  time.Time    // when the output soft limit was first exceeded
	overLimit  bool         // closed for its output limit: replies dropped
	memUse     int64        // bytes counted in Server.clientMem
	outUse     int64        // reply bytes (buf and gnet's) when last seen by the loop
	released   bool         // memUse given back for good
	lastActive atomic.Int64 // Unix ns of the last bytes received
	overSoft   atomic.Bool  // over the output soft limit: housekeeping wakes it
	bridge     *bridged     // a TLS connection's relay, nil for plain TCP
	yieldAt    int          // single-node serve: stop a turn at this many reply bytes (0: never)
	yielded    bool         // the turn stopped at yieldAt with requests left

	subs subscriptions // Pub/Sub channels and patterns (pubsub.go)
	// pushQ holds Pub/Sub messages not yet added to buf, pushing whether
	// a loop task to add them is scheduled (pubsub.go); guarded by mu.
	pushQ   []byte
	pushing bool

	mu       sync.Mutex
	busy     bool // a goroutine owns buf and the session
	finished bool // that goroutine is done; the loop takes them back
	received bool // bytes arrived while busy: the loop must run them
	closed   bool // gnet closed the connection (fd may be reused after OnClose)
}

// handler is the gnet event handler of a Server's event loops.
type handler struct {
	gnet.BuiltinEventEngine
	srv  *Server
	loop *loopWait
}

func (h *handler) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	remote := gc.RemoteAddr()
	b, _ := gc.Context().(*bridged) // a TLS connection (see tls.go)
	if b != nil {
		remote = b.remote
	}
	if msg := h.srv.admit(remote); msg != "" {
		return redcon.AppendError(nil, msg), gnet.Close
	}
	id, ok, full := h.srv.register()
	if full {
		return redcon.AppendError(nil, errMaxClients), gnet.Close
	}
	if !ok {
		return nil, gnet.Close
	}
	c := &conn{srv: h.srv, gc: gc, loop: h.loop, sc: reqScanner{maxBulk: int64(h.srv.db.opts.MaxBulk), maxReq: h.srv.db.maxRequestBytes()}}
	c.s.id = id
	c.replyConn.s = &c.s // replies follow the session's protocol
	c.s.info.created = time.Now().UnixNano()
	c.bridge = b
	h.srv.startSession(&c.s)
	if remote != nil {
		c.addr = remote.String()
	}
	c.lastActive.Store(time.Now().UnixNano())
	gc.SetContext(c)
	h.srv.mu.Lock()
	h.srv.live[c] = struct{}{}
	h.srv.mu.Unlock()
	return nil, gnet.None
}

func (h *handler) OnClose(gc gnet.Conn, _ error) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.None // refused in OnOpen
	}
	if c.bridge != nil {
		// The relay forwards what the loop flushes, then ends; a client
		// that does not read gets a second for it (see tls.go).
		_ = c.bridge.raw.SetWriteDeadline(time.Now().Add(tlsCloseGrace))
	}
	c.mu.Lock()
	c.closed = true
	working := c.busy && !c.finished
	c.mu.Unlock()
	if !working { // a syncing connection is skipped by its loop's flush
		c.cleanup()
	}
	return gnet.None
}

// cleanup releases what the session holds; it runs exactly once, after
// the connection closed and nothing works for it any more: in OnClose, or
// when the goroutine working for it finishes (see settle).
func (c *conn) cleanup() {
	if c.s.watched != nil {
		c.srv.db.unwatch(&c.s)
	}
	if c.blocked != nil {
		c.srv.db.dropWaiter(c.blocked)
	}
	if c.subs.count() > 0 {
		c.srv.ps.unsubscribeAll(c)
	}
	c.releaseMem()
	c.srv.unregister(c)
}

func (h *handler) OnTraffic(gc gnet.Conn) gnet.Action {
	c := gc.Context().(*conn)
	c.mu.Lock()
	closed := c.closed
	busy := c.busy && !c.finished // buf is a goroutine's: see account
	c.mu.Unlock()
	if closed {
		return gnet.None // a late wake (see wakeIfOpen)
	}
	if data, _ := gc.Next(-1); len(data) > 0 && c.violation == nil {
		c.srv.db.stats.netIn.Add(int64(len(data)))
		c.lastActive.Store(time.Now().UnixNano())
		n, err := c.sc.feed(data)
		if err != nil {
			c.violation = err // keep what came before it: those commands still run
		}
		c.in = append(c.in, data[:n]...)
	}
	if int64(len(c.in)) > c.srv.lim.queryBuf.Load() {
		c.srv.limStats.queryClosed.Add(1)
		c.srv.db.opts.Logger.Warn("walkv: client closed for reaching the max query buffer length", "client", c.addr, "bytes", len(c.in))
		return gnet.Close
	}
	if c.account(busy) {
		return gnet.Close
	}
	if c.syncing || c.blocked != nil {
		return gnet.None // the bytes wait in c.in; the loop's flush (or unblock) runs them
	}
	c.mu.Lock()
	if c.busy && !c.finished {
		c.received = true
		c.mu.Unlock()
		return gnet.None // the bytes wait in c.in
	}
	finished := c.finished
	c.busy, c.finished, c.received = false, false, false
	held := c.pushQ
	c.pushQ = nil
	c.mu.Unlock()
	if len(held) > 0 && !c.overLimit {
		c.buf = append(c.buf, held...) // messages published while busy (pubsub.go)
	}
	c.outQueued = int64(gc.OutboundBuffered()) // for the output limit (the turn is the loop's again)
	if finished {
		if c.s.broken {
			return gnet.Close // a reply must not be sent (see session.broken)
		}
		if act := c.send(); act != gnet.None {
			return act
		}
	}
	return c.serve()
}

// serve runs the complete requests in c.in, then settles their replies.
func (c *conn) serve() gnet.Action {
	if c.srv.db.clustered() {
		return c.serveAsync()
	}
	c.yieldAt, c.yielded = yieldBytes, false
	if rest := c.run(c.in); len(rest) < len(c.in) {
		c.in = c.in[:copy(c.in, rest)]
	}
	c.yieldAt = 0
	if c.violation != nil && !c.closing && !c.s.broken && !c.yielded && c.blocked == nil {
		c.reject()
	}
	if cap(c.in) > keepBuffer && len(c.in) < keepBuffer {
		c.in = append([]byte(nil), c.in...)
	}
	act := c.settle()
	if c.yielded && act == gnet.None && !c.syncing && c.blocked == nil {
		// Serve the rest on a later turn. Woken now, gnet would run it
		// in the same round of its task queue, before polling the other
		// connections again; a wake from a timer lands after the poll.
		time.AfterFunc(yieldDelay, c.wakeIfOpen)
	}
	return act
}

// yieldDelay is how long a connection that yielded waits for its next
// turn: long enough for its loop to poll the other connections.
const yieldDelay = 50 * time.Microsecond

// wakeIfOpen asks the loop to serve c again unless it closed.
func (c *conn) wakeIfOpen() {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if !closed {
		_ = c.gc.Wake(nil)
	}
}

// yieldBytes is how many reply bytes one turn of a connection builds
// before its loop serves the others (the rest of its pipeline runs on the
// next turn): a pipeline of large replies does not stall the loop, and
// the output buffer limit sees the replies as they queue.
const yieldBytes = 1 << 20

// run runs the complete requests at the front of in and returns the rest.
// Arguments alias in: a command that keeps one past its run copies it
// (queued MULTI commands do).
func (c *conn) run(in []byte) (rest []byte) {
	for !c.closing && !c.s.broken && c.blocked == nil {
		if n := ignoredRequest(in); n > 0 {
			in = in[n:]
			continue
		}
		complete, args, _, left, err := redcon.ReadNextCommand(in, c.args[:0])
		if err != nil {
			c.WriteError("ERR " + err.Error())
			c.closing = true
			return nil
		}
		if !complete {
			break
		}
		c.args, in = args, left
		if len(args) > 0 {
			mark := len(c.buf)
			c.srv.dispatch(&c.s, c, args)
			c.replyMode(mark)
		}
		if c.overOutputLimit(time.Now) {
			c.dropForOutput()
		} else if c.yieldAt > 0 && len(c.buf) >= c.yieldAt {
			c.yielded = true
			break
		}
	}
	clear(c.args) // pin nothing of in
	if c.closing || c.s.broken {
		return nil
	}
	return in
}

// reject answers a request-stream violation, once the complete requests
// before it have run, and closes the connection.
func (c *conn) reject() {
	c.WriteError(c.violation.Error())
	c.closing = true
}

// settle sends the replies in buf once they may be sent. Under
// appendfsync always (or after WAITAOF) they may not before the log entry
// they depend on (session.pending) is durable: if it is not yet, the
// connection waits in its loop's queue (loopWait), which asks the log to
// tell the loop when it is, once the loop has served the other
// connections that are ready.
func (c *conn) settle() gnet.Action {
	db := c.srv.db
	if c.s.broken {
		return gnet.Close
	}
	index := c.s.pending
	if db.Fsync() != FsyncAlways && !c.s.forceSync || index <= db.dur.durableIndex() {
		c.s.forceSync = false
		return c.send()
	}
	c.s.forceSync = false
	c.syncing = true
	c.loop.add(c, index)
	return gnet.None
}

// resume sends c's replies once durable (a reply of an unblocked
// command may have been added since c was queued) and runs the requests
// that arrived while they waited. REQUIRES: on the loop, not syncing.
func (c *conn) resume() gnet.Action {
	if c.s.broken {
		return gnet.Close // a reply must not be sent (see session.broken)
	}
	if act := c.settle(); act != gnet.None || c.syncing {
		return act
	}
	return c.serve()
}

// finish ends the work a goroutine did for c (cluster mode, see
// serveAsync): it hands the connection back to its loop (Wake), or, if
// gnet closed it meanwhile, cleans up.
func (c *conn) finish() {
	c.mu.Lock()
	c.finished = true
	closed := c.closed
	c.mu.Unlock()
	if closed {
		c.cleanup()
		return
	}
	_ = c.gc.Wake(nil) // fails only if it closed since; OnClose then cleans up
}

// send writes buf to the client, and closes the connection after it if
// closing.
func (c *conn) send() gnet.Action {
	if len(c.buf) > 0 && !c.overLimit {
		c.srv.db.stats.netOut.Add(int64(len(c.buf)))
		_, _ = c.gc.Write(c.buf) // gnet buffers what the socket does not take
	}
	if cap(c.buf) > keepBuffer {
		c.buf = nil
	}
	c.buf = c.buf[:0]
	if c.closing {
		return gnet.Close
	}
	c.outQueued = int64(c.gc.OutboundBuffered())
	if c.overOutputLimit(time.Now) {
		c.dropForOutput()
		return gnet.Close
	}
	if c.account(false) {
		return gnet.Close
	}
	return gnet.None
}

// serveAsync runs the complete requests in c.in on a goroutine: in
// cluster mode a write waits for a raft round, which must not stall the
// loop. The loop keeps receiving into c.in meanwhile.
func (c *conn) serveAsync() gnet.Action {
	n := len(c.in) - len(c.completePrefixRest())
	if n == 0 {
		if c.violation != nil {
			c.reject()
		}
		return c.send()
	}
	c.work = append(c.work[:0], c.in[:n]...)
	c.in = c.in[:copy(c.in, c.in[n:])]
	c.mu.Lock()
	c.busy = true
	c.mu.Unlock()
	go func() {
		c.s.readConfirmed = false // the batch arrived before this point
		c.run(c.work)
		c.srv.waitDurable(&c.s)
		c.finish()
	}()
	return gnet.None
}

// completePrefixRest returns what follows the complete requests (and a
// malformed one) at the front of c.in.
func (c *conn) completePrefixRest() []byte {
	in := c.in
	for {
		if n := ignoredRequest(in); n > 0 {
			in = in[n:]
			continue
		}
		complete, _, _, left, err := redcon.ReadNextCommand(in, c.args[:0])
		if err != nil {
			clear(c.args)
			return nil // run reports it
		}
		if !complete {
			clear(c.args)
			return in
		}
		in = left
	}
}

// redcon.Conn methods that differ from replyConn's.

func (c *conn) RemoteAddr() string { return c.addr }
func (c *conn) Context() any       { return &c.s }

// Close makes the connection close once the replies so far are sent;
// requests after the current one do not run.
func (c *conn) Close() error {
	c.closing = true
	return nil
}

package walkv

import (
	"slices"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/tidwall/redcon"
	"github.com/waldb/wal/walkv/internal/cmdmeta"
)

// CLIENT PAUSE timeout [WRITE|ALL] and CLIENT UNPAUSE (Redis 7.0)
//
// A pause lasts until its deadline (now + timeout ms) or CLIENT UNPAUSE.
// A second pause merges with the first: the more restrictive mode, the
// later deadline. While a pause is on, a command that passed every check
// a command gets before running (unknown name, arity, access control) is
// postponed instead of run if the pause covers it: under ALL every
// command (CLIENT UNPAUSE too, as in Redis: an ALL pause ends by its
// deadline), under WRITE the commands Redis flags write or may_replicate
// (PUBLISH), and EXEC of a transaction that queued one, and queueing
// one inside MULTI. Commands run inside EXEC are not checked: a pause
// started by a transaction begins after it.
//
// A postponed connection is parked, not slept on: it is marked blocked
// (conn.blocked, a waiter registered without keys, so INFO counts it in
// blocked_clients as Redis does), its event loop goes on serving the
// others, and its later requests wait in its input buffer. When the pause
// ends (UNPAUSE, or the deadline's timer) every parked connection is
// handed back to its own event loop (gnet's AsyncWrite), in the order it
// was parked, where the postponed command is dispatched again from the
// start, checks included (it may be postponed again by a new pause), and
// the connection resumes. Blocked list commands keep their own timeouts.
// The active expiry loop stops during a pause (Redis keeps the dataset
// constant); expired keys stay invisible to commands.
//
// In cluster mode, where a connection's pipeline runs on a goroutine of
// its own, that goroutine waits for the pause to end instead (counted in
// blocked_clients too), or for the server to close.

// Pause modes; a larger one is more restrictive.
const (
	pauseOff uint8 = iota
	pauseWrite
	pauseAll
)

// clientPause is the server's pause state and its parked connections.
type clientPause struct {
	mu     sync.Mutex
	mode   uint8       // guarded by mu
	end    int64       // deadline, Unix ms; guarded by mu
	timer  *time.Timer // fires at end; guarded by mu
	parked []parkedCmd // guarded by mu
	ended  chan struct{}
}

// parkedCmd is a postponed command: its connection, the waiter that
// marks the connection blocked, and its arguments (copied).
type parkedCmd struct {
	w    *waiter
	args [][]byte
}

// cmdClientPause serves CLIENT PAUSE and CLIENT UNPAUSE; it returns false
// for other subcommands.
func cmdClientPause(x *exec) bool {
	switch {
	case eqFold(x.args[1], "unpause") && len(x.args) == 2:
		x.srv.unpause()
		x.c.WriteString("OK")
	case eqFold(x.args[1], "pause") && (len(x.args) == 3 || len(x.args) == 4):
		mode := pauseAll
		if len(x.args) == 4 {
			switch {
			case eqFold(x.args[3], "write"):
				mode = pauseWrite
			case eqFold(x.args[3], "all"):
			default:
				x.c.WriteError("ERR CLIENT PAUSE mode must be WRITE or ALL")
				return true
			}
		}
		ms, ok := parseInt(x.args[2])
		switch {
		case !ok:
			x.c.WriteError("ERR timeout is not an integer or out of range")
			return true
		case ms < 0:
			x.c.WriteError("ERR timeout is negative")
			return true
		}
		end := int64(0)
		if ms > 0 {
			end = time.Now().UnixMilli() + ms // wraps as Redis's does: a deadline in the past
		}
		x.srv.pauseClients(mode, end)
		x.c.WriteString("OK")
	case eqFold(x.args[1], "pause") && len(x.args) < 3:
		x.c.WriteError(errArity("client|pause"))
	case eqFold(x.args[1], "pause"):
		x.c.WriteError("ERR unknown subcommand or wrong number of arguments for '" + clip(string(x.args[1])) + "'. Try CLIENT HELP.")
	case eqFold(x.args[1], "unpause"):
		x.c.WriteError(errArity("client|unpause"))
	default:
		return false
	}
	return true
}

// pauseClients starts or extends a pause.
func (srv *Server) pauseClients(mode uint8, end int64) {
	p := &srv.cpause
	p.mu.Lock()
	if p.mode == pauseOff {
		p.mode, p.end = mode, end
	} else {
		p.mode, p.end = max(p.mode, mode), max(p.end, end)
	}
	srv.armPause()
	p.mu.Unlock()
}

// armPause ends an expired pause, or sets the timer to its deadline.
// REQUIRES: pause.mu held.
func (srv *Server) armPause() {
	p := &srv.cpause
	if p.mode == pauseOff {
		return
	}
	wait := time.Until(time.UnixMilli(p.end))
	if p.end < time.Now().UnixMilli() {
		srv.endPauseLocked()
		return
	}
	srv.db.clientsPaused.Store(true)
	if p.ended == nil {
		p.ended = make(chan struct{})
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	p.timer = time.AfterFunc(wait+time.Millisecond, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		srv.armPause() // ends the pause unless extended meanwhile
	})
}

// unpause ends the pause (CLIENT UNPAUSE).
func (srv *Server) unpause() {
	srv.cpause.mu.Lock()
	defer srv.cpause.mu.Unlock()
	if srv.cpause.mode != pauseOff {
		srv.endPauseLocked()
	}
}

// endPauseLocked ends the pause and hands the parked connections back
// to their loops. REQUIRES: pause.mu held.
func (srv *Server) endPauseLocked() {
	p := &srv.cpause
	p.mode, p.end = pauseOff, 0
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	srv.db.clientsPaused.Store(false)
	if p.ended != nil {
		close(p.ended)
		p.ended = nil
	}
	parked := p.parked
	p.parked = nil
	for _, pc := range parked {
		_ = pc.w.c.gc.AsyncWrite(nil, func(gnet.Conn, error) error {
			pc.w.c.unpark(pc)
			return nil
		}) // fails only if the connection closed; OnClose cleans up
	}
}

// stopPause drops the pause state of a closed server: its timer, and the
// parked connections (closed with their loops).
func (srv *Server) stopPause() {
	p := &srv.cpause
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.parked = nil
	p.mode, p.end = pauseOff, 0
	srv.db.clientsPaused.Store(false)
	if p.ended != nil {
		close(p.ended)
		p.ended = nil
	}
}

// pausedFor reports whether the pause covers cmd with args from session
// s (see above). REQUIRES: pause.mu held.
func (srv *Server) pausedFor(s *session, cmd *command, args [][]byte) bool {
	switch srv.cpause.mode {
	case pauseAll:
		return true
	case pauseWrite:
		if cmd.name == "exec" && s.multi {
			return slices.ContainsFunc(s.queue, func(q queued) bool { return mayReplicate(q.cmd) })
		}
		return mayReplicate(cmd)
	}
	return false
}

// mayReplicate reports whether Redis flags cmd write or may_replicate:
// the commands a WRITE pause postpones.
func mayReplicate(cmd *command) bool {
	if m := cmdmeta.Lookup(cmd.name); m != nil {
		return slices.Contains(m.Flags, "write") || slices.Contains(m.Hidden, "may_replicate")
	}
	return cmd.has(flagWrite)
}

// postponeIfPaused postpones cmd if a pause covers it and returns true;
// the command runs when the pause ends. In cluster mode it waits for the
// end and returns false.
func (srv *Server) postponeIfPaused(s *session, rc redcon.Conn, cmd *command, args [][]byte) bool {
	if !srv.db.clientsPaused.Load() {
		return false // no pause: the fast path of every command (a pause starting now is not yet seen)
	}
	p := &srv.cpause
	for {
		p.mu.Lock()
		if p.mode == pauseOff || !srv.pausedFor(s, cmd, args) {
			p.mu.Unlock()
			return false
		}
		c, ok := rc.(*conn)
		if ok && !srv.db.clustered() {
			w := &waiter{c: c}
			srv.db.mu.Lock()
			srv.db.block(w) // no keys: counted in blocked_clients only
			srv.db.mu.Unlock()
			c.blocked = w
			p.parked = append(p.parked, parkedCmd{w: w, args: cloneArgs(args)})
			p.mu.Unlock()
			return true
		}
		ended := p.ended
		p.mu.Unlock()
		if srv.waitPause(ended) {
			return true // the server is closing: the command never runs
		}
	}
}

// waitPause waits, on the goroutine that runs a cluster-mode pipeline,
// until the pause ends (counted in blocked_clients meanwhile), and
// reports whether the server closed instead.
func (srv *Server) waitPause(ended <-chan struct{}) (closing bool) {
	db := srv.db
	w := &waiter{}
	db.mu.Lock()
	db.block(w) // no keys: counted in blocked_clients only
	db.mu.Unlock()
	defer db.dropWaiter(w)
	select {
	case <-ended:
		return false
	case <-srv.stopping:
		return true
	}
}

// queueRejects reports whether MULTI will refuse to queue cmd: Redis
// replies such errors at once, paused or not.
func queueRejects(s *session, cmd *command, args [][]byte) bool {
	return s.multi && !cmd.has(flagMultiCtl) && (cmd.has(flagNoMulti) || subcommandError(cmd, args) != "")
}

// unpark dispatches a postponed command again on c's event loop and
// resumes the connection.
func (c *conn) unpark(pc parkedCmd) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed || c.blocked != pc.w {
		return
	}
	c.srv.db.dropWaiter(pc.w)
	c.blocked = nil
	c.srv.db.stats.commands.Add(-1) // counted when first dispatched
	mark := len(c.buf)
	c.srv.dispatch(&c.s, c, pc.args)
	c.replyMode(mark)
	if c.blocked != nil || c.syncing {
		return // parked again or blocked; or the loop's flush resumes c
	}
	if c.resume() == gnet.Close {
		_ = c.gc.Close()
	}
}

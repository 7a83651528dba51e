package walkv

import (
	"github.com/tidwall/redcon"
)

// waitDurable blocks until everything the session's replies depend on
// is durable, under appendfsync always: for SHUTDOWN, which must answer
// only then and may block its event loop, and for cluster-mode pipelines,
// which run on a goroutine of their own (the event loops' connections
// queue in their loopWait instead). If it cannot be, the session is broken: its
// replies are dropped with the connection.
func (srv *Server) waitDurable(s *session) {
	db := srv.db
	force := s.forceSync // WAITAOF (client.go)
	s.forceSync = false
	if s.broken || db.Fsync() != FsyncAlways && !force {
		return
	}
	if err := db.dur.wait(s.pending); err != nil {
		db.fail(err)
		s.broken = true
	}
}

// dispatch runs or queues one command.
func (srv *Server) dispatch(s *session, c redcon.Conn, args [][]byte) {
	srv.db.stats.commands.Add(1)
	cmd := lookup(args[0])
	if cmd != nil {
		s.info.cmd.Store(&cmd.name) // CLIENT LIST's cmd
	}
	if cmd != nil && cmd.arityOK(len(args)) && !srv.admitCommand(s, c, cmd, args) {
		srv.db.stats.cmdFor(cmd, args).rejected.Add(1)
		if s.multi && !cmd.has(flagMultiCtl) {
			s.multiErr = true
		}
		return
	}
	if s.pubsub && !s.resp3.Load() && cmd != nil && cmd.arityOK(len(args)) && !subscribedAllows(c, cmd, args) {
		return // a subscribed RESP2 connection runs only the Pub/Sub commands (pubsub.go)
	}
	if cmd != nil && cmd.arityOK(len(args)) && !queueRejects(s, cmd, args) && srv.postponeIfPaused(s, c, cmd, args) {
		return // CLIENT PAUSE: runs when the pause ends (client_pause.go)
	}
	if s.multi && (cmd == nil || !cmd.has(flagMultiCtl)) {
		srv.enqueue(s, c, cmd, args)
		return
	}
	switch {
	case cmd == nil:
		c.WriteError(errUnknown(args))
	case !cmd.arityOK(len(args)):
		srv.db.stats.cmdFor(cmd, args).rejected.Add(1)
		c.WriteError(errArity(cmd.name))
	default:
		srv.runCounted(s, c, cmd, args)
	}
}

// admitCommand applies access control and maxmemory to a command about
// to run or be queued; it replies the refusal and returns false.
func (srv *Server) admitCommand(s *session, c redcon.Conn, cmd *command, args [][]byte) bool {
	if cmd.has(flagProtect) && !srv.protectedAllowed(c) {
		c.WriteError(errDebugProtected) // before authentication, as in Redis 7.0
		return false
	}
	if !srv.permit(s, c, cmd, args) {
		return false
	}
	if srv.denyOOM(cmd) {
		c.WriteError(errOOM)
		return false
	}
	return true
}

// enqueue queues a command inside MULTI, or rejects it and dooms the
// transaction.
func (srv *Server) enqueue(s *session, c redcon.Conn, cmd *command, args [][]byte) {
	msg := ""
	switch {
	case cmd == nil:
		msg = errUnknown(args)
	case !cmd.arityOK(len(args)):
		msg = errArity(cmd.name)
	case subcommandError(cmd, args) != "":
		msg = subcommandError(cmd, args)
	case cmd.has(flagNoMulti):
		msg = errNoMulti
	}
	if msg != "" {
		s.multiErr = true
		c.WriteError(msg)
		return
	}
	s.queue = append(s.queue, queued{cmd: cmd, args: cloneArgs(args)})
	c.WriteString("QUEUED")
}

// run executes cmd under the lock its mode asks for.
func (srv *Server) run(s *session, c redcon.Conn, cmd *command, args [][]byte) {
	db := srv.db
	var x *exec
	if db.clustered() {
		x = &exec{srv: srv, db: db, s: s, c: c, args: args, dbi: s.db}
		if srv.routeCluster(x, cmd) {
			return
		}
	} else {
		// Single-node commands finish before run returns, so the
		// session's scratch exec and tx are reused: no allocation per
		// command for them.
		x = s.scratch(srv, c, args)
		defer s.release()
	}
	switch cmd.lock {
	case lockNone:
		cmd.run(x)
	case lockRead:
		srv.runRead(x, cmd)
		db.reapNoted(x) // before the reply goes out (lazyexpire.go)
	case lockWrite:
		db.mu.Lock()
		defer db.mu.Unlock()
		if db.failed != nil {
			c.WriteError("ERR " + db.failed.Error())
			return
		}
		x.now = db.now()
		if db.clustered() {
			x.t = &tx{db: db}
		} else {
			x.t = s.newTx(db)
		}
		cmd.run(x)
		srv.commit(x)
		srv.serveBlocked()
	}
}

// runRead executes a read command under DB.mu held for reading.
func (srv *Server) runRead(x *exec, cmd *command) {
	db := srv.db
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.failed != nil {
		x.c.WriteError("ERR " + db.failed.Error())
		return
	}
	x.now = db.now()
	cmd.run(x)
	x.s.depend(db.dur.logged.Load())
}

// commit logs the transaction of x and records the dependency; a failure
// to log drops the connection's buffered replies. REQUIRES: DB.mu held for
// writing.
func (srv *Server) commit(x *exec) {
	if _, err := x.db.commit(x.t); err != nil {
		x.s.broken = true
		return
	}
	x.s.depend(x.db.dur.logged.Load())
}

// cloneArgs copies args into one allocation: request arguments alias the
// connection's input buffer, which the next request reuses.
func cloneArgs(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		out[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return out
}

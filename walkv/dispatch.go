package walkv

import (
	"github.com/tidwall/redcon"
)

// serveRESP is redcon's handler: it runs one command and, at the end of a
// pipeline, makes the replies' transactions durable before redcon flushes
// them (appendfsync always).
func (srv *Server) serveRESP(c redcon.Conn, cmd redcon.Command) {
	s := c.Context().(*session)
	srv.dispatch(s, c, cmd.Args)
	if len(c.PeekPipeline()) == 0 {
		srv.settle(s, c)
	}
}

// settle runs before the replies buffered for a pipeline are flushed.
// Under appendfsync always it waits until every transaction they depend
// on is durable; the wait happens without DB.mu, and concurrent waiters
// share fsyncs. If a reply must not be sent, the connection is dropped.
func (srv *Server) settle(s *session, c redcon.Conn) {
	db := srv.db
	if !s.broken && db.Fsync() == FsyncAlways {
		if err := db.dur.wait(s.pending); err != nil {
			db.fail(err)
			s.broken = true
		}
	}
	if s.broken {
		drop(c)
	}
}

// drop closes c without sending what is buffered and without running the
// rest of its pipeline.
func drop(c redcon.Conn) {
	c.ReadPipeline()
	if w := redcon.BaseWriter(c); w != nil {
		w.SetBuffer(nil)
	}
	c.Close()
}

// dispatch runs or queues one command.
func (srv *Server) dispatch(s *session, c redcon.Conn, args [][]byte) {
	srv.db.stats.commands.Add(1)
	cmd := lookup(args[0])
	if s.multi && (cmd == nil || !cmd.has(flagMultiCtl)) {
		srv.enqueue(s, c, cmd, args)
		return
	}
	switch {
	case cmd == nil:
		c.WriteError(errUnknown(args))
	case !cmd.arityOK(len(args)):
		c.WriteError(errArity(cmd.name))
	default:
		srv.run(s, c, cmd, args)
	}
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
	case cmd.has(flagNoMulti):
		msg = errNoMulti
	}
	if msg != "" {
		s.multiErr = true
		c.WriteError(msg)
		return
	}
	s.queue = append(s.queue, queued{cmd: cmd, args: args})
	c.WriteString("QUEUED")
}

// run executes cmd under the lock its mode asks for.
func (srv *Server) run(s *session, c redcon.Conn, cmd *command, args [][]byte) {
	db := srv.db
	var x *exec
	if db.clustered() {
		x = &exec{srv: srv, db: db, s: s, c: c, args: args}
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
		db.mu.RLock()
		defer db.mu.RUnlock()
		if db.failed != nil {
			c.WriteError("ERR " + db.failed.Error())
			return
		}
		x.now = db.now()
		cmd.run(x)
		s.depend(db.dur.logged.Load())
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
	}
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

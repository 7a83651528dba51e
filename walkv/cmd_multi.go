package walkv

func init() {
	register(
		&command{name: "multi", arity: 1, flags: flagFast | flagMultiCtl, run: cmdMulti},
		&command{name: "exec", arity: 1, flags: flagMultiCtl, run: cmdExec},
		&command{name: "discard", arity: 1, flags: flagFast | flagMultiCtl, run: cmdDiscard},
		&command{name: "watch", arity: -2, flags: flagFast | flagMultiCtl, first: 1, last: -1, step: 1, run: cmdWatch},
		// UNWATCH may be queued; it runs under the lock EXEC holds.
		&command{name: "unwatch", arity: 1, flags: flagFast, lock: lockWrite, run: cmdUnwatch},
	)
}

func cmdMulti(x *exec) {
	if x.s.multi {
		x.c.WriteError("ERR MULTI calls can not be nested")
		return
	}
	x.s.multi = true
	x.c.WriteString("OK")
}

func cmdDiscard(x *exec) {
	if !x.s.multi {
		x.c.WriteError("ERR DISCARD without MULTI")
		return
	}
	x.s.endMulti()
	x.db.unwatch(x.s)
	x.c.WriteString("OK")
}

func cmdWatch(x *exec) {
	if x.s.multi {
		x.c.WriteError("ERR WATCH inside MULTI is not allowed")
		return
	}
	db := x.db
	if db.clustered() {
		x.c.WriteError("ERR WATCH: " + ErrClusterMode.Error())
		return
	}
	db.mu.Lock()
	now := db.now()
	for _, k := range x.args[1:] {
		db.watchKey(x.s, x.dbi, string(k), now)
	}
	db.mu.Unlock()
	x.c.WriteString("OK")
}

func cmdUnwatch(x *exec) {
	x.db.unwatchLocked(x.s)
	x.c.WriteString("OK")
}

// cmdExec runs the queued commands under one hold of the write lock, as
// one transaction in the log: after a crash all of their changes are there
// or none. A command that fails at run time replies its error and changes
// nothing; the others still run (Redis semantics). A broken WATCH replies
// a null array and runs nothing.
func cmdExec(x *exec) {
	s, db := x.s, x.db
	if !s.multi {
		x.c.WriteError("ERR EXEC without MULTI")
		return
	}
	queue, doomed := s.queue, s.multiErr
	s.endMulti()
	if doomed {
		db.unwatch(s)
		x.c.WriteError(errExecAbort)
		return
	}
	if db.clustered() {
		x.srv.proposeExec(x, queue)
		return
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.failed != nil {
		db.unwatchLocked(s)
		x.c.WriteError("ERR " + db.failed.Error())
		return
	}
	x.now = db.now()
	broken := db.watchBroken(s, x.now)
	db.unwatchLocked(s)
	if broken {
		x.typed().WriteNullArray()
		return
	}
	x.t = &tx{db: db}
	x.c.WriteArray(len(queue))
	for _, q := range queue {
		x.args = q.args
		db.stats.cmdFor(q.cmd, q.args).calls.Add(1)
		q.cmd.run(x)
	}
	x.srv.commit(x)
	x.srv.serveBlocked()
}

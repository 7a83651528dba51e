package walkv

import (
	"runtime"
	"sync"
)

// procs sets GOMAXPROCS for a process that is only this server
// (ServerOptions.AutoProcs): one P per event loop while the policy is
// everysec or no and no snapshot is being written, the runtime's default
// otherwise.
//
// Why: with a P to spare, Go wakes an idle thread whenever the event loop
// yields (gnet calls runtime.Gosched each time epoll finds nothing), and
// that thread finds nothing to do and sleeps again (futex calls, 5,600
// epoll_pwait and 3,000 futex per 50,000 SETs against redis-server's 1,100
// and 10). With one P per loop SET with 50 clients was faster in each of
// 14 interleaved rounds under everysec (median 1.11x). Under always the
// loop itself blocks in fdatasync, and a spare P lets it return from the
// syscall without waiting for one (one P was 0.91x). A snapshot writer
// needs a P of its own so that clients do not share one with it, as
// redis-server's BGSAVE child has its own CPU.
type procs struct {
	mu    sync.Mutex
	loops int
	def   int  // GOMAXPROCS when the server started (the runtime's default)
	own   bool // GOMAXPROCS is ours (loops), not the runtime's default
}

// apply sets GOMAXPROCS for db's current policy and snapshot state.
func (p *procs) apply(db *DB) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if db.Fsync() == FsyncAlways || db.snap.running.Load() {
		p.restore()
		return
	}
	if p.loops < p.def { // never more Ps than the default (a CPU quota)
		runtime.GOMAXPROCS(p.loops)
		p.own = true
	}
}

// release gives GOMAXPROCS back to the runtime's default.
func (p *procs) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.restore()
}

// restore returns to the runtime's default if GOMAXPROCS is ours.
// REQUIRES: mu held.
func (p *procs) restore() {
	if p.own {
		runtime.SetDefaultGOMAXPROCS()
		p.own = false
	}
}

package walkv

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
)

// Server serves a DB over RESP2 (the Redis protocol).
//
// # Network layer
//
// Connections are multiplexed over a few event loops
// (github.com/panjf2000/gnet, epoll on Linux), the way redis-server serves
// them, not one goroutine per connection: a request costs one read and
// one write system call, with no netpoller wake-up, goroutine switch or
// extra read that finds the socket empty. Requests are parsed in place by
// redcon.ReadNextCommand, replies built with redcon's Append functions;
// commands write them through the redcon.Conn interface (see conn).
//
// Connections are accepted by a goroutine on a net.Listener and handed to
// the loops (each a gnet.Client, which takes over the socket): unlike
// gnet's own acceptor, which stops the whole engine on an accept error,
// this keeps serving the connected clients when accepting fails (too many
// open files, say), and retries with a back-off, as net/http does.
//
// A connection whose replies depend on a transaction that is not durable
// yet (appendfsync always) queues in its loop's loopWait; the loop goes on
// serving every other connection that is ready, then asks the log once for
// all of them and sends their replies when the log says they are durable
// (see conn.settle, loopWait); the log's group commit shares fsyncs.
// Commands that wait by nature (DEBUG
// SLEEP, SAVE, SHUTDOWN) also block their loop, as they block
// redis-server. In cluster mode, where every write waits for a raft
// round, each pipeline runs on a goroutine of its own.
//
// Shutdown: Close stops accepting, stops the event loops, which closes
// every connection, and waits for the goroutines still working for one,
// so no command runs after it returns; the caller then closes the DB. A
// client's SHUTDOWN command closes Done.
type Server struct {
	db    *DB
	cfg   ServerOptions
	ln    net.Listener
	loops []*gnet.Client
	procs *procs // with AutoProcs

	accepted  chan struct{}  // closed when the accept loop returned
	enrolling sync.WaitGroup // connections being handed to a loop
	stopping  chan struct{}  // closed by Close: refuse new connections
	done      chan struct{}  // closed by SHUTDOWN
	doneOnce  sync.Once

	mu     sync.Mutex
	cond   sync.Cond
	conns  int // connections not yet cleaned up (see conn.cleanup)
	nextID int64
	live   map[*conn]struct{} // the connections counted in conns, for idle timeout

	// Access control and limits (see acl.go, security.go).
	acl        *aclStore
	lim        limits
	limStats   limitStats
	clientMem  atomic.Int64  // bytes of all clients' buffers, for maxmemory-clients
	usedMemory atomic.Int64  // sampled heap bytes, for maxmemory
	freeOS     atomic.Bool   // a client with big buffers closed: return memory to the OS
	housekept  chan struct{} // closed when housekeeping returned

	cfgStore configStore   // CONFIG's parameters (see config_live.go)
	statBase statsBaseline // INFO's counters at CONFIG RESETSTAT (see info_reset.go)
	instant  instantRates  // INFO's instantaneous_* rates (see info_sections.go)
	memPeak  atomic.Int64  // INFO's used_memory_peak (see info_memory.go)
	memStart int64         // INFO's used_memory_startup: heap bytes at Serve

	ps pubsubHub // Pub/Sub subscriptions (see pubsub.go)

	cpause clientPause // CLIENT PAUSE (see client_pause.go)

	// TLS (see tls.go).
	tlsLns   []net.Listener // guarded by mu
	bridges  sync.WaitGroup // TLS accept loops and relays
	enrollMu sync.RWMutex   // held for reading while a TLS connection is enrolled
}

// ServerOptions configures a Server; nil means defaults.
type ServerOptions struct {
	// Port is reported by INFO (tcp_port); default the listener's port.
	Port int
	// EventLoops is the number of event loops serving connections;
	// 0 means DefaultEventLoops.
	EventLoops int
	// AutoProcs lets the server set GOMAXPROCS while it runs: one P per
	// event loop under appendfsync everysec and no, except while a
	// snapshot is being written; the runtime's default under always
	// (see procs for the measurements). GOMAXPROCS is process-wide: set
	// it only in a program that is just this server, as cmd/walkv does
	// unless the GOMAXPROCS environment variable is set. Close gives
	// GOMAXPROCS back to the runtime's default.
	AutoProcs bool

	// Access control (see Access control in acl.go). RequirePass is the
	// default user's password (Redis's requirepass); default none. ACLFile
	// is a file of users loaded at start and by ACL LOAD (Redis's aclfile
	// format); default none. NoProtectedMode turns protected mode off
	// (Redis's protected-mode no); by default connections from other hosts
	// are refused while the default user has no password.
	RequirePass     string
	ACLFile         string
	NoProtectedMode bool

	// Limits (see security.go; Redis's names). MaxClients: default
	// DefaultMaxClients. Timeout: idle connections are closed after it;
	// default 0, never. MaxMemory: bytes of heap beyond which writes
	// that may grow the dataset are refused; default 0, none.
	// QueryBufferLimit: default DefaultQueryBufferLimit.
	// OutputLimitNormal and OutputLimitPubsub: client-output-buffer-limit
	// of the two classes; zero means the default (normal: hard
	// DefaultOutputHardLimit; pubsub: 32 MiB hard, 8 MiB soft for 60 s).
	// MaxMemoryClients: cap on all clients' buffers together; default 0,
	// none.
	MaxClients        int
	Timeout           time.Duration
	MaxMemory         int64
	QueryBufferLimit  int64
	OutputLimitNormal OutputLimit
	OutputLimitPubsub OutputLimit
	MaxMemoryClients  int64

	// EnableDebugCommand is Redis 7.0's enable-debug-command: "no" (the
	// default, also ""), "yes", or "local" (loopback clients only). DEBUG
	// is refused unless it allows it (cmd_debug.go).
	EnableDebugCommand string
}

// DefaultEventLoops is one event loop per two CPUs, at least one. The
// other half is left to what serves the loops: snapshots, the garbage
// collector and the kernel's network stack. Measured on 2 CPUs with
// redis-benchmark -c 50 on the same machine: one loop served SET 12% and
// GET 6% faster than two under everysec (median of 8 interleaved runs),
// and SET 23% faster under always (median of 5).
func DefaultEventLoops() int { return max(1, runtime.NumCPU()/2) }

// Listen binds addr (host:port; port 0 picks a free one, see Addr) and
// starts serving db in the background.
func Listen(db *DB, addr string, opts *ServerOptions) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("walkv: listen: %w", err)
	}
	srv, err := Serve(db, ln, opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return srv, nil
}

// Serve starts serving db on ln in the background and takes ownership of
// ln.
func Serve(db *DB, ln net.Listener, opts *ServerOptions) (*Server, error) {
	srv := &Server{db: db, ln: ln, accepted: make(chan struct{}), stopping: make(chan struct{}), done: make(chan struct{}),
		live: map[*conn]struct{}{}, housekept: make(chan struct{})}
	if opts != nil {
		srv.cfg = *opts
	}
	srv.memStart = heapObjectBytes()
	if err := srv.initLimits(); err != nil {
		return nil, err
	}
	if err := checkEnableDebug(srv.cfg.EnableDebugCommand); err != nil {
		return nil, err
	}
	srv.cond.L = &srv.mu
	if a, ok := ln.Addr().(*net.TCPAddr); ok && srv.cfg.Port == 0 {
		srv.cfg.Port = a.Port // set before any loop or connection starts
	}
	n := srv.cfg.EventLoops
	if n <= 0 {
		n = DefaultEventLoops()
	}
	for range n {
		h := &handler{srv: srv, loop: &loopWait{db: db}}
		cli, err := gnet.NewClient(h,
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			// Find dead peers as redis-server does (tcp-keepalive 300).
			gnet.WithTCPKeepAlive(300*time.Second),
			gnet.WithLogger(gnetLogger{db.opts.Logger}),
		)
		if err == nil {
			srv.loops = append(srv.loops, cli)
			err = cli.Start()
		}
		if err != nil {
			srv.stopLoops()
			return nil, fmt.Errorf("walkv: starting event loops: %w", err)
		}
	}
	if srv.cfg.AutoProcs {
		srv.procs = &procs{loops: n, def: runtime.GOMAXPROCS(0)}
		db.procs.Store(srv.procs)
		srv.procs.apply(db)
	}
	go srv.acceptLoop()
	go srv.housekeeping()
	return srv, nil
}

// acceptLoop accepts connections and hands them to the event loops in
// turn until the listener is closed. Accept errors (EMFILE, ENFILE,
// ENOBUFS...) are logged and retried after a back-off of 5 ms doubling to
// 1 s; the pending connection waits in the listen backlog meanwhile.
func (srv *Server) acceptLoop() {
	defer close(srv.accepted)
	var delay time.Duration
	for next := 0; ; next++ {
		nc, err := srv.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			srv.db.opts.Logger.Warn("walkv: accepting a connection failed; retrying", "err", err, "retry_in", delay)
			srv.pause(delay)
			continue
		}
		delay = 0
		// Enroll duplicates the socket for the loop, closes nc, and
		// waits until the loop has registered the connection, which
		// may take an fsync (appendfsync always): it runs on a goroutine
		// of its own so that accepting goes on meanwhile.
		loop := srv.loops[next%len(srv.loops)]
		srv.enrolling.Go(func() {
			if _, err := loop.Enroll(nc); err != nil {
				srv.db.opts.Logger.Warn("walkv: handing a connection to an event loop failed; connection closed", "err", err)
			}
		})
	}
}

// pause sleeps for d, or until Close.
func (srv *Server) pause(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-srv.stopping:
	}
}

// stopLoops stops the event loops, which closes their connections.
func (srv *Server) stopLoops() {
	for _, cli := range srv.loops {
		_ = cli.Stop()
	}
}

// Addr returns the listening address.
func (srv *Server) Addr() net.Addr { return srv.ln.Addr() }

// Done is closed when a client sends SHUTDOWN.
func (srv *Server) Done() <-chan struct{} { return srv.done }

// register counts a new connection, or refuses it while closing or at
// maxclients (full).
func (srv *Server) register() (id int64, ok, full bool) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.stopped() {
		return 0, false, false
	}
	if int64(srv.conns) >= srv.lim.maxClients.Load() {
		srv.limStats.rejected.Add(1)
		return 0, false, true
	}
	srv.conns++
	srv.nextID++
	srv.db.stats.connections.Add(1)
	srv.db.stats.clients.Add(1)
	return srv.nextID, true, false
}

// unregister counts a connection gone, once its cleanup ran.
func (srv *Server) unregister(c *conn) {
	srv.db.stats.clients.Add(-1)
	srv.mu.Lock()
	delete(srv.live, c)
	srv.conns--
	srv.cond.Broadcast()
	srv.mu.Unlock()
}

// Close stops accepting connections, closes the open ones (a command
// already running finishes; replies still waiting for an fsync under
// appendfsync always are not sent, though their writes are in the log,
// which DB.Close syncs) and waits until nothing runs for any connection.
func (srv *Server) Close() error {
	srv.mu.Lock()
	if srv.stopped() {
		srv.mu.Unlock()
		return ErrClosed
	}
	close(srv.stopping)
	tlsLns := srv.tlsLns
	srv.mu.Unlock()
	for _, ln := range tlsLns {
		ln.Close()
	}
	err := srv.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	<-srv.accepted
	<-srv.housekept
	srv.enrolling.Wait() // a loop must run until it took the connection
	srv.enrollMu.Lock()  // no TLS connection is being enrolled, nor will be
	//lint:ignore SA2001 a barrier: waits for an enrolment in progress to finish
	srv.enrollMu.Unlock()
	srv.stopLoops() // closes every connection
	srv.bridges.Wait()
	srv.mu.Lock()
	for srv.conns > 0 { // queued connections are cleaned up once released
		srv.cond.Wait()
	}
	srv.mu.Unlock()
	srv.stopPause() // client_pause.go
	if srv.procs != nil && srv.db.procs.CompareAndSwap(srv.procs, nil) {
		srv.procs.release()
	}
	return err
}

// stopped reports whether Close was called. REQUIRES: mu held (Close
// closes stopping under it).
func (srv *Server) stopped() bool {
	select {
	case <-srv.stopping:
		return true
	default:
		return false
	}
}

// requestShutdown closes Done once.
func (srv *Server) requestShutdown() {
	srv.doneOnce.Do(func() { close(srv.done) })
}

// gnetLogger sends gnet's messages to the DB's logger: its warnings and
// errors; its informational start-up lines are dropped.
type gnetLogger struct{ l *slog.Logger }

var _ logging.Logger = gnetLogger{}

func (g gnetLogger) Debugf(string, ...any) {}
func (g gnetLogger) Infof(string, ...any)  {}
func (g gnetLogger) Warnf(format string, args ...any) {
	g.l.Warn("walkv: network: " + fmt.Sprintf(format, args...))
}
func (g gnetLogger) Errorf(format string, args ...any) {
	g.l.Error("walkv: network: " + fmt.Sprintf(format, args...))
}
func (g gnetLogger) Fatalf(format string, args ...any) {
	g.l.Error("walkv: network: fatal: " + fmt.Sprintf(format, args...))
}

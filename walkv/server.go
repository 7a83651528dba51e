package walkv

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/tidwall/redcon"
)

// Server serves a DB over RESP2 (the Redis protocol) with
// github.com/tidwall/redcon: one goroutine per connection, pipelined
// requests, replies flushed once per pipeline.
//
// Shutdown: Close stops accepting, closes every connection and waits for
// their goroutines, so no command runs after it returns; the caller then
// closes the DB. A client's SHUTDOWN command closes Done.
type Server struct {
	db  *DB
	rs  *redcon.Server
	ln  net.Listener
	cfg ServerOptions

	served   chan struct{} // closed when redcon's accept loop returned
	done     chan struct{} // closed by SHUTDOWN
	doneOnce sync.Once

	mu      sync.Mutex
	cond    sync.Cond
	conns   int  // connections whose goroutine has not finished
	closing bool // Close was called: refuse new connections
	nextID  int64
}

// ServerOptions configures a Server; nil means defaults.
type ServerOptions struct {
	// Port is reported by INFO (tcp_port); default the listener's port.
	Port int
}

// Listen binds addr and starts serving db in the background.
func Listen(db *DB, addr string, opts *ServerOptions) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("walkv: listen: %w", err)
	}
	return Serve(db, ln, opts), nil
}

// Serve starts serving db on ln in the background and takes ownership of
// ln.
func Serve(db *DB, ln net.Listener, opts *ServerOptions) *Server {
	srv := &Server{db: db, ln: ln, served: make(chan struct{}), done: make(chan struct{})}
	if opts != nil {
		srv.cfg = *opts
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok && srv.cfg.Port == 0 {
		srv.cfg.Port = a.Port
	}
	srv.cond.L = &srv.mu
	srv.rs = redcon.NewServerNetwork("tcp", ln.Addr().String(), srv.serveRESP, srv.accept, srv.closed)
	guarded := &guardListener{Listener: ln, maxBulk: int64(db.opts.MaxBulk)}
	go func() {
		defer close(srv.served)
		_ = srv.rs.Serve(guarded) // returns nil once ln is closed
	}()
	return srv
}

// Addr returns the listening address.
func (srv *Server) Addr() net.Addr { return srv.ln.Addr() }

// Done is closed when a client sends SHUTDOWN.
func (srv *Server) Done() <-chan struct{} { return srv.done }

// accept registers a new connection, or refuses it while closing.
func (srv *Server) accept(c redcon.Conn) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closing {
		return false
	}
	srv.conns++
	srv.nextID++
	c.SetContext(&session{id: srv.nextID})
	srv.db.stats.connections.Add(1)
	srv.db.stats.clients.Add(1)
	return true
}

// closed runs when a connection's goroutine ends (redcon calls it).
func (srv *Server) closed(c redcon.Conn, _ error) {
	if s, ok := c.Context().(*session); ok && s.watched != nil {
		srv.db.unwatch(s)
	}
	srv.db.stats.clients.Add(-1)
	srv.mu.Lock()
	srv.conns--
	srv.cond.Broadcast()
	srv.mu.Unlock()
}

// Close stops accepting connections, closes the open ones (a command
// already running finishes, and under appendfsync always still waits for
// durability, but its reply may not reach the client) and waits until
// every connection goroutine has ended.
func (srv *Server) Close() error {
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		return ErrClosed
	}
	srv.closing = true
	srv.mu.Unlock()
	err := srv.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	<-srv.served // redcon closed every connection on its way out
	srv.mu.Lock()
	for srv.conns > 0 {
		srv.cond.Wait()
	}
	srv.mu.Unlock()
	return err
}

// requestShutdown closes Done once.
func (srv *Server) requestShutdown() {
	srv.doneOnce.Do(func() { close(srv.done) })
}

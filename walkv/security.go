package walkv

import (
	"fmt"
	"net"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Connection admission and client limits
//
// A new connection is refused, with Redis's reply, when maxclients
// connections are open ("ERR max number of clients reached") and, in
// protected mode (the default) while the default user has no password,
// when it does not come from a loopback address (DENIED).
//
// Every connection's buffers are bounded (the names and the defaults are
// Redis's unless said otherwise):
//   - client-query-buffer-limit (default 1 GiB): request bytes received
//     and not yet run; beyond it the connection is closed.
//   - client-output-buffer-limit <class> <hard> <soft> <soft-seconds>:
//     reply bytes not yet taken by the client (built and queued in the
//     event loop). The client is closed, its pending replies dropped, as
//     soon as they exceed hard, or have exceeded soft for soft-seconds.
//     Classes: normal (walkv's default 1gb 0 0: Redis's is no limit, which
//     lets one client that never reads take all memory) and pubsub
//     (32mb 8mb 60), for connections that subscribed (none yet: walkv
//     has no Pub/Sub).
//   - maxmemory-clients (default 0: none): a cap on the sum over all
//     clients of both buffers; a client whose growth takes the sum over
//     it is closed if it holds at least its fair share (sum / clients),
//     so clients with small buffers are spared.
//
// timeout closes connections idle for that long (default 0: never);
// maxmemory (default 0: none) refuses commands that may grow the dataset
// ("OOM command not allowed when used memory > 'maxmemory'.") while the
// Go heap's live objects exceed it (policy noeviction, sampled every
// 100 ms).

// Limits' defaults.
const (
	// bigClientBytes: a client that held this much in buffers makes
	// housekeeping return freed memory to the OS once it has gone.
	bigClientBytes          = 16 << 20
	DefaultMaxClients       = 10000
	DefaultQueryBufferLimit = 1 << 30
	// DefaultOutputHardLimit is the normal class's hard limit: twice the
	// largest value, so that any single reply passes.
	DefaultOutputHardLimit = 1 << 30
	housekeepingTick       = 100 * time.Millisecond
)

// Replies of admission and limits, worded as Redis's.
const (
	errMaxClients = "ERR max number of clients reached"
	errOOM        = "OOM command not allowed when used memory > 'maxmemory'."
	errDenied     = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."
)

// OutputLimit is one class of client-output-buffer-limit; zero fields
// mean no limit.
type OutputLimit struct {
	Hard, Soft int64         // bytes
	SoftFor    time.Duration // how long over Soft before the client is closed
}

// limits are the server's limits, changed by CONFIG SET at run time.
type limits struct {
	maxClients    atomic.Int64
	timeout       atomic.Int64 // nanoseconds; 0 none
	maxMemory     atomic.Int64
	queryBuf      atomic.Int64
	maxMemClients atomic.Int64
	protected     atomic.Bool
	out           [2]atomic.Pointer[OutputLimit] // normal, pubsub
}

// Output buffer classes.
const (
	classNormal = iota
	classPubsub
)

// limitStats count what the limits did, for INFO.
type limitStats struct {
	rejected     atomic.Int64 // connections refused (maxclients, protected mode)
	outputClosed atomic.Int64
	queryClosed  atomic.Int64
	evicted      atomic.Int64 // closed by maxmemory-clients
	idleClosed   atomic.Int64
	oom          atomic.Int64
}

// initLimits sets the limits from the options and loads the ACL.
func (srv *Server) initLimits() error {
	o := &srv.cfg
	l := &srv.lim
	l.maxClients.Store(int64(orDefault(o.MaxClients, DefaultMaxClients)))
	l.timeout.Store(int64(o.Timeout))
	l.maxMemory.Store(o.MaxMemory)
	l.queryBuf.Store(orDefault(o.QueryBufferLimit, DefaultQueryBufferLimit))
	l.maxMemClients.Store(o.MaxMemoryClients)
	l.protected.Store(!o.NoProtectedMode)
	normal, pubsub := o.OutputLimitNormal, o.OutputLimitPubsub
	if normal == (OutputLimit{}) {
		normal = OutputLimit{Hard: DefaultOutputHardLimit}
	}
	if pubsub == (OutputLimit{}) {
		pubsub = OutputLimit{Hard: 32 << 20, Soft: 8 << 20, SoftFor: 60 * time.Second}
	}
	l.out[classNormal].Store(&normal)
	l.out[classPubsub].Store(&pubsub)
	srv.acl = newACLStore()
	if o.ACLFile != "" {
		if err := srv.acl.load(o.ACLFile); err != nil {
			return err
		}
	}
	if o.RequirePass != "" {
		if err := srv.acl.setUser("default", []string{"resetpass", ">" + o.RequirePass}); err != nil {
			return err
		}
	}
	return nil
}

func orDefault[T int | int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// admit decides whether a new connection from remote may stay: it
// returns the refusal to send before closing it, or "".
func (srv *Server) admit(remote net.Addr) string {
	if srv.lim.protected.Load() && !srv.acl.authRequired() && !isLoopback(remote) {
		srv.limStats.rejected.Add(1)
		return errDenied
	}
	return ""
}

// isLoopback reports whether a is a loopback address (or not an IP
// address at all: a Unix socket).
func isLoopback(a net.Addr) bool {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case nil:
		return true
	default:
		host, _, err := net.SplitHostPort(a.String())
		if err != nil {
			return true
		}
		ip := net.ParseIP(host)
		return ip == nil || ip.IsLoopback()
	}
}

// NonLoopbackWarning returns the start-up warning for binding addr with
// opts (Redis warns likewise), or "" if there is nothing to warn of.
func NonLoopbackWarning(addr string, opts *ServerOptions) string {
	if opts != nil && (opts.RequirePass != "" || opts.ACLFile != "") {
		return ""
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() || host == "localhost" {
		return ""
	}
	mode := "protected mode refuses connections from other hosts until a password is set"
	if opts != nil && opts.NoProtectedMode {
		mode = "protected mode is off: ANY host that can reach this port may run ANY command"
	}
	return fmt.Sprintf("WARNING: listening on %s, not only loopback, and no password or ACL file is set; %s", addr, mode)
}

// outputLimit returns the output buffer limit of c's class.
func (srv *Server) outputLimit(c *conn) *OutputLimit {
	class := classNormal
	if c.s.pubsub {
		class = classPubsub
	}
	return srv.lim.out[class].Load()
}

// overOutputLimit reports whether c's pending replies (in buf and queued
// by gnet as last seen) break the output limit of its class, tracking how
// long the soft limit has been exceeded.
func (c *conn) overOutputLimit(now func() time.Time) bool {
	l := c.srv.outputLimit(c)
	n := int64(len(c.buf)) + c.outQueued
	if l.Hard > 0 && n > l.Hard {
		return true
	}
	if l.Soft <= 0 || n <= l.Soft {
		c.softSince = time.Time{}
		c.overSoft.Store(false)
		return false
	}
	t := now()
	if c.softSince.IsZero() {
		c.softSince = t
		c.overSoft.Store(true) // housekeeping wakes it to check again
	}
	return t.Sub(c.softSince) >= l.SoftFor
}

// dropForOutput closes c for its output buffer limit: its pending
// replies are dropped, and no more requests run.
func (c *conn) dropForOutput() {
	if !c.overLimit {
		c.srv.limStats.outputClosed.Add(1)
		c.srv.db.opts.Logger.Warn("walkv: client closed for overcoming of output buffer limits", "client", c.addr,
			"pending_bytes", int64(len(c.buf))+c.outQueued)
	}
	c.overLimit, c.closing = true, true
	c.buf = nil
}

// account updates the server's total of client buffers with c's current
// use and reports whether c must be closed for maxmemory-clients. While a
// goroutine owns buf (busy), the reply side counts as last seen.
// REQUIRES: on c's event loop.
func (c *conn) account(busy bool) bool {
	if !busy {
		c.outUse = int64(cap(c.buf) + c.gc.OutboundBuffered())
	}
	use := int64(cap(c.in)) + c.outUse
	if c.released {
		use = 0
	}
	limit := c.srv.lim.maxMemClients.Load()
	if use == c.memUse && limit <= 0 {
		return false // the common case: no shared counter touched
	}
	total := c.srv.clientMem.Add(use - c.memUse)
	c.memUse = use
	if limit <= 0 || total <= limit || c.released || c.s.info.noEvict.Load() {
		return false
	}
	if n := max(c.srv.db.stats.clients.Load(), 1); use < total/n {
		return false
	}
	c.srv.limStats.evicted.Add(1)
	c.srv.db.opts.Logger.Warn("walkv: client closed by maxmemory-clients", "client", c.addr, "client_bytes", use, "all_clients_bytes", total)
	return true
}

// release drops c's share of the clients' total once it closed.
// REQUIRES: on c's event loop, or after it.
func (c *conn) releaseMem() {
	if c.memUse >= bigClientBytes {
		c.srv.freeOS.Store(true) // see housekeeping
	}
	c.released = true
	c.srv.clientMem.Add(-c.memUse)
	c.memUse = 0
}

// sampleMemory reads the heap's live bytes into usedMemory, which the
// maxmemory check compares: each housekeeping tick while maxmemory is
// set, and at once when CONFIG SET maxmemory changes the limit (so a new
// limit applies to the next command, as in Redis).
func (srv *Server) sampleMemory() {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		srv.usedMemory.Store(int64(sample[0].Value.Uint64()))
	}
}

// housekeeping samples memory use for maxmemory and closes idle
// connections, until Close.
func (srv *Server) housekeeping() {
	defer close(srv.housekept)
	t := time.NewTicker(housekeepingTick)
	defer t.Stop()
	again := false // free memory again on the next second
	for tick := 0; ; tick++ {
		select {
		case <-srv.stopping:
			return
		case <-t.C:
		}
		if srv.lim.maxMemory.Load() > 0 {
			srv.sampleMemory()
		}
		srv.sampleInstant()
		if tick%10 == 0 {
			srv.saveCron(time.Now())
			srv.clientsCron()
			// A client that held large buffers left: give the memory
			// back to the OS now rather than over minutes (the Go
			// scavenger's pace), so RSS returns near its steady state
			// after an attack. At most once a second; costs a GC.
			// Twice, a second apart: gnet pools its buffers in
			// sync.Pools, which keep them for one more GC.
			if srv.freeOS.Swap(false) || again {
				debug.FreeOSMemory()
				again = !again
			}
		}
	}
}

// clientsCron (once a second, as Redis's) closes the connections that
// have sent nothing for timeout and have no command in progress, and
// wakes those over their output soft limit so that their loop checks it
// again (a client that neither reads nor writes causes no event).
func (srv *Server) clientsCron() {
	timeout := time.Duration(srv.lim.timeout.Load())
	cutoff := time.Now().Add(-timeout).UnixNano()
	srv.mu.Lock()
	var idle, soft []*conn
	for c := range srv.live {
		if timeout > 0 && c.lastActive.Load() < cutoff {
			idle = append(idle, c)
		} else if c.overSoft.Load() {
			soft = append(soft, c)
		}
	}
	srv.mu.Unlock()
	for _, c := range soft {
		_ = c.gc.Wake(nil) // OnTraffic sends (nothing) and checks the limit
	}
	for _, c := range idle {
		c.mu.Lock()
		busy := c.busy && !c.finished
		c.mu.Unlock()
		if !busy {
			srv.limStats.idleClosed.Add(1)
			_ = c.gc.Close() // asynchronous, on the connection's loop
		}
	}
}

// denyOOM reports whether cmd must be refused for maxmemory, and counts
// it.
func (srv *Server) denyOOM(cmd *command) bool {
	limit := srv.lim.maxMemory.Load()
	if limit <= 0 || !cmd.has(flagWrite) || freesMemory[cmd.name] || srv.usedMemory.Load() <= limit {
		return false
	}
	srv.limStats.oom.Add(1)
	return true
}

// freesMemory are the write commands that never grow the dataset, which
// maxmemory lets through (the rest of Redis's commands without denyoom).
var freesMemory = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields("del unlink flushdb flushall hdel persist expire pexpire expireat pexpireat getdel getex rename renamenx smove " +
		"lpop rpop ltrim lrem srem spop zrem zpopmin zpopmax zremrangebyrank zremrangebyscore zremrangebylex lmpop zmpop " +
		"blpop brpop bzpopmin bzpopmax blmpop bzmpop unwatch") {
		m[n] = true
	}
	return m
}()

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// parseMemory parses a byte count as Redis's configuration does: an
// integer with an optional unit k, kb, m, mb, g, gb (k = 1000, kb = 1024).
func parseMemory(s string) (int64, error) {
	low := strings.ToLower(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}}
	mult := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(low, u.suffix); ok {
			low, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(low, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a byte count", ErrInvalidOption, s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("%w: %q is too large", ErrInvalidOption, s)
	}
	return n * mult, nil
}

// ParseOutputLimit parses "<hard> <soft> <soft-seconds>" (one class of
// client-output-buffer-limit) for command-line flags.
func ParseOutputLimit(s string) (OutputLimit, error) {
	f := strings.Fields(s)
	if len(f) != 3 {
		return OutputLimit{}, fmt.Errorf("%w: output buffer limit %q: want <hard> <soft> <soft-seconds>", ErrInvalidOption, s)
	}
	hard, e1 := parseMemory(f[0])
	soft, e2 := parseMemory(f[1])
	secs, e3 := strconv.ParseInt(f[2], 10, 64)
	if e1 != nil || e2 != nil || e3 != nil || hard < 0 || soft < 0 || secs < 0 {
		return OutputLimit{}, fmt.Errorf("%w: output buffer limit %q", ErrInvalidOption, s)
	}
	return OutputLimit{Hard: hard, Soft: soft, SoftFor: time.Duration(secs) * time.Second}, nil
}

// ParseMemory parses a byte count with Redis's units (1gb, 512mb, 100k).
func ParseMemory(s string) (int64, error) { return parseMemory(s) }

// securityStats are INFO's stats fields of access control and limits.
func (srv *Server) securityStats() []infoField {
	a, l := srv.acl, &srv.limStats
	return []infoField{
		{"rejected_connections", l.rejected.Load()},
		{"evicted_clients", l.evicted.Load()},
		{"client_query_buffer_limit_disconnections", l.queryClosed.Load()},
		{"client_output_buffer_limit_disconnections", l.outputClosed.Load()},
		{"walkv_idle_timeout_disconnections", l.idleClosed.Load()},
		{"walkv_oom_rejections", l.oom.Load()},
		{"acl_access_denied_auth", a.deniedAuth.Load()},
		{"acl_access_denied_cmd", a.deniedCmd.Load()},
		{"acl_access_denied_key", a.deniedKey.Load()},
		{"acl_access_denied_channel", 0},
	}
}

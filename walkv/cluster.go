package walkv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/tidwall/redcon"
	"github.com/waldb/wal"
)

// Cluster mode
//
// With Options.Replicator set, the DB is one replica of a replicated
// state machine (cmd/walkv runs it on hashicorp/raft through package
// raftlog; walkv itself imports no raft code). It then keeps no log and no
// snapshot files: raft's log is the durable record and raft takes the
// snapshots (SnapshotState, RestoreState, in the single-node snapshot
// format).
//
// What is replicated is the command, not its effect: a write command (or
// an EXEC's queue) is encoded as an entry holding the leader's clock
// reading and the arguments, proposed, and executed by ApplyEntry on every
// node when raft applies it, under DB.mu, with the same code as in
// single-node mode. Execution is deterministic given the same prior state
// and the same clock: the clock of an entry is the largest of its own
// reading and those of the entries before it (appliedNow), so relative
// deadlines (SET EX, EXPIRE) become the same absolute deadline everywhere
// and expiry never goes backwards across a leader change. Active expiry
// removes only keys expired at appliedNow, which no later command can
// see. The reply is produced by ApplyEntry; the node that proposed it
// sends it to the client once raft has committed the entry (a quorum has
// it durably) and applied it locally.
//
// Followers answer write commands with "-MOVED 0 <leader client address>"
// (or CLUSTERDOWN if no leader is known). Reads depend on
// Options.ReadMode:
//
//   - ReadLinearizable (the default): only the leader serves reads,
//     followers redirect them; before each read (concurrent reads share
//     the work) the leader confirms with Replicator.ConfirmRead that it has
//     applied every entry committed before its term began and that a
//     quorum still follows it. Reads are linearizable.
//   - ReadLease: as ReadLinearizable, but a quorum confirmation is reused
//     for the length of raft's leader lease. Linearizable as long as the
//     nodes' clocks run at about the same rate; a clock that runs slow on
//     the leader (or fast on followers) by more than the lease's margin
//     may let a deposed leader serve a stale read.
//   - ReadStale: every node, leader or follower, serves reads from its
//     applied state at once. A read may miss acknowledged writes (a
//     follower lags, a new leader has not applied its predecessor's last
//     entries, a restarted node sits at its last snapshot) and two reads
//     on different nodes may go back in time.
//
// Reads inside MULTI/EXEC go through the log, as writes do, and are
// linearizable in every mode. WATCH, SAVE and BGSAVE are refused in
// cluster mode.
//
// Outcomes. A write is answered with its reply once committed and
// applied; with MOVED or CLUSTERDOWN if this node is not the leader; with
// "-TRYAGAIN cluster: not applied: ..." if it was refused before reaching
// raft's log (no quorum reachable, raft refused it), or "-ERR cluster:
// command too large, not applied" if the log cannot hold it. These are
// definite: the command was not applied and never will be. "-ERR
// cluster: outcome unknown: ..." (leadership lost after the entry was
// appended, timeout) means it may be applied, now or later, or never: a
// client may resend only a command whose repetition is harmless (SET of
// the same value), or must read the state to find out (see
// docs/cluster.md).
//
// CLUSTER JOIN <node-id> <raft-addr> <client-addr> adds a node to the
// cluster if the Replicator is also a Joiner: a follower answers it with
// the usual MOVED, the leader calls Join and replies OK once the node is
// a voter. Transient failures (no leader, leadership lost) reply TRYAGAIN.
// CLUSTER STATUS [LOCAL] and CLUSTER REPAIR <node-id> are in
// cluster_status.go.

// Replicator replicates encoded commands (see cluster mode above).
type Replicator interface {
	// Propose replicates data and returns what ApplyEntry returned for it
	// on this node once it is committed and applied here. An error
	// wrapping ErrNotLeader or ErrRejected means the entry was refused
	// without being appended; any other error leaves the outcome unknown.
	Propose(ctx context.Context, data []byte) (any, error)
	// Leader returns the client (RESP) address of the current leader
	// ("" if none is known) and whether this node is the leader.
	Leader() (clientAddr string, isLeader bool)
	// ConfirmRead returns nil when this node may serve a linearizable
	// read from its applied state: it is the leader, has applied every
	// entry committed before its term, and a quorum has confirmed its
	// leadership since the call began (with lease, within the leader
	// lease). An error wrapping ErrNotLeader means it is not the leader.
	ConfirmRead(ctx context.Context, lease bool) error
}

// ReadMode is how a cluster node serves reads (see cluster mode above).
type ReadMode int

const (
	ReadLinearizable ReadMode = iota // the leader, after a quorum confirms it (ReadIndex)
	ReadLease                        // the leader, within a lease of a quorum confirmation
	ReadStale                        // any node, from its applied state
)

func (m ReadMode) String() string {
	switch m {
	case ReadLinearizable:
		return "linearizable"
	case ReadLease:
		return "lease"
	case ReadStale:
		return "stale"
	}
	return fmt.Sprintf("ReadMode(%d)", int(m))
}

// Joiner is implemented by a Replicator that can add members.
type Joiner interface {
	// Join makes node id, reachable by raft at raftAddr and by clients at
	// clientAddr, a voting member (or updates its addresses). It returns
	// an error wrapping ErrNotLeader on a node that is not the leader.
	Join(ctx context.Context, id, raftAddr, clientAddr string) error
}

// ErrNotLeader: a proposal was refused because this node is not the
// leader (see Replicator).
var ErrNotLeader = errors.New("walkv: not the leader")

// ErrRejected: a proposal was refused before it reached the replicated
// log (see Replicator); it will never be applied.
var ErrRejected = errors.New("walkv: proposal rejected before the log")

// proposeTimeout bounds the wait for raft to accept a proposal.
const proposeTimeout = 10 * time.Second

// Entry wire constants. Never change them.
//
//	entry = version(1)=1 | flags(1) | now(8, Unix ms, little endian) |
//	        [uvarint db, if flags has entryDB] |
//	        uvarint ncmds | ncmds × (uvarint nargs | nargs × (uvarint len | bytes))
//
// db is the database the commands start in (the proposing connection's
// SELECT; 0 without entryDB, which entries on database 0 never set).
const (
	entryVersion   = 1
	entryMulti     = 1 << 0 // the commands are an EXEC's queue: reply is an array
	entryDB        = 1 << 1 // a database index follows the header
	entryHeaderLen = 10
)

// errBadEntry: an entry does not decode.
var errBadEntry = errors.New("walkv: malformed cluster entry")

// clustered reports whether the DB runs in cluster mode.
func (db *DB) clustered() bool { return db.opts.Replicator != nil }

// appendEntry encodes an entry.
func appendEntry(b []byte, now int64, multi bool, db int, cmds [][][]byte) []byte {
	var flags byte
	if multi {
		flags |= entryMulti
	}
	if db != 0 {
		flags |= entryDB
	}
	b = append(b, entryVersion, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(now))
	if db != 0 {
		b = binary.AppendUvarint(b, uint64(db))
	}
	b = binary.AppendUvarint(b, uint64(len(cmds)))
	for _, args := range cmds {
		b = binary.AppendUvarint(b, uint64(len(args)))
		for _, a := range args {
			b = binary.AppendUvarint(b, uint64(len(a)))
			b = append(b, a...)
		}
	}
	return b
}

// entry is a decoded entry.
type entry struct {
	now   int64
	multi bool
	db    int
	cmds  [][][]byte
}

// decodeEntry decodes b, bounding every count by the bytes left.
func decodeEntry(b []byte) (entry, error) {
	var e entry
	if len(b) < entryHeaderLen || b[0] != entryVersion || b[1]&^(entryMulti|entryDB) != 0 {
		return e, errBadEntry
	}
	e.multi = b[1]&entryMulti != 0
	e.now = int64(binary.LittleEndian.Uint64(b[2:]))
	hasDB := b[1]&entryDB != 0
	b = b[entryHeaderLen:]
	if hasDB {
		d, w := binary.Uvarint(b)
		if w <= 0 || d == 0 || d >= numDBs {
			return e, errBadEntry
		}
		e.db, b = int(d), b[w:]
	}
	n, err := uvarint(&b)
	if err != nil {
		return e, err
	}
	for range n {
		nargs, err := uvarint(&b)
		if err != nil || nargs == 0 {
			return e, errBadEntry
		}
		args := make([][]byte, nargs)
		for i := range args {
			l, err := uvarint(&b)
			if err != nil || l > uint64(len(b)) {
				return e, errBadEntry
			}
			args[i], b = b[:l:l], b[l:]
		}
		e.cmds = append(e.cmds, args)
	}
	if len(b) != 0 {
		return e, errBadEntry
	}
	return e, nil
}

// uvarint reads a count from *b, refusing counts larger than the bytes
// left (every counted thing takes at least one byte).
func uvarint(b *[]byte) (uint64, error) {
	v, n := binary.Uvarint(*b)
	if n <= 0 || v > uint64(len(*b)-n) {
		return 0, errBadEntry
	}
	*b = (*b)[n:]
	return v, nil
}

// replicable reports whether cmd may run inside ApplyEntry: it reads or
// writes the keyspace and needs neither the connection nor the server,
// or it is SELECT, which changes the database of the entry's later
// commands.
func replicable(cmd *command) bool {
	return cmd.lock != lockNone && cmd.has(flagWrite|flagReadonly) || cmd.name == "select"
}

// ApplyEntry executes a committed entry (raft's FSM apply) and returns
// its RESP reply, in a form that the proposing node converts for its
// client's protocol (entryreply.go): RESP3's types with RESP2's nulls. Every node applies the same entries in the same order
// and so reaches the same state.
func (db *DB) ApplyEntry(data []byte) []byte {
	e, err := decodeEntry(data)
	if err != nil {
		return redcon.AppendError(nil, "ERR "+err.Error())
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	db.appliedNow = max(db.appliedNow, e.now)
	rc := &replyConn{entry: true} // converted for the client by the proposer (entryreply.go)
	x := &exec{db: db, s: &session{}, c: rc, now: db.appliedNow, t: &tx{db: db}, dbi: e.db}
	if e.multi {
		rc.WriteArray(len(e.cmds))
	}
	for _, args := range e.cmds {
		cmd := lookup(args[0])
		if cmd == nil || !cmd.arityOK(len(args)) || !replicable(cmd) {
			rc.WriteError("ERR command not allowed in a cluster entry")
			continue
		}
		x.args = args
		cmd.run(x)
	}
	return rc.buf
}

// SnapshotState captures the keyspace (copy on write, O(shards)) and
// returns a function writing it in the snapshot format; the function may
// run while ApplyEntry goes on.
func (db *DB) SnapshotState() (func(io.Writer) error, error) {
	db.mu.Lock()
	keys := db.freezeAll()
	now := db.appliedNow
	db.mu.Unlock()
	return func(w io.Writer) error {
		_, err := writeSnapshot(w, snapHeader{created: now}, keys.each, now)
		return err
	}, nil
}

// RestoreState replaces the keyspace by the snapshot read from r (written
// by SnapshotState), including the replicated clock.
func (db *DB) RestoreState(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("walkv: restore: %w", err)
	}
	dbs := newKeyspaces()
	h, err := readSnapshot(bytes.NewReader(data), int64(len(data)), func(i int, it *item) { loadItem(&dbs, i, it) })
	if err != nil {
		return fmt.Errorf("walkv: restore: %w", err)
	}
	db.mu.Lock()
	db.dbs, db.appliedNow = dbs, h.created
	db.mu.Unlock()
	return nil
}

// routeCluster handles cmd in cluster mode if it must not run locally:
// writes are proposed; reads, unless ReadStale, are redirected by a
// follower and wait for ConfirmRead on the leader. It reports whether it
// handled cmd.
func (srv *Server) routeCluster(x *exec, cmd *command) bool {
	mode := srv.db.opts.ReadMode
	switch {
	case cmd.has(flagWrite):
		srv.propose(x, false, [][][]byte{x.args})
		return true
	case cmd.has(flagReadonly) && mode != ReadStale && !x.s.readConfirmed:
		done, err := onLeader(x, func(ctx context.Context) error {
			return srv.db.opts.Replicator.ConfirmRead(ctx, mode == ReadLease)
		})
		if err != nil {
			x.c.WriteError("TRYAGAIN cluster: read not served: " + err.Error())
		}
		// A confirmation that began after the whole pipelined batch
		// arrived serves its later reads too: it follows their arrival
		// as well.
		x.s.readConfirmed = !done && err == nil
		return done || err != nil
	}
	return false
}

// proposeExec replicates an EXEC's queue as one entry: it applies
// atomically on every node. Once applied, the connection is left in the
// database the queue's SELECTs chose, as a local EXEC leaves it.
func (srv *Server) proposeExec(x *exec, queue []queued) {
	cmds := make([][][]byte, len(queue))
	final := x.dbi
	for i, q := range queue {
		if !replicable(q.cmd) {
			x.c.WriteError("EXECABORT Transaction discarded: " + q.cmd.name + " is not allowed in MULTI in cluster mode")
			return
		}
		if q.cmd.name == "select" { // arity 2, checked when queued
			if n, ok := parseInt(q.args[1]); ok && n >= 0 && n < numDBs {
				final = int(n)
			}
		}
		cmds[i] = q.args
	}
	if srv.propose(x, true, cmds) {
		x.selectDB(final)
	}
}

// propose replicates cmds and writes the reply ApplyEntry produced; it
// reports whether they were applied.
func (srv *Server) propose(x *exec, multi bool, cmds [][][]byte) bool {
	var res any
	data := appendEntry(nil, srv.db.now(), multi, x.dbi, cmds)
	if !srv.db.entryFits(len(data)) { // refused before raft sees it: see entrylimit.go
		x.c.WriteError(errTxnTooLarge)
		return false
	}
	done, err := onLeader(x, func(ctx context.Context) (err error) {
		res, err = srv.db.opts.Replicator.Propose(ctx, data)
		return err
	})
	switch {
	case done:
	case errors.Is(err, wal.ErrTooLarge):
		x.c.WriteError("ERR cluster: command too large, not applied: " + err.Error())
	case errors.Is(err, ErrRejected):
		x.c.WriteError("TRYAGAIN cluster: not applied: " + err.Error())
	case err != nil:
		x.c.WriteError("ERR cluster: outcome unknown: " + err.Error())
	default:
		reply, _ := res.([]byte)
		out, err := entryReply(nil, reply, x.typed().Resp3())
		if err != nil {
			x.c.WriteError("ERR cluster: " + err.Error())
			return true // applied; only its reply could not be converted
		}
		x.c.WriteRaw(out)
		return true
	}
	return false
}

// onLeader runs fn with the propose timeout if this node is the leader.
// If it is not, before fn or by fn's ErrNotLeader, it redirects the
// client (writeMoved) and reports done; otherwise it returns fn's error.
func onLeader(x *exec, fn func(context.Context) error) (done bool, err error) {
	repl := x.db.opts.Replicator
	if addr, leader := repl.Leader(); !leader {
		writeMoved(x.c, addr)
		return true, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), proposeTimeout)
	defer cancel()
	err = fn(ctx)
	if errors.Is(err, ErrNotLeader) {
		addr, _ := repl.Leader()
		writeMoved(x.c, addr)
		return true, nil
	}
	return false, err
}

func init() {
	register(&command{name: "cluster", arity: -2, flags: flagAdmin | flagNoMulti, run: cmdCluster})
}

// cmdCluster runs CLUSTER JOIN (see cluster mode above).
func cmdCluster(x *exec) {
	if clusterAdmin(x) { // NODES, INFO, FORGET, FAILOVER; JOIN's SECRET (cmd_cluster_admin.go)
		return
	}
	if bytes.EqualFold(x.args[1], []byte("status")) {
		cmdClusterStatus(x) // cluster_status.go
		return
	}
	if bytes.EqualFold(x.args[1], []byte("repair")) {
		cmdClusterRepair(x) // cluster_status.go
		return
	}
	if !bytes.EqualFold(x.args[1], []byte("join")) {
		x.c.WriteError("ERR unknown subcommand '" + string(x.args[1]) + "'. Try CLUSTER JOIN.")
		return
	}
	if len(x.args) != 5 {
		x.c.WriteError(errArity("cluster|join"))
		return
	}
	j, ok := x.db.opts.Replicator.(Joiner)
	if !ok {
		x.c.WriteError("ERR This instance has cluster support disabled")
		return
	}
	id, raftAddr, clientAddr := string(x.args[2]), string(x.args[3]), string(x.args[4])
	if id == "" || raftAddr == "" || clientAddr == "" {
		x.c.WriteError("ERR CLUSTER JOIN needs a node id, a raft address and a client address")
		return
	}
	done, err := onLeader(x, func(ctx context.Context) error { return j.Join(ctx, id, raftAddr, clientAddr) })
	switch {
	case done:
	case err != nil:
		x.c.WriteError("TRYAGAIN cluster join: " + err.Error())
	default:
		x.c.WriteString("OK")
	}
}

// writeMoved redirects the client to the leader at addr.
func writeMoved(c redcon.Conn, addr string) {
	if addr == "" {
		c.WriteError("CLUSTERDOWN no leader elected")
		return
	}
	c.WriteError("MOVED 0 " + addr)
}

// replyConn is the redcon.Conn commands write to inside ApplyEntry: it
// collects the RESP reply.
type replyConn struct {
	buf []byte
	// s is the session whose protocol the replies follow (reply3.go);
	// nil: RESP2.
	s *session
	// entry: the replies are in ApplyEntry's form (entryreply.go).
	entry bool
}

var _ redcon.Conn = (*replyConn)(nil)

func (c *replyConn) RemoteAddr() string             { return "" }
func (c *replyConn) Close() error                   { return nil }
func (c *replyConn) WriteError(msg string)          { c.buf = redcon.AppendError(c.buf, msg) }
func (c *replyConn) WriteString(s string)           { c.buf = redcon.AppendString(c.buf, s) }
func (c *replyConn) WriteBulk(b []byte)             { c.buf = redcon.AppendBulk(c.buf, b) }
func (c *replyConn) WriteBulkString(s string)       { c.buf = redcon.AppendBulkString(c.buf, s) }
func (c *replyConn) WriteInt(n int)                 { c.buf = redcon.AppendInt(c.buf, int64(n)) }
func (c *replyConn) WriteInt64(n int64)             { c.buf = redcon.AppendInt(c.buf, n) }
func (c *replyConn) WriteUint64(n uint64)           { c.buf = redcon.AppendUint(c.buf, n) }
func (c *replyConn) WriteArray(n int)               { c.buf = redcon.AppendArray(c.buf, n) }
func (c *replyConn) WriteRaw(b []byte)              { c.buf = append(c.buf, b...) }
func (c *replyConn) WriteAny(v any)                 { c.buf = redcon.AppendAny(c.buf, v) }
func (c *replyConn) Context() any                   { return nil }
func (c *replyConn) SetContext(any)                 {}
func (c *replyConn) SetReadBuffer(int)              {}
func (c *replyConn) Detach() redcon.DetachedConn    { return nil }
func (c *replyConn) ReadPipeline() []redcon.Command { return nil }
func (c *replyConn) PeekPipeline() []redcon.Command { return nil }
func (c *replyConn) NetConn() net.Conn              { return nil }

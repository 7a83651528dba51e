package walkv

import (
	"sync/atomic"

	"github.com/tidwall/redcon"
)

// session is the state of one client connection. The connection's
// goroutine owns it, except watched and dirty, which DB.mu guards (writers
// on other connections mark dirty).
type session struct {
	id   int64
	name string
	// resp3: the connection speaks RESP3 (HELLO 3) rather than RESP2
	// (reply3.go). Atomic: a publisher on another event loop reads it to
	// frame the messages it pushes to the connection.
	resp3 atomic.Bool
	// user is the ACL user the connection runs as; authed says whether it
	// authenticated (or needed not to): see Access control in acl.go.
	user   *aclUser
	authed bool
	// pubsub puts the connection in the pubsub class of
	// client-output-buffer-limit (set by SUBSCRIBE, when there is one).
	pubsub bool
	// pending is the largest transaction id a reply already written on
	// this connection may depend on (its own writes, or state it read).
	// Under appendfsync always, the replies are flushed to the client only
	// once it is durable.
	pending uint64
	// broken: a reply already buffered must not be sent (its transaction
	// failed to reach the log); the connection is dropped.
	broken bool

	// db is the selected database (SELECT; see databases.go).
	db int

	multi    bool     // between MULTI and EXEC/DISCARD
	multiErr bool     // a command was rejected while queueing: EXECABORT
	queue    []queued // commands queued by MULTI

	watched map[dbKey]bool // key -> live at WATCH; guarded by DB.mu
	dirty   bool           // a watched key changed; guarded by DB.mu

	// readConfirmed: cluster mode, a read of the batch of pipelined
	// requests being run had its leadership confirmed, after every
	// request of the batch arrived; the batch's later reads reuse it
	// (see routeCluster). Reset for each batch.
	readConfirmed bool

	// info is what CLIENT LIST shows to other connections (client.go).
	info clientMeta
	// CLIENT REPLY: replyOff drops every reply, replySkip the current
	// command's, skipNext makes the next command's replySkip.
	replyOff, replySkip, skipNext bool
	// forceSync: WAITAOF asked that the replies so far wait until
	// durable under any appendfsync policy (see conn.settle).
	forceSync bool

	// x and t are the reusable memory of the single-node command being
	// run (see scratch); only the connection's goroutine touches them.
	x exec
	t tx

	// errReplies counts the error replies written (conn.WriteError), so
	// that runCounted sees whether a command failed.
	errReplies int64
}

// maxScratchOps bounds the operations a session's reusable tx keeps room
// for, so one huge MSET or EXEC does not pin its memory.
const maxScratchOps = 16

// scratch returns the session's reusable exec, set up for one command.
// The command must not keep x (or x.t) once it returns; release clears
// it. Single-node only: cluster mode may hand an exec to another
// goroutine.
func (s *session) scratch(srv *Server, c redcon.Conn, args [][]byte) *exec {
	s.x = exec{srv: srv, db: srv.db, s: s, c: c, args: args, dbi: s.db}
	return &s.x
}

// release drops the references the scratch exec and tx hold.
func (s *session) release() {
	s.x = exec{}
	s.t.reset()
}

// newTx returns the session's reusable tx, empty. REQUIRES: DB.mu held
// for writing, scratch in use.
func (s *session) newTx(db *DB) *tx {
	s.t.reset()
	s.t.db = db
	return &s.t
}

// queued is a command waiting for EXEC.
type queued struct {
	cmd  *command
	args [][]byte
}

// depend records that the connection's replies depend on transaction id.
func (s *session) depend(id uint64) { s.pending = max(s.pending, id) }

// endMulti leaves MULTI state.
func (s *session) endMulti() {
	s.multi, s.multiErr, s.queue = false, false, nil
}

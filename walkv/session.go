package walkv

// session is the state of one client connection. The connection's
// goroutine owns it, except watched and dirty, which DB.mu guards (writers
// on other connections mark dirty).
type session struct {
	id   int64
	name string
	// pending is the largest transaction id a reply already written on
	// this connection may depend on (its own writes, or state it read).
	// Under appendfsync always, the replies are flushed to the client only
	// once it is durable.
	pending uint64
	// broken: a reply already buffered must not be sent (its transaction
	// failed to reach the log); the connection is dropped.
	broken bool

	multi    bool     // between MULTI and EXEC/DISCARD
	multiErr bool     // a command was rejected while queueing: EXECABORT
	queue    []queued // commands queued by MULTI

	watched map[string]bool // key -> live at WATCH; guarded by DB.mu
	dirty   bool            // a watched key changed; guarded by DB.mu
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

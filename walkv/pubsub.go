package walkv

import (
	"slices"
	"sync"

	"github.com/panjf2000/gnet/v2"
	"github.com/tidwall/redcon"
)

// Pub/Sub (SUBSCRIBE, PSUBSCRIBE, their UNSUBSCRIBE forms, PUBLISH,
// PUBSUB), as Redis 7.0: nothing is logged or kept; a message goes to the
// connections subscribed when it is published, as a push under RESP3.
//
// The server's hub (pubsubHub, its own mutex) maps each channel and each
// pattern to its subscribed connections, in subscription order; each
// connection keeps its own channels and patterns (subscriptions, owned
// by whoever runs its commands). PUBLISH builds each message's RESP bytes
// once and hands them to every receiving connection through that
// connection's event loop (gnet's AsyncWrite callback, as blocking.go
// delivers to a blocked client): the loop appends them to the
// connection's replies and sends them, so connections on other loops are
// never touched by the publisher, and the messages of one publisher reach
// a subscriber in publication order. A subscribed connection is in the
// pubsub class of client-output-buffer-limit (session.pubsub): one that
// does not read is closed at that limit.
//
// A RESP2 connection subscribed to anything runs only (P)SUBSCRIBE,
// (P)UNSUBSCRIBE, PING, QUIT and RESET, with Redis's error for the rest; a
// RESP3 one runs any command, its replies between the pushes.
// In cluster mode PUBLISH reaches the subscribers of the node it runs on
// only (Redis Cluster broadcasts it over its bus; walkv's raft log is for
// data, and messages are not data).

// pubsubHub holds every connection's subscriptions.
type pubsubHub struct {
	mu       sync.Mutex
	channels map[string][]*conn
	patterns map[string][]*conn
	patOrder []string // patterns in order of first subscription
}

// subscriptions are one connection's channels and patterns, in the order
// it subscribed.
type subscriptions struct {
	channels []string
	patterns []string
}

func (s *subscriptions) count() int { return len(s.channels) + len(s.patterns) }

func init() {
	register(
		&command{name: "subscribe", arity: -2, cats: catPubsub, run: cmdSubscribe},
		&command{name: "psubscribe", arity: -2, cats: catPubsub, run: cmdSubscribe},
		&command{name: "unsubscribe", arity: -1, cats: catPubsub, run: cmdUnsubscribe},
		&command{name: "punsubscribe", arity: -1, cats: catPubsub, run: cmdUnsubscribe},
		&command{name: "publish", arity: 3, flags: flagFast, cats: catPubsub, run: cmdPublish},
		&command{name: "pubsub", arity: -2, cats: catPubsub, run: cmdPubsub},
		&command{name: "reset", arity: 1, flags: flagFast | flagMultiCtl, run: cmdReset},
	)
}

// subscribedAllows reports whether a connection in subscribed mode may
// run cmd, replying Redis's error if not (or the subcommand's own error,
// which Redis checks first).
func subscribedAllows(c redcon.Conn, cmd *command, args [][]byte) bool {
	switch cmd.name {
	case "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ping", "quit", "reset":
		return true
	}
	name := cmd.name
	if subcommandArity[cmd.name] != nil && len(args) > 1 {
		if msg := subcommandError(cmd, args); msg != "" {
			c.WriteError(msg)
			return false
		}
		name += "|" + lowerASCII(string(args[1]))
	}
	msg := "Can't execute '" + clip(name) + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
	if cmd.name == "exec" { // Redis answers a refused EXEC so
		c.WriteError("EXECABORT Transaction discarded because of: " + msg)
		return false
	}
	c.WriteError("ERR " + msg)
	return false
}

// pubsubConn returns the client connection of x, or replies an error.
func (x *exec) pubsubConn() *conn {
	c, ok := x.c.(*conn)
	if !ok {
		x.c.WriteError("ERR " + x.key(0) + " is not allowed here")
	}
	return c
}

// cmdSubscribe serves SUBSCRIBE channel... and PSUBSCRIBE pattern...:
// one reply per argument, with the connection's subscription count.
func cmdSubscribe(x *exec) {
	c := x.pubsubConn()
	if c == nil {
		return
	}
	pattern := x.args[0][0]|0x20 == 'p'
	kind := "subscribe"
	if pattern {
		kind = "psubscribe"
	}
	for _, a := range x.args[1:] {
		x.srv.ps.subscribe(c, string(a), pattern)
		x.writeSubReply(kind, a, c.subs.count())
	}
	c.noteSubs()
}

// cmdUnsubscribe serves UNSUBSCRIBE [channel...] and PUNSUBSCRIBE
// [pattern...]; with no arguments it drops every channel (pattern), and
// if there is none replies once with a null name.
func cmdUnsubscribe(x *exec) {
	c := x.pubsubConn()
	if c == nil {
		return
	}
	pattern := x.args[0][0]|0x20 == 'p'
	kind := "unsubscribe"
	if pattern {
		kind = "punsubscribe"
	}
	names := x.args[1:]
	if len(names) == 0 {
		mine := c.subs.channels
		if pattern {
			mine = c.subs.patterns
		}
		for _, n := range mine {
			names = append(names, []byte(n))
		}
		if len(names) == 0 {
			x.writeSubReply(kind, nil, c.subs.count())
		}
	}
	for _, a := range names {
		x.srv.ps.unsubscribe(c, string(a), pattern)
		x.writeSubReply(kind, a, c.subs.count())
	}
	c.noteSubs()
}

// writeSubReply writes [kind, name, count], a push under RESP3; a nil
// name is a null.
func (x *exec) writeSubReply(kind string, name []byte, n int) {
	x.typed().WritePush(3)
	x.c.WriteBulkString(kind)
	if name == nil {
		x.c.WriteNull()
	} else {
		x.c.WriteBulk(name)
	}
	x.c.WriteInt(n)
}

// subscribe adds c to channel (or pattern) unless already there.
func (h *pubsubHub) subscribe(c *conn, name string, pattern bool) {
	mine := &c.subs.channels
	if pattern {
		mine = &c.subs.patterns
	}
	if slices.Contains(*mine, name) {
		return
	}
	*mine = append(*mine, name)
	h.mu.Lock()
	defer h.mu.Unlock()
	m := &h.channels
	if pattern {
		m = &h.patterns
	}
	if *m == nil {
		*m = map[string][]*conn{}
	}
	if pattern && len((*m)[name]) == 0 {
		h.patOrder = append(h.patOrder, name)
	}
	(*m)[name] = append((*m)[name], c)
}

// unsubscribe removes c from channel (or pattern) if there.
func (h *pubsubHub) unsubscribe(c *conn, name string, pattern bool) {
	mine := &c.subs.channels
	if pattern {
		mine = &c.subs.patterns
	}
	i := slices.Index(*mine, name)
	if i < 0 {
		return
	}
	*mine = slices.Delete(*mine, i, i+1)
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.channels
	if pattern {
		m = h.patterns
	}
	cs := m[name]
	if j := slices.Index(cs, c); j >= 0 {
		cs = slices.Delete(cs, j, j+1)
	}
	if len(cs) > 0 {
		m[name] = cs
		return
	}
	delete(m, name)
	if pattern {
		if j := slices.Index(h.patOrder, name); j >= 0 {
			h.patOrder = slices.Delete(h.patOrder, j, j+1)
		}
	}
}

// unsubscribeAll drops every subscription of c (RESET, connection close).
func (h *pubsubHub) unsubscribeAll(c *conn) {
	for len(c.subs.channels) > 0 {
		h.unsubscribe(c, c.subs.channels[0], false)
	}
	for len(c.subs.patterns) > 0 {
		h.unsubscribe(c, c.subs.patterns[0], true)
	}
	c.noteSubs()
}

// noteSubs records c's subscription counts: the output-buffer class, and
// CLIENT LIST's.
func (c *conn) noteSubs() {
	c.s.pubsub = c.subs.count() > 0
	c.s.info.subs.Store(int32(len(c.subs.channels)))
	c.s.info.psubs.Store(int32(len(c.subs.patterns)))
}

// cmdPublish serves PUBLISH channel message: the number of receivers (a
// connection subscribed to the channel and to matching patterns counts
// once for each).
func cmdPublish(x *exec) {
	x.c.WriteInt(x.srv.ps.publish(x.key(1), x.args[2]))
}

// publish delivers msg on channel and returns the number of receivers.
func (h *pubsubHub) publish(channel string, msg []byte) int {
	type delivery struct {
		c *conn
		m *pushMsg
	}
	var ds []delivery
	h.mu.Lock()
	if cs := h.channels[channel]; len(cs) > 0 {
		b := redcon.AppendArray(nil, 3)
		b = redcon.AppendBulkString(b, "message")
		b = redcon.AppendBulkString(b, channel)
		b = redcon.AppendBulk(b, msg)
		m := &pushMsg{resp2: b}
		for _, c := range cs {
			ds = append(ds, delivery{c, m})
		}
	}
	for _, p := range h.patOrder {
		if !globMatch(p, channel) {
			continue
		}
		b := redcon.AppendArray(nil, 4)
		b = redcon.AppendBulkString(b, "pmessage")
		b = redcon.AppendBulkString(b, p)
		b = redcon.AppendBulkString(b, channel)
		b = redcon.AppendBulk(b, msg)
		m := &pushMsg{resp2: b}
		for _, c := range h.patterns[p] {
			ds = append(ds, delivery{c, m})
		}
	}
	h.mu.Unlock()
	for _, d := range ds {
		d.c.push(d.m.frame(d.c.s.resp3.Load()))
	}
	return len(ds)
}

// pushMsg is one published message, built once as a RESP2 array; a
// RESP3 receiver gets it as a push (">" for "*": same length), copied
// once for all of them.
type pushMsg struct{ resp2, resp3 []byte }

func (m *pushMsg) frame(resp3 bool) []byte {
	if !resp3 {
		return m.resp2
	}
	if m.resp3 == nil {
		m.resp3 = append([]byte(nil), m.resp2...)
		m.resp3[0] = '>'
	}
	return m.resp3
}

// push queues a message for c and, unless a task to deliver the queue is
// already scheduled on c's event loop, schedules one (deliverPush): the
// messages published meanwhile go out together, with one write.
func (c *conn) push(b []byte) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.pushQ = append(c.pushQ, b...)
	schedule := !c.pushing
	c.pushing = true
	c.mu.Unlock()
	if schedule {
		_ = c.gc.AsyncWrite(nil, c.deliverPush) // fails only if the connection closed: nothing to deliver
	}
}

// deliverPush appends the queued messages to c's replies and sends them,
// unless they wait (an fsync under appendfsync always; or a goroutine
// owns them in cluster mode: the queue then stays until it hands them
// back, see OnTraffic). It runs on c's event loop.
func (c *conn) deliverPush(gnet.Conn, error) error {
	c.mu.Lock()
	c.pushing = false
	if c.closed || c.busy && !c.finished {
		c.mu.Unlock()
		return nil
	}
	b := c.pushQ
	c.pushQ = nil
	c.mu.Unlock()
	if c.overLimit || c.closing || c.s.replyOff || len(b) == 0 {
		return nil // CLIENT REPLY OFF drops messages too, as in Redis
	}
	c.buf = append(c.buf, b...)
	if c.syncing {
		return nil // the loop's flush sends it
	}
	if c.send() == gnet.Close {
		_ = c.gc.Close()
	}
	return nil
}

// cmdPubsub serves PUBSUB CHANNELS [pattern], NUMSUB [channel...] and
// NUMPAT.
func cmdPubsub(x *exec) {
	h := &x.srv.ps
	sub := lowerASCII(string(x.args[1]))
	if msg := subcommandError(commands["pubsub"], x.args); msg != "" {
		x.c.WriteError(msg)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch sub {
	case "channels":
		var names []string
		for ch := range h.channels {
			if len(x.args) < 3 || globMatch(string(x.args[2]), ch) {
				names = append(names, ch)
			}
		}
		slices.Sort(names)
		x.writeStrings(names)
	case "numsub":
		x.c.WriteArray(2 * (len(x.args) - 2))
		for _, ch := range x.args[2:] {
			x.c.WriteBulk(ch)
			x.c.WriteInt(len(h.channels[string(ch)]))
		}
	case "numpat":
		x.c.WriteInt(len(h.patterns))
	case "shardchannels":
		x.c.WriteArray(0) // walkv has no shard channels
	case "shardnumsub":
		x.c.WriteArray(2 * (len(x.args) - 2))
		for _, ch := range x.args[2:] {
			x.c.WriteBulk(ch)
			x.c.WriteInt(0)
		}
	case "help":
		x.writeStrings([]string{
			"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CHANNELS [<pattern>]",
			"    Return the currently active channels matching a <pattern> (default: '*').",
			"NUMPAT",
			"    Return number of subscriptions to patterns.",
			"NUMSUB [<channel> ...]",
			"    Return the number of subscribers for the specified channels, excluding",
			"    pattern subscriptions(default: no channels).",
			"HELP",
			"    Prints this help.",
		})
	}
}

// cmdReset serves RESET: the connection leaves MULTI, WATCH and its
// subscriptions, drops its name, and is the default user again
// (authenticated only if that user needs no password), as Redis does.
func cmdReset(x *exec) {
	s := x.s
	if s.multi {
		s.endMulti()
	}
	if s.watched != nil {
		x.db.unwatch(s)
	}
	if c, ok := x.c.(*conn); ok {
		x.srv.ps.unsubscribeAll(c)
	}
	s.setName("")
	x.selectDB(0)
	s.replyOff, s.replySkip, s.skipNext = false, false, false
	s.info.noEvict.Store(false)
	s.resp3.Store(false) // RESET speaks RESP2 again
	x.srv.startSession(s)
	x.c.WriteString("RESET")
}

// pingSubscribed is PING's reply in subscribed mode: ["pong", message].
func (x *exec) pingSubscribed() {
	x.c.WriteArray(2)
	x.c.WriteBulkString("pong")
	if len(x.args) > 1 {
		x.c.WriteBulk(x.args[1])
	} else {
		x.c.WriteBulkString("")
	}
}

// pubsubStats returns INFO's pubsub_channels and pubsub_patterns.
func (srv *Server) pubsubStats() []infoField {
	h := &srv.ps
	h.mu.Lock()
	defer h.mu.Unlock()
	return []infoField{{"pubsub_channels", len(h.channels)}, {"pubsub_patterns", len(h.patterns)}}
}

package walkv

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// CLIENT LIST, INFO, KILL, REPLY, NO-EVICT, and WAITAOF.
//
// CLIENT LIST runs on one connection's goroutine and reads the others: it
// reads only what never changes after OnOpen (id, address, creation
// time) and clientMeta's atomics, which each connection's owner updates.

// clientMeta is what other connections may read of a session.
type clientMeta struct {
	created int64 // Unix ns; set once before the connection is served
	name    atomic.Pointer[string]
	user    atomic.Pointer[string]
	cmd     atomic.Pointer[string] // the last command's name
	subs    atomic.Int32           // channels
	psubs   atomic.Int32           // patterns
	noEvict atomic.Bool
	db      atomic.Int32 // the selected database
}

// setName sets the connection name (CLIENT SETNAME, HELLO SETNAME).
func (s *session) setName(name string) {
	s.name = name
	s.info.name.Store(&name)
}

// setUser records the name of the session's user for CLIENT LIST.
func (s *session) setUser() {
	if s.user != nil {
		name := s.user.name
		s.info.user.Store(&name)
	}
}

// validClientName reports whether name is allowed by CLIENT SETNAME: no
// spaces, newlines or other characters outside '!'..'~', as Redis.
func validClientName(name []byte) bool {
	for _, b := range name {
		if b < '!' || b > '~' {
			return false
		}
	}
	return true
}

// describe renders c as a line of CLIENT LIST (Redis 7.0's fields; those
// walkv does not track are 0).
func (c *conn) describe(laddr string, now time.Time) string {
	m := &c.s.info
	str := func(p *atomic.Pointer[string], def string) string {
		if v := p.Load(); v != nil {
			return *v
		}
		return def
	}
	flags := "N"
	if m.subs.Load()+m.psubs.Load() > 0 {
		flags = "P"
	}
	if m.noEvict.Load() {
		flags += "e"
	}
	age := now.Sub(time.Unix(0, m.created)) / time.Second
	idle := now.Sub(time.Unix(0, c.lastActive.Load())) / time.Second
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=0 "+
		"multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r "+
		"cmd=%s user=%s redir=-1 resp=%d\n",
		c.s.id, c.addr, laddr, c.gc.Fd(), str(&m.name, ""), int64(age), int64(idle), flags, m.db.Load(), m.subs.Load(), m.psubs.Load(),
		str(&m.cmd, "NULL"), str(&m.user, "default"), 2+b2i(c.s.resp3.Load()))
}

// clientFilter is CLIENT LIST's and CLIENT KILL's selection.
type clientFilter struct {
	ids    map[int64]bool
	addr   string
	laddr  string
	user   string
	typ    string // normal, pubsub ("" any)
	skipMe bool
	me     int64
}

func (f *clientFilter) match(c *conn, laddr string) bool {
	m := &c.s.info
	switch {
	case f.ids != nil && !f.ids[c.s.id],
		f.addr != "" && c.addr != f.addr,
		f.laddr != "" && laddr != f.laddr,
		f.skipMe && c.s.id == f.me:
		return false
	case f.user != "":
		if u := m.user.Load(); u == nil && f.user != "default" || u != nil && *u != f.user {
			return false
		}
	}
	pubsub := m.subs.Load()+m.psubs.Load() > 0
	switch f.typ {
	case "normal":
		return !pubsub
	case "pubsub":
		return pubsub
	case "master", "replica", "slave":
		return false
	}
	return true
}

// clients returns the connections f selects, in id order.
func (srv *Server) clients(f *clientFilter) []*conn {
	srv.mu.Lock()
	var cs []*conn
	for c := range srv.live {
		if f.match(c, srv.Addr().String()) {
			cs = append(cs, c)
		}
	}
	srv.mu.Unlock()
	slicesSortFunc(cs)
	return cs
}

func slicesSortFunc(cs []*conn) {
	for i := 1; i < len(cs); i++ { // insertion sort: lists are short
		for j := i; j > 0 && cs[j].s.id < cs[j-1].s.id; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// cmdClientMore serves the CLIENT subcommands of this file; it returns
// false for the others.
func cmdClientMore(x *exec) bool {
	sub := strings.ToLower(string(x.args[1]))
	laddr := x.srv.Addr().String()
	switch {
	case sub == "list":
		f, ok := x.parseClientFilter(2, true)
		if !ok {
			return true
		}
		var b strings.Builder
		now := time.Now()
		for _, c := range x.srv.clients(&f) {
			b.WriteString(c.describe(laddr, now))
		}
		x.typed().WriteVerbatim(b.String())
	case sub == "info" && len(x.args) == 2:
		if c, ok := x.c.(*conn); ok {
			x.typed().WriteVerbatim(c.describe(laddr, time.Now()))
		} else {
			x.typed().WriteVerbatim("")
		}
	case sub == "kill" && len(x.args) == 3: // the old form: CLIENT KILL addr:port
		f := clientFilter{addr: string(x.args[2])}
		cs := x.srv.clients(&f)
		if len(cs) == 0 {
			x.c.WriteError("ERR No such client")
			return true
		}
		x.kill(cs)
		x.c.WriteString("OK")
	case sub == "kill":
		f, ok := x.parseClientFilter(2, false)
		if !ok {
			return true
		}
		cs := x.srv.clients(&f)
		x.kill(cs)
		x.c.WriteInt(len(cs))
	case sub == "reply" && len(x.args) == 3:
		switch {
		case eqFold(x.args[2], "on"):
			x.s.replyOff, x.s.replySkip = false, false
			x.c.WriteString("OK")
		case eqFold(x.args[2], "off"):
			x.s.replyOff = true
		case eqFold(x.args[2], "skip"):
			if !x.s.replyOff {
				x.s.skipNext = true
			}
		default:
			x.c.WriteError(errSyntax)
		}
	case sub == "no-evict" && len(x.args) == 3:
		switch {
		case eqFold(x.args[2], "on"):
			x.s.info.noEvict.Store(true)
			x.c.WriteString("OK")
		case eqFold(x.args[2], "off"):
			x.s.info.noEvict.Store(false)
			x.c.WriteString("OK")
		default:
			x.c.WriteError(errSyntax)
		}
	default:
		return false
	}
	return true
}

// kill closes the connections cs; the calling connection closes after
// its reply, as in Redis.
func (x *exec) kill(cs []*conn) {
	for _, c := range cs {
		if c.s.id == x.s.id {
			x.c.Close()
			continue
		}
		_ = c.gc.Close() // asynchronous, on the connection's loop
	}
}

// parseClientFilter parses CLIENT LIST's (list: TYPE, ID) or CLIENT
// KILL's filters from args[i:], replying the error if they are bad.
func (x *exec) parseClientFilter(i int, list bool) (clientFilter, bool) {
	f := clientFilter{me: x.s.id, skipMe: !list}
	args := x.args
	if !list && len(args) == i {
		x.c.WriteError(errSyntax)
		return f, false
	}
	for i < len(args) {
		opt := strings.ToLower(string(args[i]))
		if i+1 >= len(args) {
			x.c.WriteError(errSyntax)
			return f, false
		}
		v := string(args[i+1])
		switch {
		case opt == "type":
			f.typ = strings.ToLower(v)
			switch f.typ {
			case "normal", "pubsub", "master", "replica", "slave":
			default:
				x.c.WriteError("ERR Unknown client type '" + clip(v) + "'")
				return f, false
			}
			i += 2
		case opt == "id":
			if f.ids == nil {
				f.ids = map[int64]bool{}
			}
			j := i + 1
			for ; j < len(args) && (list || j == i+1); j++ {
				id, ok := parseInt(args[j])
				if !ok || !list && id <= 0 { // LIST matches no client for id 0, as Redis
					if list {
						x.c.WriteError("ERR Invalid client ID")
					} else {
						x.c.WriteError("ERR client-id should be greater than 0")
					}
					return f, false
				}
				f.ids[id] = true
			}
			i = j
		case !list && opt == "addr":
			f.addr, i = v, i+2
		case !list && opt == "laddr":
			f.laddr, i = v, i+2
		case !list && opt == "user":
			f.user, i = v, i+2
		case !list && opt == "skipme":
			switch strings.ToLower(v) {
			case "yes":
				f.skipMe = true
			case "no":
				f.skipMe = false
			default:
				x.c.WriteError(errSyntax)
				return f, false
			}
			i += 2
		case !list && opt == "maxage":
			if _, ok := parseInt(args[i+1]); !ok {
				x.c.WriteError(errNotInt)
				return f, false
			}
			i += 2 // every walkv client qualifies by age: not tracked finer
		default:
			x.c.WriteError(errSyntax)
			return f, false
		}
	}
	return f, true
}

// cmdWaitaof serves WAITAOF numlocal numreplicas timeout (Redis 7.2):
// [local acks, replica acks] once everything the connection wrote (or
// read) is durable in the local log. Under appendfsync always the
// replies wait for that anyway; under everysec and no the connection's
// replies are held until the log reports it durable: the loop asks the
// log (loopWait), whose syncer fsyncs at once, shared with other waiting
// connections. walkv has no replicas: it answers 0 for
// them at once rather than waiting out the timeout.
func cmdWaitaof(x *exec) {
	local, ok1 := parseInt(x.args[1])
	replicas, ok2 := parseInt(x.args[2])
	timeout, ok3 := parseInt(x.args[3])
	switch {
	case !ok1 || !ok2 || !ok3:
		x.c.WriteError(errNotInt)
		return
	case local < 0 || replicas < 0:
		x.c.WriteError("ERR value is out of range, must be positive")
		return
	case timeout < 0:
		x.c.WriteError("ERR timeout is negative")
		return
	}
	x.s.forceSync = true
	x.c.WriteArray(2)
	x.c.WriteInt(1)
	x.c.WriteInt(0)
}

func init() {
	register(&command{name: "waitaof", arity: 4, cats: catConnection, run: cmdWaitaof})
}

// replyMode applies CLIENT REPLY to the replies the command just run
// added after mark.
func (c *conn) replyMode(mark int) {
	s := &c.s
	if (s.replyOff || s.replySkip) && mark <= len(c.buf) {
		c.buf = c.buf[:mark]
	}
	s.replySkip = false
	if s.skipNext {
		s.skipNext, s.replySkip = false, true
	}
}

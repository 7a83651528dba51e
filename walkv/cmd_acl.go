package walkv

import (
	"strings"
	"time"

	"github.com/tidwall/redcon"
)

// Replies of authentication and authorization, worded as Redis 7.0's.
const (
	errNoAuth      = "NOAUTH Authentication required."
	errWrongPass   = "WRONGPASS invalid username-password pair or user is disabled."
	errHelloNoAuth = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	errNoPermKey   = "NOPERM this user has no permissions to access one of the keys used as arguments"
	errAuthNoPass  = "ERR AUTH <password> called without any password configured for the default user. Are you sure your client configuration is correct?"
)

func init() {
	register(
		&command{name: "auth", arity: -2, flags: flagFast | flagNoMulti, run: cmdAuth},
		&command{name: "acl", arity: -2, flags: flagAdmin | flagNoMulti, run: cmdACL},
	)
}

// noAuthCommand reports whether cmd runs before authentication.
func noAuthCommand(cmd *command) bool {
	return cmd.name == "auth" || cmd.name == "hello" || cmd.name == "quit" || cmd.name == "reset"
}

// authRequired reports whether connections that did not authenticate
// are refused: the default user has a password or is off.
func (a *aclStore) authRequired() bool {
	p := a.def.perms()
	return !p.nopass || !p.enabled
}

// startSession sets up a new connection's authentication state as Redis
// does: authenticated as default if that user is on and has nopass.
func (srv *Server) startSession(s *session) {
	s.user = srv.acl.def
	s.setUser()
	p := s.user.perms()
	s.authed = p.nopass && p.enabled
}

// permit checks that the session may run cmd with args (authentication,
// command and key permissions) and replies the refusal if not.
// REQUIRES: cmd's arity holds.
func (srv *Server) permit(s *session, c redcon.Conn, cmd *command, args [][]byte) bool {
	if s.user == nil {
		return true // not a client connection
	}
	p := s.user.perms()
	if p.allCmds && p.allKeys && !p.deleted && (s.authed || !srv.acl.authRequired()) {
		return true
	}
	switch {
	case p.deleted:
		c.WriteError("ERR the user of this connection was deleted")
		c.Close()
		return false
	case !s.authed && srv.acl.authRequired() && !noAuthCommand(cmd):
		c.WriteError(errNoAuth)
		return false
	case !s.authed:
		return true // AUTH, HELLO or QUIT
	case !p.allows(cmd, args):
		srv.acl.deniedCmd.Add(1)
		srv.acl.record("command", srv.aclContext(s), cmd.name, s.user.name, c.RemoteAddr())
		c.WriteError("NOPERM this user has no permissions to run the '" + cmd.name + "' command")
		return false
	}
	denied := ""
	cmd.keyPositions(args, func(i int) bool {
		if !p.keyAllowed(cmd, args[i]) {
			denied = string(args[i])
			return false
		}
		return true
	})
	if denied != "" {
		srv.acl.deniedKey.Add(1)
		srv.acl.record("key", srv.aclContext(s), clip(denied), s.user.name, c.RemoteAddr())
		c.WriteError(errNoPermKey)
		return false
	}
	return true
}

func (srv *Server) aclContext(s *session) string {
	if s.multi {
		return "multi"
	}
	return "toplevel"
}

// authenticate switches s to user name if pw is one of its passwords;
// a failure is counted, logged and recorded in ACL LOG.
func (srv *Server) authenticate(s *session, client, name, pw string) bool {
	if u := srv.acl.user(name); u != nil && u.perms().check(pw) {
		s.user, s.authed = u, true
		s.setUser()
		return true
	}
	srv.acl.deniedAuth.Add(1)
	srv.acl.record("auth", "toplevel", "AUTH", name, client)
	srv.db.opts.Logger.Warn("walkv: authentication failed", "user", clip(name), "client", client)
	return false
}

// cmdAuth serves AUTH password (the default user) and AUTH user password.
func cmdAuth(x *exec) {
	name, pw := "default", ""
	switch len(x.args) {
	case 2:
		if !x.srv.acl.authRequired() {
			x.c.WriteError(errAuthNoPass)
			return
		}
		pw = string(x.args[1])
	case 3:
		name, pw = string(x.args[1]), string(x.args[2])
	default:
		x.c.WriteError(errSyntax)
		return
	}
	if !x.srv.authenticate(x.s, x.c.RemoteAddr(), name, pw) {
		x.c.WriteError(errWrongPass)
		return
	}
	x.c.WriteString("OK")
}

// cmdACL serves ACL WHOAMI, CAT, SETUSER, GETUSER, DELUSER, LIST, USERS,
// LOG and LOAD.
func cmdACL(x *exec) {
	a, sub := x.srv.acl, strings.ToLower(string(x.args[1]))
	args := x.args[2:]
	switch {
	case sub == "whoami" && len(args) == 0:
		x.c.WriteBulkString(x.s.user.name)
	case sub == "cat" && len(args) <= 1:
		x.aclCat(args)
	case sub == "setuser" && len(args) >= 1:
		rules := make([]string, len(args)-1)
		for i, r := range args[1:] {
			rules[i] = string(r)
		}
		if err := a.setUser(string(args[0]), rules); err != nil {
			x.c.WriteError("ERR " + err.Error())
			return
		}
		x.c.WriteString("OK")
	case sub == "getuser" && len(args) == 1:
		x.aclGetUser(string(args[0]))
	case sub == "deluser" && len(args) >= 1:
		names := make([]string, len(args))
		for i, n := range args {
			names[i] = string(n)
		}
		n, err := a.delUser(names)
		if err != nil {
			x.c.WriteError("ERR " + err.Error())
			return
		}
		x.c.WriteInt(n)
	case sub == "list" && len(args) == 0:
		var out []string
		for _, n := range a.names() {
			if u := a.user(n); u != nil {
				out = append(out, u.describe())
			}
		}
		x.writeStrings(out)
	case sub == "users" && len(args) == 0:
		x.writeStrings(a.names())
	case sub == "log" && len(args) <= 1:
		x.aclLog(args)
	case sub == "load" && len(args) == 0:
		if x.srv.cfg.ACLFile == "" {
			x.c.WriteError("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
			return
		}
		if err := a.load(x.srv.cfg.ACLFile); err != nil {
			x.c.WriteError("ERR " + err.Error())
			return
		}
		x.c.WriteString("OK")
	default:
		x.c.WriteError("ERR unknown subcommand or wrong number of arguments for 'acl|" + clip(sub) + "' command")
	}
}

// aclCat lists the categories, or the commands of one.
func (x *exec) aclCat(args [][]byte) {
	if len(args) == 0 {
		x.writeStrings(catNames)
		return
	}
	c := catByName(string(args[0]))
	if c == 0 {
		x.c.WriteError("ERR Unknown category '" + clip(string(args[0])) + "'")
		return
	}
	var out []string
	for _, cmd := range sortedCommands() {
		if cmd.categories()&c != 0 {
			out = append(out, cmd.name)
		}
	}
	x.writeStrings(out)
}

// aclGetUser writes a user's settings as Redis 7.0's ACL GETUSER does.
func (x *exec) aclGetUser(name string) {
	u := x.srv.acl.user(name)
	if u == nil {
		x.c.WriteNull()
		return
	}
	p := u.perms()
	w := x.typed()
	w.WriteMap(6)
	x.c.WriteBulkString("flags")
	flags := []string{"off"}
	if p.enabled {
		flags[0] = "on"
	}
	if p.nopass {
		flags = append(flags, "nopass")
	}
	w.WriteSet(len(flags))
	for _, f := range flags {
		x.c.WriteBulkString(f)
	}
	x.c.WriteBulkString("passwords")
	x.c.WriteArray(len(p.hashes))
	for _, h := range p.hashes {
		x.c.WriteBulkString(hexString(h[:]))
	}
	rules := strings.Join(p.rules, " ")
	if rules == "" {
		rules = "-@all"
	}
	var keys []string
	for _, k := range p.keys {
		keys = append(keys, k.rule())
	}
	for _, kv := range [][2]string{{"commands", rules}, {"keys", strings.Join(keys, " ")}, {"channels", "&*"}} {
		x.c.WriteBulkString(kv[0])
		x.c.WriteBulkString(kv[1])
	}
	x.c.WriteBulkString("selectors")
	x.c.WriteArray(0)
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// aclLog serves ACL LOG [count | RESET].
func (x *exec) aclLog(args [][]byte) {
	a := x.srv.acl
	n := maxACLLog
	if len(args) == 1 {
		if eqFold(args[0], "reset") {
			a.mu.Lock()
			a.log = nil
			a.mu.Unlock()
			x.c.WriteString("OK")
			return
		}
		v, ok := parseInt(args[0])
		if !ok || v < 0 {
			x.c.WriteError("ERR value is out of range, must be positive")
			return
		}
		n = int(min(v, maxACLLog))
	}
	a.mu.Lock()
	entries := append([]aclLogEntry(nil), a.log[:min(n, len(a.log))]...)
	a.mu.Unlock()
	x.c.WriteArray(len(entries))
	now := time.Now()
	w := x.typed()
	for _, e := range entries {
		w.WriteMap(7)
		x.c.WriteBulkString("count")
		x.c.WriteInt64(e.count)
		for _, kv := range [][2]string{{"reason", e.reason}, {"context", e.ctx}, {"object", e.object}, {"username", e.user}} {
			x.c.WriteBulkString(kv[0])
			x.c.WriteBulkString(kv[1])
		}
		x.c.WriteBulkString("age-seconds") // a double in ms / 1000, as Redis's
		w.WriteDouble(float64(now.Sub(e.last).Milliseconds()) / 1000)
		x.c.WriteBulkString("client-info")
		x.c.WriteBulkString("addr=" + e.client)
	}
}

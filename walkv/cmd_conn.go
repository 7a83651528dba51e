package walkv

func init() {
	register(
		&command{name: "ping", arity: -1, flags: flagFast, run: cmdPing},
		&command{name: "echo", arity: 2, flags: flagFast, run: cmdEcho},
		&command{name: "select", arity: 2, flags: flagFast, run: cmdSelect},
		&command{name: "quit", arity: -1, flags: flagFast | flagMultiCtl, run: cmdQuit},
		&command{name: "hello", arity: -1, flags: flagFast, run: cmdHello},
		// CLIENT has only harmless subcommands here: ACL puts it with the
		// connection commands, not the admin ones.
		&command{name: "client", arity: -2, flags: flagNoMulti, cats: catConnection, run: cmdClient},
	)
}

func cmdPing(x *exec) {
	if x.s != nil && x.s.pubsub && !x.s.resp3.Load() && len(x.args) <= 2 {
		x.pingSubscribed()
		return
	}
	switch len(x.args) {
	case 1:
		x.c.WriteString("PONG")
	case 2:
		x.c.WriteBulk(x.args[1])
	default:
		x.c.WriteError(errArity("ping"))
	}
}

func cmdEcho(x *exec) { x.c.WriteBulk(x.args[1]) }

// cmdQuit answers OK and closes the connection; pipelined commands after
// QUIT do not run. The OK, like every reply, is sent once everything
// answered before it is durable (see conn.settle).
func cmdQuit(x *exec) {
	x.c.WriteString("OK")
	x.c.Close()
}

// cmdHello serves HELLO [protover [AUTH user pass] [SETNAME name]] as
// Redis 7.0's helloCommand: it checks the version, then the options, then
// authenticates, then names the client, and only then switches the
// protocol; the reply (a map under RESP3) is in the new protocol.
func cmdHello(x *exec) {
	var ver int64
	if len(x.args) > 1 {
		v, ok := parseInt(x.args[1])
		if !ok {
			x.c.WriteError("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			x.c.WriteError("NOPROTO unsupported protocol version")
			return
		}
		ver = v
	}
	var user, pass, name []byte
	for i := 2; i < len(x.args); i++ {
		more := len(x.args) - 1 - i
		switch {
		case eqFold(x.args[i], "auth") && more >= 2:
			user, pass = x.args[i+1], x.args[i+2]
			i += 2
		case eqFold(x.args[i], "setname") && more >= 1:
			name = x.args[i+1]
			i++
		default:
			x.c.WriteError("ERR Syntax error in HELLO option '" + clip(string(x.args[i])) + "'")
			return
		}
	}
	switch {
	case user != nil && !x.srv.authenticate(x.s, x.c.RemoteAddr(), string(user), string(pass)):
		x.c.WriteError(errWrongPass)
		return
	case user == nil && !x.s.authed && x.srv.acl.authRequired():
		x.c.WriteError(errHelloNoAuth)
		return
	case name != nil && !validClientName(name):
		x.c.WriteError("ERR Client names cannot contain spaces, newlines or special characters.")
		return
	}
	if name != nil {
		x.s.setName(string(name))
	}
	if ver != 0 {
		x.s.resp3.Store(ver == 3)
	}
	x.writeHello()
}

// writeHello writes HELLO's reply: the server's properties, a map.
func (x *exec) writeHello() {
	proto := 2
	if x.s.resp3.Load() {
		proto = 3
	}
	x.typed().WriteMap(7)
	for _, kv := range [][2]string{{"server", "redis"}, {"version", redisVersion}} {
		x.c.WriteBulkString(kv[0])
		x.c.WriteBulkString(kv[1])
	}
	x.c.WriteBulkString("proto")
	x.c.WriteInt(proto)
	x.c.WriteBulkString("id")
	x.c.WriteInt64(x.s.id)
	for _, kv := range [][2]string{{"mode", "standalone"}, {"role", "master"}} {
		x.c.WriteBulkString(kv[0])
		x.c.WriteBulkString(kv[1])
	}
	x.c.WriteBulkString("modules")
	x.c.WriteArray(0)
}

// cmdClient implements CLIENT ID, SETNAME, GETNAME and SETINFO.
func cmdClient(x *exec) {
	sub := x.args[1]
	switch {
	case eqFold(sub, "id") && len(x.args) == 2:
		x.c.WriteInt64(x.s.id)
	case eqFold(sub, "setname") && len(x.args) == 3:
		if !validClientName(x.args[2]) {
			x.c.WriteError("ERR Client names cannot contain spaces, newlines or special characters.")
			return
		}
		x.s.setName(string(x.args[2]))
		x.c.WriteString("OK")
	case eqFold(sub, "getname") && len(x.args) == 2:
		if x.s.name == "" {
			x.c.WriteNull()
		} else {
			x.c.WriteBulkString(x.s.name)
		}
	case eqFold(sub, "setinfo") && len(x.args) == 4:
		x.c.WriteString("OK")
	case cmdClientPause(x): // client_pause.go
	case cmdClientMore(x):
	default:
		x.c.WriteError("ERR unknown subcommand or wrong number of arguments for 'client|" +
			clip(string(sub)) + "' command")
	}
}

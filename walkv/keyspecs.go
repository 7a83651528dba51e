package walkv

// Key positions of the commands whose keys first, last and step cannot
// describe: a numkeys argument says how many keys follow it (Redis's
// "keynum" key specifications). ACL key checks (command.keyPositions) and
// COMMAND GETKEYS use them.

// numkeysAt returns a command.keys function for commands whose numkeys
// argument is at index at, with the key arguments right after it, and
// fixed key arguments before it at the indexes in before (the destination
// of ZUNIONSTORE). It returns no keys if numkeys is not a positive
// integer or more than the arguments after it: the command then fails
// with an error before touching any key (the commands parse numkeys with
// the same parseInt and refuse the same values, or more).
func numkeysAt(at int, before ...int) func(args [][]byte) []int {
	return func(args [][]byte) []int {
		if at >= len(args) {
			return nil
		}
		n, ok := parseInt(args[at])
		if !ok || n < 1 || n > int64(len(args)-at-1) {
			return nil
		}
		ks := make([]int, 0, len(before)+int(n))
		ks = append(ks, before...)
		for i := range int(n) {
			ks = append(ks, at+1+i)
		}
		return ks
	}
}

// setNumkeys sets the key functions of the numkeys commands; the cmd_*.go
// init functions that register them call it for their own.
func setNumkeys(name string, at int, before ...int) {
	c := commands[name]
	if c == nil {
		panic("walkv: setNumkeys of unregistered command " + name)
	}
	c.keys = numkeysAt(at, before...)
}

// hasKeys reports whether cmd has key arguments (COMMAND GETKEYS refuses
// the others).
func (c *command) hasKeys() bool { return c.first > 0 || c.keys != nil }

// cmdCommandGetkeys serves COMMAND GETKEYS command arg...: the key
// arguments of the command, as ACL checks see them.
func cmdCommandGetkeys(x *exec) {
	if len(x.args) < 4 {
		x.c.WriteError(errArity("command|getkeys"))
		return
	}
	args := x.args[2:]
	cmd := lookup(args[0])
	switch {
	case cmd == nil:
		x.c.WriteError("ERR Invalid command specified")
		return
	case !cmd.hasKeys():
		x.c.WriteError("ERR The command has no key arguments")
		return
	case !cmd.arityOK(len(args)):
		x.c.WriteError("ERR Invalid number of arguments specified for command")
		return
	}
	var keys [][]byte
	cmd.keyPositions(args, func(i int) bool {
		keys = append(keys, args[i])
		return true
	})
	if len(keys) == 0 {
		x.c.WriteError("ERR Invalid arguments specified for command")
		return
	}
	x.c.WriteArray(len(keys))
	for _, k := range keys {
		x.c.WriteBulk(k)
	}
}

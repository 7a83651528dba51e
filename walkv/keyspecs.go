package walkv

// Key positions of the commands whose keys first, last and step cannot
// describe: a numkeys argument says how many keys follow it (Redis's
// "keynum" key specifications). ACL key checks (command.keyPositions) use
// them; COMMAND GETKEYS uses Redis's key specs (cmd_command_keys.go).

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

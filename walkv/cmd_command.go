package walkv

import "strings"

// cmdCommand serves COMMAND, COMMAND COUNT, COMMAND INFO name... , COMMAND
// LIST and COMMAND DOCS (empty: walkv has no docs; redis-cli copes).
func cmdCommand(x *exec) {
	if len(x.args) == 1 {
		cs := sortedCommands()
		x.c.WriteArray(len(cs))
		for _, c := range cs {
			x.writeCommandInfo(c)
		}
		return
	}
	sub := x.args[1]
	switch {
	case eqFold(sub, "count") && len(x.args) == 2:
		x.c.WriteInt(len(commands))
	case eqFold(sub, "list") && len(x.args) == 2:
		var names []string
		for _, c := range sortedCommands() {
			names = append(names, c.name)
		}
		x.writeStrings(names)
	case eqFold(sub, "info"):
		x.c.WriteArray(len(x.args) - 2)
		for _, name := range x.args[2:] {
			if c := lookup(name); c != nil {
				x.writeCommandInfo(c)
			} else {
				x.c.WriteNull()
			}
		}
	case eqFold(sub, "getkeys"):
		cmdCommandGetkeys(x)
	case eqFold(sub, "docs"):
		x.typed().WriteMap(0)
	default:
		x.c.WriteError("ERR unknown subcommand '" + clip(strings.ToLower(string(sub))) + "'. Try COMMAND HELP.")
	}
}

// writeCommandInfo writes a Redis 7 command description: name, arity,
// flags, first key, last key, step, ACL categories, tips, key specs,
// subcommands.
func (x *exec) writeCommandInfo(c *command) {
	x.c.WriteArray(10)
	x.c.WriteBulkString(c.name)
	x.c.WriteInt(c.arity)
	var flags []string
	for i, name := range flagNames {
		if c.flags&(1<<i) != 0 && name != "" {
			flags = append(flags, name)
		}
	}
	w := x.typed() // flags, categories, tips, key specs and subcommands are sets
	w.WriteSet(len(flags))
	for _, f := range flags {
		x.c.WriteString(f)
	}
	x.c.WriteInt(c.first)
	x.c.WriteInt(c.last)
	x.c.WriteInt(c.step)
	cats := c.categories()
	var names []string
	for i, n := range catNames {
		if cats&(1<<i) != 0 {
			names = append(names, "@"+n)
		}
	}
	w.WriteSet(len(names)) // ACL categories (acl.go)
	for _, n := range names {
		x.c.WriteString(n)
	}
	for range 3 {
		w.WriteSet(0)
	}
}

package walkv

// cmdCommand serves COMMAND, COMMAND COUNT, INFO, DOCS, LIST and
// GETKEYS/GETKEYSANDFLAGS with Redis 7.0's replies and metadata (see
// cmd_command_meta.go and cmd_command_keys.go).
func cmdCommand(x *exec) {
	if len(x.args) == 1 {
		commandInfo(x)
		return
	}
	if msg := subcommandError(commands["command"], x.args); msg != "" {
		x.c.WriteError(msg)
		return
	}
	sub := x.args[1]
	switch {
	case eqFold(sub, "count"):
		x.c.WriteInt(len(commands))
	case eqFold(sub, "list"):
		commandListReply(x)
	case eqFold(sub, "info"):
		commandInfo(x)
	case eqFold(sub, "docs"):
		commandDocs(x)
	case eqFold(sub, "getkeys"):
		cmdCommandGetkeys(x, false)
	case eqFold(sub, "getkeysandflags"):
		cmdCommandGetkeys(x, true)
	default:
		x.c.WriteError("ERR unknown subcommand '" + clip(string(sub)) + "'. Try COMMAND HELP.")
	}
}

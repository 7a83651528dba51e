package walkv

import "strings"

// Behaviour fixes of issue 14 that need a little code of their own.

// subcommandArity lists, for container commands, Redis 7.0's
// subcommands and their arities (name included, Redis convention). MULTI
// refuses to queue an unknown subcommand or one with the wrong arity, as
// Redis does, so that EXEC aborts (see Server.enqueue).
var subcommandArity = map[string]map[string]int{
	"config":  {"get": -3, "set": -4, "resetstat": 2, "rewrite": 2, "help": 2},
	"command": {"count": 2, "docs": -2, "getkeys": -4, "getkeysandflags": -4, "info": -2, "list": -2, "help": 2},
	"client": {"caching": 3, "getname": 2, "getredir": 2, "id": 2, "info": 2, "kill": -3, "list": -2, "no-evict": 3,
		"no-touch": 3, "pause": -3, "reply": 3, "setinfo": 4, "setname": 3, "tracking": -3, "trackinginfo": 2,
		"unblock": -3, "unpause": 2, "help": 2},
	"object":  {"encoding": 3, "freq": 3, "idletime": 3, "refcount": 3, "help": 2},
	"memory":  {"doctor": 2, "help": 2, "malloc-stats": 2, "purge": 2, "stats": 2, "usage": -3},
	"acl":     {"cat": -2, "deluser": -3, "dryrun": -4, "genpass": -2, "getuser": 3, "list": 2, "load": 2, "log": -2, "save": 2, "setuser": -3, "users": 2, "whoami": 2, "help": 2},
	"pubsub":  {"channels": -2, "help": 2, "numpat": 2, "numsub": -2, "shardchannels": -2, "shardnumsub": -2},
	"slowlog": {"get": -2, "len": 2, "reset": 2, "help": 2},
	"latency": {"doctor": 2, "graph": 3, "help": 2, "histogram": -2, "history": 3, "latest": 2, "reset": -2},
}

// subcommandError returns Redis's error for args naming an unknown
// subcommand of cmd or the wrong number of arguments for it, or "".
func subcommandError(cmd *command, args [][]byte) string {
	subs := subcommandArity[cmd.name]
	if subs == nil || len(args) < 2 {
		return ""
	}
	sub := lowerASCII(string(args[1]))
	arity, ok := subs[sub]
	if !ok {
		return "ERR unknown subcommand '" + clip(string(args[1])) + "'. Try " + strings.ToUpper(cmd.name) + " HELP."
	}
	if (arity >= 0 && len(args) != arity) || (arity < 0 && len(args) < -arity) {
		return errArity(cmd.name + "|" + sub)
	}
	return ""
}

// ignoredRequest returns the length of a complete "*<n>\r\n" request
// with a negative n at the front of in, which Redis ignores (redcon would
// call it a protocol error), or 0.
func ignoredRequest(in []byte) int {
	if len(in) < 4 || in[0] != '*' || in[1] != '-' {
		return 0
	}
	for i := 2; i < len(in); i++ {
		if in[i] == '\n' {
			if in[i-1] != '\r' {
				return 0
			}
			if n, ok := parseInt(in[1 : i-1]); ok && n < 0 {
				return i + 1
			}
			return 0
		}
	}
	return 0
}

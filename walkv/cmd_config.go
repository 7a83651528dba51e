package walkv

import (
	"strings"
	"sync"
)

// CONFIG GET, SET, RESETSTAT, REWRITE and HELP, with Redis 7.0's
// semantics: GET takes several glob patterns (matched without regard to
// case, against names and aliases; hidden parameters only by exact name);
// SET takes several parameter/value pairs and applies all of them or none,
// with Redis's error texts and order of checks (unknown names, immutable
// or protected parameters and duplicates first, then each value in turn).

func init() {
	register(&command{name: "config", arity: -2, flags: flagAdmin, run: cmdConfig})
}

// configHelp is CONFIG HELP's text (Redis's, REWRITE's line adapted).
var configHelp = []string{
	"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"GET <pattern>",
	"    Return parameters matching the glob-like <pattern> and their values.",
	"SET <directive> <value>",
	"    Set the configuration <directive> to <value>.",
	"RESETSTAT",
	"    Reset statistics reported by the INFO command.",
	"REWRITE",
	"    Rewrite the configuration file.",
	"HELP",
	"    Prints this help.",
}

// errNoConfigFile is CONFIG REWRITE's reply: walkv is configured by its
// command line only (Redis answers the same when started without a
// configuration file).
const errNoConfigFile = "ERR The server is running without a config file"

func cmdConfig(x *exec) {
	if msg := subcommandError(commands["config"], x.args); msg != "" {
		x.c.WriteError(msg)
		return
	}
	sub := x.args[1]
	switch {
	case eqFold(sub, "get") && len(x.args) >= 3:
		x.configGet()
	case eqFold(sub, "set") && len(x.args) >= 4:
		x.configSetPairs()
	case eqFold(sub, "resetstat") && len(x.args) == 2:
		x.srv.resetStats()
		x.c.WriteString("OK")
	case eqFold(sub, "rewrite") && len(x.args) == 2:
		x.c.WriteError(errNoConfigFile)
	case eqFold(sub, "help") && len(x.args) == 2:
		x.writeStatuses(configHelp)
	default:
		x.c.WriteError("ERR unknown subcommand or wrong number of arguments for 'config|" + clip(strings.ToLower(string(sub))) + "' command")
	}
}

// writeStatuses writes an array of status lines (Redis's HELP replies).
func (x *exec) writeStatuses(lines []string) {
	x.c.WriteArray(len(lines))
	for _, l := range lines {
		x.c.WriteString(l)
	}
}

// paramEntry is one name CONFIG knows: a parameter's name or its alias.
type paramEntry struct {
	key string // the name (lower case)
	p   *param
}

var (
	paramsOnce  sync.Once
	paramList   []paramEntry          // names then aliases, table order
	paramByName map[string]paramEntry // by lower-case name or alias
)

// params returns the table of names (built once).
func params() ([]paramEntry, map[string]paramEntry) {
	paramsOnce.Do(func() {
		paramByName = map[string]paramEntry{}
		all := append(append([]param(nil), redisParams...), walkvParams...)
		for i := range all {
			p := &all[i]
			paramList = append(paramList, paramEntry{p.name, p})
			if p.alias != "" {
				paramList = append(paramList, paramEntry{p.alias, p})
			}
		}
		for _, e := range paramList {
			paramByName[e.key] = e
		}
	})
	return paramList, paramByName
}

// configGet answers CONFIG GET pattern...: pairs of name and value, a
// name given without glob characters as the client wrote it, each
// parameter or alias once.
func (x *exec) configGet() {
	list, byName := params()
	seen := map[string]bool{}
	var out []string
	add := func(key string, p *param) {
		if low := strings.ToLower(key); !seen[low] {
			seen[low] = true
			out = append(out, key, x.srv.conf().get(x.srv, p))
		}
	}
	for _, a := range x.args[2:] {
		pat := string(a)
		if !strings.ContainsAny(pat, "[*?") {
			if e, ok := byName[strings.ToLower(pat)]; ok {
				add(pat, e.p)
			}
			continue
		}
		low := strings.ToLower(pat)
		for _, e := range list {
			if !e.p.has(fHidden) && globMatch(low, e.key) {
				add(e.key, e.p)
			}
		}
	}
	x.typed().WriteMap(len(out) / 2) // a map, as Redis 7.0's configGetCommand
	for _, s := range out {
		x.c.WriteBulkString(s)
	}
}

// configSetPairs answers CONFIG SET name value [name value ...].
func (x *exec) configSetPairs() {
	if len(x.args)%2 != 0 {
		x.c.WriteError(errSyntax)
		return
	}
	_, byName := params()
	var set []paramSet
	for i := 2; i < len(x.args); i += 2 {
		name := string(x.args[i])
		e, ok := byName[strings.ToLower(name)]
		if !ok {
			x.c.WriteError("ERR Unknown option or number of arguments for CONFIG SET - '" + clip(name) + "'")
			return
		}
		why := ""
		switch {
		case e.p.has(fImmutable):
			why = "can't set immutable config"
		case e.p.has(fProtected):
			why = "can't set protected config"
		}
		for _, s := range set {
			if s.key == e.key { // a name and its alias are not duplicates, as in Redis: the last wins
				why = "duplicate parameter"
			}
		}
		if why != "" {
			x.c.WriteError(setFailed(name, why))
			return
		}
		set = append(set, paramSet{key: e.key, p: e.p, value: string(x.args[i+1])})
	}
	if msg := x.srv.conf().set(x.srv, set); msg != "" {
		x.c.WriteError(msg)
		return
	}
	x.c.WriteString("OK")
}

// setFailed is CONFIG SET's error reply about parameter name.
func setFailed(name, why string) string {
	return "ERR CONFIG SET failed (possibly related to argument '" + clip(name) + "') - " + why
}

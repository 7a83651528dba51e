package walkv

import (
	"slices"
	"strings"

	"github.com/waldb/wal/walkv/internal/cmdmeta"
)

// COMMAND's metadata
//
// COMMAND INFO, DOCS and LIST describe commands with Redis 7.0's own
// metadata (package cmdmeta, generated from redis-server's
// src/commands/*.json): the same arity, flags, ACL categories, key specs,
// tips and documentation as redis-server 7.0 replies. They list only what
// walkv serves: the registered commands and, of a container command
// (CONFIG, CLIENT, ...), the subcommands in implementedSubcommands, named
// "container|sub". A registered command Redis 7.0 does not have gets a
// description derived from walkv's own table (metaOf).

// implementedSubcommands are the subcommands of each container command
// that walkv serves. TestImplementedSubcommands keeps the list honest: it
// sends every Redis subcommand of each registered container to walkv and
// fails if one listed here answers "unknown subcommand" or one missing
// here does not (CLUSTER's, which only a cluster node serves, excepted).
// Add a line when implementing a subcommand.
var implementedSubcommands = map[string]string{
	"acl":     "cat deluser getuser list load log setuser users whoami",
	"client":  "getname id info kill list no-evict pause reply setinfo setname unpause",
	"cluster": "failover forget info nodes",
	"command": "count docs getkeys getkeysandflags info list",
	"config":  "get help resetstat rewrite set",
	"memory":  "doctor help malloc-stats purge stats usage",
	"object":  "encoding freq help idletime refcount",
	"pubsub":  "channels help numpat numsub shardchannels shardnumsub",
}

// isListedSub reports whether container|sub is served (see
// implementedSubcommands).
func isListedSub(container, sub string) bool {
	return slices.Contains(strings.Fields(implementedSubcommands[container]), sub)
}

// metaOf returns the metadata walkv reports for registered command c: the
// Redis table's, or one derived from walkv's flags, categories and key
// range for a command Redis 7.0 does not have.
func metaOf(c *command) *cmdmeta.Command {
	if m := cmdmeta.Lookup(c.name); m != nil {
		return m
	}
	m := &cmdmeta.Command{Name: c.name, Arity: c.arity, First: c.first, Last: c.last, Step: c.step, Group: "generic"}
	for i, name := range flagNames {
		if c.flags&(1<<i) != 0 && name != "" {
			m.Flags = append(m.Flags, name)
		}
	}
	cats := c.categories()
	for i, n := range catNames {
		if cats&(1<<i) != 0 {
			m.ACL = append(m.ACL, n)
		}
	}
	return m
}

// listedSubs returns the served subcommands of the registered command
// named name, in the table's order.
func listedSubs(name string) []*cmdmeta.Command {
	var out []*cmdmeta.Command
	for _, s := range cmdmeta.Subcommands(name) {
		if isListedSub(name, strings.TrimPrefix(s.Name, name+"|")) {
			out = append(out, s)
		}
	}
	return out
}

// lookupListed resolves a full command name as COMMAND INFO and DOCS do
// ("get", "config|get", any case) to what walkv lists, or nil.
func lookupListed(full string) *cmdmeta.Command {
	base, sub, hasSub := strings.Cut(strings.ToLower(full), "|")
	c := commands[base]
	if c == nil {
		return nil
	}
	if !hasSub {
		return metaOf(c)
	}
	if strings.Contains(sub, "|") || !isListedSub(base, sub) {
		return nil
	}
	return cmdmeta.Lookup(base + "|" + sub)
}

// writeMetaMap starts a map reply of n pairs (a flat array in RESP2).
func (x *exec) writeMetaMap(n int) { x.typed().WriteMap(n) }

// writeFlagSet writes a set of status replies (flag names): a set under
// RESP3, as Redis's addReplyCommandFlags.
func (x *exec) writeFlagSet(ss []string, prefix string) {
	x.typed().WriteSet(len(ss))
	for _, s := range ss {
		x.c.WriteString(prefix + s)
	}
}

// writeMetaInfo writes COMMAND INFO's 10-element description of m
// (addReplyCommandInfo in Redis's server.c).
func (x *exec) writeMetaInfo(m *cmdmeta.Command) {
	x.c.WriteArray(10)
	x.c.WriteBulkString(m.Name)
	x.c.WriteInt(m.Arity)
	x.writeFlagSet(m.Flags, "")
	x.c.WriteInt(m.First)
	x.c.WriteInt(m.Last)
	x.c.WriteInt(m.Step)
	x.writeFlagSet(m.ACL, "@")
	w := x.typed() // tips, key specs and subcommands are sets under RESP3, as in Redis 7.0
	w.WriteSet(len(m.Tips))
	for _, t := range m.Tips {
		x.c.WriteBulkString(t)
	}
	w.WriteSet(len(m.KeySpecs))
	for i := range m.KeySpecs {
		x.writeKeySpec(&m.KeySpecs[i])
	}
	subs := listedSubs(m.Name)
	w.WriteSet(len(subs))
	for _, s := range subs {
		x.writeMetaInfo(s)
	}
}

// writeKeySpec writes one key specification as a map.
func (x *exec) writeKeySpec(ks *cmdmeta.KeySpec) {
	n := 3
	if ks.Notes != "" {
		n++
		x.writeMetaMap(n)
		x.c.WriteBulkString("notes")
		x.c.WriteBulkString(ks.Notes)
	} else {
		x.writeMetaMap(n)
	}
	x.c.WriteBulkString("flags")
	x.writeFlagSet(ks.Flags, "")
	x.c.WriteBulkString("begin_search")
	x.writeMetaMap(2)
	x.c.WriteBulkString("type")
	x.c.WriteBulkString(ks.BeginSearch)
	x.c.WriteBulkString("spec")
	switch ks.BeginSearch {
	case "index":
		x.writeIntMap("index", ks.Index)
	case "keyword":
		x.writeMetaMap(2)
		x.c.WriteBulkString("keyword")
		x.c.WriteBulkString(ks.Keyword)
		x.c.WriteBulkString("startfrom")
		x.c.WriteInt(ks.StartFrom)
	default:
		x.writeMetaMap(0)
	}
	x.c.WriteBulkString("find_keys")
	x.writeMetaMap(2)
	x.c.WriteBulkString("type")
	x.c.WriteBulkString(ks.FindKeys)
	x.c.WriteBulkString("spec")
	switch ks.FindKeys {
	case "range":
		x.writeIntMap("lastkey", ks.LastKey, "keystep", ks.KeyStep, "limit", ks.Limit)
	case "keynum":
		x.writeIntMap("keynumidx", ks.KeyNumIdx, "firstkey", ks.FirstKey, "keystep", ks.KeyStep)
	default:
		x.writeMetaMap(0)
	}
}

// writeIntMap writes a map of names to integers given as name, value,
// name, value...
func (x *exec) writeIntMap(kv ...any) {
	x.writeMetaMap(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		x.c.WriteBulkString(kv[i].(string))
		x.c.WriteInt(kv[i+1].(int))
	}
}

// writeMetaDocs writes COMMAND DOCS's map for m (addReplyCommandDocs in
// Redis's server.c), keys in Redis's order.
func (x *exec) writeMetaDocs(m *cmdmeta.Command) {
	subs := listedSubs(m.Name)
	type field struct {
		name  string
		write func()
	}
	str := func(name, v string) field {
		return field{name, func() { x.c.WriteBulkString(v) }}
	}
	var fs []field
	if m.Summary != "" {
		fs = append(fs, str("summary", m.Summary))
	}
	if m.Since != "" {
		fs = append(fs, str("since", m.Since))
	}
	fs = append(fs, str("group", m.Group))
	if m.Complexity != "" {
		fs = append(fs, str("complexity", m.Complexity))
	}
	if len(m.DocFlags) > 0 {
		fs = append(fs, field{"doc_flags", func() { x.writeFlagSet(m.DocFlags, "") }})
	}
	if m.DeprecatedSince != "" {
		fs = append(fs, str("deprecated_since", m.DeprecatedSince))
	}
	if m.ReplacedBy != "" {
		fs = append(fs, str("replaced_by", m.ReplacedBy))
	}
	if len(m.History) > 0 {
		fs = append(fs, field{"history", func() {
			x.typed().WriteSet(len(m.History)) // a set of [version, change] pairs under RESP3, as Redis's addReplyCommandHistory
			for _, h := range m.History {
				x.writeStrings(h[:])
			}
		}})
	}
	if len(m.Args) > 0 {
		fs = append(fs, field{"arguments", func() { x.writeArgs(m.Args) }})
	}
	if cmdmeta.Subcommands(m.Name) != nil {
		fs = append(fs, field{"subcommands", func() {
			x.writeMetaMap(len(subs))
			for _, s := range subs {
				x.c.WriteBulkString(s.Name)
				x.writeMetaDocs(s)
			}
		}})
	}
	x.writeMetaMap(len(fs))
	for _, f := range fs {
		x.c.WriteBulkString(f.name)
		f.write()
	}
}

// writeArgs writes COMMAND DOCS's argument list (addReplyCommandArgList).
func (x *exec) writeArgs(args []cmdmeta.Arg) {
	x.c.WriteArray(len(args))
	for i := range args {
		a := &args[i]
		nested := a.Type == "oneof" || a.Type == "block"
		n := 2
		for _, present := range []bool{a.KeySpec > 0, a.Token != "", a.Since != "", a.DeprecatedSince != "", len(a.Flags) > 0, nested} {
			if present {
				n++
			}
		}
		x.writeMetaMap(n)
		x.c.WriteBulkString("name")
		x.c.WriteBulkString(a.Name)
		x.c.WriteBulkString("type")
		x.c.WriteBulkString(a.Type)
		if a.KeySpec > 0 {
			x.c.WriteBulkString("key_spec_index")
			x.c.WriteInt(a.KeySpec - 1)
		}
		for _, kv := range [][2]string{{"token", a.Token}, {"since", a.Since}, {"deprecated_since", a.DeprecatedSince}} {
			if kv[1] != "" {
				x.c.WriteBulkString(kv[0])
				x.c.WriteBulkString(kv[1])
			}
		}
		if len(a.Flags) > 0 {
			x.c.WriteBulkString("flags")
			x.writeFlagSet(a.Flags, "")
		}
		if nested {
			x.c.WriteBulkString("arguments")
			x.writeArgs(a.Args)
		}
	}
}

// listedCommands returns every command walkv lists, subcommands after
// their container, sorted by name.
func listedCommands() []*cmdmeta.Command {
	var out []*cmdmeta.Command
	for _, c := range sortedCommands() {
		out = append(out, metaOf(c))
		out = append(out, listedSubs(c.name)...)
	}
	return out
}

// commandListReply serves COMMAND LIST [FILTERBY MODULE name|ACLCAT
// category|PATTERN pattern] (commandListCommand in Redis's server.c). No
// command belongs to a module; an unknown category matches nothing.
func commandListReply(x *exec) {
	args := x.args[2:]
	keep := func(*cmdmeta.Command) bool { return true }
	for len(args) > 0 {
		if len(args) != 3 || !eqFold(args[0], "filterby") {
			x.c.WriteError(errSyntax)
			return
		}
		arg := string(args[2])
		switch {
		case eqFold(args[1], "module"):
			keep = func(*cmdmeta.Command) bool { return false }
		case eqFold(args[1], "aclcat"):
			cat := strings.ToLower(arg)
			keep = func(m *cmdmeta.Command) bool { return catByName(cat) != 0 && slices.Contains(m.ACL, cat) }
		case eqFold(args[1], "pattern"):
			pat := strings.ToLower(arg)
			keep = func(m *cmdmeta.Command) bool { return globMatch(pat, m.Name) }
		default:
			x.c.WriteError(errSyntax)
			return
		}
		args = args[3:]
	}
	var names []string
	for _, m := range listedCommands() {
		if keep(m) {
			names = append(names, m.Name)
		}
	}
	x.writeStrings(names)
}

// commandDocs serves COMMAND DOCS [name...]: a map of the named commands
// walkv lists (all without names) to their documentation.
func commandDocs(x *exec) {
	var ms []*cmdmeta.Command
	if len(x.args) == 2 {
		for _, c := range sortedCommands() {
			ms = append(ms, metaOf(c))
		}
	} else {
		for _, name := range x.args[2:] {
			if m := lookupListed(string(name)); m != nil {
				ms = append(ms, m)
			}
		}
	}
	x.writeMetaMap(len(ms))
	for _, m := range ms {
		x.c.WriteBulkString(m.Name)
		x.writeMetaDocs(m)
	}
}

// commandInfo serves COMMAND INFO [name...] and COMMAND: the description
// of each named command (null if walkv does not list it), or of every
// registered command.
func commandInfo(x *exec) {
	if len(x.args) <= 2 {
		cs := sortedCommands()
		x.c.WriteArray(len(cs))
		for _, c := range cs {
			x.writeMetaInfo(metaOf(c))
		}
		return
	}
	x.c.WriteArray(len(x.args) - 2)
	for _, name := range x.args[2:] {
		if m := lookupListed(string(name)); m != nil {
			x.writeMetaInfo(m)
		} else {
			x.c.WriteNull()
		}
	}
}

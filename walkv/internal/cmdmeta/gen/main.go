// Command gen writes cmdmeta's commands.json from redis-server's command
// description files (src/commands/*.json of a Redis checkout).
//
// Usage: go run ./gen -out commands.json DIR|FILE...
//
// Each argument is a directory of description files or one file; a
// command described twice is an error. gen keeps only what COMMAND INFO
// and COMMAND DOCS reply (no function names, no reply schemas), drops
// sentinel-only commands, and computes what redis-server computes when it
// loads its table (populateCommandStructure in server.c): implicit ACL
// categories, the movablekeys flag and the legacy key range. It writes
// one command per line, sorted by name, so that a regeneration diffs well.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/waldb/wal/walkv/internal/cmdmeta"
)

// desc is the part of a description file gen reads.
type desc struct {
	Summary         string        `json:"summary"`
	Complexity      string        `json:"complexity"`
	Group           string        `json:"group"`
	Since           string        `json:"since"`
	Arity           int           `json:"arity"`
	Container       string        `json:"container"`
	GetKeysFunction string        `json:"get_keys_function"`
	History         [][2]string   `json:"history"`
	DeprecatedSince string        `json:"deprecated_since"`
	ReplacedBy      string        `json:"replaced_by"`
	DocFlags        []string      `json:"doc_flags"`
	CommandFlags    []string      `json:"command_flags"`
	ACLCategories   []string      `json:"acl_categories"`
	CommandTips     []string      `json:"command_tips"`
	KeySpecs        []keySpecDesc `json:"key_specs"`
	Arguments       []argDesc     `json:"arguments"`
}

type keySpecDesc struct {
	Notes       string   `json:"notes"`
	Flags       []string `json:"flags"`
	BeginSearch struct {
		Index *struct {
			Pos int `json:"pos"`
		} `json:"index"`
		Keyword *struct {
			Keyword   string `json:"keyword"`
			StartFrom int    `json:"startfrom"`
		} `json:"keyword"`
	} `json:"begin_search"`
	FindKeys struct {
		Range *struct {
			LastKey int `json:"lastkey"`
			Step    int `json:"step"`
			Limit   int `json:"limit"`
		} `json:"range"`
		KeyNum *struct {
			KeyNumIdx int `json:"keynumidx"`
			FirstKey  int `json:"firstkey"`
			Step      int `json:"step"`
		} `json:"keynum"`
	} `json:"find_keys"`
}

type argDesc struct {
	Name            string    `json:"name"`
	Type            string    `json:"type"`
	KeySpecIndex    *int      `json:"key_spec_index"`
	Token           string    `json:"token"`
	Summary         string    `json:"summary"`
	Since           string    `json:"since"`
	DeprecatedSince string    `json:"deprecated_since"`
	Optional        bool      `json:"optional"`
	Multiple        bool      `json:"multiple"`
	MultipleToken   bool      `json:"multiple_token"`
	Arguments       []argDesc `json:"arguments"`
}

// commandFlags are COMMAND INFO's flags in Redis's reply order
// (addReplyFlagsForCommand); hiddenFlags are those it does not reply.
var (
	commandFlags = []string{"write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
		"blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
		"no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy"}
	hiddenFlags  = []string{"may_replicate", "sentinel", "only_sentinel", "protected", "touches_arbitrary_keys"}
	aclOrder     = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting"}
	keyFlagOrder = []string{"RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete", "variable_flags"}
	argTypes     = []string{"string", "integer", "double", "key", "pattern", "unix-time", "pure-token", "oneof", "block"}
	docFlagOrder = []string{"deprecated", "syscmd"}
)

func main() {
	out := flag.String("out", "commands.json", "output file")
	flag.Parse()
	if err := run(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string, inputs []string) error {
	if len(inputs) == 0 {
		return fmt.Errorf("no input: give src/commands directories or files")
	}
	var files []string
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			files = append(files, in)
			continue
		}
		fs, err := filepath.Glob(filepath.Join(in, "*.json"))
		if err != nil {
			return err
		}
		files = append(files, fs...)
	}
	seen := map[string]bool{}
	var cs []*cmdmeta.Command
	for _, f := range files {
		got, err := readFile(f)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, c := range got {
			if seen[c.Name] {
				return fmt.Errorf("%s: %s described twice", f, c.Name)
			}
			seen[c.Name] = true
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b *cmdmeta.Command) int { return strings.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for i, c := range cs {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		buf.Write(b)
		if i < len(cs)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("]\n")
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// readFile converts one description file (one or more commands).
func readFile(path string) ([]*cmdmeta.Command, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]desc
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	var out []*cmdmeta.Command
	for name, d := range m {
		c, err := convert(name, d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if c != nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// convert turns one description into the table's entry, or nil for a
// sentinel-only command.
func convert(name string, d desc) (*cmdmeta.Command, error) {
	flags := lowerSet(d.CommandFlags)
	if flags["only_sentinel"] {
		return nil, nil
	}
	c := &cmdmeta.Command{
		Name: strings.ToLower(name), Arity: d.Arity,
		Summary: d.Summary, Since: d.Since, Complexity: d.Complexity,
		Group:           strings.ReplaceAll(d.Group, "_", "-"),
		DeprecatedSince: d.DeprecatedSince, ReplacedBy: d.ReplacedBy,
		History: d.History, GetKeys: d.GetKeysFunction,
	}
	if d.Container != "" {
		c.Container = strings.ToLower(d.Container)
		c.Name = c.Container + "|" + c.Name
	}
	for _, t := range d.CommandTips {
		c.Tips = append(c.Tips, strings.ToLower(t))
	}
	c.DocFlags = ordered(docFlagOrder, lowerSet(d.DocFlags))
	for _, ks := range d.KeySpecs {
		spec, err := convertKeySpec(ks)
		if err != nil {
			return nil, err
		}
		c.KeySpecs = append(c.KeySpecs, spec)
	}
	var err error
	if c.Args, err = convertArgs(d.Arguments); err != nil {
		return nil, err
	}
	c.First, c.Last, c.Step = legacyRange(c.KeySpecs, flags)
	for f := range flags {
		if !slices.Contains(commandFlags, f) && !slices.Contains(hiddenFlags, f) {
			return nil, fmt.Errorf("unknown command flag %q", f)
		}
	}
	c.Flags = ordered(commandFlags, flags)
	c.Hidden = ordered(hiddenFlags, flags)
	cats := lowerSet(d.ACLCategories)
	implicitCategories(cats, flags)
	c.ACL = ordered(aclOrder, cats)
	if len(c.ACL) != len(cats) {
		return nil, fmt.Errorf("unknown ACL category in %v", d.ACLCategories)
	}
	return c, nil
}

// implicitCategories adds the ACL categories Redis derives from flags
// (setImplicitACLCategories in server.c).
func implicitCategories(cats, flags map[string]bool) {
	if flags["write"] {
		cats["write"] = true
	}
	if flags["readonly"] && !cats["scripting"] {
		cats["read"] = true
	}
	if flags["admin"] {
		cats["admin"], cats["dangerous"] = true, true
	}
	if flags["pubsub"] {
		cats["pubsub"] = true
	}
	if flags["fast"] {
		cats["fast"] = true
	}
	if flags["blocking"] {
		cats["blocking"] = true
	}
	if !cats["fast"] {
		cats["slow"] = true
	}
}

// legacyRange computes COMMAND INFO's first, last and step from the key
// specs, and sets flags["movablekeys"] when the range misses keys, as
// populateCommandLegacyRangeSpec in server.c does.
func legacyRange(specs []cmdmeta.KeySpec, flags map[string]bool) (first, last, step int) {
	if len(specs) == 0 {
		return 0, 0, 0
	}
	plain := func(s cmdmeta.KeySpec) bool { return s.BeginSearch == "index" && s.FindKeys == "range" }
	incomplete := func(s cmdmeta.KeySpec) bool { return slices.Contains(s.Flags, "incomplete") }
	if len(specs) == 1 && plain(specs[0]) {
		s := specs[0]
		if incomplete(s) {
			flags["movablekeys"] = true
		}
		last = s.LastKey
		if last >= 0 {
			last += s.Index
		}
		return s.Index, last, s.KeyStep
	}
	first, lastAbs, prevLast := math.MaxInt, 0, 0
	for _, s := range specs {
		if !plain(s) {
			flags["movablekeys"] = true
			continue
		}
		if s.KeyStep != 1 || (prevLast != 0 && prevLast != s.Index-1) {
			flags["movablekeys"] = true
			continue
		}
		if incomplete(s) {
			flags["movablekeys"] = true
		}
		first = min(first, s.Index)
		abs := s.LastKey
		if abs >= 0 {
			abs += s.Index
		}
		// Redis compares as unsigned: a negative (relative to the end)
		// last key is larger than any absolute one.
		if uint32(int32(abs)) > uint32(int32(lastAbs)) {
			lastAbs = abs
		}
		prevLast = lastAbs
	}
	if first == math.MaxInt {
		flags["movablekeys"] = true
		return 0, 0, 0
	}
	return first, lastAbs, 1
}

func convertKeySpec(ks keySpecDesc) (cmdmeta.KeySpec, error) {
	fl := map[string]bool{}
	for _, f := range ks.Flags {
		n := strings.ToLower(f)
		if len(n) == 2 { // RO, RW, OW, RM stay upper case
			n = f
		}
		fl[n] = true
	}
	s := cmdmeta.KeySpec{Notes: ks.Notes, Flags: ordered(keyFlagOrder, fl)}
	if len(s.Flags) != len(fl) {
		return s, fmt.Errorf("unknown key spec flag in %v", ks.Flags)
	}
	switch bs := ks.BeginSearch; {
	case bs.Index != nil:
		s.BeginSearch, s.Index = "index", bs.Index.Pos
	case bs.Keyword != nil:
		s.BeginSearch, s.Keyword, s.StartFrom = "keyword", bs.Keyword.Keyword, bs.Keyword.StartFrom
	default:
		s.BeginSearch = "unknown"
	}
	switch fk := ks.FindKeys; {
	case fk.Range != nil:
		s.FindKeys, s.LastKey, s.KeyStep, s.Limit = "range", fk.Range.LastKey, fk.Range.Step, fk.Range.Limit
	case fk.KeyNum != nil:
		s.FindKeys, s.KeyNumIdx, s.FirstKey, s.KeyStep = "keynum", fk.KeyNum.KeyNumIdx, fk.KeyNum.FirstKey, fk.KeyNum.Step
	default:
		s.FindKeys = "unknown"
	}
	return s, nil
}

// convertArgs converts arguments as Redis's generate-command-code.py
// does: names lower case, tokens upper case, empty strings absent.
func convertArgs(ds []argDesc) ([]cmdmeta.Arg, error) {
	var out []cmdmeta.Arg
	for _, d := range ds {
		if !slices.Contains(argTypes, d.Type) {
			return nil, fmt.Errorf("argument %s: unknown type %q", d.Name, d.Type)
		}
		if d.Summary != "" {
			return nil, fmt.Errorf("argument %s: summaries are not supported", d.Name)
		}
		a := cmdmeta.Arg{Name: strings.ToLower(d.Name), Type: d.Type, Token: strings.ToUpper(d.Token),
			Since: d.Since, DeprecatedSince: d.DeprecatedSince}
		if d.KeySpecIndex != nil {
			a.KeySpec = *d.KeySpecIndex + 1
		}
		if d.Optional {
			a.Flags = append(a.Flags, "optional")
		}
		if d.Multiple {
			a.Flags = append(a.Flags, "multiple")
		}
		if d.MultipleToken {
			a.Flags = append(a.Flags, "multiple_token")
		}
		if d.Type == "oneof" || d.Type == "block" {
			var err error
			if a.Args, err = convertArgs(d.Arguments); err != nil {
				return nil, err
			}
		}
		out = append(out, a)
	}
	return out, nil
}

func lowerSet(ss []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range ss {
		m[strings.ToLower(s)] = true
	}
	return m
}

// ordered returns the members of set in the order of order.
func ordered(order []string, set map[string]bool) []string {
	var out []string
	for _, n := range order {
		if set[n] {
			out = append(out, n)
		}
	}
	return out
}

package walkv

import (
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/waldb/wal/walkv/internal/cmdmeta"
)

// notInRedis70 are the commands walkv lists that redis-server 7.0 does
// not have (Redis 7.2's); their metadata comes from 7.2's files.
var notInRedis70 = []string{"client|setinfo", "waitaof"}

// TestRedisDiffCommand compares COMMAND INFO, DOCS, LIST and
// GETKEYS/GETKEYSANDFLAGS between walkv and redis-server for every
// command walkv lists. Redis lists every subcommand of a container; its
// replies are cut to the subcommands walkv lists (walkv's must be a
// subset) and, as their order is a hash table's, sorted.
func TestRedisDiffCommand(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	w := dialResp(t, e.srv.Addr().String())
	rd := dialResp(t, raddr)
	listed := map[string]bool{}
	var names []string
	for _, m := range listedCommands() {
		// Compared: the commands both servers have.
		listed[m.Name] = !slices.Contains(notInRedis70, m.Name)
		names = append(names, m.Name)
	}
	norm := func(reply any) any { return normCommandReply(reply, listed) }
	diffs := 0
	compare := func(what string, cmd ...string) (any, any) {
		t.Helper()
		want, err := rd.do(cmd...)
		if err != nil {
			t.Fatalf("redis-server %q: %v", cmd, err)
		}
		got, err := w.do(cmd...)
		if err != nil {
			t.Fatalf("walkv %q: %v", cmd, err)
		}
		if g, wn := showReply(norm(got)), showReply(norm(want)); g != wn {
			diffs++
			if diffs <= 20 {
				t.Errorf("%s %q:\n  walkv: %s\n  redis: %s", what, cmd, clipDiff(g), clipDiff(wn))
			}
		}
		return got, want
	}

	t.Run("info and docs", func(t *testing.T) {
		for _, name := range names {
			if slices.Contains(notInRedis70, name) {
				continue
			}
			_, want := compare("info", "COMMAND", "INFO", name)
			if a, ok := want.([]any); !ok || len(a) != 1 || a[0] == (respNullArray{}) || a[0] == (respNullBulk{}) {
				t.Errorf("redis-server 7.0 does not know %s (add it to notInRedis70 if deliberate)", name)
			}
			compare("docs", "COMMAND", "DOCS", name)
			compare("info upper case", "COMMAND", "INFO", strings.ToUpper(name))
		}
		compare("info unknown", "COMMAND", "INFO", "get", "nosuch", "get|x", "config|get|x", "config|nosuch", "set")
		compare("docs unknown", "COMMAND", "DOCS", "nosuch", "get", "config|nosuch", "|get")
		compare("count args", "COMMAND", "COUNT", "x")
		compare("unknown subcommand", "COMMAND", "NOSUCH")
	})
	t.Run("all", func(t *testing.T) {
		// COMMAND and COMMAND DOCS list every command: walkv's must be
		// Redis's cut to walkv's commands.
		for _, cmd := range [][]string{{"COMMAND"}, {"COMMAND", "INFO"}, {"COMMAND", "DOCS"}} {
			got, want := mustDo(t, w, cmd...), mustDo(t, rd, cmd...)
			g, wn := commandSet(got, listed, cmd[len(cmd)-1] == "DOCS"), commandSet(want, listed, cmd[len(cmd)-1] == "DOCS")
			for _, n := range names {
				if strings.Contains(n, "|") || slices.Contains(notInRedis70, n) {
					continue
				}
				if g[n] == "" || g[n] != wn[n] {
					diffs++
					t.Errorf("%q: %s:\n  walkv: %s\n  redis: %s", cmd, n, g[n], wn[n])
				}
			}
		}
	})
	t.Run("list", func(t *testing.T) {
		cats, _ := mustDo(t, rd, "ACL", "CAT").([]any)
		var filters [][]string
		for _, c := range cats {
			filters = append(filters, []string{"ACLCAT", string(c.(respBulk))})
		}
		filters = append(filters, []string{"ACLCAT", "nosuch"}, []string{"ACLCAT", "READ"}, []string{"MODULE", "x"})
		for _, p := range []string{"*", "z*", "*|*", "c?ient*", "[a-c]*", "CONFIG*", "*get*", "x", "[^a-s]*", "client|*", "*\\|*"} {
			filters = append(filters, []string{"PATTERN", p})
		}
		for _, f := range filters {
			cmd := append([]string{"COMMAND", "LIST", "FILTERBY"}, f...)
			got, want := mustDo(t, w, cmd...), mustDo(t, rd, cmd...)
			g, wn := listNames(got, listed), listNames(want, listed)
			if g != wn {
				diffs++
				t.Errorf("%q:\n  walkv: %s\n  redis: %s", cmd, g, wn)
			}
		}
		if g, wn := listNames(mustDo(t, w, "COMMAND", "LIST"), listed), listNames(mustDo(t, rd, "COMMAND", "LIST"), listed); g != wn {
			t.Errorf("COMMAND LIST:\n  walkv: %s\n  redis: %s", g, wn)
		}
		for _, bad := range [][]string{{"FILTERBY"}, {"FILTERBY", "ACLCAT"}, {"FILTERBY", "BAD", "x"}, {"FOO"}, {"FILTERBY", "ACLCAT", "read", "x"}} {
			compare("list error", append([]string{"COMMAND", "LIST"}, bad...)...)
		}
	})
	t.Run("getkeys", func(t *testing.T) {
		seed := diffSeed()
		r := rand.New(rand.NewSource(seed))
		t.Logf("REDISDIFF_SEED=%d", seed)
		vectors := max(diffOps()/40, 10)
		n := 0
		for _, name := range names {
			m := lookupListed(name)
			if slices.Contains(notInRedis70, name) || !metaHasKeys(m, commands[strings.Split(name, "|")[0]]) {
				continue
			}
			words := strings.Split(strings.ToUpper(name), "|")
			for range vectors {
				args := getkeysVector(r, m, len(words))
				n++
				compare("getkeys", append(append([]string{"COMMAND", "GETKEYS"}, words...), args...)...)
				compare("getkeysandflags", append(append([]string{"COMMAND", "GETKEYSANDFLAGS"}, words...), args...)...)
			}
		}
		for _, bad := range [][]string{{"nosuch", "x"}, {"get"}, {"ping", "x"}, {"get", "a", "b"}, {"config", "nosuch", "x"}, {"object", "encoding"}, {"client", "setname", "x"}} {
			compare("getkeys error", append([]string{"COMMAND", "GETKEYS"}, bad...)...)
		}
		t.Logf("%d argument vectors", n)
	})
	if diffs > 0 {
		t.Fatalf("%d differences", diffs)
	}
}

// clipDiff shortens a long reply for a difference report.
func clipDiff(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}

// getkeysVector returns random arguments (after the command's name
// words) for COMMAND GETKEYS: about as many as the arity asks, drawn from
// keys, small and bad numbers, and the command's own tokens.
func getkeysVector(r *rand.Rand, m *cmdmeta.Command, words int) []string {
	var tokens []string
	var walk func(as []cmdmeta.Arg)
	walk = func(as []cmdmeta.Arg) {
		for _, a := range as {
			if a.Token != "" {
				tokens = append(tokens, a.Token, strings.ToLower(a.Token))
			}
			walk(a.Args)
		}
	}
	walk(m.Args)
	min := max(abs(m.Arity)-words, 0)
	n := min + r.Intn(7)
	if m.Arity > 0 && r.Intn(4) > 0 {
		n = m.Arity - words
	}
	args := make([]string, n)
	for i := range args {
		switch k := r.Intn(10); {
		case k < 4:
			args[i] = "k" + strconv.Itoa(r.Intn(4))
		case k < 7:
			args[i] = diffPick(r, "0", "1", "2", "3", "-1", "5", "1x", " 2", "", "4294967297", "99999999999999999999")
		case len(tokens) > 0:
			args[i] = tokens[r.Intn(len(tokens))]
		default:
			args[i] = "x"
		}
	}
	return args
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// normCommandReply cuts the subcommands in a COMMAND INFO or DOCS reply
// to those walkv lists, and sorts them.
func normCommandReply(reply any, listed map[string]bool) any {
	a, ok := reply.([]any)
	if !ok {
		return reply
	}
	out := make([]any, len(a))
	for i, e := range a {
		out[i] = normCommandReply(e, listed)
	}
	// A COMMAND INFO entry: [name, arity, flags, first, last, step, acl, tips, specs, subs].
	if len(out) == 10 {
		if _, isName := out[0].(respBulk); isName {
			if subs, ok := out[9].([]any); ok {
				var keep []any
				for _, s := range subs {
					if sa, ok := s.([]any); ok && len(sa) == 10 && listed[string(sa[0].(respBulk))] {
						keep = append(keep, s)
					}
				}
				out[9] = sortedArray(nil, keep)
			}
		}
	}
	// A COMMAND DOCS map: the value after "subcommands" maps names to docs.
	for i := 0; i+1 < len(out); i += 2 {
		if out[i] != respBulk("subcommands") {
			continue
		}
		if subs, ok := out[i+1].([]any); ok && len(subs)%2 == 0 {
			var pairs []any
			for j := 0; j < len(subs); j += 2 {
				if listed[string(subs[j].(respBulk))] {
					pairs = append(pairs, subs[j], subs[j+1])
				}
			}
			out[i+1] = sortedPairs(nil, pairs)
		}
	}
	return out
}

// commandSet indexes COMMAND's (or, docs, COMMAND DOCS's) reply by
// command name, each entry shown normalized.
func commandSet(reply any, listed map[string]bool, docs bool) map[string]string {
	m := map[string]string{}
	a, _ := reply.([]any)
	if docs {
		for i := 0; i+1 < len(a); i += 2 {
			m[string(a[i].(respBulk))] = showReply(normCommandReply(a[i+1], listed))
		}
		return m
	}
	for _, e := range a {
		ea := e.([]any)
		m[string(ea[0].(respBulk))] = showReply(normCommandReply(e, listed))
	}
	return m
}

// listNames returns the names of a COMMAND LIST reply, sorted, cut to
// listed if not nil.
func listNames(reply any, listed map[string]bool) string {
	a, ok := reply.([]any)
	if !ok {
		return showReply(reply)
	}
	var ns []string
	for _, e := range a {
		n := string(e.(respBulk))
		if listed == nil || listed[n] {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return fmt.Sprint(ns)
}

package walkv

import (
	"slices"
	"strings"
	"testing"

	"github.com/waldb/wal/walkv/internal/cmdmeta"
)

// TestImplementedSubcommands sends every Redis subcommand of each
// registered container command to walkv, with as many arguments as its
// arity asks, and checks that those listed in implementedSubcommands are
// served (the reply is not an unknown-subcommand error) and the others
// are not: COMMAND INFO, DOCS and LIST then describe what walkv serves.
// CLUSTER's subcommands are served by cluster nodes only, and skipped.
func TestImplementedSubcommands(t *testing.T) {
	e := newEnv(t, nil)
	c := dialResp(t, e.srv.Addr().String())
	containers := 0
	for _, cmd := range sortedCommands() {
		subs := cmdmeta.Subcommands(cmd.name)
		if subs == nil || cmd.name == "cluster" {
			continue
		}
		containers++
		for _, s := range subs {
			sub := strings.TrimPrefix(s.Name, cmd.name+"|")
			args := []string{cmd.name, sub}
			for len(args) < max(s.Arity, -s.Arity) {
				args = append(args, "x")
			}
			v := mustDo(t, c, args...)
			msg, isErr := v.(respError)
			unknown := isErr && strings.Contains(strings.ToLower(string(msg)), "unknown subcommand")
			switch listed := isListedSub(cmd.name, sub); {
			case listed && unknown:
				t.Errorf("%s is in implementedSubcommands but walkv answers %q", s.Name, msg)
			case !listed && !unknown:
				t.Errorf("%q answers %s: add %s to implementedSubcommands (cmd_command_meta.go)", args, showReply(v), sub)
			}
		}
	}
	if containers < 5 {
		t.Fatalf("only %d container commands registered", containers)
	}
	for container, subs := range implementedSubcommands {
		for _, sub := range strings.Fields(subs) {
			if cmdmeta.Lookup(container+"|"+sub) == nil {
				t.Errorf("implementedSubcommands lists %s|%s, which Redis does not have", container, sub)
			}
		}
	}
}

// TestCommandMetaTable checks the generated table against facts of Redis
// 7.0 that its generator computes rather than copies.
func TestCommandMetaTable(t *testing.T) {
	for _, tc := range []struct {
		name              string
		first, last, step int
		movable           bool
		acl               string
	}{
		{"get", 1, 1, 1, false, "read string fast"},
		{"mset", 1, -1, 2, false, "write string slow"},
		{"zunionstore", 1, 1, 1, true, "write sortedset slow"},
		{"blmpop", 0, 0, 0, true, "write list slow blocking"},
		{"config|get", 0, 0, 0, false, "admin slow dangerous"},
		{"rename", 1, 2, 1, false, "keyspace write slow"},
		{"eval", 0, 0, 0, true, "slow scripting"},
	} {
		m := cmdmeta.Lookup(tc.name)
		if m == nil {
			t.Errorf("%s: missing", tc.name)
			continue
		}
		if m.First != tc.first || m.Last != tc.last || m.Step != tc.step {
			t.Errorf("%s: key range %d %d %d, want %d %d %d", tc.name, m.First, m.Last, m.Step, tc.first, tc.last, tc.step)
		}
		if got := slices.Contains(m.Flags, "movablekeys"); got != tc.movable {
			t.Errorf("%s: movablekeys %v, want %v", tc.name, got, tc.movable)
		}
		if got := strings.Join(m.ACL, " "); got != tc.acl {
			t.Errorf("%s: ACL categories %q, want %q", tc.name, got, tc.acl)
		}
	}
	if m := cmdmeta.Lookup("sentinel"); m != nil {
		t.Errorf("sentinel-only command in the table")
	}
}

func TestCAtoi(t *testing.T) {
	for in, want := range map[string]int{
		"3": 3, "3abc": 3, " \t-2": -2, "+7": 7, "": 0, "x": 0, "-": 0,
		"4294967297": 1, "99999999999999999999": -1, "-99999999999999999999": 0, "2147483648": -2147483648,
	} {
		if got := cAtoi([]byte(in)); got != want {
			t.Errorf("cAtoi(%q) = %d, want %d", in, got, want)
		}
	}
}

// FuzzGetKeys: the key finder never panics and names only argument
// positions after the command name, for every listed command (the fuzzer
// picks one by index) and any arguments.
func FuzzGetKeys(f *testing.F) {
	f.Add(uint16(0), "d\x002\x00a\x00b\x00WEIGHTS\x001")
	f.Add(uint16(7), "k\x00v\x00GET")
	f.Add(uint16(30), "0\x00-1\x00k")
	f.Add(uint16(90), "k\x00GET\x00u8\x000\x00OVERFLOW")
	listed := listedCommands()
	f.Fuzz(func(t *testing.T, idx uint16, rest string) {
		m := listed[int(idx)%len(listed)]
		base, sub, isSub := strings.Cut(m.Name, "|")
		args := [][]byte{[]byte(base)}
		if isSub {
			args = append(args, []byte(sub))
		}
		for _, a := range strings.Split(rest, "\x00") {
			args = append(args, []byte(a))
		}
		for _, k := range metaKeys(m, commands[base], args) {
			if k.pos < 1 || k.pos >= len(args) {
				t.Fatalf("%s %q: key position %d out of range", m.Name, args, k.pos)
			}
		}
	})
}

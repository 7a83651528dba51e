package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waldb/wal"
)

// TestCrashtest runs a few real kill -9 rounds: the children are this test
// binary re-executed as walctl crashtest-child.
// The async cell appends with AppendAsync and acknowledges only in
// NotifyDurable callbacks.
func TestCrashtest(t *testing.T) {
	for _, cell := range []struct{ policy, async string }{{"always", "false"}, {"never", "false"}, {"always", "true"}, {"never", "true"}} {
		name := cell.policy
		if cell.async == "true" {
			name += "/async"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			r := runCLI(t, "", "crashtest", "--kills", "3", "--writers", "3", "--policy", cell.policy, "--async="+cell.async, "--seed", "7",
				"--min-delay", "5ms", "--max-delay", "30ms", "--segment-size", "8192", "-v", dir)
			r.wantCode(t, exitOK)
			t.Logf("output:\n%s", r.stdout)
			for _, want := range []string{"seed 7 (rerun with --seed 7)", "kill 3 after", "kills                     3", "violations                0", "result                    ok"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("crashtest left %d entries in its directory after success", len(ents))
			}
		})
	}
}

// TestCrashtestChildFails: a child that cannot open the log is reported
// with its own message.
func TestCrashtestChildFails(t *testing.T) {
	self := func(args ...string) *exec.Cmd {
		args[1] = filepath.Join(args[1], "..", "..") // the directory holding the test's work directory: not a log
		return testSelf(args...)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "notes.txt"), nil)
	o := crashOptions{dir: dir, kills: 1, writers: 1, policy: "always", seed: 1, maxDelay: time.Millisecond, segmentSize: 8192, window: 100}
	err := runCrashtest(t.Context(), o, &bytes.Buffer{}, nopProgress{}, self)
	if err == nil || !strings.Contains(err.Error(), "the child did not open the log") || !strings.Contains(err.Error(), "not a waldb directory") {
		t.Fatalf("err = %v", err)
	}
}

// TestCrashVerifier: the checks catch a lost acknowledged entry, a
// foreign entry, a gap in a writer's sequence and a shrunken log.
func TestCrashVerifier(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	l, err := wal.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []entryID{{1, 0, 0}, {1, 1, 0}, {1, 0, 1}, {1, 1, 2}} { // writer 1 skips seq 1
		if _, err := l.Append(id.payload(nil, 5)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Append([]byte("not a crashtest entry")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	v := &crashVerifier{o: crashOptions{window: 1000}, known: map[uint64]entryID{}, stats: crashStats{recoveries: map[string]int{}}}
	acks := []ack{{1, entryID{1, 0, 0}}, {3, entryID{1, 1, 0}}, {9, entryID{1, 0, 7}}}
	if _, err := v.check(dir, 1, acks); err != nil {
		t.Fatal(err)
	}
	v.last = 10 // pretend an earlier round verified more
	if _, err := v.check(dir, 2, nil); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(v.violations, "\n")
	for _, want := range []string{
		"entry 4 is 1.1.2, but that writer's previous entry was seq 0",
		"entry 5: not a valid crashtest entry",
		"index 3 holds 1.0.1, but 1.1.0 was acknowledged there",
		"acknowledged entry 1.0.7 at index 9 is lost",
		"round 2: the log ends at 5; entries up to 10 were verified before",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("violations lack %q:\n%s", want, got)
		}
	}
}

func TestPayload(t *testing.T) {
	id := entryID{Round: 70000, Writer: 3, Seq: 1 << 40}
	for _, n := range []int{0, 1, 1000} {
		p := id.payload([]byte("prefix"), n)[len("prefix"):]
		if got, err := parsePayload(p); err != nil || got != id {
			t.Fatalf("parsePayload = %v, %v", got, err)
		}
		p[len(p)/2] ^= 1
		if _, err := parsePayload(p); !errors.Is(err, errBadPayload) {
			t.Fatalf("damaged payload: %v", err)
		}
	}
	a, err := parseAck("42 70000.3.1099511627776")
	if err != nil || a.index != 42 || a.id != id {
		t.Fatalf("parseAck = %+v, %v", a, err)
	}
	for _, bad := range []string{"", "42", "42 1.2", "x 1.2.3", "1 1.70000.3"} {
		if _, err := parseAck(bad); err == nil {
			t.Errorf("parseAck(%q) succeeded", bad)
		}
	}
}

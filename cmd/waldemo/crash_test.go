package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/waldb/wal"
	"github.com/waldb/wal/internal/killchild"
)

// envChildDir makes the test binary a crash child on that directory, so the
// crash test kills real processes without building the waldemo binary.
const envChildDir = "GO_WALDEMO_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(envChildDir); dir != "" {
		childMain(dir)
	}
	os.Exit(m.Run())
}

func TestCrashRounds(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = runCrash(crashConfig{
		Rounds: 2, Seed: 1, TempDir: t.TempDir(), Out: &out,
		Command: func(dir string) *exec.Cmd {
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), envChildDir+"="+dir)
			return cmd
		},
	})
	t.Logf("output:\n%s", out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\n    1  ", "\n    2  ", "final reopen: clean: entries [1, ", "survived 2 kills"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestCrashChildFailureReported(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The directory holds a foreign file, so the child's Open fails with
	// ErrNotLog before it reports ready.
	tmp := t.TempDir()
	err = runCrash(crashConfig{
		Rounds: 1, Seed: 1, TempDir: tmp, Out: &bytes.Buffer{},
		Command: func(dir string) *exec.Cmd {
			if err := os.WriteFile(dir+"/foreign", nil, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), envChildDir+"="+dir)
			return cmd
		},
	})
	if err == nil || !strings.Contains(err.Error(), "child exited before the kill") || !strings.Contains(err.Error(), "not a waldb directory") {
		t.Fatalf("err = %v, want the child's failure with its stderr", err)
	}
}

// writeLog creates a log in a temporary directory holding payloads, and
// returns the directory.
func writeLog(t *testing.T, payloads ...[]byte) string {
	t.Helper()
	dir := t.TempDir()
	l, err := wal.Open(dir, childOptions(wal.SyncAlways))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range payloads {
		if _, err := l.Append(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func pay(round, writer uint16, seq uint32) []byte {
	return appendPayload(nil, entryID{round, writer, seq}, []byte("filler"))
}

func TestVerifyLogDetectsViolations(t *testing.T) {
	good := [][]byte{pay(1, 0, 0), pay(1, 1, 0), pay(1, 0, 1), pay(2, 0, 0)}
	goodAcks := []ack{{1, entryID{1, 0, 0}}, {3, entryID{1, 0, 1}}}
	for _, tc := range []struct {
		name     string
		payloads [][]byte
		acks     []ack
		prevLast uint64
		want     string // "" for no violation
	}{
		{"good", good, goodAcks, 2, ""},
		{"empty", nil, nil, 0, ""},
		{"lost ack", good, []ack{{5, entryID{2, 0, 1}}}, 0, "acknowledged index 5 (entry 2.0.1) is missing"},
		{"wrong entry", good, []ack{{2, entryID{1, 0, 1}}}, 0, "acknowledged index 2 should hold entry 1.0.1, holds 1.1.0"},
		{"acked twice", good, []ack{{1, entryID{1, 0, 0}}, {1, entryID{1, 0, 0}}}, 0, "index 1 was acknowledged twice"},
		{"shrunk", good, nil, 6, "entries [5, 6], verified after an earlier round, are gone"},
		{"garbage", [][]byte{pay(1, 0, 0), []byte("not a payload")}, nil, 0, "index 2: payload checksum mismatch"},
		{"gap", [][]byte{pay(1, 0, 0), pay(1, 0, 2)}, nil, 0, "index 2 holds entry 1.0.2, but that writer's previous entry in the log is seq 0"},
		{"duplicate", [][]byte{pay(1, 0, 0), pay(1, 0, 0)}, nil, 0, "index 2 holds entry 1.0.0, but that writer's previous entry in the log is seq 0"},
		{"first seq missing", [][]byte{pay(1, 0, 1)}, nil, 0, "index 1 holds entry 1.0.1, but that writer's previous entry in the log is seq -1"},
		{"round order", [][]byte{pay(2, 0, 0), pay(1, 0, 0)}, nil, 0, "index 2 holds entry 1.0.0 of round 1 after entries of round 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := verifyLog(writeLog(t, tc.payloads...), tc.acks, tc.prevLast)
			if res == nil || res.Last != uint64(len(tc.payloads)) {
				t.Fatalf("result %+v, want last index %d (err %v)", res, len(tc.payloads), err)
			}
			if got := fmt.Sprint(err); tc.want == "" && err != nil || !strings.Contains(got, tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestAckProtocolRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := &ackWriter{w: &buf}
	want := []ack{{1, entryID{1, 0, 0}}, {1 << 40, entryID{65535, 7, 1<<32 - 1}}}
	if err := w.ready(); err != nil {
		t.Fatal(err)
	}
	for _, a := range want {
		if err := w.ack(a.Index, a.ID); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if lines[0] != killchild.ReadyLine {
		t.Fatalf("first line %q, want the ready line", lines[0])
	}
	got, err := parseAcks(lines[1:])
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("parseAcks = %v, %v; want %v", got, err, want)
	}
	for _, in := range []string{"1", "x 1.0.0", "1 1.0"} {
		if _, err := parseAcks([]string{in}); err == nil {
			t.Errorf("parseAcks(%q) succeeded, want an error", in)
		}
	}
}

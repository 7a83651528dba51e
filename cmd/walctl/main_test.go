package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/waldb/wal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// envTestMain makes the test binary run walctl's main with its arguments,
// so crashtest can re-execute it as a child.
const envTestMain = "WALCTL_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envTestMain) == "1" {
		os.Exit(execute(context.Background(), os.Args[1:], osEnv()))
	}
	os.Exit(m.Run())
}

// testSelf runs the test binary as walctl.
func testSelf(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envTestMain+"=1")
	return cmd
}

// cliResult is the outcome of one walctl invocation.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs walctl with args and stdin, in process.
func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, self: testSelf, echo: true}
	code := execute(context.Background(), args, e)
	return cliResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// wantCode fails the test unless r exited with code; on failure it shows
// the output.
func (r cliResult) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// The test logs: small segments, so a hundred entries span several.
const testSegmentSize = 2 << 10

func testOptions() *wal.Options {
	return &wal.Options{SegmentSize: testSegmentSize, NoPreallocate: true}
}

func entryData(i int) []byte { return fmt.Appendf(nil, "entry %04d: the quick brown fox", i) }

// appendEntries appends entries [from, to] made by entryData.
func appendEntries(t *testing.T, l *wal.Log, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		if err := l.Write(uint64(i), entryData(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// makeLog creates a closed log with entries [1, n] in a new directory.
func makeLog(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "log")
	l, err := wal.Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	appendEntries(t, l, 1, n)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// crashImage returns a directory holding what a kill -9 of a process that
// appended entries [1, n] (each acknowledged under SyncAlways) would leave:
// a copy of the files of a log that was never closed.
func crashImage(t *testing.T, n int) string {
	t.Helper()
	live := filepath.Join(t.TempDir(), "live")
	l, err := wal.Open(live, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	appendEntries(t, l, 1, n)
	dir := filepath.Join(t.TempDir(), "log")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(live)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != "LOCK" && !strings.HasSuffix(e.Name(), ".tmp") {
			b := readFile(t, filepath.Join(live, e.Name()))
			writeFile(t, filepath.Join(dir, e.Name()), b)
		}
	}
	return dir
}

// segPaths lists dir's segment files in order.
func segPaths(t *testing.T, dir string) []string {
	t.Helper()
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range segs {
		out = append(out, filepath.Join(dir, s.Name))
	}
	if len(out) < 2 {
		t.Fatalf("test log has %d segments, want at least 2", len(out))
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// flipBit flips one bit of the byte at off (from the end if negative).
func flipBit(t *testing.T, path string, off int) {
	t.Helper()
	b := readFile(t, path)
	if off < 0 {
		off += len(b)
	}
	b[off] ^= 0x08
	writeFile(t, path, b)
}

// firstPayload is the offset of the first entry's payload in a segment.
const firstPayload = segHeaderLen + 16

// The damaged logs of the tests. Each is built with the wal API and then
// damaged on disk.

// tornTailLog: a crash image whose last record was cut short: recovery
// drops entry n.
func tornTailLog(t *testing.T, n int) string {
	dir := crashImage(t, n)
	segs := segPaths(t, dir)
	last := segs[len(segs)-1]
	b := readFile(t, last)
	writeFile(t, last, b[:len(b)-7])
	return dir
}

// sealedFlipLog: a closed log with a flipped bit in the first entry of
// its second (sealed) segment, which Open does not scan.
func sealedFlipLog(t *testing.T, n int) (dir string, bad uint64) {
	dir = makeLog(t, n)
	seg := segPaths(t, dir)[1]
	flipBit(t, seg, firstPayload+3)
	_, first, _ := parseSegName(filepath.Base(seg))
	return dir, first
}

// tailFlipLog: a crash image with a flipped bit in the first entry of the
// tail segment, followed by sync markers that prove it was durable.
func tailFlipLog(t *testing.T, n int) (dir string, bad uint64) {
	dir = crashImage(t, n)
	segs := segPaths(t, dir)
	flipBit(t, segs[len(segs)-1], firstPayload+3)
	_, first, _ := parseSegName(filepath.Base(segs[len(segs)-1]))
	return dir, first
}

// missingSegmentLog: a closed log whose second segment was deleted.
func missingSegmentLog(t *testing.T, n int) (dir string, gapFirst uint64) {
	dir = makeLog(t, n)
	seg := segPaths(t, dir)[1]
	if err := os.Remove(seg); err != nil {
		t.Fatal(err)
	}
	_, first, _ := parseSegName(filepath.Base(seg))
	return dir, first
}

// badTrailerLog: a closed log whose second segment's trailer is damaged,
// so that segment no longer counts as sealed.
func badTrailerLog(t *testing.T, n int) string {
	dir := makeLog(t, n)
	flipBit(t, segPaths(t, dir)[1], -3)
	return dir
}

// notLogDir: a directory holding a file that is not the log's.
func notLogDir(t *testing.T) string {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("hello"))
	return dir
}

// snapshot reads every file of dir.
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range ents {
		if !e.IsDir() {
			m[e.Name()] = readFile(t, filepath.Join(dir, e.Name()))
		}
	}
	return m
}

// unchanged fails unless dir holds exactly the files of before.
func unchanged(t *testing.T, dir string, before map[string][]byte) {
	t.Helper()
	after := snapshot(t, dir)
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Errorf("%s changed", name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s appeared", name)
		}
	}
}

// checkEntries fails unless the log in dir holds exactly entries [first,
// last] made by entryData.
func checkEntries(t *testing.T, dir string, first, last uint64) {
	t.Helper()
	l, err := wal.OpenReadOnly(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f, la, _, err := bounds(l)
	if err != nil || f != first || la != last {
		t.Fatalf("log holds [%d, %d] (%v), want [%d, %d]", f, la, err, first, last)
	}
	for i := first; i <= last; i++ {
		got, err := l.Read(i)
		if err != nil || !bytes.Equal(got, entryData(int(i))) {
			t.Fatalf("entry %d = %q, %v", i, got, err)
		}
	}
}

var (
	durationRE = regexp.MustCompile(`(elapsed\s+)\S+`)
	elapsedRE  = regexp.MustCompile(`("elapsed_seconds": )[0-9.e-]+`)
)

// normalize makes output stable: dir becomes $DIR, timings vanish.
func normalize(s, dir string) string {
	if dir != "" {
		s = strings.ReplaceAll(s, dir, "$DIR")
	}
	s = durationRE.ReplaceAllString(s, "${1}<elapsed>")
	return elapsedRE.ReplaceAllString(s, "${1}0")
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, []byte(got))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestBadInput: bad input gets a one-line error and the documented exit
// status, never a usage dump or a stack trace.
func TestBadInput(t *testing.T) {
	logDir := makeLog(t, 40)
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, nil)
	notLog := notLogDir(t)
	empty := t.TempDir()
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"stat", "--bogus", logDir}, "unknown flag: --bogus"},
		{[]string{"stat"}, "missing the log directory argument"},
		{[]string{"stat", logDir, "extra"}, `unexpected argument "extra"`},
		{[]string{"stat", missing}, "no such file or directory"},
		{[]string{"dump", file}, "not a directory"},
		{[]string{"verify", notLog}, "not a waldb directory"},
		{[]string{"tail", empty}, "not a waldb directory"},
		{[]string{"dump", "--from", "41", logDir}, "41 is outside the log's entries [1, 40]"},
		{[]string{"dump", "--to", "ten", logDir}, `invalid argument "ten"`},
		{[]string{"dump", "--from", "9", "--to", "3", logDir}, "--from 9 is after --to 3"},
		{[]string{"dump", "--data", "octal", logDir}, `--data="octal"`},
		{[]string{"dump", "--json", "--data", "raw", logDir}, "cannot be combined with --json"},
		{[]string{"tail", "--interval", "0s", logDir}, "must be positive"},
		{[]string{"truncate", logDir}, "exactly one of --front N and --back N"},
		{[]string{"truncate", "--front", "2", "--back", "3", logDir}, "exactly one of"},
		{[]string{"truncate", "--front", "50", "--yes", logDir}, "--front 50 is outside [1, 41]"},
		{[]string{"truncate", "--back", "0", "--yes", logDir}, "--back 0 is outside the log's entries [1, 40]"},
		{[]string{"repair", missing}, "no such file or directory"},
		{[]string{"repair", notLog}, "not a waldb directory"},
		{[]string{"bench", "--out", "chart.gif"}, "must be a .png or .svg file"},
		{[]string{"bench", "--writers", "0"}, "outside [1, 4096]"},
		{[]string{"crashtest", "--policy", "sometimes"}, `unknown sync policy "sometimes"`},
		{[]string{"crashtest", "--kills", "0"}, "--kills 0 must be at least 1"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := slices.Clone(tc.args)
			r := runCLI(t, "", args...)
			r.wantCode(t, exitError)
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "walctl: ") {
				t.Errorf("stderr is not one line starting with walctl:: %q", r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.want)
			}
			if strings.Contains(r.stdout+r.stderr, "goroutine") || strings.Contains(r.stdout, "Usage:") {
				t.Errorf("output has a stack trace or a usage dump:\n%s%s", r.stdout, r.stderr)
			}
		})
	}
}

// TestHelp: every command has --help, and it documents the exit statuses.
func TestHelp(t *testing.T) {
	r := runCLI(t, "")
	r.wantCode(t, exitOK)
	for _, cmd := range []string{"stat", "dump", "tail", "verify", "repair", "truncate", "bench", "crashtest"} {
		if !strings.Contains(r.stdout, "\n  "+cmd+" ") {
			t.Errorf("walctl's help does not list %s", cmd)
		}
		h := runCLI(t, "", cmd, "--help")
		h.wantCode(t, exitOK)
		for _, want := range []string{"Exit status:", "  0  success", "  1  corruption found", "  2  usage error", "Usage:"} {
			if !strings.Contains(h.stdout, want) {
				t.Errorf("walctl %s --help lacks %q", cmd, want)
			}
		}
	}
	if strings.Contains(r.stdout, childCmdName) {
		t.Error("the crash child command is listed in the help")
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{fmt.Errorf("x: %w", wal.ErrCorrupt), exitCorrupt},
		{errors.Join(errors.New("a"), fmt.Errorf("b: %w", wal.ErrCorrupt)), exitCorrupt},
		{fmt.Errorf("%w: violations", errCheckFailed), exitCorrupt},
		{&usageErr{cmd: "walctl x", err: fmt.Errorf("bad %w", wal.ErrCorrupt)}, exitError},
		{fmt.Errorf("opening: %w", wal.ErrNotLog), exitError},
		{fmt.Errorf("opening: %w", wal.ErrLocked), exitError},
		{errNotConfirmed, exitError},
		{io.ErrUnexpectedEOF, exitError},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                     "plain",
		"a\nb":                      "a; b",
		"unknown command\n\n\tstat": "unknown command; stat",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

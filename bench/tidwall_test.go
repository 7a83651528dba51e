package main

// Tests of github.com/waldb/wal/tidwall against the real tidwall/wal: its
// own test suite, and directories it writes. They live in this module
// because it may depend on tidwall/wal; the main module must not.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	twal "github.com/tidwall/wal"

	ours "github.com/waldb/wal/tidwall"
)

// tidwallInternals names the tests and subtests of tidwall's wal_test.go
// that use tidwall's unexported internals, with the reason; the harness
// replaces their bodies by a t.Skip so that the file compiles.
var tidwallInternals = map[string]string{
	"start-marker-file": "reads l.segments and l.findSegment, tidwall's unexported segment list, " +
		"to copy a segment file to a .START name: a tidwall on-disk crash artefact " +
		"(the conversion handles .START files: TestOpenConvertsTidwallDirectory)",
}

// TestTidwallOwnSuite runs tidwall/wal v1.2.1's own wal_test.go, taken from
// the module cache, against github.com/waldb/wal/tidwall: the test file
// goes, unchanged but for the subtests in tidwallInternals, into a
// temporary copy of the package (its tests are in-package tests, package
// wal, like ours), which is built against this repository through a
// replace directive. Every test must pass.
func TestTidwallOwnSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs another test binary")
	}
	modDir := goOutput(t, ".", "list", "-m", "-f", "{{.Dir}}", "github.com/tidwall/wal")
	src, err := os.ReadFile(filepath.Join(modDir, "wal_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyPackage(t, filepath.Join(repo, "tidwall"), dir)
	test, skipped := stubInternals(t, string(src))
	write(t, filepath.Join(dir, "wal_test.go"), test)
	write(t, filepath.Join(dir, "go.mod"), fmt.Sprintf(
		"module tidwallsuite\n\ngo 1.26.8\n\nrequire github.com/waldb/wal v0.0.0-00010101000000-000000000000\n\nreplace github.com/waldb/wal => %s\n", repo))
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.sum"), string(sum))

	cmd := exec.Command("go", "test", "-count=1", "-v", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, runErr := cmd.CombinedOutput()
	pass, fail, skip := countResults(out)
	t.Logf("tidwall/wal %s wal_test.go against waldb/tidwall: %d top-level tests passed, %d failed; "+
		"%d tests and subtests passed in all, %d skipped as internal (%s)",
		filepath.Base(modDir), pass[0], fail[0], pass[1], len(skipped), strings.Join(skipped, ", "))
	if runErr != nil || fail[1] > 0 || pass[0] < 14 || skip != len(skipped) {
		t.Fatalf("go test: %v\n%s", runErr, out)
	}
}

// stubInternals replaces the body of each subtest in tidwallInternals by
// a t.Skip.
func stubInternals(t *testing.T, src string) (string, []string) {
	var skipped []string
	for name, why := range tidwallInternals {
		head := "\tt.Run(" + fmt.Sprintf("%q", name) + ", func(t *testing.T) {"
		a := strings.Index(src, head)
		if a < 0 {
			t.Fatalf("wal_test.go has no subtest %q", name)
		}
		b := strings.Index(src[a:], "\n\t})\n")
		if b < 0 {
			t.Fatalf("cannot find the end of subtest %q", name)
		}
		src = src[:a] + head + " t.Skip(" + fmt.Sprintf("%q", "uses tidwall internals: "+why) + ") })\n" + src[a+b+len("\n\t})\n"):]
		skipped = append(skipped, name)
	}
	return src, skipped
}

var resultLine = regexp.MustCompile(`^(\s*)--- (PASS|FAIL|SKIP): `)

// countResults counts go test -v results: [0] top-level tests, [1] all.
func countResults(out []byte) (pass, fail [2]int, skip int) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := resultLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		top := m[1] == ""
		switch m[2] {
		case "PASS":
			pass[1]++
			if top {
				pass[0]++
			}
		case "FAIL":
			fail[1]++
			if top {
				fail[0]++
			}
		case "SKIP":
			skip++
		}
	}
	return pass, fail, skip
}

// copyPackage copies the non-test Go files of a package directory.
func copyPackage(t *testing.T, from, to string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(from, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", from, err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(to, filepath.Base(f)), string(b))
	}
}

func write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func goOutput(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// TestTidwallDirectoryOpens writes logs with the real tidwall/wal, in
// both formats, with small segments and both kinds of truncation, and
// opens them with github.com/waldb/wal/tidwall (one through Migrate
// first): every entry tidwall served must be served, and writing goes on.
func TestTidwallDirectoryOpens(t *testing.T) {
	for _, format := range []twal.LogFormat{twal.Binary, twal.JSON} {
		for _, explicit := range []bool{false, true} {
			t.Run(fmt.Sprintf("format=%d/migrate=%v", format, explicit), func(t *testing.T) {
				dir := t.TempDir()
				first, last := writeWithTidwall(t, dir, format)
				if explicit {
					n, err := ours.Migrate(dir, ours.LogFormat(format))
					if err != nil || uint64(n) != last-first+1 {
						t.Fatalf("Migrate = %d, %v; want %d entries", n, err, last-first+1)
					}
				}
				l, err := ours.Open(dir, &ours.Options{LogFormat: ours.LogFormat(format), NoSync: true})
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				f, _ := l.FirstIndex()
				la, _ := l.LastIndex()
				if f != first || la != last {
					t.Fatalf("bounds %d..%d, want %d..%d", f, la, first, last)
				}
				for i := first; i <= last; i++ {
					got, err := l.Read(i)
					if err != nil || !bytes.Equal(got, tidwallEntry(i)) {
						t.Fatalf("Read(%d) = %q, %v; want %q", i, got, err, tidwallEntry(i))
					}
				}
				if err := l.Write(last+1, []byte("after")); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// tidwallEntry is entry i; every fifth is not UTF-8, which tidwall's JSON
// format stores as base64.
func tidwallEntry(i uint64) []byte {
	if i%5 == 0 {
		return []byte{0xff, byte(i), 0, 1}
	}
	return fmt.Appendf(nil, `entry "%d" <&>`, i)
}

// writeWithTidwall writes entries 1..300 with tidwall/wal in 1 KiB
// segments, drops the first 40 and the last 20, and returns the bounds.
func writeWithTidwall(t *testing.T, dir string, format twal.LogFormat) (first, last uint64) {
	t.Helper()
	l, err := twal.Open(dir, &twal.Options{LogFormat: format, SegmentSize: 1024, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var b twal.Batch
	for i := uint64(1); i <= 300; i++ {
		b.Write(i, tidwallEntry(i))
		if i%7 == 0 || i == 300 {
			if err := l.WriteBatch(&b); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.TruncateFront(41); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateBack(280); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return 41, 280
}

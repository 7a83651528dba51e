package main

import (
	"strings"
	"testing"

	"github.com/waldb/wal"
)

func TestTruncateFront(t *testing.T) {
	dir := makeLog(t, 100)
	r := runCLI(t, "y\n", "truncate", "--front", "40", dir)
	r.wantCode(t, exitOK)
	golden(t, "truncate-front.golden", normalize(r.stdout, dir))
	checkEntries(t, dir, 40, 100)
}

func TestTruncateBack(t *testing.T) {
	dir := makeLog(t, 100)
	r := runCLI(t, "", "truncate", "--back", "75", "--yes", dir)
	r.wantCode(t, exitOK)
	golden(t, "truncate-back.golden", normalize(r.stdout, dir))
	checkEntries(t, dir, 1, 75)
}

// TestTruncateEmpties: --front last+1 empties the log, keeping its
// position.
func TestTruncateEmpties(t *testing.T) {
	dir := makeLog(t, 10)
	runCLI(t, "", "truncate", "--front", "11", "--yes", dir).wantCode(t, exitOK)
	l, err := wal.OpenReadOnly(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if first, last, count, _ := bounds(l); count != 0 || first != 11 || last != 10 {
		t.Fatalf("after emptying: [%d, %d] count %d", first, last, count)
	}
}

// TestTruncateDeclined: anything but yes changes nothing and exits 2.
func TestTruncateDeclined(t *testing.T) {
	for _, answer := range []string{"n\n", "\n", "", "yes please\n"} {
		dir := makeLog(t, 50)
		before := snapshot(t, dir)
		r := runCLI(t, answer, "truncate", "--back", "10", dir)
		r.wantCode(t, exitError)
		if !strings.Contains(r.stdout, "Proceed? [y/N]") || !strings.Contains(r.stderr, "not confirmed: nothing was changed") {
			t.Errorf("answer %q: stdout %q, stderr %q", answer, r.stdout, r.stderr)
		}
		unchanged(t, dir, before)
	}
}

func TestTruncateNothingToDo(t *testing.T) {
	dir := makeLog(t, 50)
	before := snapshot(t, dir)
	r := runCLI(t, "", "truncate", "--back", "50", dir)
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "nothing to do") {
		t.Errorf("stdout = %q", r.stdout)
	}
	unchanged(t, dir, before)
}

// TestTruncateRefusals: a locked log (exit 2), a corrupt one (exit 1), and
// a torn one, whose recovery the confirmation announces.
func TestTruncateRefusals(t *testing.T) {
	dir := makeLog(t, 50)
	w, err := wal.Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", "truncate", "--back", "10", "--yes", dir)
	w.Close()
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "is open in another process") {
		t.Errorf("locked: stderr %q", r.stderr)
	}
	checkEntries(t, dir, 1, 50)

	missing, _ := missingSegmentLog(t, 100)
	before := snapshot(t, missing)
	r = runCLI(t, "", "truncate", "--front", "5", "--yes", missing)
	r.wantCode(t, exitCorrupt)
	if !strings.Contains(r.stderr, "refusing to truncate a corrupt log") {
		t.Errorf("corrupt: stderr %q", r.stderr)
	}
	unchanged(t, missing, before)

	torn := tornTailLog(t, 100)
	r = runCLI(t, "y\n", "truncate", "--front", "5", torn)
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "opening the log for writing first recovers it: torn-tail") {
		t.Errorf("torn: stdout %q", r.stdout)
	}
	checkEntries(t, torn, 5, 99)
}

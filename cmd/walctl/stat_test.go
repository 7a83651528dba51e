package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/waldb/wal"
)

// truncatedLog: a closed log of entries [1, 100], truncated to [11, 95],
// so it has a META file.
func truncatedLog(t *testing.T) string {
	t.Helper()
	dir := makeLog(t, 100)
	l, err := wal.Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateFront(11); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateBack(95); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestStat(t *testing.T) {
	dir := truncatedLog(t)
	before := snapshot(t, dir)
	r := runCLI(t, "", "stat", dir)
	r.wantCode(t, exitOK)
	golden(t, "stat.golden", normalize(r.stdout, dir))

	r = runCLI(t, "", "stat", "--json", dir)
	r.wantCode(t, exitOK)
	golden(t, "stat-json.golden", normalize(r.stdout, dir))
	var st statJSON
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatal(err)
	}
	if st.FirstIndex != 11 || st.LastIndex != 95 || st.Entries != 85 || st.Meta == nil || st.Meta.Front != 11 || st.Meta.Back != 95 {
		t.Errorf("stat --json = %+v", st)
	}
	unchanged(t, dir, before)
}

// TestStatTornTail: stat reports what recovery would drop, as a dry run,
// and changes nothing.
func TestStatTornTail(t *testing.T) {
	dir := tornTailLog(t, 100)
	before := snapshot(t, dir)
	r := runCLI(t, "", "stat", dir)
	r.wantCode(t, exitOK)
	for _, want := range []string{"entries:   99 [1, 99]", "recovery:  torn-tail: entries [1, 99]", "(read-only: nothing changed); dropped"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stat output lacks %q:\n%s", want, r.stdout)
		}
	}
	unchanged(t, dir, before)
}

// TestStatCorrupt: a log that cannot be opened is listed by file, with
// the reason, and exit status 1.
func TestStatCorrupt(t *testing.T) {
	dir, _ := missingSegmentLog(t, 100)
	r := runCLI(t, "", "stat", dir)
	r.wantCode(t, exitCorrupt)
	golden(t, "stat-missing-segment.golden", normalize(r.stdout, dir))
	if !strings.Contains(r.stderr, "missing segment?") {
		t.Errorf("stderr = %q", r.stderr)
	}
	r = runCLI(t, "", "stat", "--json", dir)
	r.wantCode(t, exitCorrupt)
	var st statJSON
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Error == "" || len(st.Segments) != 3 {
		t.Errorf("stat --json of a corrupt log = %+v, %v", st, err)
	}
}

func TestStatNotLog(t *testing.T) {
	r := runCLI(t, "", "stat", notLogDir(t))
	r.wantCode(t, exitError)
	if r.stdout != "" {
		t.Errorf("stdout = %q", r.stdout)
	}
}

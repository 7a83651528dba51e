package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waldb/wal"
)

// repairLog runs repair on dir with a backup folder in a new temporary
// directory; it checks that the repair's promise holds: every file it
// changed or removed is in the backup byte for byte.
func repairLog(t *testing.T, dir, stdin string, args ...string) (cliResult, string) {
	t.Helper()
	backup := filepath.Join(t.TempDir(), "backup")
	before := snapshot(t, dir)
	r := runCLI(t, stdin, append([]string{"repair", "--backup", backup, dir}, args...)...)
	after := snapshot(t, dir)
	for name, b := range before {
		if a, ok := after[name]; (!ok || !bytes.Equal(a, b)) && name != "LOCK" {
			saved, err := os.ReadFile(filepath.Join(backup, name))
			if err != nil || !bytes.Equal(saved, b) {
				t.Errorf("repair changed %s but its backup is missing or differs (%v)", name, err)
			}
		}
	}
	return r, backup
}

// salvaged reads salvaged.jsonl from backup: index -> data.
func salvaged(t *testing.T, backup string) map[uint64][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join(backup, "salvaged.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[uint64][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e salvagedEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		b, err := base64.StdEncoding.DecodeString(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		m[e.Index] = b
	}
	return m
}

// wantSalvaged fails unless salvaged.jsonl holds exactly entries [from, to].
func wantSalvaged(t *testing.T, backup string, from, to uint64) {
	t.Helper()
	m := salvaged(t, backup)
	if uint64(len(m)) != to-from+1 {
		t.Errorf("salvaged %d entries, want [%d, %d]", len(m), from, to)
	}
	for i := from; i <= to; i++ {
		if !bytes.Equal(m[i], entryData(int(i))) {
			t.Errorf("salvaged entry %d = %q", i, m[i])
		}
	}
}

func TestRepairClean(t *testing.T) {
	dir := makeLog(t, 100)
	r, backup := repairLog(t, dir, "")
	r.wantCode(t, exitOK)
	if r.stdout != "repair "+dir+"\nnothing to repair: clean\n" {
		t.Errorf("stdout = %q", r.stdout)
	}
	if _, err := os.Stat(backup); !os.IsNotExist(err) {
		t.Errorf("a backup folder was created for nothing: %v", err)
	}
}

// TestRepairTornTail: the torn tail is cut without a question; the dry
// run changes nothing.
func TestRepairTornTail(t *testing.T) {
	dir := tornTailLog(t, 100)
	before := snapshot(t, dir)
	r, backup := repairLog(t, dir, "", "--dry-run")
	r.wantCode(t, exitOK)
	golden(t, "repair-torn-dry-run.golden", normalize(r.stdout, dir))
	unchanged(t, dir, before)
	if _, err := os.Stat(backup); !os.IsNotExist(err) {
		t.Errorf("the dry run created a backup folder: %v", err)
	}
	r, backup = repairLog(t, dir, "")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "verify: 99 entries [1, 99], 0 problems") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	checkEntries(t, dir, 1, 99)
	if len(salvaged(t, backup)) != 0 {
		t.Error("salvaged entries from a torn record")
	}
	runCLI(t, "", "verify", "-q", dir).wantCode(t, exitOK)
}

// TestRepairSealedFlip: an unreadable entry in a sealed segment: after
// confirmation the log is cut before it, and the readable entries after it
// are salvaged.
func TestRepairSealedFlip(t *testing.T) {
	dir, bad := sealedFlipLog(t, 100)
	before := snapshot(t, dir)
	r, _ := repairLog(t, dir, "n\n")
	r.wantCode(t, exitError)
	unchanged(t, dir, before)
	if !strings.Contains(r.stdout, "entry 27 cannot be read: cut the log after entry 26 (TruncateBack)") {
		t.Errorf("stdout:\n%s", r.stdout)
	}

	r, backup := repairLog(t, dir, "y\n")
	r.wantCode(t, exitOK)
	checkEntries(t, dir, 1, bad-1)
	wantSalvaged(t, backup, bad+1, 100)
	if b, err := os.ReadFile(filepath.Join(backup, "REPAIR.txt")); err != nil || !bytes.Contains(b, []byte("To undo:")) {
		t.Errorf("REPAIR.txt: %s, %v", b, err)
	}
	// The log works on: new entries continue after the cut.
	l, err := wal.Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	appendEntries(t, l, int(bad), 120)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	checkEntries(t, dir, 1, 120)
}

// TestRepairFirstEntryUnreadable: cutting before the first entry empties
// the log, which continues at that index.
func TestRepairFirstEntryUnreadable(t *testing.T) {
	dir := makeLog(t, 100)
	flipBit(t, segPaths(t, dir)[0], firstPayload)
	r, backup := repairLog(t, dir, "", "--yes")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "entry 1, the first, cannot be read: empty the log, continuing at index 1 (Reset)") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	checkEntries(t, dir, 1, 0)
	wantSalvaged(t, backup, 2, 100)
}

// TestRepairTailFlip: damage that a sync marker proves durable: point-in-
// time recovery, after confirmation.
func TestRepairTailFlip(t *testing.T) {
	dir, bad := tailFlipLog(t, 100)
	r, backup := repairLog(t, dir, "yes\n")
	r.wantCode(t, exitOK)
	for _, want := range []string{"proves these bytes were durable", "recovery mode point-in-time", "Proceed? [y/N] yes"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	checkEntries(t, dir, 1, bad-1)
	wantSalvaged(t, backup, bad+1, 100)
}

// TestRepairMissingSegment: the segments after the gap are quarantined:
// moved to the backup, their entries salvaged.
func TestRepairMissingSegment(t *testing.T) {
	dir, gap := missingSegmentLog(t, 100)
	r, backup := repairLog(t, dir, "", "-y")
	r.wantCode(t, exitOK)
	golden(t, "repair-missing-segment.golden", strings.ReplaceAll(normalize(r.stdout, dir), backup, "$BACKUP"))
	checkEntries(t, dir, 1, gap-1)
	next := gap + (gap - 1) // the first index after the missing segment
	wantSalvaged(t, backup, next, 100)
	for _, s := range []string{"0000000000000003-00000000000000000053.wal", "0000000000000004-00000000000000000079.wal"} {
		if _, err := os.Stat(filepath.Join(backup, s)); err != nil {
			t.Errorf("quarantined segment %s is not in the backup: %v", s, err)
		}
		if _, err := os.Stat(filepath.Join(dir, s)); err == nil {
			t.Errorf("quarantined segment %s is still in the log", s)
		}
	}
}

// TestRepairBadTrailer: a sealed segment whose trailer is damaged breaks
// the log; the segments after it are quarantined and their entries
// appended back, so nothing is lost and no confirmation is needed.
func TestRepairBadTrailer(t *testing.T) {
	dir := badTrailerLog(t, 100)
	r, backup := repairLog(t, dir, "")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "append entries [53, 100] read from the quarantined segments") || strings.Contains(r.stdout, "Proceed?") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	checkEntries(t, dir, 1, 100)
	if len(salvaged(t, backup)) != 0 {
		t.Error("salvaged entries although all were kept")
	}
}

// TestRepairRefuses: a damaged META, a locked log, and damage that costs
// no entry are refused, and nothing changes.
func TestRepairRefuses(t *testing.T) {
	meta := truncatedLog(t)
	flipBit(t, filepath.Join(meta, metaName), 20)

	locked := makeLog(t, 40)
	w, err := wal.Open(locked, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	flipBit(t, segPaths(t, locked)[0], firstPayload)

	// A flipped bit in a sync marker of a sealed segment: every entry
	// still reads back through the index block.
	marker := makeLog(t, 100)
	flipBit(t, segPaths(t, marker)[1], segHeaderLen+16+31+16) // the marker after the first entry

	for _, tc := range []struct {
		name, dir string
		code      int
		want      string
	}{
		{"damaged META", meta, exitCorrupt, "META is damaged"},
		{"locked", locked, exitError, "is open in another process"},
		{"damage without loss", marker, exitCorrupt, "the damage found costs no entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, tc.dir)
			r, backup := repairLog(t, tc.dir, "", "--yes")
			r.wantCode(t, tc.code)
			if !strings.Contains(r.stdout+r.stderr, tc.want) {
				t.Errorf("output lacks %q:\n%s%s", tc.want, r.stdout, r.stderr)
			}
			unchanged(t, tc.dir, before)
			if _, err := os.Stat(backup); !os.IsNotExist(err) {
				t.Errorf("a backup folder was created: %v", err)
			}
		})
	}
}

// TestRepairRefusesFrozenTail: quarantining segments newer than META's
// last TruncateBack would leave a log whose next tail segment the
// following Open voids (a library hazard): repair refuses.
func TestRepairRefusesFrozenTail(t *testing.T) {
	dir := makeLog(t, 100)
	l, err := wal.Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateBack(40); err != nil { // META backSeq 4; segment 2 holds [32, 40]
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(segPaths(t, dir)[1]); err != nil { // now segment 5 (from 41) follows segment 1
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	r, _ := repairLog(t, dir, "", "--yes")
	r.wantCode(t, exitCorrupt)
	if !strings.Contains(r.stdout, "entries appended after such a repair would be voided") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	unchanged(t, dir, before)
}

// TestRepairBackupFolder: the backup folder must be new or empty and
// outside the log.
func TestRepairBackupFolder(t *testing.T) {
	dir := tornTailLog(t, 100)
	full := t.TempDir()
	writeFile(t, filepath.Join(full, "x"), nil)
	for _, b := range []string{full, filepath.Join(dir, "bk")} {
		r := runCLI(t, "", "repair", "--backup", b, dir)
		r.wantCode(t, exitError)
	}
	runCLI(t, "", "verify", "-q", dir).wantCode(t, exitOK) // still torn, still fine
}

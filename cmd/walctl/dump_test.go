package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waldb/wal"
	"github.com/waldb/wal/txn"
)

// mixedLog holds text, binary, empty and Unicode entries and a
// transaction of package txn.
func mixedLog(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "log")
	l, err := wal.Open(dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"set x 1", "", "\x00\x01\xfe\xff", "tab\there", "naïve café ☕", "line\nbreak"} {
		if _, err := l.Append([]byte(e)); err != nil {
			t.Fatal(err)
		}
	}
	w := txn.NewWriter(l, 6)
	ops := []txn.Op{
		{Kind: txn.KindPut, Key: []byte("user:1"), Value: []byte("ada")},
		{Kind: txn.KindPut, Key: []byte("bin"), Value: []byte{0, 1, 2}},
		{Kind: txn.KindDelete, Key: []byte("user:0")},
	}
	if _, err := w.Commit(ops); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDump(t *testing.T) {
	dir := mixedLog(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"dump.golden", nil},
		{"dump-json.golden", []string{"--json"}},
		{"dump-hex.golden", []string{"--data", "hex", "--to", "6"}},
		{"dump-base64-json.golden", []string{"--data", "base64", "--json", "--from", "3", "--to", "4"}},
		{"dump-notxn.golden", []string{"--txn=false", "--from", "7"}},
	} {
		r := runCLI(t, "", append([]string{"dump", dir}, tc.args...)...)
		r.wantCode(t, exitOK)
		golden(t, tc.name, r.stdout)
	}
}

// TestDumpJSONRoundTrip: --json lines give the exact bytes back.
func TestDumpJSONRoundTrip(t *testing.T) {
	dir := makeLog(t, 70)
	r := runCLI(t, "", "dump", "--json", "--data", "base64", "--from", "20", "--to", "60", dir)
	r.wantCode(t, exitOK)
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	want := 20
	for ; sc.Scan(); want++ {
		var e entryJSON
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		b, err := base64.StdEncoding.DecodeString(*e.Data)
		if err != nil || e.Index != uint64(want) || string(b) != string(entryData(want)) || e.Size != len(b) {
			t.Fatalf("line %q: entry %d, data %q, %v", sc.Text(), e.Index, b, err)
		}
	}
	if want != 61 {
		t.Fatalf("dumped up to %d, want 60", want-1)
	}
}

func TestDumpRaw(t *testing.T) {
	r := runCLI(t, "", "dump", "--data", "raw", "--from", "5", "--to", "6", makeLog(t, 10))
	r.wantCode(t, exitOK)
	if want := string(entryData(5)) + "\n" + string(entryData(6)) + "\n"; r.stdout != want {
		t.Errorf("raw dump = %q, want %q", r.stdout, want)
	}
}

// TestDumpDamaged: dump prints up to damage it meets and exits 1; a torn
// tail is not damage (dump shows what recovery keeps).
func TestDumpDamaged(t *testing.T) {
	dir, bad := sealedFlipLog(t, 100)
	r := runCLI(t, "", "dump", dir)
	r.wantCode(t, exitCorrupt)
	if lines := strings.Count(r.stdout, "\n"); uint64(lines) != bad-1 {
		t.Errorf("dumped %d entries before the damaged entry %d", lines, bad)
	}
	if !strings.Contains(r.stderr, "checksum mismatch") {
		t.Errorf("stderr = %q", r.stderr)
	}
	r = runCLI(t, "", "dump", "--from", "90", tornTailLog(t, 100))
	r.wantCode(t, exitOK)
	if !strings.HasPrefix(r.stdout, "90\t") || !strings.HasSuffix(r.stdout, "\n99\t31\tentry 0099: the quick brown fox\n") {
		t.Errorf("dump of a torn log:\n%s", r.stdout)
	}
	missing, _ := missingSegmentLog(t, 100)
	runCLI(t, "", "dump", missing).wantCode(t, exitCorrupt)
}

func TestDumpEmptyLog(t *testing.T) {
	dir := makeLog(t, 0)
	r := runCLI(t, "", "dump", dir)
	r.wantCode(t, exitOK)
	if r.stdout != "" {
		t.Errorf("dump of an empty log = %q", r.stdout)
	}
	r = runCLI(t, "", "dump", "--from", "1", dir)
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "(none; the next index is 1)") {
		t.Errorf("stderr = %q", r.stderr)
	}
}

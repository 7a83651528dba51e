package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waldb/wal"
)

// writeTidwallDir writes a tidwall/wal Binary-format directory holding
// entries [1, n] in segments of 10.
func writeTidwallDir(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for first := 1; first <= n; first += 10 {
		var b []byte
		for i := first; i < first+10 && i <= n; i++ {
			e := fmt.Sprintf("entry %d", i)
			b = binary.AppendUvarint(b, uint64(len(e)))
			b = append(b, e...)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%020d", first)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestMigrateTidwall converts a directory, which the root package then
// opens with every entry; a second run has nothing to do.
func TestMigrateTidwall(t *testing.T) {
	dir := writeTidwallDir(t, 35)
	r := runCLI(t, "", "migrate-tidwall", dir)
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "converted 35 entries") {
		t.Fatalf("stdout:\n%s", r.stdout)
	}
	l, err := wal.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 35; i++ {
		if got, err := l.Read(i); err != nil || string(got) != fmt.Sprintf("entry %d", i) {
			t.Fatalf("Read(%d) = %q, %v", i, got, err)
		}
	}
	l.Close()
	r = runCLI(t, "", "migrate-tidwall", dir)
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "nothing to convert") {
		t.Fatalf("stdout:\n%s", r.stdout)
	}
}

// TestMigrateTidwallCorrupt: a damaged segment exits 1 and is left alone.
func TestMigrateTidwallCorrupt(t *testing.T) {
	dir := writeTidwallDir(t, 5)
	seg := filepath.Join(dir, fmt.Sprintf("%020d", 1))
	if err := os.WriteFile(seg, []byte{50, 'x'}, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", "migrate-tidwall", dir)
	r.wantCode(t, exitCorrupt)
	if _, err := os.Stat(seg); err != nil {
		t.Fatal(err)
	}
}

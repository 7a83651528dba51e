package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/waldb/wal/raftlog"
)

// boltLog is entry i of the test stores, with every field set.
func boltLog(i uint64) *raft.Log {
	return &raft.Log{
		Index: i, Term: 1 + i/50, Type: raft.LogCommand,
		Data:       fmt.Appendf(nil, "command %d", i),
		Extensions: []byte{byte(i)},
		AppendedAt: time.Unix(1700000000, int64(i)).UTC(),
	}
}

// makeBolt writes a raft-boltdb store holding entries [1, 20] and, after a
// gap, [from, to], plus raft's stable keys and an application key.
func makeBolt(t *testing.T, from, to uint64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "raft.db")
	b, err := raftboltdb.NewBoltStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var ls []*raft.Log
	for i := uint64(1); i <= to; i++ {
		if i <= 20 || i >= from {
			ls = append(ls, boltLog(i))
		}
		if len(ls) == 100 || i == to {
			if err := b.StoreLogs(ls); err != nil {
				t.Fatal(err)
			}
			ls = ls[:0]
		}
	}
	for _, err := range []error{
		b.SetUint64([]byte("CurrentTerm"), 9),
		b.SetUint64([]byte("LastVoteTerm"), 8),
		b.Set([]byte("LastVoteCand"), []byte("node-2")),
		b.Set([]byte("app/key"), []byte{1, 2, 3}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestMigrateBolt migrates a store with a gap and checks the summary and
// the copy, entry by entry and key by key.
func TestMigrateBolt(t *testing.T) {
	path := makeBolt(t, 101, 450)
	dir := filepath.Join(t.TempDir(), "store")
	r := runCLI(t, "", "migrate-bolt", path, dir)
	r.wantCode(t, exitOK)
	for _, want := range []string{
		"entries:      350 [101, 450], each verified",
		"skipped:      20 entries below a gap",
		"stable keys:  4, each verified",
		"result:       ok",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	s, err := raftlog.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if first, _ := s.FirstIndex(); first != 101 {
		t.Fatalf("first index %d, want 101", first)
	}
	if last, _ := s.LastIndex(); last != 450 {
		t.Fatalf("last index %d, want 450", last)
	}
	var got raft.Log
	for i := uint64(101); i <= 450; i++ {
		if err := s.GetLog(i, &got); err != nil {
			t.Fatal(err)
		}
		want := boltLog(i)
		if got.Term != want.Term || !bytes.Equal(got.Data, want.Data) || !got.AppendedAt.Equal(want.AppendedAt) {
			t.Fatalf("entry %d: %+v, want %+v", i, got, want)
		}
	}
	if term, err := s.GetUint64([]byte("CurrentTerm")); err != nil || term != 9 {
		t.Fatalf("CurrentTerm = %d, %v", term, err)
	}
	if v, err := s.Get([]byte("app/key")); err != nil || !bytes.Equal(v, []byte{1, 2, 3}) {
		t.Fatalf("app/key = %x, %v", v, err)
	}
}

// TestMigrateBoltEmptyDir: an existing empty directory is accepted.
func TestMigrateBoltEmptyDir(t *testing.T) {
	path := makeBolt(t, 21, 30)
	dir := t.TempDir()
	r := runCLI(t, "", "migrate-bolt", path, dir)
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "entries:      30 [1, 30]") || !strings.Contains(r.stdout, "skipped:      0") {
		t.Fatalf("stdout:\n%s", r.stdout)
	}
}

// TestMigrateBoltRefusals: usage errors, a non-empty destination, a
// missing or foreign source (exit 2), and a corrupt Bolt file (exit 1).
// A failed migration leaves no destination behind.
func TestMigrateBoltRefusals(t *testing.T) {
	path := makeBolt(t, 21, 30)
	tmp := t.TempDir()
	runCLI(t, "", "migrate-bolt", path).wantCode(t, exitError)
	runCLI(t, "", "migrate-bolt", path, tmp, "extra").wantCode(t, exitError)

	full := filepath.Join(tmp, "full")
	if err := os.MkdirAll(filepath.Join(full, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", "migrate-bolt", path, full)
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "is not empty") {
		t.Errorf("non-empty destination: stderr %q", r.stderr)
	}
	if names, _ := os.ReadDir(full); len(names) != 1 {
		t.Errorf("non-empty destination was changed: %v", names)
	}

	text := filepath.Join(tmp, "notes.txt")
	if err := os.WriteFile(text, bytes.Repeat([]byte("not a bolt file\n"), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{filepath.Join(tmp, "missing.db"), text} {
		dst := filepath.Join(tmp, "dst")
		r := runCLI(t, "", "migrate-bolt", src, dst)
		r.wantCode(t, exitError)
		if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: destination left behind: %v", src, err)
		}
	}

	corrupt := corruptBoltMeta(t, path)
	r = runCLI(t, "", "migrate-bolt", corrupt, filepath.Join(tmp, "dst"))
	r.wantCode(t, exitCorrupt)
	if !strings.Contains(r.stderr, "checksum") {
		t.Errorf("corrupt source: stderr %q", r.stderr)
	}
}

// corruptBoltMeta copies the Bolt file at path and flips a checksum byte
// of both meta pages (pages 0 and 1; the meta's checksum ends at byte 80
// of its page).
func corruptBoltMeta(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := os.Getpagesize()
	for _, off := range []int{72, pageSize + 72} {
		b[off] ^= 0xff
	}
	out := filepath.Join(t.TempDir(), "corrupt.db")
	if err := os.WriteFile(out, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

package raftlog

import (
	"testing"

	"github.com/hashicorp/raft"
	wal "github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
)

// TestRecentEntries: the latest stored entries are served from memory,
// at most recentEntries of them; entries raft replaces or deletes are
// never served from there; and what GetLog returns is the caller's own.
func TestRecentEntries(t *testing.T) {
	s := mustOpen(t, memDir, memOpts(vfs.NewMem()))
	defer s.Close()
	m := newModel()
	for first := uint64(1); first <= 3000; first += 100 {
		ls := entries(first, first+99, 1)
		if err := s.StoreLogs(ls); err != nil {
			t.Fatal(err)
		}
		m.store(ls)
	}
	r := s.recent.Load()
	if r == nil || r.first != 3000-recentEntries+1 || len(r.enc) != recentEntries {
		t.Fatalf("recent holds %+v entries, want the last %d", r, recentEntries)
	}
	m.check(t, s) // older entries come from the log, recent ones from memory

	var got raft.Log
	if err := s.GetLog(2999, &got); err != nil {
		t.Fatal(err)
	}
	for i := range got.Data {
		got.Data[i] = 'x'
	}
	m.check(t, s) // scribbling over a result changes nothing stored

	// raft replaces a suffix (a follower's conflicting entries): the old
	// ones must not be served, from memory or the log.
	ls := entries(2950, 2960, 2)
	if err := s.StoreLogs(ls); err != nil {
		t.Fatal(err)
	}
	m.store(ls)
	m.check(t, s)
	if s.recent.Load().get(2960) == nil {
		t.Fatal("entries stored after a cut are not served from memory")
	}

	for _, d := range [][2]uint64{{1, 2000}, {2955, 2960}} { // the head, then the tail
		if err := s.DeleteRange(d[0], d[1]); err != nil {
			t.Fatal(err)
		}
		m.deleteRange(d[0], d[1])
		m.check(t, s)
	}
}

// TestRecentOnlySyncAlways: under another policy a background flush may
// fail and roll back entries StoreLogs returned, so none are kept.
func TestRecentOnlySyncAlways(t *testing.T) {
	o := memOpts(vfs.NewMem())
	o.Log.SyncPolicy = wal.SyncNever
	s := mustOpen(t, memDir, o)
	defer s.Close()
	if err := s.StoreLogs(entries(1, 10, 1)); err != nil {
		t.Fatal(err)
	}
	if r := s.recent.Load(); r != nil {
		t.Fatalf("SyncNever store keeps %d entries in memory", len(r.enc))
	}
	m := newModel()
	m.store(entries(1, 10, 1))
	m.check(t, s)
}

// TestRecentExtend: extend keeps the run contiguous and bounded.
func TestRecentExtend(t *testing.T) {
	enc := func(n int) [][]byte { return make([][]byte, n) }
	var r *recent
	r = r.extend(10, enc(5))
	if r.first != 10 || len(r.enc) != 5 {
		t.Fatalf("first run: %d, %d", r.first, len(r.enc))
	}
	r2 := r.extend(15, enc(recentEntries-2))
	if r2.first != 13 || len(r2.enc) != recentEntries {
		t.Fatalf("continued run: first %d, %d entries; want 13, %d", r2.first, len(r2.enc), recentEntries)
	}
	if len(r.enc) != 5 || r.first != 10 {
		t.Fatal("extend changed its receiver")
	}
	r3 := r2.extend(100, enc(3)) // not contiguous: starts over
	if r3.first != 100 || len(r3.enc) != 3 || r3.get(99) != nil {
		t.Fatalf("gap: first %d, %d entries", r3.first, len(r3.enc))
	}
	r4 := r3.extend(103, enc(2*recentEntries))
	if r4.first != 103+recentEntries || len(r4.enc) != recentEntries {
		t.Fatalf("oversized batch: first %d, %d entries", r4.first, len(r4.enc))
	}
	big := [][]byte{make([]byte, recentBytes/2), make([]byte, recentBytes/2), make([]byte, 1)}
	r5 := r4.extend(103+2*recentEntries, big)
	if r5.first != 104+2*recentEntries || len(r5.enc) != 2 {
		t.Fatalf("over recentBytes: first %d, %d entries; want the last 2", r5.first, len(r5.enc))
	}
	if r6 := r5.extend(106+2*recentEntries, [][]byte{make([]byte, recentBytes+1)}); r6 != nil {
		t.Fatalf("an entry larger than recentBytes is kept: %d entries", len(r6.enc))
	}
}

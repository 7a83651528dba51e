package raftlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/raft"
	wal "github.com/waldb/wal"
)

// startSmallSegments starts a single-node cluster on small log segments,
// proposes count entries of about 200 bytes ("entry <i> xxx..."), takes
// a snapshot (so the entries lie before the newest snapshot, which raft
// does not read at start) and shuts the node down. It returns the
// config to restart with and the log's segment files.
func startSmallSegments(t *testing.T, count int, trailing ...uint64) (NodeConfig, []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := NodeConfig{ID: "n0", RaftAddr: addr, Dir: t.TempDir(), Bootstrap: true, LogOutput: io.Discard,
		LogSegmentSize: 4 << 10}
	if len(trailing) > 0 {
		cfg.TrailingLogs = trailing[0]
	}
	n, err := StartNode(cfg, &countFSM{})
	if err != nil {
		t.Fatal(err)
	}
	waitLeader(t, []*Node{n})
	for i := range count {
		if _, err := n.Propose(context.Background(), fmt.Appendf(nil, "entry %d %s", i, bytes.Repeat([]byte("x"), 200))); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	segs, err := filepath.Glob(filepath.Join(cfg.Dir, "raft", "log", "*"))
	if err != nil {
		t.Fatal(err)
	}
	segs = slices.DeleteFunc(segs, func(p string) bool { return filepath.Ext(p) != ".wal" })
	slices.Sort(segs)
	if len(segs) < 5 && len(trailing) == 0 {
		t.Fatalf("%d segments (%v), want at least 5", len(segs), segs)
	}
	return cfg, segs
}

// wantDamaged restarts the node of cfg and checks StartNode refuses with
// ErrDamaged.
func wantDamaged(t *testing.T, cfg NodeConfig) {
	t.Helper()
	n, err := StartNode(cfg, &countFSM{})
	if err == nil {
		n.Shutdown()
		t.Fatal("StartNode on a damaged log succeeded")
	}
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("StartNode: %v, want ErrDamaged", err)
	}
	t.Logf("StartNode: %v", err)
}

// TestStartNodeMissingSegment: a middle segment of the raft log deleted,
// with every entry it held before the newest snapshot, so raft itself
// would not read them at start. StartNode finds the hole (the store opens
// every segment and checks their chain) and returns ErrDamaged.
func TestStartNodeMissingSegment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a raft node over TCP")
	}
	cfg, segs := startSmallSegments(t, 150)
	if err := os.Remove(segs[len(segs)/2]); err != nil {
		t.Fatal(err)
	}
	wantDamaged(t, cfg)
}

// TestStartNodeDamagedBeforeSnapshot: a bit flipped in an entry before
// the newest snapshot, which raft does not read at start but would send
// to a lagging follower. StartNode reads every stored entry and refuses.
func TestStartNodeDamagedBeforeSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a raft node over TCP")
	}
	cfg, segs := startSmallSegments(t, 150)
	flipped := false
	for _, seg := range segs {
		b, err := os.ReadFile(seg)
		i := bytes.Index(b, []byte("entry 40 "))
		if err != nil || i < 0 {
			continue
		}
		b[i+20] ^= 0x04
		if err := os.WriteFile(seg, b, 0o644); err != nil {
			t.Fatal(err)
		}
		flipped = true
	}
	if !flipped {
		t.Fatalf("no segment in %v holds entry 40", segs)
	}
	wantDamaged(t, cfg)
}

// BenchmarkStartCheck measures what StartNode adds to find damage before
// raft starts: opening the store with every segment (EagerOpen) and
// reading every entry back (checkLog), on a log of WALDB_BENCH_CHECK_MB
// megabytes (default 64) of 4 KiB entries in 64 MiB segments.
func BenchmarkStartCheck(b *testing.B) {
	mb := 64
	if v := os.Getenv("WALDB_BENCH_CHECK_MB"); v != "" {
		fmt.Sscan(v, &mb)
	}
	dir := b.TempDir()
	s, err := Open(dir, &Options{Log: &wal.Options{SyncPolicy: wal.SyncNever}})
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat([]byte("v"), 4096)
	n := mb << 8 // 4 KiB entries
	for i := 1; i <= n; i += 256 {
		var batch []*raft.Log
		for j := i; j < i+256 && j <= n; j++ {
			batch = append(batch, &raft.Log{Index: uint64(j), Term: 1, Type: raft.LogCommand, Data: data})
		}
		if err := s.StoreLogs(batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(mb) << 20)
	b.ResetTimer()
	for range b.N {
		s, err := Open(dir, &Options{Log: &wal.Options{EagerOpen: true}})
		if err != nil {
			b.Fatal(err)
		}
		if err := checkLog(s); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// TestTrimDamaged: after a middle segment is lost, TrimDamaged keeps the
// entries before the hole and no entry after it, and the node then
// starts; the kept entries read back unchanged.
func TestTrimDamaged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a raft node over TCP")
	}
	cfg, segs := startSmallSegments(t, 150)
	lost := segs[len(segs)/2]
	var seq, holeFirst uint64
	if _, err := fmt.Sscanf(filepath.Base(lost), "%d-%d.wal", &seq, &holeFirst); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(lost); err != nil {
		t.Fatal(err)
	}
	kept, err := TrimDamaged(cfg.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("hole at [%d, ...), kept [.., %d]", holeFirst, kept)
	if kept == 0 || kept >= holeFirst {
		t.Fatalf("TrimDamaged kept up to %d; the hole starts at %d", kept, holeFirst)
	}
	s, err := Open(filepath.Join(cfg.Dir, "raft"), &Options{Log: &wal.Options{EagerOpen: true}})
	if err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastIndex(); last != kept {
		t.Errorf("LastIndex after trim = %d, want %d", last, kept)
	}
	if err := checkLog(s); err != nil {
		t.Error(err)
	}
	s.Close()
	n, err := StartNode(cfg, &countFSM{})
	if err != nil {
		t.Fatalf("StartNode after TrimDamaged: %v", err)
	}
	n.Shutdown()
}

// damageSnapshot flips a byte of the state of every snapshot of dir.
func damageSnapshot(t *testing.T, dir string) {
	t.Helper()
	states, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*", "state.bin"))
	if len(states) == 0 {
		t.Fatal("no snapshot")
	}
	for _, p := range states {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %d bytes, %v", p, len(b), err)
		}
		b[len(b)/2] ^= 0x01
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStartNodeDamagedSnapshot: the only snapshot damaged. With the log
// still reaching back to index 1, raft would refuse to start; StartNode
// says ErrDamaged, and TrimDamaged drops the snapshot and keeps the log.
// With the log compacted behind the snapshot, the state has a hole:
// ErrDamaged again, and TrimDamaged drops the log too.
func TestStartNodeDamagedSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a raft node over TCP")
	}
	for _, tc := range []struct {
		name     string
		trailing uint64
		kept     bool // TrimDamaged keeps the log
	}{{"whole log", 0, true}, {"compacted log", 10, false}} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg NodeConfig
			if tc.trailing > 0 {
				cfg, _ = startSmallSegments(t, 150, tc.trailing)
			} else {
				cfg, _ = startSmallSegments(t, 150)
			}
			damageSnapshot(t, cfg.Dir)
			wantDamaged(t, cfg)
			kept, err := TrimDamaged(cfg.Dir)
			if err != nil {
				t.Fatal(err)
			}
			if tc.kept != (kept > 0) {
				t.Errorf("TrimDamaged kept the log up to %d; want kept: %v", kept, tc.kept)
			}
			if states, _ := filepath.Glob(filepath.Join(cfg.Dir, "snapshots", "*", "state.bin")); len(states) > 0 {
				t.Errorf("damaged snapshots left: %v", states)
			}
			n, err := StartNode(cfg, &countFSM{})
			if err != nil {
				t.Fatalf("StartNode after TrimDamaged: %v", err)
			}
			n.Shutdown()
		})
	}
}

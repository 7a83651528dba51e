package raftlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wal "github.com/waldb/wal"
)

// countFSM counts the commands applied.
type countFSM struct{ n atomic.Uint64 }

func (f *countFSM) Apply([]byte) any { return f.n.Add(1) }

func (f *countFSM) Snapshot() (func(io.Writer) error, error) {
	n := f.n.Load()
	return func(w io.Writer) error { return binary.Write(w, binary.LittleEndian, n) }, nil
}

func (f *countFSM) Restore(r io.Reader) error {
	var n uint64
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return err
	}
	f.n.Store(n)
	return nil
}

// startNodes starts a 3-node cluster on loopback TCP, n0 bootstrapping it.
func startNodes(t *testing.T) ([]*Node, []*countFSM) {
	var peers []Peer
	for i := range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		peers = append(peers, Peer{ID: fmt.Sprintf("n%d", i), RaftAddr: ln.Addr().String()})
		ln.Close()
	}
	base := t.TempDir()
	logs := &syncBuffer{}
	nodes, fsms := make([]*Node, 3), make([]*countFSM, 3)
	for i, p := range peers {
		fsms[i] = &countFSM{}
		n, err := StartNode(NodeConfig{ID: p.ID, RaftAddr: p.RaftAddr, Dir: filepath.Join(base, p.ID), Bootstrap: i == 0,
			Peers: peers, LogOutput: logs}, fsms[i])
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = n
		t.Cleanup(func() { n.Shutdown() })
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("raft's log:\n%s", logs.String())
		}
	})
	return nodes, fsms
}

// waitLeader returns the index of the leader among nodes (nil entries
// skipped), polling for up to 60 s.
func waitLeader(t *testing.T, nodes []*Node) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for i, n := range nodes {
			if n != nil && n.IsLeader() {
				return i
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no leader in 60s")
	return -1
}

// TestConfirmRead: followers refuse reads with ErrNotLeader; the leader
// confirms them, sharing confirmation rounds between concurrent reads;
// after the leader goes away, the new leader confirms a read only once it
// has applied every entry its predecessor acknowledged.
func TestConfirmRead(t *testing.T) {
	if testing.Short() {
		t.Skip("elects leaders over TCP")
	}
	nodes, fsms := startNodes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // generous: CI machines are busy
	defer cancel()
	l := waitLeader(t, nodes)
	const writes = 40
	for range writes / 2 {
		if _, err := nodes[l].Propose(ctx, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range nodes {
		err := n.ConfirmRead(ctx, false)
		if i == l && err != nil {
			t.Fatalf("leader n%d: ConfirmRead: %v", i, err)
		}
		if i != l && !errors.Is(err, ErrNotLeader) {
			t.Fatalf("follower n%d: ConfirmRead = %v, want ErrNotLeader", i, err)
		}
	}

	// Concurrent reads share rounds.
	before := nodes[l].verify.rounds.Load()
	var wg sync.WaitGroup
	const readers = 50
	errs := make([]error, readers)
	for i := range readers {
		wg.Go(func() { errs[i] = nodes[l].ConfirmRead(ctx, false) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if rounds := nodes[l].verify.rounds.Load() - before; rounds >= readers {
		t.Errorf("%d concurrent reads took %d confirmation rounds", readers, rounds)
	}

	// A command the store cannot hold is refused before the log, and the
	// leader stays the leader.
	_, err := nodes[l].Propose(ctx, bytes.Repeat([]byte("x"), wal.DefaultMaxEntrySize))
	if !errors.Is(err, ErrRejected) || !errors.Is(err, wal.ErrTooLarge) {
		t.Errorf("oversized Propose: %v, want ErrRejected and wal.ErrTooLarge", err)
	}
	if !nodes[l].IsLeader() {
		t.Errorf("the leader lost leadership over an oversized proposal")
	}

	for range writes / 2 {
		if _, err := nodes[l].Propose(ctx, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	old := nodes[l]
	if err := old.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := old.ConfirmRead(ctx, false); !errors.Is(err, ErrNotLeader) {
		t.Errorf("ConfirmRead on a node shut down: %v, want ErrNotLeader", err)
	}
	rest := append([]*Node(nil), nodes...)
	rest[l] = nil
	nl := waitLeader(t, rest)
	for _, lease := range []bool{false, true} {
		if err := nodes[nl].ConfirmRead(ctx, lease); err != nil {
			t.Fatalf("new leader n%d: ConfirmRead(lease %v): %v", nl, lease, err)
		}
		if got := fsms[nl].n.Load(); got != writes {
			t.Fatalf("new leader n%d confirmed a read having applied %d of the %d acknowledged writes", nl, got, writes)
		}
	}
}

// TestProposeNoQuorum: once the leader sees that its followers fail
// heartbeats, a proposal is refused before the log (a definite outcome),
// not appended to wait for a quorum that is gone.
func TestProposeNoQuorum(t *testing.T) {
	if testing.Short() {
		t.Skip("elects leaders over TCP")
	}
	nodes, _ := startNodes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // generous: CI machines are busy
	defer cancel()
	l := waitLeader(t, nodes)
	if _, err := nodes[l].Propose(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		if i != l {
			n.Shutdown()
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for nodes[l].peers.quorum() == nil && nodes[l].IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("the leader did not notice its followers are gone")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err := nodes[l].Propose(ctx, []byte("y"))
	if !errors.Is(err, ErrRejected) && !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Propose without a quorum: %v, want a refusal before the log", err)
	}
	t.Logf("Propose without a quorum: %v", err)
}

// TestStartNodeDamagedLog: a node whose log holds an entry that no longer
// reads back (a flipped bit) refuses to start with ErrDamaged, where raft
// itself would panic, and never serves the damaged entry.
func TestStartNodeDamagedLog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a raft node over TCP")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := NodeConfig{ID: "n0", RaftAddr: addr, Dir: t.TempDir(), Bootstrap: true, LogOutput: io.Discard}
	n, err := StartNode(cfg, &countFSM{})
	if err != nil {
		t.Fatal(err)
	}
	waitLeader(t, []*Node{n})
	for i := range 50 {
		if _, err := n.Propose(context.Background(), fmt.Appendf(nil, "entry %d %s", i, bytes.Repeat([]byte("x"), 100))); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(cfg.Dir, "raft", "log", "*"))
	var flipped bool
	for _, seg := range segs {
		b, err := os.ReadFile(seg)
		if err != nil || !bytes.Contains(b, []byte("entry 25 ")) {
			continue
		}
		i := bytes.Index(b, []byte("entry 25 ")) + 12 // inside entry 25's payload
		b[i] ^= 0x10
		if err := os.WriteFile(seg, b, 0o644); err != nil {
			t.Fatal(err)
		}
		flipped = true
	}
	if !flipped {
		t.Fatalf("no segment in %v holds entry 25", segs)
	}
	n, err = StartNode(cfg, &countFSM{})
	if err == nil {
		n.Shutdown()
		t.Fatal("StartNode on a damaged log succeeded")
	}
	if !errors.Is(err, ErrDamaged) && !errors.Is(err, wal.ErrCorrupt) {
		t.Fatalf("StartNode: %v, want ErrDamaged or wal.ErrCorrupt", err)
	}
	t.Logf("StartNode: %v", err)
}

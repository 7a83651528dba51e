package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// repairCluster is a 3-node cluster for the repair tests, with the
// writes it acknowledged.
type repairCluster struct {
	nodes  []*clusterNode
	w      *clusterWriter
	acked  map[string]string
	victim *clusterNode // a follower holding every acknowledged write
}

// startRepairCluster starts three nodes with extra flags, writes count
// keys (key000 = value-000 ...) and picks a follower that holds them all.
func startRepairCluster(t *testing.T, count int, extra ...string) *repairCluster {
	t.Helper()
	addrs := freeAddrs(t, 6)
	var peers []string
	for i := range 3 {
		peers = append(peers, fmt.Sprintf("n%d=%s=%s", i, addrs[3+i], addrs[i]))
	}
	rc := &repairCluster{nodes: make([]*clusterNode, 3), acked: map[string]string{}}
	base := t.TempDir()
	for i := range rc.nodes {
		args := []string{"--addr", addrs[i], "--dir", filepath.Join(base, fmt.Sprint(i)), "--node-id", fmt.Sprintf("n%d", i),
			"--raft-addr", addrs[3+i], "--peers", strings.Join(peers, ","), "--stale-reads"}
		args = append(args, extra...)
		if i == 0 {
			args = append(args, "--bootstrap")
		}
		rc.nodes[i] = &clusterNode{args: args, client: addrs[i]}
		rc.nodes[i].start(t)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range rc.nodes {
				t.Logf("stderr of %s (tail):\n%s", n.client, tail(n.log.String(), 3000))
			}
		}
	})
	rc.w = &clusterWriter{nodes: rc.nodes, clients: map[string]*redis.Client{}}
	t.Cleanup(rc.w.close)
	last := ""
	for i := range count {
		k, v := fmt.Sprintf("key%03d", i), fmt.Sprintf("value-%03d-%s", i, strings.Repeat("p", 100))
		if _, err := rc.w.do(t, "SET", k, v); err == nil {
			rc.acked[k], last = v, k
		}
	}
	for _, n := range rc.nodes {
		if n.client != rc.w.leader {
			rc.victim = n
		}
	}
	waitValue(t, rc.victim.client, last, rc.acked[last])
	return rc
}

// dir returns the victim's --dir.
func (rc *repairCluster) dir() string { return rc.victim.args[3] }

// restartAndCheck restarts the damaged victim with its usual flags and
// checks that it reports the damage, rejoins, holds every acknowledged
// write and a write made after the repair, and that the cluster has three
// members again; with keptLog, that it kept part of its raft log.
func (rc *repairCluster) restartAndCheck(t *testing.T, keptLog bool) {
	t.Helper()
	rc.victim.start(t)
	if !logged(rc.victim, "damaged log entry") {
		t.Errorf("the restarted node did not report the damage")
	}
	if _, err := rc.w.do(t, "SET", "fence", "after-repair"); err != nil {
		t.Fatal(err)
	}
	waitValue(t, rc.victim.client, "fence", "after-repair")
	c := redis.NewClient(&redis.Options{Addr: rc.victim.client, MaxRetries: -1})
	defer c.Close()
	for k, v := range rc.acked {
		if got, err := c.Get(context.Background(), k).Result(); err != nil || got != v {
			t.Errorf("repaired node: %s = %.20q, %v; want %.20q", k, got, err, v)
		}
	}
	// CLUSTER STATUS lists the voters: the victim is one again.
	lines := status(t, c)
	if len(lines) != 3 {
		t.Errorf("CLUSTER STATUS after repair:\n%s\nwant 3 voters", strings.Join(lines, "\n"))
	}
	// It was demoted, not removed, and kept the log before the damage.
	logged(rc.victim, "promoted back to voter") // all the repair's lines are in
	log := rc.victim.log.String()
	var kept uint64
	if i := strings.Index(log, "kept the raft log up to index "); i < 0 {
		t.Errorf("the repaired node did not report what it kept")
	} else if fmt.Sscanf(log[i+len("kept the raft log up to index "):], "%d", &kept); keptLog && kept == 0 {
		t.Errorf("the repaired node kept no log entry")
	}
	if !logged(rc.victim, "promoted back to voter") {
		t.Errorf("the repaired node did not report its promotion")
	}
	if _, err := os.Stat(filepath.Join(rc.dir(), "REPAIRING")); err == nil {
		t.Errorf("the repair mark is still there")
	}
	t.Logf("repaired node kept its raft log up to index %d", kept)
}

// TestClusterRepairDamagedNode: a bit flipped in a committed entry of a
// follower's raft log. Restarted with its usual flags, the node finds
// the damage before starting raft, has the cluster remove it, wipes its
// raft state and joins again; it ends up holding every acknowledged
// write, with no operator action.
func TestClusterRepairDamagedNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	rc := startRepairCluster(t, 100)
	// Stop the victim and flip a bit in the payload of the entry that
	// wrote key050.
	rc.victim.srv.kill()
	segs, _ := filepath.Glob(filepath.Join(rc.dir(), "raft", "log", "*"))
	flipped := false
	for _, seg := range segs {
		b, err := os.ReadFile(seg)
		if i := bytes.Index(b, []byte("value-050")); err == nil && i >= 0 {
			b[i+6] ^= 0x01
			if err := os.WriteFile(seg, b, 0o644); err != nil {
				t.Fatal(err)
			}
			flipped = true
		}
	}
	if !flipped {
		t.Fatalf("no segment of %s holds value-050 (%v)", rc.victim.client, segs)
	}
	rc.restartAndCheck(t, true)
}

// TestClusterRepairMissingSegment: a middle segment of a follower's raft
// log deleted (4 KiB segments, so 300 writes fill dozens), after the
// follower took a snapshot past it, so raft itself would not read the
// lost entries at start. Restarted with its usual flags, the node finds
// the hole, and the cluster repairs it as for a flipped bit.
func TestClusterRepairMissingSegment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	rc := startRepairCluster(t, 300, "--raft-segment-size", "4096",
		"--snapshot-threshold", "100", "--snapshot-interval", "100ms", "--trailing-logs", "10000")
	// Wait for a snapshot of the victim's past the middle of the log.
	deadline := time.Now().Add(30 * time.Second)
	for snapshotIndex(rc.dir()) < 200 {
		if time.Now().After(deadline) {
			t.Fatalf("%s took no snapshot past index 200 in 30s", rc.victim.client)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rc.victim.srv.kill()
	segs, _ := filepath.Glob(filepath.Join(rc.dir(), "raft", "log", "*.wal"))
	if len(segs) < 5 {
		t.Fatalf("%d raft log segments, want at least 5: %v", len(segs), segs)
	}
	slices.Sort(segs)
	if err := os.Remove(segs[len(segs)/2]); err != nil {
		t.Fatal(err)
	}
	t.Logf("removed %s of %d segments", filepath.Base(segs[len(segs)/2]), len(segs))
	rc.restartAndCheck(t, true)
}

// snapshotIndex returns the index of the newest raft snapshot in a node
// directory (raft names them term-index-milliseconds), or 0.
func snapshotIndex(dir string) uint64 {
	names, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*-*-*"))
	var top uint64
	for _, n := range names {
		var term, index, ms uint64
		if _, err := fmt.Sscanf(filepath.Base(n), "%d-%d-%d", &term, &index, &ms); err == nil {
			top = max(top, index)
		}
	}
	return top
}

// waitValue polls addr (a node serving stale reads) until key holds want.
func waitValue(t *testing.T, addr, key, want string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := c.Get(context.Background(), key).Result()
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s = %q, %v after 30s; want %q", addr, key, got, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClusterRepairResumes: a node restarted with the REPAIRING mark
// after its demotion (as after a crash between the demotion and the
// promotion) catches up and is promoted again, and the mark goes. Here
// the demotion is an operator's CLUSTER REPAIR while the node is down.
func TestClusterRepairResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	rc := startRepairCluster(t, 20)
	rc.victim.srv.kill()
	id := rc.victim.args[5]
	if _, err := rc.w.do(t, "CLUSTER", "REPAIR", id); err != nil {
		t.Fatalf("CLUSTER REPAIR %s: %v", id, err)
	}
	c := redis.NewClient(&redis.Options{Addr: rc.w.leader, MaxRetries: -1})
	defer c.Close()
	if lines := status(t, c); len(lines) != 2 {
		t.Fatalf("CLUSTER STATUS after demoting %s:\n%s\nwant 2 voters", id, strings.Join(lines, "\n"))
	}
	for i := range 20 { // entries the node must catch up on
		k := fmt.Sprintf("later%02d", i)
		if _, err := rc.w.do(t, "SET", k, "v"); err != nil {
			t.Fatal(err)
		}
		rc.acked[k] = "v"
	}
	if err := os.WriteFile(filepath.Join(rc.dir(), "REPAIRING"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rc.victim.start(t)
	if !logged(rc.victim, "promoted back to voter") {
		t.Errorf("the restarted node did not report its promotion")
	}
	if _, err := os.Stat(filepath.Join(rc.dir(), "REPAIRING")); err == nil {
		t.Errorf("the repair mark is still there")
	}
	// A write after the promotion: once the node has it, it has the
	// promotion entry too, and its CLUSTER STATUS lists itself.
	if _, err := rc.w.do(t, "SET", "fence", "after-repair"); err != nil {
		t.Fatal(err)
	}
	waitValue(t, rc.victim.client, "fence", "after-repair")
	vc := redis.NewClient(&redis.Options{Addr: rc.victim.client, MaxRetries: -1})
	defer vc.Close()
	for k, v := range rc.acked {
		if got, err := vc.Get(context.Background(), k).Result(); err != nil || got != v {
			t.Errorf("resumed node: %s = %.20q, %v; want %.20q", k, got, err, v)
		}
	}
	if lines := status(t, vc); len(lines) != 3 {
		t.Errorf("CLUSTER STATUS after the repair:\n%s\nwant 3 voters", strings.Join(lines, "\n"))
	}
}

// TestClusterRepairDamagedSnapshot: every snapshot of a follower damaged
// while its log is compacted behind them (raft would refuse to start, or
// with an older good snapshot, lack the entries after it). Restarted with
// its usual flags, the node repairs itself as for a damaged log.
func TestClusterRepairDamagedSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	rc := startRepairCluster(t, 150, "--snapshot-threshold", "50", "--snapshot-interval", "100ms", "--trailing-logs", "10")
	deadline := time.Now().Add(30 * time.Second)
	for snapshotIndex(rc.dir()) < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("%s took no snapshot past index 100 in 30s", rc.victim.client)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rc.victim.srv.kill()
	states, _ := filepath.Glob(filepath.Join(rc.dir(), "snapshots", "*", "state.bin"))
	if len(states) == 0 {
		t.Fatal("no snapshot state")
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
	rc.restartAndCheck(t, false) // the log no longer meets a good snapshot: dropped
}

// logged polls n's stderr, which reaches the test through a copying
// goroutine, for up to 10s until it contains s.
func logged(n *clusterNode, s string) bool {
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(n.log.String(), s) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

package raftlog

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// node is one raft server of the cluster test, with raftlog as its
// LogStore and StableStore.
type node struct {
	id    raft.ServerID
	addr  raft.ServerAddress
	dir   string
	store *Store
	fsm   *raft.MockFSM
	snaps *raft.FileSnapshotStore
	trans *raft.InmemTransport
	raft  *raft.Raft
}

// cluster is an in-process raft cluster on raft's in-memory transport.
type cluster struct {
	t      *testing.T
	nodes  []*node
	logs   *syncBuffer
	logger hclog.Logger
}

// syncBuffer collects raft's log output, shown if the test fails.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// config makes snapshots frequent and keeps few trailing entries, so
// compaction (DeleteRange of the head) and snapshot installs happen within
// a few hundred commands.
func (c *cluster) config(id raft.ServerID) *raft.Config {
	conf := raft.DefaultConfig()
	conf.LocalID = id
	conf.HeartbeatTimeout = 100 * time.Millisecond
	conf.ElectionTimeout = 100 * time.Millisecond
	conf.LeaderLeaseTimeout = 50 * time.Millisecond
	conf.CommitTimeout = 5 * time.Millisecond
	conf.SnapshotThreshold = 32
	conf.SnapshotInterval = 30 * time.Millisecond
	conf.TrailingLogs = 16
	conf.Logger = c.logger.Named(string(id))
	return conf
}

func newCluster(t *testing.T, n int) *cluster {
	logs := &syncBuffer{}
	c := &cluster{t: t, logs: logs, logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: logs})}
	base := t.TempDir() // before the Cleanup below, so removed after the shutdown
	t.Cleanup(func() {
		c.shutdown()
		if t.Failed() {
			out := c.logs.String()
			t.Logf("raft's log (last 8 KiB):\n%s", out[max(0, len(out)-8<<10):])
		}
	})
	var servers []raft.Server
	for i := 0; i < n; i++ {
		nd := &node{id: raft.ServerID(fmt.Sprintf("node%d", i)), addr: raft.ServerAddress(fmt.Sprintf("addr%d", i))}
		nd.dir = filepath.Join(base, string(nd.id))
		c.nodes = append(c.nodes, nd)
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: nd.id, Address: nd.addr})
	}
	for _, nd := range c.nodes {
		c.open(nd)
		must(t, raft.BootstrapCluster(c.config(nd.id), nd.store, nd.store, nd.snaps, nd.trans, raft.Configuration{Servers: servers}))
	}
	for _, nd := range c.nodes {
		c.start(nd)
	}
	return c
}

// open opens a node's stores and transport, and connects it to the
// running nodes.
func (c *cluster) open(nd *node) {
	t := c.t
	var err error
	nd.store = mustOpen(t, filepath.Join(nd.dir, "raft"), nil)
	nd.snaps, err = raft.NewFileSnapshotStoreWithLogger(filepath.Join(nd.dir, "snapshots"), 2, c.logger)
	must(t, err)
	nd.fsm = &raft.MockFSM{}
	_, nd.trans = raft.NewInmemTransport(nd.addr)
	for _, other := range c.nodes {
		if other != nd && other.trans != nil {
			other.trans.Connect(nd.addr, nd.trans)
			nd.trans.Connect(other.addr, other.trans)
		}
	}
}

func (c *cluster) start(nd *node) {
	r, err := raft.NewRaft(c.config(nd.id), nd.fsm, nd.store, nd.store, nd.snaps, nd.trans)
	must(c.t, err)
	nd.raft = r
}

// stop shuts a node down, closes its store and cuts it off.
func (c *cluster) stop(nd *node) {
	if nd.raft == nil {
		return
	}
	must(c.t, nd.raft.Shutdown().Error())
	must(c.t, nd.store.Close())
	for _, other := range c.nodes {
		if other != nd && other.trans != nil {
			other.trans.Disconnect(nd.addr)
		}
	}
	nd.raft, nd.trans = nil, nil
}

func (c *cluster) shutdown() {
	for _, nd := range c.nodes {
		c.stop(nd)
	}
}

// leader waits for a running node to be leader.
func (c *cluster) leader() *node {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, nd := range c.nodes {
			if nd.raft != nil && nd.raft.State() == raft.Leader {
				return nd
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("no leader within 10s")
	return nil
}

// apply applies commands through the leader, retrying a command whose
// future failed (leadership may move), and returns those acknowledged.
func (c *cluster) apply(prefix string, n int) [][]byte {
	var acked [][]byte
	pending := make([][]byte, n)
	for i := range pending {
		pending[i] = fmt.Appendf(nil, "%s-%d", prefix, i)
	}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == 20 {
			c.t.Fatalf("%d commands still failing after 20 attempts", len(pending))
		}
		ld := c.leader()
		futures := make([]raft.ApplyFuture, len(pending))
		for i, cmd := range pending {
			futures[i] = ld.raft.Apply(cmd, 5*time.Second)
		}
		var failed [][]byte
		for i, f := range futures {
			if f.Error() != nil {
				failed = append(failed, pending[i])
				continue
			}
			acked = append(acked, pending[i])
		}
		pending = failed
	}
	return acked
}

// converge waits until every running node's FSM holds the same commands,
// including every acknowledged one.
func (c *cluster) converge(acked [][]byte) []byte {
	deadline := time.Now().Add(15 * time.Second)
	for {
		why := c.divergence(acked)
		if why == "" {
			return nil
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no convergence within 15s: %s", why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *cluster) divergence(acked [][]byte) string {
	var ref [][]byte
	for i, nd := range c.nodes {
		if nd.raft == nil {
			return fmt.Sprintf("%s is down", nd.id)
		}
		logs := slices.Clone(nd.fsm.Logs())
		if i == 0 {
			ref = logs
		} else if !slices.EqualFunc(ref, logs, bytes.Equal) {
			return fmt.Sprintf("%s applied %d commands, %s %d", c.nodes[0].id, len(ref), nd.id, len(logs))
		}
	}
	for _, a := range acked {
		if !slices.ContainsFunc(ref, func(b []byte) bool { return bytes.Equal(a, b) }) {
			return fmt.Sprintf("acknowledged command %q missing", a)
		}
	}
	return ""
}

// TestRaftCluster runs a 3-node raft cluster with raftlog stores: a
// follower is stopped while the others apply and compact far past it
// (snapshots every 32 entries, 16 trailing), then restarted from its
// store; the leader must catch it up with a snapshot (its store is emptied
// and continues at a new index), and all FSMs must converge with every
// acknowledged command.
func TestRaftCluster(t *testing.T) {
	c := newCluster(t, 3)
	acked := c.apply("a", 100)
	c.converge(acked)

	ld := c.leader()
	var down *node
	for _, nd := range c.nodes {
		if nd != ld {
			down = nd
			break
		}
	}
	downTerm, err := down.store.GetUint64(keyCurrentTerm)
	must(t, err)
	downLast, _ := down.store.LastIndex()
	c.stop(down)

	// Apply until the leader's log starts well past the stopped node's.
	for round := 0; ; round++ {
		acked = append(acked, c.apply(fmt.Sprintf("b%d", round), 100)...)
		first, _ := c.leader().store.FirstIndex()
		if first > downLast+1 {
			break
		}
		if round == 10 {
			t.Fatalf("leader's log still starts at %d, stopped node's ends at %d", first, downLast)
		}
		time.Sleep(100 * time.Millisecond) // let a snapshot run
	}

	// Restart the stopped node from its store.
	c.open(down)
	if term, err := down.store.GetUint64(keyCurrentTerm); err != nil || term < downTerm {
		t.Fatalf("reopened store: term %d, %v; was %d", term, err, downTerm)
	}
	if last, _ := down.store.LastIndex(); last != downLast {
		t.Fatalf("reopened store: last index %d, was %d", last, downLast)
	}
	c.start(down)
	acked = append(acked, c.apply("c", 100)...)
	c.converge(acked)
	// More commands after the install, so that the restarted node stores
	// entries after its store was emptied (if the snapshot covered all).
	acked = append(acked, c.apply("d", 10)...)
	c.converge(acked)

	// The restarted node was caught up by a snapshot: its old entries are
	// gone and its log continues past the snapshot.
	snaps, err := down.snaps.List()
	must(t, err)
	first, _ := down.store.FirstIndex()
	if len(snaps) == 0 || snaps[0].Index <= downLast || first <= downLast {
		t.Fatalf("restarted node: %d snapshots, log starts at %d (stopped at %d): no snapshot install", len(snaps), first, downLast)
	}
	for _, nd := range c.nodes {
		f, _ := nd.store.FirstIndex()
		l, _ := nd.store.LastIndex()
		if f <= 1 || l < f {
			t.Errorf("%s: log [%d, %d]: no compaction", nd.id, f, l)
		}
	}
	t.Logf("%d commands acknowledged; stopped node's log ended at %d, now starts at %d", len(acked), downLast, first)
}

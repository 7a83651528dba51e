package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterNode is a walkv cluster node running as a child process.
type clusterNode struct {
	args   []string
	client string
	srv    *server
	log    lockedBuffer // its stderr, over every start
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddrs returns n loopback addresses whose ports were free a moment
// ago.
func freeAddrs(t *testing.T, n int) []string {
	addrs := make([]string, n)
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = ln.Addr().String()
		defer ln.Close()
	}
	return addrs
}

// start re-executes the test binary as the node.
func (n *clusterNode) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(n.args, "\n"))
	fmt.Fprintf(&n.log, "--- start %s\n", n.client)
	cmd.Stderr = &n.log
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.srv = &server{cmd: cmd}
	srv := n.srv
	t.Cleanup(func() { srv.kill() })
	n.srv.addr = listenAddr(t, out)
	go io.Copy(io.Discard, out)
}

// clusterWriter writes through whichever node is the leader, following
// MOVED redirects and retrying while no leader is known.
type clusterWriter struct {
	nodes   []*clusterNode
	clients map[string]*redis.Client
	leader  string
}

func (w *clusterWriter) client(addr string) *redis.Client {
	if c, ok := w.clients[addr]; ok {
		return c
	}
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 15 * time.Second})
	w.clients[addr] = c
	return c
}

// do runs a write until a node acknowledges it, or fails after timeout.
// An "outcome unknown" error is returned to the caller at once.
func (w *clusterWriter) do(t *testing.T, args ...any) (any, error) {
	deadline := time.Now().Add(20 * time.Second)
	i := 0
	for time.Now().Before(deadline) {
		if w.leader == "" {
			w.leader = w.nodes[i%len(w.nodes)].client
			i++
		}
		v, err := w.client(w.leader).Do(context.Background(), args...).Result()
		if err == nil {
			return v, nil
		}
		msg := err.Error()
		switch {
		case strings.HasPrefix(msg, "MOVED "):
			w.leader = strings.Fields(msg)[2]
			continue
		case strings.Contains(msg, "outcome unknown"):
			return nil, err
		}
		w.leader = "" // connection refused, CLUSTERDOWN: try another node
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no leader accepted %v within 20s", args)
	return nil, nil
}

func (w *clusterWriter) close() {
	for _, c := range w.clients {
		c.Close()
	}
}

// TestCluster starts a 3-node cluster the dynamic way (n0 --bootstrap,
// n1 and n2 --join n0), writes through the leader, SIGKILLs it, keeps
// writing through the new leader, restarts the killed node and checks
// that the three keyspaces converge and hold every acknowledged write.
// Raft snapshots every 40 entries and keeps 10 behind, so log truncation
// runs, and the killed node, more than 240 entries behind when it
// restarts, must be caught up by an InstallSnapshot: the test checks
// raft's "Installed remote snapshot" in its log and a snapshot in its
// directory beyond any it had before.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	addrs := freeAddrs(t, 6)
	nodes := make([]*clusterNode, 3)
	base := t.TempDir()
	for i := range nodes {
		args := []string{"--addr", addrs[i], "--dir", filepath.Join(base, fmt.Sprint(i)), "--node-id", fmt.Sprintf("n%d", i),
			"--raft-addr", addrs[3+i], "--stale-reads", "--raft-log-level", "INFO",
			"--trailing-logs", "10", "--snapshot-threshold", "40", "--snapshot-interval", "100ms"}
		if i == 0 {
			args = append(args, "--bootstrap")
		} else {
			args = append(args, "--join", addrs[i-1]) // n2 joins through n1, a follower: MOVED
		}
		nodes[i] = &clusterNode{args: args, client: addrs[i]}
		nodes[i].start(t) // a joining node listens once it is a member
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range nodes {
				t.Logf("stderr of %s (tail):\n%s", n.client, tail(n.log.String(), 3000))
			}
		}
	})
	w := &clusterWriter{nodes: nodes, clients: map[string]*redis.Client{}}
	defer w.close()

	acked := map[string]string{}
	incrs := 0
	write := func(from, to int) {
		for i := from; i < to; i++ {
			k, v := fmt.Sprintf("k%04d", i), fmt.Sprintf("v%d", i)
			if _, err := w.do(t, "SET", k, v, "EX", "3600"); err == nil {
				acked[k] = v
			}
			if i%5 == 0 {
				if _, err := w.do(t, "INCR", "counter"); err == nil {
					incrs++
				}
			}
		}
	}
	write(0, 200)

	// Every node knows the leader's client address: a follower redirects
	// CLUSTER JOIN (and writes) to it.
	var victim *clusterNode
	for _, n := range nodes {
		if n.client == w.leader {
			victim = n
			continue
		}
		c := redis.NewClient(&redis.Options{Addr: n.client, MaxRetries: -1})
		err := c.Do(context.Background(), "CLUSTER", "JOIN", "nx", "127.0.0.1:1", "127.0.0.1:2").Err()
		c.Close()
		if err == nil || err.Error() != "MOVED 0 "+w.leader {
			t.Errorf("CLUSTER JOIN on follower %s: %v, want MOVED 0 %s", n.client, err, w.leader)
		}
	}
	if victim == nil {
		t.Fatalf("leader %q is not a node", w.leader)
	}

	// SIGKILL the leader; it falls behind by more than TrailingLogs +
	// SnapshotThreshold entries.
	before := maxSnapIndex(t, victim)
	victim.srv.kill()
	t.Logf("killed leader %s (its last snapshot at index %d)", victim.client, before)
	write(200, 400)
	if w.leader == victim.client {
		t.Fatal("the killed node is still the leader")
	}
	victim.start(t)
	write(400, 420)
	converge(t, nodes, acked, incrs)

	log := victim.log.String()
	restarted := log[strings.LastIndex(log, "--- start"):]
	if !strings.Contains(restarted, "Installed remote snapshot") {
		t.Errorf("the restarted node was not caught up by InstallSnapshot")
	}
	if after := maxSnapIndex(t, victim); after <= before+200 {
		t.Errorf("the restarted node's newest snapshot is at index %d, want beyond %d+200", after, before)
	}
}

// maxSnapIndex returns the largest index among the raft snapshots of n
// (directories named term-index-millis), 0 if none.
func maxSnapIndex(t *testing.T, n *clusterNode) uint64 {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(n.args[3], "snapshots", "*"))
	var max uint64
	for _, d := range dirs {
		f := strings.Split(filepath.Base(d), "-")
		if len(f) != 3 || strings.HasSuffix(d, ".tmp") {
			continue
		}
		if i, err := strconv.ParseUint(f[1], 10, 64); err == nil && i > max {
			max = i
		}
	}
	return max
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestClusterFlags checks the cluster flag combinations.
func TestClusterFlags(t *testing.T) {
	base := []string{"--node-id", "n1", "--raft-addr", "127.0.0.1:7001"}
	for _, tt := range []struct {
		extra []string
		ok    bool
	}{
		{[]string{"--bootstrap"}, true},
		{[]string{"--join", "127.0.0.1:6381"}, true},
		{[]string{"--join", "127.0.0.1:6381", "--peers", "n1=a=b"}, true},
		{[]string{"--peers", "n1=a=b"}, true},
		{[]string{"--bootstrap", "--join", "127.0.0.1:6381"}, false},
		{[]string{"--bootstrap", "--lease-reads"}, true},
		{[]string{"--bootstrap", "--stale-reads", "--lease-reads"}, false},
		{nil, false},
	} {
		_, err := parseFlags(append(append([]string{}, base...), tt.extra...), io.Discard)
		if (err == nil) != tt.ok {
			t.Errorf("%q: %v, want ok %v", tt.extra, err, tt.ok)
		}
	}
	if _, err := parseFlags([]string{"--node-id", "n1", "--bootstrap"}, io.Discard); !isUsage(err) {
		t.Errorf("--node-id without --raft-addr: %v", err)
	}
}

// converge waits until every node holds the same keys as acked, the
// same counter at least incrs (an unacknowledged INCR may have applied),
// and the same DBSIZE.
func converge(t *testing.T, nodes []*clusterNode, acked map[string]string, incrs int) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if last = checkNodes(ctx, nodes, acked, incrs); last == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("cluster did not converge in 30s: %v", last)
}

// checkNodes compares the nodes' state with acked.
func checkNodes(ctx context.Context, nodes []*clusterNode, acked map[string]string, incrs int) error {
	var sizes []int64
	var counters []string
	for _, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n.client, MaxRetries: -1})
		defer c.Close()
		size, err := c.DBSize(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: %w", n.client, err)
		}
		ctr, err := c.Get(ctx, "counter").Result()
		if err != nil {
			return fmt.Errorf("%s: counter: %w", n.client, err)
		}
		for k, v := range acked {
			got, err := c.Get(ctx, k).Result()
			if err != nil || got != v {
				return fmt.Errorf("%s: %s = %q, %v; want %q", n.client, k, got, err, v)
			}
		}
		sizes, counters = append(sizes, size), append(counters, ctr)
	}
	for i := 1; i < len(nodes); i++ {
		if sizes[i] != sizes[0] || counters[i] != counters[0] {
			return fmt.Errorf("nodes differ: dbsize %v, counter %v", sizes, counters)
		}
	}
	if n := fmt.Sprint(incrs); len(counters[0]) < len(n) || (len(counters[0]) == len(n) && counters[0] < n) {
		return fmt.Errorf("counter %s < %d acknowledged INCRs", counters[0], incrs)
	}
	return nil
}

// TestClusterStaticPeers: the static way still works: every node gets
// --peers, one bootstraps from it, and writes replicate.
func TestClusterStaticPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	addrs := freeAddrs(t, 6)
	var peers []string
	for i := range 3 {
		peers = append(peers, fmt.Sprintf("n%d=%s=%s", i, addrs[3+i], addrs[i]))
	}
	nodes := make([]*clusterNode, 3)
	base := t.TempDir()
	for i := range nodes {
		args := []string{"--addr", addrs[i], "--dir", filepath.Join(base, fmt.Sprint(i)), "--node-id", fmt.Sprintf("n%d", i),
			"--raft-addr", addrs[3+i], "--peers", strings.Join(peers, ","), "--stale-reads"}
		if i == 0 {
			args = append(args, "--bootstrap")
		}
		nodes[i] = &clusterNode{args: args, client: addrs[i]}
		nodes[i].start(t)
	}
	w := &clusterWriter{nodes: nodes, clients: map[string]*redis.Client{}}
	defer w.close()
	acked := map[string]string{}
	incrs := 0
	for i := range 20 {
		k, v := fmt.Sprintf("k%d", i), fmt.Sprint(i)
		if _, err := w.do(t, "SET", k, v); err == nil {
			acked[k] = v
		}
		if _, err := w.do(t, "INCR", "counter"); err == nil {
			incrs++
		}
	}
	converge(t, nodes, acked, incrs)
}

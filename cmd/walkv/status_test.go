package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestClusterStatus: CLUSTER STATUS on any node lists every node with
// its role, term and indexes and lag; exactly one leader; a killed node
// shows as unreachable. With the default (linearizable) read mode a
// follower redirects GET to the leader, which serves it.
func TestClusterStatus(t *testing.T) {
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
			"--raft-addr", addrs[3+i], "--peers", strings.Join(peers, ",")}
		if i == 0 {
			args = append(args, "--bootstrap")
		}
		nodes[i] = &clusterNode{args: args, client: addrs[i]}
		nodes[i].start(t)
	}
	w := &clusterWriter{nodes: nodes, clients: map[string]*redis.Client{}}
	defer w.close()
	if _, err := w.do(t, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var follower string
	for _, n := range nodes {
		if n.client != w.leader {
			follower = n.client
		}
	}
	fc := redis.NewClient(&redis.Options{Addr: follower, MaxRetries: -1})
	defer fc.Close()
	// The follower knows the leader and the configuration once the
	// leader's first AppendEntries reaches it.
	var lines []string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if lines = status(t, fc); len(lines) == 3 {
			break
		}
	}
	if err := fc.Get(ctx, "k").Err(); err == nil || err.Error() != "MOVED 0 "+w.leader {
		t.Errorf("GET on follower %s: %v, want MOVED 0 %s", follower, err, w.leader)
	}
	if v, err := w.client(w.leader).Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Errorf("GET on the leader: %q, %v", v, err)
	}

	if len(lines) != 3 || strings.Count(strings.Join(lines, "\n"), "role:leader") != 1 {
		t.Fatalf("CLUSTER STATUS:\n%s\nwant 3 nodes, one leader", strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		for _, f := range []string{"term:", "commit_index:", "applied_index:", "last_log_index:", "lag:"} {
			if !strings.Contains(l, f) {
				t.Errorf("status line %q lacks %s", l, f)
			}
		}
		if strings.Contains(l, "role:leader") && !strings.Contains(l, "addr:"+w.leader) {
			t.Errorf("leader line %q, want addr %s", l, w.leader)
		}
	}
	local, err := fc.Do(ctx, "CLUSTER", "STATUS", "LOCAL").Text()
	if err != nil || !strings.HasPrefix(local, "id:") || !strings.Contains(local, "addr:"+follower) {
		t.Errorf("CLUSTER STATUS LOCAL: %q, %v", local, err)
	}

	for _, n := range nodes {
		if n.client != w.leader && n.client != follower {
			n.srv.kill()
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if strings.Contains(strings.Join(status(t, fc), "\n"), "role:unreachable") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a killed node is not shown unreachable:\n%s", strings.Join(status(t, fc), "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// status runs CLUSTER STATUS and returns its lines.
func status(t *testing.T, c *redis.Client) []string {
	t.Helper()
	s, err := c.Do(context.Background(), "CLUSTER", "STATUS").Text()
	if err != nil {
		t.Fatalf("CLUSTER STATUS: %v", err)
	}
	return strings.Split(strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")), "\n")
}

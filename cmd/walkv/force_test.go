package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestClusterForceNewCluster: after two of three nodes are lost for
// good, the survivor restarted with --force-new-cluster leads a cluster
// of itself alone, holding every write the old cluster acknowledged, and
// takes writes again.
func TestClusterForceNewCluster(t *testing.T) {
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
			"--raft-addr", addrs[3+i], "--peers", strings.Join(peers, ","), "--snapshot-threshold", "16",
			"--trailing-logs", "8", "--snapshot-interval", "100ms"}
		if i == 0 {
			args = append(args, "--bootstrap")
		}
		nodes[i] = &clusterNode{args: args, client: addrs[i]}
		nodes[i].start(t)
	}
	w := &clusterWriter{nodes: nodes, clients: map[string]*redis.Client{}}
	acked := map[string]string{}
	for i := range 50 {
		k, v := fmt.Sprint("k", i), fmt.Sprint(i)
		if _, err := w.do(t, "SET", k, v); err == nil {
			acked[k] = v
		}
	}
	w.close()
	for _, n := range nodes {
		n.srv.kill()
	}
	// Each survivor holds every acknowledged write in its log or
	// snapshot only if it was in the commit quorum; the leader always
	// was. Restart the old leader's node alone.
	survivor := nodes[slices.IndexFunc(nodes, func(n *clusterNode) bool { return n.client == w.leader })]
	survivor.args = append(slices.Clip(survivor.args), "--force-new-cluster")
	survivor.start(t)
	c := redis.NewClient(&redis.Options{Addr: survivor.client, MaxRetries: -1})
	defer c.Close()
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for c.Set(ctx, "after", "1", 0).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the survivor does not take writes: %v", c.Set(ctx, "after", "1", 0).Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for k, v := range acked {
		if got, err := c.Get(ctx, k).Result(); err != nil || got != v {
			t.Errorf("%s = %q, %v; want %q", k, got, err, v)
		}
	}
	s, err := c.Do(ctx, "CLUSTER", "STATUS").Text()
	if err != nil || strings.Count(strings.TrimSpace(s), "\n") != 0 || !strings.Contains(s, "role:leader") {
		t.Errorf("CLUSTER STATUS after recovery: %q, %v; want this node alone, leading", s, err)
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestClusterRepairDamagedNode: a bit flipped in a committed entry of a
// follower's raft log. Restarted with its usual flags, the node finds
// the damage before starting raft, has the cluster remove it, wipes its
// raft state and joins again; it ends up holding every acknowledged
// write, with no operator action.
func TestClusterRepairDamagedNode(t *testing.T) {
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
	for i := range 100 {
		k, v := fmt.Sprintf("key%03d", i), fmt.Sprintf("value-%03d", i)
		if _, err := w.do(t, "SET", k, v); err == nil {
			acked[k] = v
		}
	}
	var victim *clusterNode
	for _, n := range nodes {
		if n.client != w.leader {
			victim = n
		}
	}
	// Wait until the victim has the entry, then stop it and flip a bit in
	// the payload of the entry that wrote key050.
	waitValue(t, victim.client, "key099", acked["key099"])
	victim.srv.kill()
	segs, _ := filepath.Glob(filepath.Join(victim.args[3], "raft", "log", "*"))
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
		t.Fatalf("no segment of %s holds value-050 (%v)", victim.client, segs)
	}
	victim.start(t)
	if !strings.Contains(victim.log.String(), "damaged log entry") {
		t.Errorf("the restarted node did not report the damage")
	}
	if _, err := w.do(t, "SET", "fence", "after-repair"); err != nil {
		t.Fatal(err)
	}
	waitValue(t, victim.client, "fence", "after-repair")
	c := redis.NewClient(&redis.Options{Addr: victim.client, MaxRetries: -1})
	defer c.Close()
	for k, v := range acked {
		if got, err := c.Get(context.Background(), k).Result(); err != nil || got != v {
			t.Errorf("repaired node: %s = %q, %v; want %q", k, got, err, v)
		}
	}
	lines := status(t, c)
	if len(lines) != 3 {
		t.Errorf("CLUSTER STATUS after repair:\n%s\nwant 3 nodes", strings.Join(lines, "\n"))
	}
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

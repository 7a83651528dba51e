package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tidwall/redcon"
	"github.com/waldb/wal/internal/testcert"
	"github.com/waldb/wal/raftlog"
)

// secureCluster is a 3-node cluster with mutual TLS on the raft port, a
// cluster secret and a password.
type secureCluster struct {
	nodes  []*clusterNode
	admins map[string]*redis.Client // by client address
	ca     *testcert.CA
	base   string
}

const (
	testSecret   = "cluster-secret-1"
	testPassword = "admin-pw-1"
)

func startSecureCluster(t *testing.T) *secureCluster {
	ca, err := testcert.NewCA("walkv cluster CA")
	if err != nil {
		t.Fatal(err)
	}
	sc := &secureCluster{admins: map[string]*redis.Client{}, ca: ca, base: t.TempDir()}
	addrs := freeAddrs(t, 6)
	for i := range 3 {
		var extra []string
		if i == 0 {
			extra = []string{"--bootstrap"}
		} else {
			extra = []string{"--join", addrs[0]}
		}
		sc.add(t, fmt.Sprintf("n%d", i), addrs[i], addrs[3+i], extra...)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range sc.nodes {
				t.Logf("stderr of %s (tail):\n%s", n.client, tail(n.log.String(), 3000))
			}
		}
	})
	return sc
}

// add starts node id with a certificate of the cluster CA, the secret
// and the password.
func (sc *secureCluster) add(t *testing.T, id, addr, raftAddr string, extra ...string) *clusterNode {
	leaf, err := sc.ca.Issue(id)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(sc.base, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	files, err := testcert.WriteFiles(dir, "node", sc.ca, leaf)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--addr", addr, "--dir", dir, "--node-id", id, "--raft-addr", raftAddr,
		"--tls-cluster", "--tls-cert-file", files.Cert, "--tls-key-file", files.Key, "--tls-ca-cert-file", files.CA,
		"--cluster-secret", testSecret, "--requirepass", testPassword}, extra...)
	n := &clusterNode{args: args, client: addr}
	n.start(t)
	sc.nodes = append(sc.nodes, n)
	c := redis.NewClient(&redis.Options{Addr: addr, Password: testPassword, MaxRetries: -1, ReadTimeout: 15 * time.Second})
	t.Cleanup(func() { c.Close() })
	sc.admins[addr] = c
	return n
}

// clusterInfo returns CLUSTER INFO's fields from the node at addr.
func (sc *secureCluster) clusterInfo(addr string) map[string]string {
	out := map[string]string{}
	s, err := sc.admins[addr].Do(context.Background(), "CLUSTER", "INFO").Text()
	if err != nil {
		return out
	}
	for _, line := range strings.Split(s, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// leader waits until a node leads a configuration of n members, and
// returns its client address.
func (sc *secureCluster) leader(t *testing.T, members int) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range sc.nodes {
			if n.srv.cmd.ProcessState != nil {
				continue
			}
			info := sc.clusterInfo(n.client)
			nodes, _ := sc.admins[n.client].Do(context.Background(), "CLUSTER", "NODES").Text()
			if info["cluster_known_nodes"] == strconv.Itoa(members) && strings.Contains(nodes, "myself,master") {
				return n.client
			}
		}
		time.Sleep(100 * time.Millisecond) // polling child processes with a deadline
	}
	t.Fatalf("no leader of %d members within 30s", members)
	return ""
}

// TestClusterSecurity: the attacks of issue 17 on cluster mode fail.
// CLUSTER JOIN needs the password and the cluster secret (and an admin
// user); a rogue node run with --join but without the secret is refused;
// bogus voters an administrator added by mistake are removed with
// CLUSTER FORGET and the cluster keeps its quorum when a real node then
// dies; CLUSTER FAILOVER moves leadership; a 128 MiB SET is refused up
// front with a definite error and no election. (Forged raft RPCs without
// the cluster CA: raftlog's TestForgedRaftRPCs.)
func TestClusterSecurity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five server processes")
	}
	sc := startSecureCluster(t)
	leader := sc.leader(t, 3)
	admin := sc.admins[leader]
	ctx := context.Background()
	if err := admin.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	anon := redis.NewClient(&redis.Options{Addr: leader, MaxRetries: -1})
	defer anon.Close()
	join := func(c *redis.Client, extra ...any) error {
		args := append([]any{"CLUSTER", "JOIN", "mallory", "127.0.0.1:1", "127.0.0.1:2"}, extra...)
		return c.Do(ctx, args...).Err()
	}
	for name, tc := range map[string]struct {
		c     *redis.Client
		extra []any
		want  string
	}{
		"no password":     {anon, []any{"SECRET", testSecret}, "NOAUTH"},
		"no secret":       {admin, nil, "NOPERM CLUSTER JOIN needs the cluster secret"},
		"a wrong secret":  {admin, []any{"SECRET", "guess"}, "NOPERM CLUSTER JOIN needs the cluster secret"},
		"an empty secret": {admin, []any{"SECRET", ""}, "NOPERM CLUSTER JOIN needs the cluster secret"},
	} {
		if err := join(tc.c, tc.extra...); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("CLUSTER JOIN with %s: %v, want %s", name, err, tc.want)
		}
	}
	// CLUSTER REPAIR demotes a voter: it needs the secret as JOIN does.
	for name, extra := range map[string][]any{"no secret": nil, "a wrong secret": {"SECRET", "guess"}} {
		args := append([]any{"CLUSTER", "REPAIR", "n1"}, extra...)
		if err := admin.Do(ctx, args...).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
			t.Errorf("CLUSTER REPAIR with %s: %v, want NOPERM", name, err)
		}
	}
	// An application user cannot run CLUSTER at all.
	if err := admin.Do(ctx, "ACL", "SETUSER", "app", "on", ">apppw", "~*", "+@all", "-@admin", "-@dangerous").Err(); err != nil {
		t.Fatal(err)
	}
	app := redis.NewClient(&redis.Options{Addr: leader, Username: "app", Password: "apppw", MaxRetries: -1})
	defer app.Close()
	if err := join(app, "SECRET", testSecret); err == nil || !strings.HasPrefix(err.Error(), "NOPERM this user has no permissions to run the 'cluster' command") {
		t.Errorf("CLUSTER JOIN by an application user: %v", err)
	}

	// A rogue node with --join but without the secret does not get in.
	addrs := freeAddrs(t, 2)
	rogue := exec.Command(os.Args[0], "-test.run=^$")
	rogue.Env = append(os.Environ(), childEnv+"="+strings.Join([]string{"--addr", addrs[0], "--dir", t.TempDir(),
		"--node-id", "rogue", "--raft-addr", addrs[1], "--join", leader, "--requirepass", testPassword}, "\n"))
	out, err := rogue.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "NOPERM CLUSTER JOIN needs the cluster secret") {
		t.Errorf("a rogue node without the secret: %v\n%s", err, tail(string(out), 2000))
	}
	if got := sc.clusterInfo(leader)["cluster_known_nodes"]; got != "3" {
		t.Errorf("after the attacks the cluster has %s members", got)
	}

	// An oversized write is refused at once, without an election.
	t.Run("oversized write", func(t *testing.T) { oversizedWrite(t, sc, leader) })

	// An administrator's mistake: two bogus voters. 3 of 5 are alive.
	for i, id := range []string{"mallory1", "mallory2"} {
		raftAddr := fmt.Sprintf("127.0.0.1:%d", 1+2*i) // nothing listens there
		if err := admin.Do(ctx, "CLUSTER", "JOIN", id, raftAddr, "127.0.0.1:2", "SECRET", testSecret).Err(); err != nil {
			t.Fatalf("CLUSTER JOIN %s with the secret: %v", id, err)
		}
	}
	if got := sc.clusterInfo(leader); got["cluster_size"] != "5" {
		t.Fatalf("after adding bogus voters: %v", got)
	}
	for _, id := range []string{"mallory1", "mallory2"} {
		if err := admin.Do(ctx, "CLUSTER", "FORGET", id).Err(); err != nil {
			t.Fatalf("CLUSTER FORGET %s: %v", id, err)
		}
	}
	if got := sc.clusterInfo(leader); got["cluster_size"] != "3" || got["cluster_known_nodes"] != "3" {
		t.Fatalf("after CLUSTER FORGET: %v", got)
	}

	// Leader transfer.
	old := sc.clusterInfo(leader)["walkv_leader"]
	if err := admin.Do(ctx, "CLUSTER", "FAILOVER").Err(); err != nil {
		t.Fatalf("CLUSTER FAILOVER: %v", err)
	}
	leader = sc.leader(t, 3)
	if now := sc.clusterInfo(leader)["walkv_leader"]; now == old {
		t.Errorf("CLUSTER FAILOVER: leader still %s", now)
	}

	// Quorum: with the bogus voters gone, losing one real node leaves 2
	// of 3, a majority (2 of 5 would not be).
	for _, n := range sc.nodes {
		if n.client != leader {
			n.srv.kill()
			break
		}
	}
	if err := sc.admins[leader].Set(ctx, "after", "quorum", 0).Err(); err != nil {
		t.Fatalf("a write with 2 of 3 members alive: %v", err)
	}

	// A read replica joins as a non-voter: it does not count for the
	// quorum.
	addrs = freeAddrs(t, 2)
	sc.add(t, "replica", addrs[0], addrs[1], "--join", leader, "--nonvoter")
	info := sc.clusterInfo(leader)
	nodes, _ := sc.admins[leader].Do(ctx, "CLUSTER", "NODES").Text()
	if info["cluster_known_nodes"] != "4" || info["cluster_size"] != "3" || !strings.Contains(nodes, "replica "+addrs[0]+"@"+addrs[1]+" slave,nofailover") {
		t.Errorf("after a non-voter joined: %v\n%s", info, nodes)
	}
}

// oversizedWrite: proto-max-bulk-len fits a raft entry; a 128 MiB SET is
// refused as soon as its length line arrives, a multi-value write that
// does not fit is refused before raft sees it, and the leader stays.
func oversizedWrite(t *testing.T, sc *secureCluster, leader string) {
	ctx := context.Background()
	admin := sc.admins[leader]
	want := strconv.Itoa(raftlog.MaxProposalBytes() - 64<<10)
	if got, err := admin.ConfigGet(ctx, "proto-max-bulk-len").Result(); err != nil || got["proto-max-bulk-len"] != want {
		t.Errorf("proto-max-bulk-len = %v, %v; want %s", got, err, want)
	}
	before := sc.clusterInfo(leader)["walkv_leader"]
	nc, err := net.Dial("tcp", leader)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	req := redcon.AppendArray(nil, 2)
	req = redcon.AppendBulkString(req, "AUTH")
	req = redcon.AppendBulkString(req, testPassword)
	req = append(req, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$134217728\r\n"...)
	if _, err := nc.Write(req); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	auth, _ := br.ReadString('\n')
	reply, err := br.ReadString('\n')
	if auth != "+OK\r\n" || reply != "-ERR Protocol error: invalid bulk length\r\n" {
		t.Errorf("128 MiB SET: %q %q, %v; want the bulk length refused", auth, reply, err)
	}
	// MSET of two values that each fit but together do not: refused when
	// the second value's length arrives, before it is buffered.
	half := raftlog.MaxProposalBytes()/2 + 1
	nc2, err := net.Dial("tcp", leader)
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	req = redcon.AppendArray(nil, 2)
	req = redcon.AppendBulkString(req, "AUTH")
	req = redcon.AppendBulkString(req, testPassword)
	req = fmt.Appendf(req, "*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$%d\r\n%s\r\n$1\r\nb\r\n$%d\r\n", half, strings.Repeat("x", half), half)
	if _, err := nc2.Write(req); err != nil {
		t.Fatal(err)
	}
	nc2.SetReadDeadline(time.Now().Add(10 * time.Second))
	br = bufio.NewReader(nc2)
	auth, _ = br.ReadString('\n')
	reply, err = br.ReadString('\n')
	if auth != "+OK\r\n" || reply != "-ERR Protocol error: request larger than a log entry can hold\r\n" {
		t.Errorf("MSET larger than an entry: %q %q, %v", auth, reply, err)
	}
	if err := admin.Set(ctx, "small", "ok", 0).Err(); err != nil {
		t.Errorf("SET after the refusals: %v", err)
	}
	if after := sc.clusterInfo(leader)["walkv_leader"]; after != before {
		t.Errorf("leader %s became %s: the oversized writes cost an election", before, after)
	}
}

// TestClusterRecover: the end state of the issue's attack, a cluster
// whose bogus voters cost it its quorum for good (here 2 real members of
// 5 voters alive), is repaired by restarting the survivors with
// --recover --peers: they elect a leader, keep their data, and the bogus
// voters are gone.
func TestClusterRecover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes, twice")
	}
	sc := startSecureCluster(t)
	leader := sc.leader(t, 3)
	ctx := context.Background()
	if err := sc.admins[leader].Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"bogus1", "bogus2"} {
		raftAddr := fmt.Sprintf("127.0.0.1:%d", 1+2*i)
		if err := sc.admins[leader].Do(ctx, "CLUSTER", "JOIN", id, raftAddr, "127.0.0.1:2", "SECRET", testSecret).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// A real member is lost for good: 2 of 5 voters remain, no quorum.
	var survivors []*clusterNode
	killed := false
	for _, n := range sc.nodes {
		if n.client != leader && !killed {
			n.srv.kill()
			killed = true
			continue
		}
		survivors = append(survivors, n)
	}
	deadline := time.Now().Add(20 * time.Second)
	for sc.clusterInfo(leader)["cluster_state"] != "fail" {
		if time.Now().After(deadline) {
			t.Fatal("the cluster kept a leader with 2 of 5 voters")
		}
		time.Sleep(100 * time.Millisecond) // polling child processes with a deadline
	}
	var peers []string
	for _, n := range survivors {
		peers = append(peers, fmt.Sprintf("%s=%s=%s", n.args[5], n.args[7], n.client)) // --node-id, --raft-addr
	}
	for _, n := range survivors {
		n.srv.kill()
		n.args = append(n.args, "--recover", "--peers", strings.Join(peers, ","))
		n.start(t)
	}
	leader = sc.leader(t, 2)
	if got, err := sc.admins[leader].Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Errorf("GET k after recovery: %q, %v", got, err)
	}
	if err := sc.admins[leader].Set(ctx, "k2", "v2", 0).Err(); err != nil {
		t.Errorf("SET after recovery: %v", err)
	}
	nodes, _ := sc.admins[leader].Do(ctx, "CLUSTER", "NODES").Text()
	if strings.Contains(nodes, "bogus") {
		t.Errorf("bogus members after recovery:\n%s", nodes)
	}
}

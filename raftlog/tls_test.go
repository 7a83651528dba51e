package raftlog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/waldb/wal/internal/testcert"
)

// recordingFSM remembers what it applied.
type recordingFSM struct {
	mu      sync.Mutex
	applied []string
}

func (f *recordingFSM) Apply(data []byte) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = append(f.applied, string(data))
	return nil
}
func (f *recordingFSM) Snapshot() (func(io.Writer) error, error) {
	return func(io.Writer) error { return nil }, nil
}
func (f *recordingFSM) Restore(io.Reader) error { return nil }

func (f *recordingFSM) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.applied...)
}

// tlsNode starts a one-node cluster over mutual TLS with a certificate
// from ca and waits until it leads.
func tlsNode(t *testing.T, ca *testcert.CA) (*Node, *recordingFSM) {
	t.Helper()
	leaf, err := ca.Issue("n1")
	if err != nil {
		t.Fatal(err)
	}
	files, err := testcert.WriteFiles(t.TempDir(), "n1", ca, leaf)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := MutualTLSConfig(files.Cert, files.Key, files.CA)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	fsm := &recordingFSM{}
	n, err := StartNode(NodeConfig{ID: "n1", RaftAddr: addr, Dir: t.TempDir(), Bootstrap: true, TLS: cfg, LogOutput: io.Discard}, fsm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Shutdown() })
	deadline := time.Now().Add(10 * time.Second)
	for !n.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("the node did not become leader")
		}
		time.Sleep(10 * time.Millisecond) // polling raft's state with a deadline
	}
	return n, fsm
}

// attacker is a raft transport of a process that speaks raft's protocol:
// in plain TCP, or over TLS with the given certificate.
func attacker(t *testing.T, cert *tls.Certificate, trust *testcert.CA) *raft.NetworkTransport {
	t.Helper()
	if cert == nil {
		tr, err := raft.NewTCPTransport("127.0.0.1:0", nil, 1, 2*time.Second, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Close() })
		return tr
	}
	pool := x509.NewCertPool()
	pool.AddCert(trust.Cert)
	cfg := &tls.Config{Certificates: []tls.Certificate{*cert}, RootCAs: pool, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := raft.NewNetworkTransport(&tlsStream{Listener: tls.NewListener(ln, cfg), advertise: ln.Addr(), cfg: cfg}, 1, 2*time.Second, io.Discard)
	t.Cleanup(func() { tr.Close() })
	return tr
}

// TestForgedRaftRPCs: a process without a certificate from the cluster's
// CA can neither depose the leader with a higher term nor append an
// entry: its connection fails at the TLS handshake, in plain TCP or with
// a certificate from another CA. The same RPC with a cluster certificate
// reaches raft, so the refusals are the handshake's.
func TestForgedRaftRPCs(t *testing.T) {
	ca, err := testcert.NewCA("cluster CA")
	if err != nil {
		t.Fatal(err)
	}
	n, fsm := tlsNode(t, ca)
	if _, err := n.Propose(context.Background(), []byte("legit")); err != nil {
		t.Fatal(err)
	}
	term := termOf(n)
	target := raft.ServerAddress(n.trans.LocalAddr())

	rogueCA, err := testcert.NewCA("rogue CA")
	if err != nil {
		t.Fatal(err)
	}
	rogueLeaf, err := rogueCA.Issue("mallory")
	if err != nil {
		t.Fatal(err)
	}
	rogueCert, err := rogueLeaf.TLS()
	if err != nil {
		t.Fatal(err)
	}
	for name, tr := range map[string]*raft.NetworkTransport{
		"plain TCP":                   attacker(t, nil, nil),
		"a certificate of another CA": attacker(t, &rogueCert, ca),
	} {
		vote := &raft.RequestVoteRequest{RPCHeader: header(tr), Term: 1000,
			LastLogIndex: 1 << 40, LastLogTerm: 999}
		if err := tr.RequestVote("n1", target, vote, &raft.RequestVoteResponse{}); err == nil {
			t.Errorf("%s: a forged RequestVote got an answer", name)
		}
		app := &raft.AppendEntriesRequest{RPCHeader: header(tr), Term: 1000, PrevLogEntry: 0, PrevLogTerm: 0,
			Entries: []*raft.Log{{Index: 1, Term: 1000, Type: raft.LogCommand, Data: []byte("pwned")}}, LeaderCommitIndex: 1}
		if err := tr.AppendEntries("n1", target, app, &raft.AppendEntriesResponse{}); err == nil {
			t.Errorf("%s: a forged AppendEntries got an answer", name)
		}
	}
	if !n.IsLeader() || termOf(n) != term {
		t.Errorf("after the attacks: leader %v, term %s (was %s)", n.IsLeader(), termOf(n), term)
	}
	if _, err := n.Propose(context.Background(), []byte("after")); err != nil {
		t.Fatal(err)
	}
	for _, a := range fsm.list() {
		if a == "pwned" {
			t.Fatal("the forged entry was applied")
		}
	}

	// Control: a member's certificate gets through the handshake, and raft
	// answers (refusing the stale vote).
	leaf, err := ca.Issue("n2")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := leaf.TLS()
	if err != nil {
		t.Fatal(err)
	}
	tr := attacker(t, &cert, ca)
	var resp raft.RequestVoteResponse
	vote := &raft.RequestVoteRequest{RPCHeader: header(tr), Term: 0}
	if err := tr.RequestVote("n1", target, vote, &resp); err != nil || resp.Granted {
		t.Errorf("a member's stale RequestVote: %v, granted %v; want a refusal from raft", err, resp.Granted)
	}
}

func TestProposalTooLarge(t *testing.T) {
	ca, err := testcert.NewCA("cluster CA")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := tlsNode(t, ca)
	term := termOf(n)
	_, err = n.Propose(context.Background(), make([]byte, MaxProposalBytes()+1))
	if !errors.Is(err, ErrProposalTooLarge) {
		t.Fatalf("Propose of %d bytes: %v, want ErrProposalTooLarge", MaxProposalBytes()+1, err)
	}
	if !n.IsLeader() || termOf(n) != term {
		t.Error("an oversized proposal cost the leadership")
	}
}

func termOf(n *Node) string { return n.raft.Stats()["term"] }

func header(tr *raft.NetworkTransport) raft.RPCHeader {
	return raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("mallory"), Addr: []byte(tr.LocalAddr())}
}

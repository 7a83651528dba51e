package raftlog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// FSM is the replicated state machine a Node drives, without any raft
// type in its signatures, so that packages above raftlog (walkv) need not
// import hashicorp/raft.
//
// Apply and Snapshot are never called concurrently with each other or
// with Restore (raft's FSM goroutine calls them in log order). Snapshot
// must capture the state quickly and return a function that writes it
// later, concurrently with further Apply calls (walkv freezes its
// copy-on-write keyspace): raft persists snapshots in the background.
type FSM interface {
	// Apply applies one committed command and returns its result, which
	// Propose hands back on the node that proposed it.
	Apply(data []byte) any
	// Snapshot captures the current state and returns a function that
	// writes it to w.
	Snapshot() (write func(w io.Writer) error, err error)
	// Restore replaces the whole state by the snapshot read from r.
	Restore(r io.Reader) error
}

// Peer is a voting member of a statically configured cluster.
type Peer struct {
	ID       string // raft server ID
	RaftAddr string // host:port of its raft TCP transport
}

// NodeConfig configures StartNode. Zero values mean raft's defaults.
type NodeConfig struct {
	// ID is this node's raft server ID; it must appear in Peers when
	// Bootstrap is set and Peers is not empty.
	ID string
	// RaftAddr is the host:port the raft TCP transport binds and
	// advertises (it must not be an unspecified address such as :0).
	RaftAddr string
	// Dir holds the node's raft state: Dir/raft (a Store: log and stable
	// state, fsynced on every append) and Dir/snapshots (raft's file
	// snapshot store).
	Dir string
	// Bootstrap writes the initial configuration (Peers, all voters) if the
	// node has no raft state yet; ignored otherwise, so a restarted node
	// may keep the flag. Exactly one node of a new cluster bootstraps.
	Bootstrap bool
	// Peers is the full membership, this node included, used by Bootstrap.
	// Empty: the cluster is bootstrapped with this node alone, and the
	// others join it (AddVoter on the leader).
	Peers []Peer
	// TrailingLogs is how many entries raft keeps behind a snapshot
	// (default raft's, 10240).
	TrailingLogs uint64
	// SnapshotThreshold is how many entries since the last snapshot
	// trigger a new one (default raft's, 8192).
	SnapshotThreshold uint64
	// SnapshotInterval is how often raft checks SnapshotThreshold
	// (default raft's, 120s).
	SnapshotInterval time.Duration
	// LogOutput receives raft's log. Default os.Stderr.
	LogOutput io.Writer
	// LogLevel is the lowest level of raft's log written to LogOutput
	// (TRACE, DEBUG, INFO, WARN, ERROR). Default WARN.
	LogLevel string
	// TLS, if set, runs raft's traffic over mutual TLS (see tls.go and
	// MutualTLSConfig). Default nil: plain TCP.
	TLS *tls.Config
	// Recover, if set and the node has state, replaces the raft
	// configuration by these voters before raft starts (see
	// recoverCluster). Default nil.
	Recover []Peer
}

// ErrNotLeader is returned (wrapped in a *NotLeaderError) by Propose on a
// node that is not the leader.
var ErrNotLeader = errors.New("raftlog: not the leader")

// NotLeaderError names the leader known to the node that refused, if any.
type NotLeaderError struct {
	LeaderID   string // "" if no leader is known
	LeaderAddr string // its raft address
}

func (e *NotLeaderError) Error() string {
	if e.LeaderID == "" {
		return ErrNotLeader.Error() + " (no leader known)"
	}
	return fmt.Sprintf("%s (leader %s at %s)", ErrNotLeader, e.LeaderID, e.LeaderAddr)
}

// Is makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// Node is a raft member on a raftlog Store, a TCP transport and a file
// snapshot store, driving an FSM. Membership starts as the bootstrap
// configuration; AddVoter on the leader extends it.
type Node struct {
	id       string
	raft     *raft.Raft
	trans    *raft.NetworkTransport
	store    *Store
	hadState bool
	done     chan struct{} // closed by Shutdown
	stop     sync.Once
}

// StartNode opens (or creates) the node's state in cfg.Dir, bootstraps
// the cluster if asked and the node is new, and starts raft.
func StartNode(cfg NodeConfig, fsm FSM) (*Node, error) {
	if cfg.ID == "" || cfg.RaftAddr == "" || cfg.Dir == "" {
		return nil, errors.New("raftlog: NodeConfig needs ID, RaftAddr and Dir")
	}
	out := cfg.LogOutput
	if out == nil {
		out = os.Stderr
	}
	n := &Node{id: cfg.ID, done: make(chan struct{})}
	if err := n.start(cfg, fsm, out); err != nil {
		n.close()
		return nil, fmt.Errorf("raftlog: start node %s: %w", cfg.ID, err)
	}
	return n, nil
}

// start runs the steps of StartNode: store, snapshots, transport,
// bootstrap, raft.
func (n *Node) start(cfg NodeConfig, fsm FSM, out io.Writer) error {
	conf := nodeRaftConfig(cfg, out)
	var err error
	if n.store, err = Open(filepath.Join(cfg.Dir, "raft"), nil); err != nil {
		return err
	}
	snaps, err := raft.NewFileSnapshotStore(cfg.Dir, 2, out) // in Dir/snapshots
	if err != nil {
		return err
	}
	if n.trans, err = newTransport(cfg, out); err != nil { // TCP, or mutual TLS (tls.go)
		return err
	}
	if n.hadState, err = raft.HasExistingState(n.store, n.store, snaps); err != nil {
		return err
	}
	if len(cfg.Recover) > 0 && n.hadState { // membership.go
		if err := n.recoverCluster(conf, fsm, snaps, cfg.Recover); err != nil {
			return err
		}
	}
	if cfg.Bootstrap && !n.hadState {
		peers := cfg.Peers
		if len(peers) == 0 {
			peers = []Peer{{ID: cfg.ID, RaftAddr: cfg.RaftAddr}}
		}
		if err := n.bootstrap(conf, peers, snaps); err != nil {
			return err
		}
	}
	n.raft, err = raft.NewRaft(conf, fsmAdapter{fsm}, n.store, n.store, snaps, n.trans)
	return err
}

// nodeRaftConfig is raft's default configuration with cfg's settings.
func nodeRaftConfig(cfg NodeConfig, out io.Writer) *raft.Config {
	conf := raft.DefaultConfig()
	conf.LocalID = raft.ServerID(cfg.ID)
	conf.LogOutput = out
	conf.LogLevel = "WARN"
	if cfg.LogLevel != "" {
		conf.LogLevel = cfg.LogLevel
	}
	if cfg.TrailingLogs > 0 {
		conf.TrailingLogs = cfg.TrailingLogs
	}
	if cfg.SnapshotThreshold > 0 {
		conf.SnapshotThreshold = cfg.SnapshotThreshold
	}
	if cfg.SnapshotInterval > 0 {
		conf.SnapshotInterval = cfg.SnapshotInterval
	}
	return conf
}

// bootstrap writes the initial configuration of a node without state.
func (n *Node) bootstrap(conf *raft.Config, peers []Peer, snaps raft.SnapshotStore) error {
	var c raft.Configuration
	for _, p := range peers {
		c.Servers = append(c.Servers, raft.Server{
			Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.RaftAddr)})
	}
	return raft.BootstrapCluster(conf, n.store, n.store, snaps, n.trans, c)
}

// Propose replicates data and waits until it is committed and applied on
// this node, returning what FSM.Apply returned. If the node is not the
// leader it returns a *NotLeaderError (errors.Is ErrNotLeader) and the
// entry was not appended. Any other error (leadership lost while waiting,
// shutdown) leaves the outcome unknown: the entry may still commit.
// ctx's deadline bounds only the wait for raft to accept the entry.
func (n *Node) Propose(ctx context.Context, data []byte) (any, error) {
	if n.raft.State() != raft.Leader {
		return nil, n.notLeader()
	}
	if err := checkProposal(data); err != nil {
		return nil, err
	}
	var timeout time.Duration
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	f := n.raft.Apply(data, timeout)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) {
			return nil, n.notLeader()
		}
		return nil, fmt.Errorf("raftlog: propose: %w", err)
	}
	return f.Response(), nil
}

func (n *Node) notLeader() *NotLeaderError {
	addr, id := n.raft.LeaderWithID()
	return &NotLeaderError{LeaderID: string(id), LeaderAddr: string(addr)}
}

// Leader returns the ID and raft address of the leader this node knows,
// or empty strings.
func (n *Node) Leader() (id, raftAddr string) {
	addr, sid := n.raft.LeaderWithID()
	return string(sid), string(addr)
}

// IsLeader reports whether this node currently believes it is the leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// ID returns the node's server ID.
func (n *Node) ID() string { return n.id }

// HasState reports whether the node had raft state (a log, a term or a
// snapshot) when it started: false for a node that has never been
// bootstrapped nor joined a cluster.
func (n *Node) HasState() bool { return n.hadState }

// Done is closed when Shutdown is called.
func (n *Node) Done() <-chan struct{} { return n.done }

// AddVoter adds a voting member, or updates the address of one, and waits
// until the configuration change is committed. Only the leader can: on
// another node it returns a *NotLeaderError (errors.Is ErrNotLeader).
// Adding a member that already is a voter at that address is harmless.
// ctx's deadline bounds only the wait for raft to accept the change.
func (n *Node) AddVoter(ctx context.Context, id, raftAddr string) error {
	if n.raft.State() != raft.Leader {
		return n.notLeader()
	}
	var timeout time.Duration
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	err := n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, timeout).Error()
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return n.notLeader()
	case err != nil:
		return fmt.Errorf("raftlog: add voter %s: %w", id, err)
	}
	return nil
}

// Shutdown stops raft and closes the transport and the store.
func (n *Node) Shutdown() error {
	n.stop.Do(func() { close(n.done) })
	var err error
	if n.raft != nil {
		err = n.raft.Shutdown().Error()
	}
	return errors.Join(err, n.close())
}

// close releases the transport and the store.
func (n *Node) close() error {
	var errs []error
	if n.trans != nil {
		errs = append(errs, n.trans.Close())
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	return errors.Join(errs...)
}

// fsmAdapter turns an FSM into a raft.FSM.
type fsmAdapter struct{ fsm FSM }

var _ raft.FSM = fsmAdapter{}

func (a fsmAdapter) Apply(l *raft.Log) any { return a.fsm.Apply(l.Data) }

func (a fsmAdapter) Snapshot() (raft.FSMSnapshot, error) {
	w, err := a.fsm.Snapshot()
	if err != nil {
		return nil, err
	}
	return fsmSnapshot{w}, nil
}

func (a fsmAdapter) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	return a.fsm.Restore(rc)
}

// fsmSnapshot writes a captured state into raft's snapshot sink.
type fsmSnapshot struct{ write func(io.Writer) error }

func (s fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.write(sink); err != nil {
		return errors.Join(err, sink.Cancel())
	}
	return sink.Close()
}

func (fsmSnapshot) Release() {}

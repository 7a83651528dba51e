package raftlog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/waldb/wal"
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
	// ForceNewCluster, on a node that has raft state, rewrites its
	// configuration to this node alone before starting (hashicorp/raft's
	// RecoverCluster): the way out of a quorum lost for good. Every entry
	// in the node's log is then treated as committed, including any the
	// old cluster never committed. Run it once, on one survivor (the one
	// with the longest log), and add the others back as new members.
	// Ignored on a node without state.
	ForceNewCluster bool
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
	// LogSegmentSize is the size in bytes of the raft log's segment files
	// (default the wal's, 64 MiB). Tests set it small to get many
	// segments quickly; changing it on a node with state is harmless
	// (existing segments keep their size).
	LogSegmentSize int
}

// ErrNotLeader is returned (wrapped in a *NotLeaderError) by Propose on a
// node that is not the leader.
var ErrNotLeader = errors.New("raftlog: not the leader")

// ErrRejected is returned (wrapped) by Propose for an entry raft refused
// before appending it to the log: it will never be applied.
var ErrRejected = errors.New("raftlog: proposal rejected before the log")

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

	// Reads (see read.go).
	gate         leaderGate
	verify       verifier
	leaseTimeout time.Duration
	observer     *raft.Observer
	observations chan raft.Observation
	watched      chan struct{} // closed when watchLeadership returns
	peers        peerHealth
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
	// EagerOpen: open every segment and check the chain of their headers
	// and trailers now, so a missing or foreign middle segment is found
	// before raft starts, not by the first read of its range (one open and
	// two small reads per segment: see checkLog for the cost).
	lo := &wal.Options{SegmentSize: cfg.LogSegmentSize, EagerOpen: true}
	if n.store, err = Open(filepath.Join(cfg.Dir, "raft"), &Options{Log: lo}); err != nil {
		if errors.Is(err, wal.ErrCorrupt) || errors.Is(err, ErrCorrupt) {
			return fmt.Errorf("%w: %w", ErrDamaged, err)
		}
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
	if err := checkLog(n.store); err != nil {
		return err
	}
	if err := checkSnapshots(n.store, snaps); err != nil {
		return err
	}
	if cfg.ForceNewCluster && n.hadState {
		// RecoverCluster replays the log into fsm to snapshot it; NewRaft
		// then restores that snapshot, which replaces the FSM's whole
		// state, so the same FSM serves both.
		self := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: conf.LocalID,
			Address: raft.ServerAddress(cfg.RaftAddr)}}}
		if err := raft.RecoverCluster(conf, fsmAdapter{fsm}, n.store, n.store, snaps, n.trans, self); err != nil {
			return fmt.Errorf("force new cluster: %w", err)
		}
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
	n.leaseTimeout = conf.LeaderLeaseTimeout
	if n.raft, err = raft.NewRaft(conf, fsmAdapter{fsm}, n.store, n.store, snaps, n.trans); err != nil {
		return err
	}
	n.watch()
	return nil
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
// leader it returns a *NotLeaderError (errors.Is ErrNotLeader), and if
// the entry is too large for the store (errors.Is wal.ErrTooLarge), the
// leader knows that too few voters answer its heartbeats to commit it
// (errors.Is ErrNoQuorum), or raft refused it before giving it an index (ctx's deadline passed
// before raft took it, shutdown) an error wrapping ErrRejected: in both
// cases the entry was not appended and never will be. Any other error
// (leadership lost while waiting) leaves the outcome unknown: the entry
// was appended and may still commit. ctx's deadline bounds only the wait
// for raft to accept the entry.
func (n *Node) Propose(ctx context.Context, data []byte) (any, error) {
	if n.raft.State() != raft.Leader {
		return nil, n.notLeader()
	}
	if err := checkProposal(data); err != nil { // limits.go
		return nil, fmt.Errorf("%w: %w: %w", ErrRejected, wal.ErrTooLarge, err)
	}
	// An entry the store cannot hold would fail the leader's append and
	// depose it, with the outcome unknown: refuse it here. The largest
	// index, term and AppendedAt encodings bound the entry's overhead.
	if l := (raft.Log{Index: math.MaxUint64, Term: math.MaxUint64, AppendedAt: time.Now(), Data: data}); EncodedLen(&l) > n.store.maxEntry {
		return nil, fmt.Errorf("%w: %w: %d bytes, limit %d", ErrRejected, wal.ErrTooLarge, EncodedLen(&l), n.store.maxEntry)
	}
	if err := n.peers.quorum(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	var timeout time.Duration
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	f := n.raft.Apply(data, timeout)
	if err := f.Error(); err != nil {
		switch {
		case errors.Is(err, raft.ErrNotLeader):
			return nil, n.notLeader()
		case f.Index() == 0:
			// raft gives an entry its index when the leader appends
			// it: one without was never appended (refused at enqueue,
			// or dequeued by a node no longer leading).
			return nil, fmt.Errorf("%w: %w", ErrRejected, err)
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
		n.unwatch()
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

// Status is a node's view of raft, for operators.
type Status struct {
	ID                string
	State             string // Leader, Follower, Candidate, Shutdown
	Term              uint64
	LastLogIndex      uint64
	CommitIndex       uint64 // the highest index this node knows committed
	AppliedIndex      uint64 // the highest index handed to the FSM
	LastSnapshotIndex uint64
	LeaderID          string
	Voters            []Peer // the latest configuration's voters
	ReadsReady        bool   // leader whose term-start barrier has applied (see Reads)
}

// Status reports the node's raft state.
func (n *Node) Status() Status {
	st := n.raft.Stats()
	num := func(k string) uint64 {
		v, _ := strconv.ParseUint(st[k], 10, 64)
		return v
	}
	s := Status{ID: n.id, State: st["state"], Term: num("term"), LastLogIndex: num("last_log_index"),
		CommitIndex: num("commit_index"), AppliedIndex: num("applied_index"), LastSnapshotIndex: num("last_snapshot_index")}
	s.LeaderID, _ = n.Leader()
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, srv := range f.Configuration().Servers {
			if srv.Suffrage == raft.Voter {
				s.Voters = append(s.Voters, Peer{ID: string(srv.ID), RaftAddr: string(srv.Address)})
			}
		}
	}
	n.gate.mu.Lock()
	s.ReadsReady = n.gate.leader && n.gate.ready == n.gate.epoch
	n.gate.mu.Unlock()
	return s
}

// ErrDamaged is returned (wrapped, with the log's error) by StartNode
// when the log or the stable store is corrupt (damage before synced data,
// not a torn tail; a missing, foreign or damaged segment anywhere in the
// log) or a stored entry cannot be read back. raft reads every entry after
// the newest snapshot when it starts and panics on the first it cannot
// read; StartNode refuses to start instead, naming the entry. The node
// needs repair (docs/cluster.md: faults).
var ErrDamaged = errors.New("raftlog: damaged log entry")

// checkLog reads every stored entry and reports the first it cannot. It
// covers the entries before the newest snapshot too: raft does not read
// those at start, but a leader sends them to a lagging follower, and one
// that does not read back stalls that follower's replication for good
// (raft sends a snapshot only for an entry the store does not hold).
//
// Cost: one read and decode per entry, which raft's trailing logs and
// snapshot threshold bound (by default at most 10240+8192 entries); with
// the EagerOpen of StartNode's store, 0.58 s for a 320 MB log of 4 KiB
// entries in 64 MiB segments, in the page cache, on a shared 2-core
// machine (580 MB/s: WALDB_BENCH_CHECK_MB=320 go test -run X -bench
// StartCheck ./raftlog); from a cold disk, the time to read the log.
func checkLog(store *Store) error {
	first, err := store.FirstIndex()
	if err != nil {
		return err
	}
	last, err := store.LastIndex()
	if err != nil || last == 0 {
		return err
	}
	var l raft.Log
	for i := first; i <= last; i++ {
		if err := store.GetLog(i, &l); err != nil {
			return fmt.Errorf("%w: index %d of [%d, %d]: %w", ErrDamaged, i, first, last, err)
		}
	}
	return nil
}

// checkSnapshots reports ErrDamaged when raft could not start from the
// state on disk: raft restores the newest snapshot that passes its
// checksum, falling back to older ones silently, refuses to start if
// there are snapshots and none passes, and then needs every entry after
// the one it restored in the log (it panics applying one the log does
// not hold). So a damaged newest snapshot is harmless while an older one
// is good and the log reaches back to it; otherwise it is damage, since
// raft compacts the log behind each snapshot. The cost is one read of the
// newest snapshot (more only when it is damaged), which raft repeats to
// restore it.
func checkSnapshots(store *Store, snaps raft.SnapshotStore) error {
	good, listed, err := goodSnapshot(snaps)
	if err != nil {
		return err
	}
	if listed > 0 && good == 0 {
		return fmt.Errorf("%w: none of the %d snapshots reads back", ErrDamaged, listed)
	}
	first, err := store.FirstIndex()
	if err != nil || first == 0 {
		return err
	}
	if first > good+1 {
		return fmt.Errorf("%w: the log starts at index %d and the newest snapshot that reads back ends at %d", ErrDamaged, first, good)
	}
	return nil
}

// goodSnapshot returns the index of the newest snapshot whose contents
// pass the store's checksum (0 if none) and how many snapshots there are.
func goodSnapshot(snaps raft.SnapshotStore) (good uint64, listed int, err error) {
	metas, err := snaps.List()
	if err != nil {
		return 0, 0, err
	}
	for _, m := range metas {
		_, rc, err := snaps.Open(m.ID) // FileSnapshotStore checks the CRC here
		if err != nil {
			continue
		}
		rc.Close()
		return m.Index, len(metas), nil
	}
	return 0, len(metas), nil
}

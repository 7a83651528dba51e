package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/redcon"
	"github.com/waldb/wal/raftlog"
	"github.com/waldb/wal/walkv"
)

// Cluster membership
//
// A new cluster starts from one node run with --bootstrap (its raft
// configuration is then itself alone, or the --peers list if given); the
// others are run with --join <client address of any member>: on their
// first start (no raft state yet) they start raft without bootstrapping
// and send CLUSTER JOIN <id> <raft-addr> <client-addr> to that member,
// following MOVED to the leader. The leader records the node's client
// address in the replicated state (a member entry, below) and adds it as
// a voter. Every node so learns the client address of every member,
// which MOVED redirects name; the leader also records its own address
// whenever it differs from the replicated one (a restart on another
// port, a bootstrapped node). --peers, if given, seeds the table too.
//
// Member entries share raft's log with walkv's entries, which start with
// their version byte 1:
//
//	member entry = 0xFF | uvarint len | id | uvarint len | client addr
//
// and the FSM snapshot is the member table followed by walkv's snapshot:
//
//	memberMagic(8) | uvarint n | n × (uvarint len | id | uvarint len | addr) | walkv snapshot
//
// (a snapshot without memberMagic is walkv's alone: no member known).

const (
	memberEntryTag = 0xFF
	memberMagic    = "WKVMEMB1"
	joinTimeout    = 60 * time.Second // first join of a new node
)

// clusterPeer is one entry of --peers: id=raftaddr=clientaddr.
type clusterPeer struct{ id, raftAddr, clientAddr string }

// parsePeers parses "id=raftaddr=clientaddr,...".
func parsePeers(s string) ([]clusterPeer, error) {
	var ps []clusterPeer
	if s == "" {
		return nil, nil
	}
	for _, f := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(f), "=")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("--peers entry %q: want id=raftaddr=clientaddr", f)
		}
		ps = append(ps, clusterPeer{parts[0], parts[1], parts[2]})
	}
	return ps, nil
}

// replicator is walkv's Replicator and Joiner on a raftlog Node; it maps
// the leader's ID to its client address with the replicated member table
// (then the static --peers table).
type replicator struct {
	node       *raftlog.Node
	self       string            // this node's client address
	seeds      map[string]string // --peers: node ID -> client address
	mu         sync.RWMutex
	members    map[string]string // replicated: node ID -> client address
	registerMu sync.Mutex        // one self-registration at a time
	joinSecret string            // CLUSTER JOIN must present it, if set (security.go)
}

func (r *replicator) Propose(ctx context.Context, data []byte) (any, error) {
	res, err := r.node.Propose(ctx, data)
	switch {
	case errors.Is(err, raftlog.ErrNotLeader):
		return nil, fmt.Errorf("%w: %w", walkv.ErrNotLeader, err)
	case errors.Is(err, raftlog.ErrRejected):
		return nil, fmt.Errorf("%w: %w", walkv.ErrRejected, err)
	}
	return res, err
}

// leaderErr marks raftlog's not-leader error as walkv's, which the
// server answers with a redirect; other errors pass unchanged.
func leaderErr(err error) error {
	if errors.Is(err, raftlog.ErrNotLeader) {
		return fmt.Errorf("%w: %w", walkv.ErrNotLeader, err)
	}
	return err
}

func (r *replicator) RemoveDamaged(ctx context.Context, id string) error {
	return leaderErr(r.node.DemoteMember(ctx, id)) // repair.go: it rejoins as a non-voter
}

func (r *replicator) ConfirmRead(ctx context.Context, lease bool) error {
	return leaderErr(r.node.ConfirmRead(ctx, lease))
}

func (r *replicator) Leader() (string, bool) {
	if r.node.IsLeader() {
		return r.self, true
	}
	id, _ := r.node.Leader()
	return r.clientAddr(id), false
}

// clientAddr returns the client address of node id, "" if unknown.
func (r *replicator) clientAddr(id string) string {
	if id == "" {
		return ""
	}
	r.mu.RLock()
	addr, ok := r.members[id]
	r.mu.RUnlock()
	if !ok {
		addr = r.seeds[id]
	}
	return addr
}

// Join records the client address of node id, then adds it as a voter.
func (r *replicator) Join(ctx context.Context, id, raftAddr, clientAddr string) error {
	if err := r.record(ctx, id, clientAddr); err != nil {
		return err
	}
	return leaderErr(r.node.AddVoter(ctx, id, raftAddr))
}

// record proposes a member entry unless the table already holds it.
func (r *replicator) record(ctx context.Context, id, clientAddr string) error {
	r.mu.RLock()
	known := r.members[id] == clientAddr
	r.mu.RUnlock()
	if known {
		return nil
	}
	_, err := r.Propose(ctx, appendMember([]byte{memberEntryTag}, id, clientAddr))
	return err
}

// registerSelf records this node's client address while it is the
// leader, until the node shuts down.
func (r *replicator) registerSelf() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-r.node.Done():
			return
		case <-t.C:
		}
		if r.node.IsLeader() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			r.registerMu.Lock()
			_ = r.record(ctx, r.node.ID(), r.self) // retried on the next tick
			r.registerMu.Unlock()
			cancel()
		}
	}
}

func appendMember(b []byte, id, clientAddr string) []byte {
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	b = binary.AppendUvarint(b, uint64(len(clientAddr)))
	return append(b, clientAddr...)
}

// readString reads a uvarint-length-prefixed string.
func readString(r *bufio.Reader) (string, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return "", err
	}
	if n > 1<<16 {
		return "", errors.New("member string too long")
	}
	b := make([]byte, n)
	_, err = io.ReadFull(r, b)
	return string(b), err
}

// fsm is raftlog's FSM: member entries update the replicator's table,
// every other entry goes to the walkv DB.
type fsm struct {
	db  *walkv.DB
	rep *replicator
}

func (f fsm) Apply(data []byte) any {
	if len(data) == 0 || data[0] != memberEntryTag {
		return f.db.ApplyEntry(data)
	}
	br := bufio.NewReader(bytes.NewReader(data[1:]))
	id, err := readString(br)
	addr, err2 := readString(br)
	if err != nil || err2 != nil {
		return []byte("-ERR malformed member entry\r\n")
	}
	f.rep.mu.Lock()
	f.rep.members[id] = addr
	f.rep.mu.Unlock()
	return []byte("+OK\r\n")
}

func (f fsm) Snapshot() (func(w io.Writer) error, error) {
	write, err := f.db.SnapshotState()
	if err != nil {
		return nil, err
	}
	f.rep.mu.RLock()
	hdr := binary.AppendUvarint([]byte(memberMagic), uint64(len(f.rep.members)))
	for id, addr := range f.rep.members {
		hdr = appendMember(hdr, id, addr)
	}
	f.rep.mu.RUnlock()
	return func(w io.Writer) error {
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		return write(w)
	}, nil
}

func (f fsm) Restore(r io.Reader) error {
	br := bufio.NewReader(r)
	members := map[string]string{}
	if head, err := br.Peek(len(memberMagic)); err == nil && string(head) == memberMagic {
		br.Discard(len(memberMagic))
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("walkv: restore member table: %w", err)
		}
		for range n {
			id, err := readString(br)
			if err != nil {
				return fmt.Errorf("walkv: restore member table: %w", err)
			}
			addr, err := readString(br)
			if err != nil {
				return fmt.Errorf("walkv: restore member table: %w", err)
			}
			members[id] = addr
		}
	}
	if err := f.db.RestoreState(br); err != nil {
		return err
	}
	f.rep.mu.Lock()
	f.rep.members = members
	f.rep.mu.Unlock()
	return nil
}

// openCluster opens db in cluster mode, starts its raft node and, for a
// new node run with --join, joins the cluster.
func openCluster(o options, opts *walkv.Options) (*walkv.DB, *raftlog.Node, error) {
	peers, err := parsePeers(o.peers)
	if err != nil {
		return nil, nil, usageError{err}
	}
	rep := &replicator{self: o.addr, seeds: map[string]string{}, members: map[string]string{}, joinSecret: o.sec.clusterSecret}
	cfg := raftlog.NodeConfig{ID: o.nodeID, RaftAddr: o.raftAddr, Dir: o.dir, Bootstrap: o.bootstrap,
		TrailingLogs: o.trailingLogs, SnapshotThreshold: o.snapshotThreshold, SnapshotInterval: o.snapshotInterval,
		LogLevel: o.raftLogLevel, ForceNewCluster: o.forceNewCluster, LogSegmentSize: o.raftSegmentSize}
	for _, p := range peers {
		rep.seeds[p.id] = p.clientAddr
		cfg.Peers = append(cfg.Peers, raftlog.Peer{ID: p.id, RaftAddr: p.raftAddr})
	}
	if err := o.sec.configureNode(&cfg); err != nil { // TLS, recovery: security.go
		return nil, nil, err
	}
	opts.Replicator = rep
	switch {
	case o.staleReads:
		opts.ReadMode = walkv.ReadStale
	case o.leaseReads:
		opts.ReadMode = walkv.ReadLease
	}
	db, err := walkv.Open(o.dir, opts)
	if err != nil {
		return nil, nil, err
	}
	rep.node, err = raftlog.StartNode(cfg, fsm{db, rep})
	join, repairing := o.join, raftlog.Repairing(o.dir)
	if errors.Is(err, raftlog.ErrDamaged) {
		// repair.go: be demoted, trim to what reads back, catch up as
		// a non-voter, be promoted.
		join, err = repairDamaged(o, peers, err)
		if err == nil {
			cfg.Bootstrap, cfg.Peers, cfg.ForceNewCluster = false, nil, false
			rep.node, err = raftlog.StartNode(cfg, fsm{db, rep})
		}
		repairing = true
	} else if repairing {
		join = repairVia(o, peers) // restarted before a repair finished
	}
	if err != nil {
		return nil, nil, errors.Join(err, db.Close())
	}
	go rep.registerSelf()
	if repairing {
		if err := finishRepair(o, rep.node, join); err != nil {
			return nil, nil, errors.Join(err, rep.node.Shutdown(), db.Close())
		}
		return db, rep.node, nil
	}
	if join != "" && !rep.node.HasState() {
		ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
		defer cancel()
		if err := joinCluster(ctx, join, o.nodeID, o.raftAddr, o.addr, o.sec.joinCreds()); err != nil {
			return nil, nil, errors.Join(err, rep.node.Shutdown(), db.Close())
		}
	}
	return db, rep.node, nil
}

// joinCluster sends CLUSTER JOIN to the member at addr, following MOVED
// to the leader and retrying transient failures (no leader yet,
// connection refused) until ctx is done (clusterCommand, repair.go).
func joinCluster(ctx context.Context, addr, id, raftAddr, clientAddr string, creds joinCreds, opts ...string) error {
	return clusterCommand(ctx, creds, addr, append([]string{"CLUSTER", "JOIN", id, raftAddr, clientAddr}, opts...)...)
}

// sendCommand sends one command in RESP to addr and returns the first
// line of the reply.
func sendCommand(ctx context.Context, addr string, args ...string) (string, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.SetDeadline(deadline)
	req := redcon.AppendArray(nil, len(args))
	for _, a := range args {
		req = redcon.AppendBulkString(req, a)
	}
	if _, err := c.Write(req); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

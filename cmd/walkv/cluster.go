package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/waldb/wal/raftlog"
	"github.com/waldb/wal/walkv"
)

// clusterPeer is one entry of --peers: id=raftaddr=clientaddr.
type clusterPeer struct{ id, raftAddr, clientAddr string }

// parsePeers parses "id=raftaddr=clientaddr,...".
func parsePeers(s string) ([]clusterPeer, error) {
	var ps []clusterPeer
	for _, f := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(f), "=")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("--peers entry %q: want id=raftaddr=clientaddr", f)
		}
		ps = append(ps, clusterPeer{parts[0], parts[1], parts[2]})
	}
	return ps, nil
}

// replicator is walkv's Replicator on a raftlog Node; it maps the
// leader's ID to its client address with the static --peers table.
type replicator struct {
	node    *raftlog.Node
	clients map[string]string // node ID -> client address
}

func (r *replicator) Propose(ctx context.Context, data []byte) (any, error) {
	res, err := r.node.Propose(ctx, data)
	if errors.Is(err, raftlog.ErrNotLeader) {
		return nil, fmt.Errorf("%w: %w", walkv.ErrNotLeader, err)
	}
	return res, err
}

func (r *replicator) Leader() (string, bool) {
	if r.node.IsLeader() {
		return r.clients[r.node.ID()], true
	}
	id, _ := r.node.Leader()
	return r.clients[id], false
}

// fsm is raftlog's FSM on a walkv DB.
type fsm struct{ db *walkv.DB }

func (f fsm) Apply(data []byte) any                      { return f.db.ApplyEntry(data) }
func (f fsm) Snapshot() (func(w io.Writer) error, error) { return f.db.SnapshotState() }
func (f fsm) Restore(r io.Reader) error                  { return f.db.RestoreState(r) }

// openCluster opens db in cluster mode and starts its raft node.
func openCluster(o options, opts *walkv.Options) (*walkv.DB, *raftlog.Node, error) {
	peers, err := parsePeers(o.peers)
	if err != nil {
		return nil, nil, usageError{err}
	}
	rep := &replicator{clients: map[string]string{}}
	cfg := raftlog.NodeConfig{ID: o.nodeID, RaftAddr: o.raftAddr, Dir: o.dir, Bootstrap: o.bootstrap,
		TrailingLogs: o.trailingLogs, SnapshotThreshold: o.snapshotThreshold, SnapshotInterval: o.snapshotInterval}
	for _, p := range peers {
		rep.clients[p.id] = p.clientAddr
		cfg.Peers = append(cfg.Peers, raftlog.Peer{ID: p.id, RaftAddr: p.raftAddr})
	}
	opts.Replicator, opts.StaleReads = rep, o.staleReads
	db, err := walkv.Open(o.dir, opts)
	if err != nil {
		return nil, nil, err
	}
	rep.node, err = raftlog.StartNode(cfg, fsm{db})
	if err != nil {
		return nil, nil, errors.Join(err, db.Close())
	}
	return db, rep.node, nil
}

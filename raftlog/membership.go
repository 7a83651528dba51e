package raftlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Member is a server of the raft configuration.
type Member struct {
	ID, RaftAddr string
	Voter        bool // false: a non-voter (a read replica)
	Leader       bool
}

// Members returns the latest raft configuration this node knows.
func (n *Node) Members() ([]Member, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("raftlog: configuration: %w", err)
	}
	_, leader := n.raft.LeaderWithID()
	var ms []Member
	for _, s := range f.Configuration().Servers {
		ms = append(ms, Member{ID: string(s.ID), RaftAddr: string(s.Address), Voter: s.Suffrage == raft.Voter, Leader: s.ID == leader})
	}
	return ms, nil
}

// RemoveServer removes member id from the configuration (a voter that
// should never have been added, or one gone for good) and waits until the
// change is committed. Only the leader can: on another node it returns a
// *NotLeaderError. Removing the leader itself makes it step down once
// the change commits.
func (n *Node) RemoveServer(ctx context.Context, id string) error {
	if n.raft.State() != raft.Leader {
		return n.notLeader()
	}
	err := n.raft.RemoveServer(raft.ServerID(id), 0, timeoutOf(ctx)).Error()
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return n.notLeader()
	case err != nil:
		return fmt.Errorf("raftlog: remove server %s: %w", id, err)
	}
	return nil
}

// AddNonvoter adds a member that receives the log but neither votes nor
// counts for a quorum (a read replica). Only the leader can.
func (n *Node) AddNonvoter(ctx context.Context, id, raftAddr string) error {
	if n.raft.State() != raft.Leader {
		return n.notLeader()
	}
	err := n.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, timeoutOf(ctx)).Error()
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return n.notLeader()
	case err != nil:
		return fmt.Errorf("raftlog: add non-voter %s: %w", id, err)
	}
	return nil
}

// TransferLeadership makes the leader hand leadership to voter id (any
// voter if id is empty) and waits for the handover. Only the leader can.
func (n *Node) TransferLeadership(id string) error {
	if n.raft.State() != raft.Leader {
		return n.notLeader()
	}
	var f raft.Future
	if id == "" {
		f = n.raft.LeadershipTransfer()
	} else {
		ms, err := n.Members()
		if err != nil {
			return err
		}
		addr := ""
		for _, m := range ms {
			if m.ID == id && m.Voter {
				addr = m.RaftAddr
			}
		}
		if addr == "" {
			return fmt.Errorf("raftlog: transfer leadership: %s is not a voter", id)
		}
		f = n.raft.LeadershipTransferToServer(raft.ServerID(id), raft.ServerAddress(addr))
	}
	if err := f.Error(); err != nil {
		return fmt.Errorf("raftlog: transfer leadership: %w", err)
	}
	return nil
}

// timeoutOf is ctx's remaining time (0, no limit, without a deadline).
func timeoutOf(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return 0
}

// recoverCluster forces the configuration of a node that has state to
// peers (all voters), as Consul's peers.json does: the way back when a
// quorum of the configured voters is gone for good. Every surviving
// member must be recovered with the same peers before they restart.
func (n *Node) recoverCluster(conf *raft.Config, fsm FSM, snaps raft.SnapshotStore, peers []Peer) error {
	var c raft.Configuration
	for _, p := range peers {
		c.Servers = append(c.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.RaftAddr)})
	}
	if err := raft.RecoverCluster(conf, fsmAdapter{fsm}, n.store, n.store, snaps, n.trans, c); err != nil {
		return fmt.Errorf("raftlog: recover cluster: %w", err)
	}
	return nil
}

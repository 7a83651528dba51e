package raftlog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Reads
//
// A node serves a linearizable read from its FSM only if three things
// hold, which ConfirmRead checks:
//
//  1. It is the leader.
//  2. Its FSM has applied every entry committed before its term began. A
//     new leader holds every committed entry in its log but may not have
//     applied them yet: it learns their commitment only when an entry of
//     its own term commits (a follower learns the commit index from the
//     next AppendEntries, which a leader killed just after acknowledging a
//     write never sends; a restarted node sits at its last snapshot).
//     After every transition into the leader state the node issues raft's
//     Barrier, an entry of its new term that completes once it and
//     everything before it is applied, and marks the leadership ready.
//  3. No other leader has been elected since the read arrived: a quorum
//     has acknowledged this node's leadership after the read arrived
//     (raft's VerifyLeader, the ReadIndex of the Raft thesis, §6.4). Writes
//     this leader acknowledged are applied before their acknowledgement;
//     writes of earlier leaders are applied by (2); no later leader can
//     have acknowledged a write by (3). Concurrent reads share one
//     confirmation round: a read joins the round that starts next, never
//     one already under way, so the round still begins after the read.
//
// With lease reads (ConfirmRead's lease true), (3) is replaced by a lease:
// a confirmation round that began at t lets reads through until
// t + LeaderLeaseTimeout on this node's monotonic clock. Followers that
// acknowledged the round refuse to vote for another candidate until their
// heartbeat timeout (at least HeartbeatTimeout, twice the lease by
// default) has passed since, so no other leader can exist before the lease
// ends unless clocks run at rates that differ by more than that margin.
//
// Leadership changes are tracked with a blocking, unbuffered raft
// observer of state changes, so raft cannot complete a transition (and so
// cannot confirm leadership in a new term) before the node has seen the
// previous one; an epoch counts the transitions into the leader state, and
// (2) and (3) must hold within one epoch.

// watch registers the blocking observer of state changes and starts
// watchLeadership. REQUIRES: n.raft set.
func (n *Node) watch() {
	n.gate.changed = make(chan struct{})
	n.watched = make(chan struct{})
	n.observations = make(chan raft.Observation) // unbuffered: see Reads
	n.observer = raft.NewObserver(n.observations, true, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.RaftState, raft.PeerObservation, raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation:
			return true
		}
		return false
	})
	n.raft.RegisterObserver(n.observer)
	go n.watchLeadership(n.observations)
}

// unwatch stops watchLeadership. REQUIRES: raft shut down.
func (n *Node) unwatch() {
	if n.observer == nil {
		return
	}
	n.raft.DeregisterObserver(n.observer)
	close(n.observations)
	<-n.watched
	n.observer = nil
}

// leaderGate is the node's view of its leadership (see Reads).
type leaderGate struct {
	mu      sync.Mutex
	leader  bool
	epoch   uint64        // transitions into the leader state seen
	ready   uint64        // the epoch whose barrier completed, if any
	changed chan struct{} // closed and replaced on every change
	lease   time.Time     // lease reads allowed until (monotonic), in epoch leaseEpoch
	leaseEp uint64
}

// round is one leadership confirmation shared by concurrent reads.
type round struct {
	done  chan struct{}
	start time.Time
	err   error
}

// verifier batches VerifyLeader calls: at most one round runs; reads that
// arrive meanwhile share the next.
type verifier struct {
	mu      sync.Mutex
	running bool
	next    *round
	rounds  atomic.Uint64 // rounds run, for tests
}

// watchLeadership follows raft's state changes until the observer's
// channel is closed.
func (n *Node) watchLeadership(ch <-chan raft.Observation) {
	defer close(n.watched)
	n.setLeader(n.raft.State() == raft.Leader)
	for o := range ch {
		switch d := o.Data.(type) {
		case raft.RaftState:
			n.setLeader(d == raft.Leader)
		default:
			n.peers.observe(d)
		}
	}
}

// setLeader records a state change; entering the leader state starts a
// new epoch and its barrier.
func (n *Node) setLeader(leader bool) {
	g := &n.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	if leader == g.leader && !leader {
		return
	}
	g.leader = leader
	n.peers.reset()
	if leader {
		g.epoch++
		go n.barrier(g.epoch)
	}
	close(g.changed)
	g.changed = make(chan struct{})
}

// barrier marks epoch ready once raft's Barrier issued in it completes
// while the epoch lasts.
func (n *Node) barrier(epoch uint64) {
	if err := n.raft.Barrier(0).Error(); err != nil {
		return // leadership lost or shutdown: a new epoch, if any, has its own
	}
	g := &n.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.leader && g.epoch == epoch {
		g.ready = epoch
		close(g.changed)
		g.changed = make(chan struct{})
	}
}

// ErrLeadershipUnconfirmed is returned (wrapped) by ConfirmRead when ctx
// ends before this leader could confirm its leadership with a quorum or
// apply the entries of earlier terms. The read was not served.
var ErrLeadershipUnconfirmed = errors.New("raftlog: leadership not confirmed")

// ConfirmRead returns nil when this node may serve a read from its FSM
// (see Reads): it is the leader, has applied everything committed before
// its term, and a quorum confirmed its leadership after the call began
// (or, if lease, within the lease). It returns a *NotLeaderError
// (errors.Is ErrNotLeader) if the node is not the leader or loses
// leadership meanwhile, and an error wrapping ErrLeadershipUnconfirmed if
// ctx ends first. The caller reads its FSM after ConfirmRead returns.
func (n *Node) ConfirmRead(ctx context.Context, lease bool) error {
	epoch, err := n.readyEpoch(ctx)
	if err != nil {
		return err
	}
	if lease && n.inLease(epoch) {
		return nil
	}
	r := n.verify.join(n.raft)
	select {
	case <-r.done:
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrLeadershipUnconfirmed, ctx.Err())
	}
	if r.err != nil {
		return n.notLeader()
	}
	g := &n.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.leader || g.epoch != epoch {
		return n.notLeader()
	}
	if until := r.start.Add(n.leaseTimeout); g.leaseEp != epoch || g.lease.Before(until) {
		g.lease, g.leaseEp = until, epoch
	}
	return nil
}

// readyEpoch waits until the node is a leader whose barrier completed and
// returns its epoch.
func (n *Node) readyEpoch(ctx context.Context) (uint64, error) {
	g := &n.gate
	for {
		g.mu.Lock()
		leader, epoch, ready, changed := g.leader, g.epoch, g.ready, g.changed
		g.mu.Unlock()
		switch {
		case !leader:
			return 0, n.notLeader()
		case ready == epoch:
			return epoch, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return 0, fmt.Errorf("%w: entries of earlier terms not applied: %w", ErrLeadershipUnconfirmed, ctx.Err())
		}
	}
}

// inLease reports whether a lease of epoch covers now.
func (n *Node) inLease(epoch uint64) bool {
	g := &n.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.leader && g.epoch == epoch && g.leaseEp == epoch && time.Now().Before(g.lease)
}

// join returns the round the caller waits for: a new one started now if
// none runs, else the one that starts when the running one ends.
func (v *verifier) join(r *raft.Raft) *round {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.running {
		v.running = true
		rd := &round{done: make(chan struct{})}
		go v.run(r, rd)
		return rd
	}
	if v.next == nil {
		v.next = &round{done: make(chan struct{})}
	}
	return v.next
}

// run runs rd, then the rounds queued behind it.
func (v *verifier) run(r *raft.Raft, rd *round) {
	for rd != nil {
		rd.start = time.Now()
		v.rounds.Add(1)
		rd.err = r.VerifyLeader().Error()
		close(rd.done)
		v.mu.Lock()
		rd, v.next = v.next, nil
		v.running = rd != nil
		v.mu.Unlock()
	}
}

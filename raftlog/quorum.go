package raftlog

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/raft"
)

// ErrNoQuorum is returned (wrapped, with ErrRejected) by Propose on a
// leader that knows too few voters answer its heartbeats for an entry
// to commit: the entry is refused before the log rather than appended
// with an outcome that stays unknown until leadership is lost.
var ErrNoQuorum = errors.New("raftlog: no quorum reachable")

// peerHealth tracks, while the node leads, the other voters raft
// replicates to and which of them fail heartbeats (raft's peer and
// heartbeat observations, delivered in order by the node's observer).
// It is a fast path for a definite refusal, not a safety mechanism: a
// voter that stops answering is marked only once a heartbeat fails
// (at once for a refused connection, after the transport's timeout
// for a node that hangs), and the leader steps down on its own once
// its lease of quorum contact runs out.
type peerHealth struct {
	mu      sync.Mutex
	failing map[raft.ServerID]bool // other voters -> heartbeats failing
}

// reset forgets every peer (a change of leadership).
func (p *peerHealth) reset() {
	p.mu.Lock()
	p.failing = nil
	p.mu.Unlock()
}

// observe records a peer or heartbeat observation.
func (p *peerHealth) observe(d any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failing == nil {
		p.failing = map[raft.ServerID]bool{}
	}
	switch d := d.(type) {
	case raft.PeerObservation:
		if d.Removed || d.Peer.Suffrage != raft.Voter {
			delete(p.failing, d.Peer.ID)
		} else if _, ok := p.failing[d.Peer.ID]; !ok {
			p.failing[d.Peer.ID] = false
		}
	case raft.FailedHeartbeatObservation:
		if _, ok := p.failing[d.PeerID]; ok {
			p.failing[d.PeerID] = true
		}
	case raft.ResumedHeartbeatObservation:
		if _, ok := p.failing[d.PeerID]; ok {
			p.failing[d.PeerID] = false
		}
	}
}

// quorum returns an error wrapping ErrNoQuorum if this leader and the
// voters whose heartbeats succeed are fewer than a majority.
func (p *peerHealth) quorum() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	voters, down := len(p.failing)+1, 0
	for _, f := range p.failing {
		if f {
			down++
		}
	}
	if voters-down < voters/2+1 {
		return fmt.Errorf("%w: %d of %d voters failing heartbeats", ErrNoQuorum, down, voters)
	}
	return nil
}

package raftlog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
)

// RemoveMember removes node id from the configuration and waits until the
// change is committed. Only the leader can: on another node it returns a
// *NotLeaderError. Removing a node that is not a member is harmless. A
// node cannot remove itself this way. ctx's deadline bounds only the wait
// for raft to accept the change.
func (n *Node) RemoveMember(ctx context.Context, id string) error {
	if n.raft.State() != raft.Leader {
		return n.notLeader()
	}
	if id == n.id {
		return fmt.Errorf("raftlog: remove member %s: the leader cannot remove itself", id)
	}
	var timeout time.Duration
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	err := n.raft.RemoveServer(raft.ServerID(id), 0, timeout).Error()
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return n.notLeader()
	case err != nil:
		return fmt.Errorf("raftlog: remove member %s: %w", id, err)
	}
	return nil
}

// WipeState deletes the raft state of a node directory (the snapshots,
// then the log and stable store), for a node that has been removed from
// its cluster and will join again as a new member. A crash midway leaves
// the log, which StartNode then refuses again, so the wipe is retried.
// REQUIRES: no Node runs on dir.
func WipeState(dir string) error {
	for _, sub := range []string{"snapshots", "raft"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return fmt.Errorf("raftlog: wipe state: %w", err)
		}
	}
	return syncDir(dir)
}

// syncDir makes the removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("raftlog: wipe state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("raftlog: wipe state: fsync %s: %w", dir, err)
	}
	return nil
}

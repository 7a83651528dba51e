package raftlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	"github.com/waldb/wal"
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

// DemoteMember makes voter id a non-voter and waits until the change is
// committed: from then on id counts in no quorum and no candidate of the
// new configuration asks for its vote, while the leader still sends it
// the log. Only the leader can: on another node it returns a
// *NotLeaderError. Demoting a non-voter or a non-member is harmless; the
// leader cannot demote itself. ctx's deadline bounds only the wait for
// raft to accept the change.
func (n *Node) DemoteMember(ctx context.Context, id string) error {
	if n.raft.State() != raft.Leader {
		return n.notLeader()
	}
	if id == n.id {
		return fmt.Errorf("raftlog: demote member %s: the leader cannot demote itself", id)
	}
	err := n.raft.DemoteVoter(raft.ServerID(id), 0, timeoutOf(ctx)).Error()
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return n.notLeader()
	case err != nil:
		return fmt.Errorf("raftlog: demote member %s: %w", id, err)
	}
	return nil
}

// IsNonvoter reports whether the latest configuration this node holds
// lists it as a non-voter. A node demoted while it was down sees this
// only once it holds the demotion entry, and so, by log matching, every
// entry before it.
func (n *Node) IsNonvoter() bool {
	ms, err := n.Members()
	if err != nil {
		return false
	}
	for _, m := range ms {
		if m.ID == n.id {
			return !m.Voter
		}
	}
	return false
}

// repairingName marks a node directory whose node was demoted for repair
// and has not been promoted back yet (see MarkRepairing).
const repairingName = "REPAIRING"

// MarkRepairing durably marks dir as under repair, before TrimDamaged
// changes it: a node restarted with the mark must rejoin as a voter only
// after catching up, even though its trimmed log now reads back.
func MarkRepairing(dir string) error {
	f, err := os.Create(filepath.Join(dir, repairingName))
	if err != nil {
		return fmt.Errorf("raftlog: mark repairing: %w", err)
	}
	err = errors.Join(f.Sync(), f.Close())
	if err != nil {
		return fmt.Errorf("raftlog: mark repairing: %w", err)
	}
	return syncDir(dir)
}

// Repairing reports whether dir carries the mark of MarkRepairing.
func Repairing(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, repairingName))
	return err == nil
}

// RepairDone removes the mark of MarkRepairing.
func RepairDone(dir string) error {
	if err := os.Remove(filepath.Join(dir, repairingName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("raftlog: repair done: %w", err)
	}
	return syncDir(dir)
}

// TrimDamaged keeps what of dir's raft state reads back and removes the
// rest, for a node that StartNode refused with ErrDamaged and that the
// cluster has demoted to a non-voter. It keeps the snapshots (raft checks
// each one's checksum when it restores it, falling back to an older one),
// the stable store, and the log's entries before the first that does not
// read back (damage in the tail segment is cut by opening the log in
// wal.PointInTime recovery, damage elsewhere by a TruncateBack): a prefix of a raft log is a raft log, which the leader then
// extends (or replaces by a snapshot) like any lagging follower's. If the
// store does not open with its log, the log is removed; if it does not
// open even then (a damaged stable file), the whole state is (WipeState).
// It returns the last index kept in the log (0: none).
// REQUIRES: no Node runs on dir.
func TrimDamaged(dir string) (kept uint64, err error) {
	rdir := filepath.Join(dir, "raft")
	// Lazily, so that a missing segment is found by reading; PointInTime,
	// so that damage in the tail segment cuts the log before it.
	opts := &Options{Log: &wal.Options{RecoveryMode: wal.PointInTime}}
	s, err := Open(rdir, opts)
	if err != nil {
		if err := os.RemoveAll(filepath.Join(rdir, logDirName)); err != nil {
			return 0, fmt.Errorf("raftlog: trim damaged: %w", err)
		}
		if err := syncDir(rdir); err != nil {
			return 0, err
		}
		if s, err = Open(rdir, opts); err != nil {
			return 0, WipeState(dir)
		}
	}
	// Snapshots that fail their checksum go; if the log does not reach
	// back to the newest good one, the log goes too (see checkSnapshots).
	good, err := trimSnapshots(dir)
	if err != nil {
		s.Close()
		return 0, err
	}
	first, _ := s.FirstIndex()
	last, _ := s.LastIndex()
	if first > good+1 {
		err := errors.Join(s.DeleteRange(first, last), s.Close())
		return 0, err
	}
	bad := last + 1
	var l raft.Log
	for i := first; i <= last && first > 0; i++ {
		if s.GetLog(i, &l) != nil {
			bad = i
			break
		}
	}
	if bad <= last {
		err = s.DeleteRange(bad, last)
	}
	if err = errors.Join(err, s.Close()); err != nil {
		// The cut failed (it may need the damaged segments): drop the log.
		if err := os.RemoveAll(filepath.Join(rdir, logDirName)); err != nil {
			return 0, fmt.Errorf("raftlog: trim damaged: %w", err)
		}
		return 0, syncDir(rdir)
	}
	if bad == first {
		return 0, nil
	}
	return bad - 1, nil
}

// trimSnapshots removes the snapshots of dir that fail their checksum and
// returns the index of the newest that passes (0 if none).
func trimSnapshots(dir string) (uint64, error) {
	snaps, err := raft.NewFileSnapshotStore(dir, 2, io.Discard)
	if err != nil {
		return 0, fmt.Errorf("raftlog: trim damaged: %w", err)
	}
	metas, err := snaps.List()
	if err != nil {
		return 0, fmt.Errorf("raftlog: trim damaged: %w", err)
	}
	var good uint64
	for _, m := range metas {
		_, rc, err := snaps.Open(m.ID)
		if err == nil {
			rc.Close()
			good = max(good, m.Index)
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, "snapshots", m.ID)); err != nil {
			return 0, fmt.Errorf("raftlog: trim damaged: %w", err)
		}
	}
	return good, syncDir(filepath.Join(dir, "snapshots"))
}

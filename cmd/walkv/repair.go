package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/waldb/wal/raftlog"
)

// Self-repair of a damaged node
//
// A node whose raft log does not read back (raftlog.ErrDamaged: a
// flipped bit, a missing segment) must not start raft as it is: it may
// have acknowledged entries it no longer holds, and as a voter it could
// then help commit or elect without them. Instead it asks the cluster,
// through --join or a --peers member, to demote it to a non-voter
// (CLUSTER REPAIR <id>, which the leader commits as a configuration
// change on the other voters, who hold every committed entry between
// them); it then marks its directory as under repair, keeps the part of
// its raft state that reads back (raftlog.TrimDamaged: snapshots, stable
// store, the log before the first bad entry), starts raft, and is caught
// up by the leader like any lagging non-voter. Once it holds the
// demotion entry (and so every entry before it) it removes the mark and
// asks to be a voter again (CLUSTER JOIN, which promotes it). Until the
// demotion commits it takes no part in raft, like a crashed node; if no
// quorum of the others is reachable it retries until repairTimeout and
// then fails (the cluster is then unavailable, not unsafe).
// docs/cluster.md has the argument.

// repairTimeout bounds the wait for the cluster to demote this node, and
// the wait to catch up and be promoted again.
const repairTimeout = 2 * time.Minute

// repairVia returns the client address of a member to repair through.
func repairVia(o options, peers []clusterPeer) string {
	via := o.join
	for _, p := range peers {
		if via == "" && p.id != o.nodeID {
			via = p.clientAddr
		}
	}
	return via
}

// repairDamaged has this node demoted, after StartNode failed with
// damage, marks its directory as under repair and trims its raft state
// to what reads back; it returns the address of the member it repaired
// through.
func repairDamaged(o options, peers []clusterPeer, damage error) (string, error) {
	via := repairVia(o, peers)
	if via == "" {
		return "", fmt.Errorf("%w; no --join or --peers member to repair from", damage)
	}
	fmt.Fprintf(os.Stderr, "walkv: %v: rejoining as a non-voter through %s\n", damage, via)
	ctx, cancel := context.WithTimeout(context.Background(), repairTimeout)
	defer cancel()
	creds := o.sec.joinCreds()
	creds.nonvoter = false
	if err := clusterCommand(ctx, creds, via, "CLUSTER", "REPAIR", o.nodeID); err != nil {
		return "", fmt.Errorf("%w; repair: %w", damage, err)
	}
	if err := raftlog.MarkRepairing(o.dir); err != nil {
		return "", fmt.Errorf("%w; repair: %w", damage, err)
	}
	kept, err := raftlog.TrimDamaged(o.dir)
	if err != nil {
		return "", fmt.Errorf("%w; repair: %w", damage, err)
	}
	fmt.Fprintf(os.Stderr, "walkv: repair: kept the raft log up to index %d and the snapshots\n", kept)
	return via, nil
}

// finishRepair waits until the demoted node holds its demotion entry (it
// then holds every entry committed before it, including any it had lost)
// and asks the leader, through via, to make it a voter again.
func finishRepair(o options, node *raftlog.Node, via string) error {
	ctx, cancel := context.WithTimeout(context.Background(), repairTimeout)
	defer cancel()
	if !node.HasState() { // wiped entirely: be known as a non-voter first
		if err := joinCluster(ctx, via, o.nodeID, o.raftAddr, o.addr, o.sec.joinCreds(), "NONVOTER"); err != nil {
			return fmt.Errorf("repair: %w", err)
		}
	}
	for !node.IsNonvoter() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("repair: not caught up to the demotion after %v", repairTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
	// The mark goes first: a node restarted with it must still be a
	// non-voter, or it would wait for a demotion forever. A crash between
	// the two leaves a caught-up non-voter, safe, that CLUSTER JOIN <id>
	// <raft-addr> <client-addr> promotes.
	if err := raftlog.RepairDone(o.dir); err != nil {
		return err
	}
	if err := joinCluster(ctx, via, o.nodeID, o.raftAddr, o.addr, o.sec.joinCreds()); err != nil {
		return fmt.Errorf("repair: promotion (send CLUSTER JOIN %s %s %s to promote it): %w", o.nodeID, o.raftAddr, o.addr, err)
	}
	fmt.Fprintf(os.Stderr, "walkv: repair: caught up and promoted back to voter\n")
	return nil
}

// clusterCommand sends a CLUSTER command to the member at addr with the
// node's credentials (AUTH, SECRET), following MOVED to the leader and
// retrying transient failures until ctx is done.
func clusterCommand(ctx context.Context, creds joinCreds, addr string, args ...string) error {
	target := addr
	var last error
	for {
		reply, err := creds.send(ctx, target, args...)
		switch {
		case err != nil:
			last, target = err, addr
		case reply == "+OK":
			return nil
		case strings.HasPrefix(reply, "-MOVED "):
			f := strings.Fields(reply)
			if len(f) == 3 && f[2] != target {
				target = f[2]
				continue
			}
			last, target = errors.New(reply[1:]), addr
		case strings.HasPrefix(reply, "-CLUSTERDOWN"), strings.HasPrefix(reply, "-TRYAGAIN"):
			last, target = errors.New(reply[1:]), addr
		default:
			return fmt.Errorf("%s via %s: %s", strings.Join(args[:2], " "), target, strings.TrimPrefix(reply, "-"))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s via %s: %w (last: %v)", strings.Join(args[:2], " "), addr, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

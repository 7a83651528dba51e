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
// flipped bit, a lost segment after the newest snapshot) must not start
// raft: it may have acknowledged entries it no longer holds, and as a
// voter it could then help elect a leader without them. Instead it asks
// the cluster, through --join or a --peers member, to remove it (CLUSTER
// REPAIR <id>, which the leader commits as a configuration change on the
// other voters, who hold every committed entry between them), wipes its
// raft state, starts with none and joins again as a new member, caught up
// by snapshot and log like any new node. Until the removal commits it
// takes no part in raft, like a crashed node; if no quorum of the others
// is reachable it retries until repairTimeout and then fails (the
// cluster is then unavailable, not unsafe). docs/cluster.md has the
// argument.

// repairTimeout bounds the wait for the cluster to remove this node.
const repairTimeout = 2 * time.Minute

// repairDamaged removes this node from its cluster and wipes its raft
// state, after StartNode failed with damage; it returns the address to
// join through.
func repairDamaged(o options, peers []clusterPeer, damage error) (string, error) {
	via := o.join
	for _, p := range peers {
		if via == "" && p.id != o.nodeID {
			via = p.clientAddr
		}
	}
	if via == "" {
		return "", fmt.Errorf("%w; no --join or --peers member to repair from", damage)
	}
	fmt.Fprintf(os.Stderr, "walkv: %v: leaving the cluster through %s to rejoin afresh\n", damage, via)
	ctx, cancel := context.WithTimeout(context.Background(), repairTimeout)
	defer cancel()
	if err := clusterCommand(ctx, via, "CLUSTER", "REPAIR", o.nodeID); err != nil {
		return "", fmt.Errorf("%w; repair: %w", damage, err)
	}
	if err := raftlog.WipeState(o.dir); err != nil {
		return "", fmt.Errorf("%w; repair: %w", damage, err)
	}
	return via, nil
}

// clusterCommand sends a CLUSTER command to the member at addr, following
// MOVED to the leader and retrying transient failures until ctx is done.
func clusterCommand(ctx context.Context, addr string, args ...string) error {
	target := addr
	var last error
	for {
		reply, err := sendCommand(ctx, target, args...)
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

package walkv

import (
	"bytes"
	"context"
	"strings"
	"time"
)

// StatusReporter is implemented by a Replicator that can describe the
// cluster for CLUSTER STATUS.
type StatusReporter interface {
	// ClusterStatus returns one line per node, this one first, each a
	// list of space-separated name:value fields (see CLUSTER STATUS);
	// with local, only this node's line.
	ClusterStatus(ctx context.Context, local bool) []string
}

// statusTimeout bounds CLUSTER STATUS's queries of the other nodes.
const statusTimeout = 2 * time.Second

// cmdClusterStatus runs CLUSTER STATUS [LOCAL]: a bulk string with one
// line per node (role, term, log, commit and applied indexes, lag behind
// the highest known commit index), or with LOCAL, this node's line as a
// status reply.
func cmdClusterStatus(x *exec) {
	local := len(x.args) == 3 && bytes.EqualFold(x.args[2], []byte("local"))
	if len(x.args) > 3 || len(x.args) == 3 && !local {
		x.c.WriteError("ERR syntax error: CLUSTER STATUS [LOCAL]")
		return
	}
	r, ok := x.db.opts.Replicator.(StatusReporter)
	if !ok {
		x.c.WriteError("ERR This instance has cluster support disabled")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	lines := r.ClusterStatus(ctx, local)
	if local {
		x.c.WriteString(strings.Join(lines, " "))
		return
	}
	x.c.WriteBulkString(strings.Join(lines, "\r\n") + "\r\n")
}

// Repairer is implemented by a Replicator that can take a damaged member
// out of every quorum while it repairs (CLUSTER REPAIR).
type Repairer interface {
	// RemoveDamaged makes node id a non-voter (cmd/walkv's; an
	// implementation may remove it instead) and waits until the change
	// is committed. It returns an error wrapping ErrNotLeader on a node
	// that is not the leader.
	RemoveDamaged(ctx context.Context, id string) error
}

// cmdClusterRepair runs CLUSTER REPAIR <node-id>, which a node that found
// its own log damaged sends before trimming it and catching up: the
// leader demotes it to a non-voter (followers answer MOVED).
func cmdClusterRepair(x *exec) {
	if len(x.args) != 3 || len(x.args[2]) == 0 {
		x.c.WriteError("ERR syntax error: CLUSTER REPAIR <node-id>")
		return
	}
	r, ok := x.db.opts.Replicator.(Repairer)
	if !ok {
		x.c.WriteError("ERR This instance has cluster support disabled")
		return
	}
	id := string(x.args[2])
	done, err := onLeader(x, func(ctx context.Context) error { return r.RemoveDamaged(ctx, id) })
	switch {
	case done:
	case err != nil:
		x.c.WriteError("TRYAGAIN cluster repair: " + err.Error())
	default:
		x.c.WriteString("OK")
	}
}

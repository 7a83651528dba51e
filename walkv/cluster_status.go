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

package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/waldb/wal/raftlog"
)

// statusLine is a node's CLUSTER STATUS LOCAL line.
func statusLine(st raftlog.Status, addr string) string {
	ready := 0
	if st.ReadsReady {
		ready = 1
	}
	return fmt.Sprintf("id:%s addr:%s role:%s term:%d last_log_index:%d commit_index:%d applied_index:%d last_snapshot_index:%d leader:%s reads_ready:%d",
		st.ID, addr, strings.ToLower(st.State), st.Term, st.LastLogIndex, st.CommitIndex, st.AppliedIndex,
		st.LastSnapshotIndex, st.LeaderID, ready)
}

// ClusterStatus reports this node and, unless local, asks every other
// voter for its line (CLUSTER STATUS LOCAL) and appends to each line its
// lag: how far its applied index is behind the highest commit index
// reported.
func (r *replicator) ClusterStatus(ctx context.Context, local bool) []string {
	st := r.node.Status()
	lines := []string{statusLine(st, r.self)}
	if local {
		return lines
	}
	var others []raftlog.Peer
	for _, v := range st.Voters {
		if v.ID != st.ID {
			others = append(others, v)
		}
	}
	replies := make([]string, len(others))
	var wg sync.WaitGroup
	for i, v := range others {
		addr := r.clientAddr(v.ID)
		wg.Go(func() {
			reply, err := "", fmt.Errorf("client address unknown")
			if addr != "" {
				reply, err = sendCommand(ctx, addr, "CLUSTER", "STATUS", "LOCAL")
			}
			switch {
			case err != nil:
				replies[i] = fmt.Sprintf("id:%s addr:%s role:unreachable error:%q", v.ID, addr, err.Error())
			case !strings.HasPrefix(reply, "+"):
				replies[i] = fmt.Sprintf("id:%s addr:%s role:unknown error:%q", v.ID, addr, strings.TrimPrefix(reply, "-"))
			default:
				replies[i] = reply[1:]
			}
		})
	}
	wg.Wait()
	lines = append(lines, replies...)
	var maxCommit uint64
	for _, l := range lines {
		maxCommit = max(maxCommit, statusField(l, "commit_index"))
	}
	for i, l := range lines {
		if strings.Contains(l, "applied_index:") {
			lines[i] = fmt.Sprintf("%s lag:%d", l, maxCommit-min(maxCommit, statusField(l, "applied_index")))
		}
	}
	return lines
}

// statusField returns the numeric field name of a status line, 0 if none.
func statusField(line, name string) uint64 {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, name+":"); ok {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
	}
	return 0
}

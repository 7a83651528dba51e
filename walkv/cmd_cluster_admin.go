package walkv

import (
	"context"
	"fmt"
	"strings"
)

// Cluster membership administration
//
// Beside CLUSTER JOIN (cluster.go), a Replicator that implements
// Membership serves:
//
//	CLUSTER NODES            one line per member: id client@raft flags
//	CLUSTER INFO             cluster_state, cluster_known_nodes, cluster_size (voters), leader
//	CLUSTER FORGET <id>      remove a member (on the leader; MOVED elsewhere)
//	CLUSTER FAILOVER [<id>]  the leader hands leadership to id, or any voter
//	CLUSTER JOIN <id> <raft-addr> <client-addr> NONVOTER   a read replica (NonvoterJoiner)
//
// and one that implements JoinAuthorizer makes CLUSTER JOIN present
// credentials: CLUSTER JOIN <id> <raft-addr> <client-addr> SECRET <secret>
// is refused with NOPERM, on any node, unless the secret is the
// cluster's. CLUSTER is @admin: under ACL only administrators run it.

// Member is a member of the cluster as CLUSTER NODES shows it.
type Member struct {
	ID, RaftAddr, ClientAddr string
	Voter, Leader, Self      bool
}

// Membership is implemented by a Replicator whose members can be listed
// and changed.
type Membership interface {
	// Members returns the current configuration.
	Members() ([]Member, error)
	// Forget removes member id; ErrNotLeader on a follower.
	Forget(ctx context.Context, id string) error
	// TransferLeader hands leadership to id (any voter if ""); ErrNotLeader
	// on a follower.
	TransferLeader(ctx context.Context, id string) error
}

// JoinAuthorizer is implemented by a Replicator that checks the
// credentials of CLUSTER JOIN.
type JoinAuthorizer interface {
	// AuthorizeJoin reports whether secret admits a new member.
	AuthorizeJoin(secret string) bool
}

// clusterAdmin serves the subcommands above and checks CLUSTER JOIN's
// credentials; it reports whether it answered (false: cmdCluster goes on,
// with any SECRET argument removed).
func clusterAdmin(x *exec) bool {
	sub := strings.ToLower(string(x.args[1]))
	if sub == "join" {
		return !x.authorizeJoin()
	}
	if sub == "repair" {
		return !x.authorizeRepair()
	}
	m, ok := x.db.opts.Replicator.(Membership)
	if !ok {
		return false
	}
	switch {
	case sub == "nodes" && len(x.args) == 2:
		x.clusterNodes(m)
	case sub == "info" && len(x.args) == 2:
		x.clusterInfo(m)
	case sub == "forget" && len(x.args) == 3:
		id := string(x.args[2])
		x.clusterChange(func(ctx context.Context) error { return m.Forget(ctx, id) })
	case sub == "failover" && len(x.args) <= 3:
		id := ""
		if len(x.args) == 3 {
			id = string(x.args[2])
		}
		x.clusterChange(func(ctx context.Context) error { return m.TransferLeader(ctx, id) })
	default:
		return false
	}
	return true
}

// authorizeJoin checks CLUSTER JOIN's SECRET if the Replicator asks for
// one and replies the refusal; it strips the options (SECRET, NONVOTER)
// from x.args, and serves a NONVOTER join itself. It reports whether
// cmdCluster should go on with a voter join.
func (x *exec) authorizeJoin() bool {
	secret, nonvoter := "", false
	if len(x.args) > 5 {
		opts := x.args[5:]
		x.args = x.args[:5]
		for i := 0; i < len(opts); i++ {
			switch {
			case eqFold(opts[i], "secret") && i+1 < len(opts):
				secret = string(opts[i+1])
				i++
			case eqFold(opts[i], "nonvoter"):
				nonvoter = true
			default:
				x.c.WriteError(errSyntax)
				return false
			}
		}
	}
	if a, ok := x.db.opts.Replicator.(JoinAuthorizer); ok && !a.AuthorizeJoin(secret) {
		x.refuseJoin()
		return false
	}
	if !nonvoter {
		return true
	}
	j, ok := x.db.opts.Replicator.(NonvoterJoiner)
	if !ok {
		x.c.WriteError("ERR this cluster cannot add non-voters")
		return false
	}
	id, raftAddr, clientAddr := string(x.args[2]), string(x.args[3]), string(x.args[4])
	x.clusterChange(func(ctx context.Context) error { return j.JoinNonvoter(ctx, id, raftAddr, clientAddr) })
	return false
}

// authorizeRepair checks CLUSTER REPAIR's SECRET as authorizeJoin checks
// JOIN's: a repair demotes a voter, as much a membership change as a join,
// so it needs the same credential. It strips the SECRET option from x.args
// and reports whether cmdCluster should go on.
func (x *exec) authorizeRepair() bool {
	secret := ""
	if len(x.args) == 5 && eqFold(x.args[3], "secret") {
		secret = string(x.args[4])
		x.args = x.args[:3]
	}
	if a, ok := x.db.opts.Replicator.(JoinAuthorizer); ok && !a.AuthorizeJoin(secret) {
		x.refuseJoin()
		return false
	}
	return true
}

// refuseJoin counts, logs and answers a CLUSTER JOIN without the secret.
func (x *exec) refuseJoin() {
	if x.srv != nil {
		x.srv.acl.deniedAuth.Add(1)
		user := ""
		if x.s.user != nil {
			user = x.s.user.name
		}
		x.srv.acl.record("auth", "toplevel", "CLUSTER JOIN", user, x.c.RemoteAddr())
	}
	x.db.opts.Logger.Warn("walkv: CLUSTER JOIN refused: wrong or missing cluster secret", "client", x.c.RemoteAddr(), "node", clip(string(x.args[2])))
	x.c.WriteError("NOPERM CLUSTER JOIN needs the cluster secret (CLUSTER JOIN <id> <raft-addr> <client-addr> SECRET <secret>)")
}

// NonvoterJoiner is implemented by a Replicator that can add members
// that replicate the log without voting (read replicas):
// CLUSTER JOIN <id> <raft-addr> <client-addr> NONVOTER.
type NonvoterJoiner interface {
	JoinNonvoter(ctx context.Context, id, raftAddr, clientAddr string) error
}

// clusterChange runs a membership change on the leader.
func (x *exec) clusterChange(fn func(context.Context) error) {
	done, err := onLeader(x, fn)
	switch {
	case done:
	case err != nil:
		x.c.WriteError("ERR cluster: " + clip(err.Error()))
	default:
		x.c.WriteString("OK")
	}
}

func (x *exec) clusterNodes(m Membership) {
	ms, err := m.Members()
	if err != nil {
		x.c.WriteError("ERR cluster: " + clip(err.Error()))
		return
	}
	var b strings.Builder
	for _, mem := range ms {
		var flags []string
		if mem.Self {
			flags = append(flags, "myself")
		}
		switch {
		case mem.Leader:
			flags = append(flags, "master")
		case mem.Voter:
			flags = append(flags, "slave")
		default:
			flags = append(flags, "slave", "nofailover") // a non-voter never leads
		}
		client := mem.ClientAddr
		if client == "" {
			client = ":0"
		}
		fmt.Fprintf(&b, "%s %s@%s %s - 0 0 0 connected\n", mem.ID, client, mem.RaftAddr, strings.Join(flags, ","))
	}
	x.typed().WriteVerbatim(b.String()) // as Redis's CLUSTER NODES
}

func (x *exec) clusterInfo(m Membership) {
	ms, err := m.Members()
	if err != nil {
		x.c.WriteError("ERR cluster: " + clip(err.Error()))
		return
	}
	voters, leader := 0, ""
	for _, mem := range ms {
		if mem.Voter {
			voters++
		}
		if mem.Leader {
			leader = mem.ID
		}
	}
	state := "ok"
	if leader == "" {
		state = "fail"
	}
	x.typed().WriteVerbatim(fmt.Sprintf("cluster_enabled:1\r\ncluster_state:%s\r\ncluster_known_nodes:%d\r\ncluster_size:%d\r\nwalkv_leader:%s\r\n",
		state, len(ms), voters, leader))
}

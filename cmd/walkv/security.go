package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/redcon"
	"github.com/waldb/wal/raftlog"
	"github.com/waldb/wal/walkv"
)

// securityOptions are the flags of access control, limits and TLS
// (Redis's names; see docs/security.md). Zero values mean the defaults,
// so that options stays comparable.
type securityOptions struct {
	requirePass      string
	aclFile          string
	protectedMode    string // "yes" (default) or "no"
	enableDebug      string // enable-debug-command: no (default), yes, local
	maxClients       int
	timeout          int // seconds
	maxMemory        string
	maxMemoryClients string
	queryBufferLimit string
	outputNormal     string // "<hard> <soft> <seconds>"
	outputPubsub     string

	tlsPort     int
	tlsCert     string
	tlsKey      string
	tlsCA       string
	authClients string // yes, no, optional

	// Cluster mode.
	tlsCluster    bool   // mutual TLS on the raft port with the certificates above
	clusterSecret string // CLUSTER JOIN must present it
	nonvoter      bool   // --join as a non-voter (read replica)
	recover       bool   // replace the raft configuration by --peers at start
}

// securityFlags registers the flags on fs.
func securityFlags(fs *flag.FlagSet, o *securityOptions) {
	fs.StringVar(&o.requirePass, "requirepass", "", "`password` of the default user (clients must AUTH)")
	fs.StringVar(&o.aclFile, "aclfile", "", "ACL `file` of users (lines \"user <name> <rules>...\"), loaded at start and by ACL LOAD")
	fs.StringVar(&o.protectedMode, "protected-mode", "yes", "yes: refuse non-loopback clients while the default user has no password")
	fs.StringVar(&o.enableDebug, "enable-debug-command", "", "allow DEBUG: no (default), yes, or local (loopback clients only)")
	fs.IntVar(&o.maxClients, "maxclients", 0, "max connected `clients` (0: 10000)")
	fs.IntVar(&o.timeout, "timeout", 0, "close connections idle for this many `seconds` (0: never)")
	fs.StringVar(&o.maxMemory, "maxmemory", "", "refuse writes that may grow the data while the heap exceeds this many `bytes` (1gb, 512mb; empty: no limit)")
	fs.StringVar(&o.maxMemoryClients, "maxmemory-clients", "", "cap on all clients' buffers together, in `bytes` (empty: none)")
	fs.StringVar(&o.queryBufferLimit, "client-query-buffer-limit", "", "max unprocessed request `bytes` per client (empty: 1gb)")
	fs.StringVar(&o.outputNormal, "client-output-buffer-limit-normal", "", "output limit of normal clients: \"`hard soft seconds`\" (empty: \"1gb 0 0\")")
	fs.StringVar(&o.outputPubsub, "client-output-buffer-limit-pubsub", "", "output limit of pubsub clients: \"`hard soft seconds`\" (empty: \"32mb 8mb 60\")")
	fs.IntVar(&o.tlsPort, "tls-port", 0, "serve TLS clients on this `port` too (same host as --addr; 0: no TLS)")
	fs.StringVar(&o.tlsCert, "tls-cert-file", "", "TLS certificate `file` (PEM) of this server")
	fs.StringVar(&o.tlsKey, "tls-key-file", "", "TLS private key `file` (PEM)")
	fs.StringVar(&o.tlsCA, "tls-ca-cert-file", "", "CA certificate `file` (PEM) that signs client certificates (and, in cluster mode, every node's)")
	fs.StringVar(&o.authClients, "tls-auth-clients", "", "client certificates: yes (required; the default), optional or no")
	fs.BoolVar(&o.tlsCluster, "tls-cluster", false, "cluster mode: mutual TLS on the raft port with --tls-cert-file, --tls-key-file and --tls-ca-cert-file")
	fs.BoolVar(&o.recover, "recover", false, "cluster mode: at start, replace the raft configuration by --peers (all voters): "+
		"to restore a quorum lost for good (members gone or wrongly added); run it on every surviving node, then restart them without it")
	fs.BoolVar(&o.nonvoter, "nonvoter", false, "cluster mode: --join as a non-voter (a read replica that never votes nor leads)")
	fs.StringVar(&o.clusterSecret, "cluster-secret", "", "cluster mode: `secret` CLUSTER JOIN must present (also sent by --join)")
}

// check validates the flags that parse on their own.
func (o *securityOptions) check() error {
	switch o.protectedMode {
	case "yes", "no":
	default:
		return fmt.Errorf("--protected-mode %q: want yes or no", o.protectedMode)
	}
	if o.protectedMode == "yes" {
		o.protectedMode = "" // the default: keep options comparable with its zero value
	}
	if (o.tlsPort != 0 || o.tlsCluster) && (o.tlsCert == "" || o.tlsKey == "") {
		return errors.New("--tls-port and --tls-cluster need --tls-cert-file and --tls-key-file")
	}
	if o.tlsCluster && o.tlsCA == "" {
		return errors.New("--tls-cluster needs --tls-ca-cert-file")
	}
	if o.maxClients < 0 || o.timeout < 0 || o.tlsPort < 0 {
		return errors.New("--maxclients, --timeout and --tls-port must not be negative")
	}
	_, err := o.serverOptions()
	return err
}

// serverOptions returns the walkv.ServerOptions the flags ask for.
func (o *securityOptions) serverOptions() (walkv.ServerOptions, error) {
	so := walkv.ServerOptions{
		RequirePass: o.requirePass, ACLFile: o.aclFile, NoProtectedMode: o.protectedMode == "no",
		MaxClients: o.maxClients, Timeout: time.Duration(o.timeout) * time.Second,
	}
	so.EnableDebugCommand = o.enableDebug
	for _, m := range []struct {
		flag, v string
		dst     *int64
	}{{"maxmemory", o.maxMemory, &so.MaxMemory}, {"maxmemory-clients", o.maxMemoryClients, &so.MaxMemoryClients},
		{"client-query-buffer-limit", o.queryBufferLimit, &so.QueryBufferLimit}} {
		if m.v == "" {
			continue
		}
		n, err := walkv.ParseMemory(m.v)
		if err != nil || n < 0 {
			return so, fmt.Errorf("--%s %q: want a byte count such as 512mb", m.flag, m.v)
		}
		*m.dst = n
	}
	for _, l := range []struct {
		flag, v string
		dst     *walkv.OutputLimit
	}{{"client-output-buffer-limit-normal", o.outputNormal, &so.OutputLimitNormal},
		{"client-output-buffer-limit-pubsub", o.outputPubsub, &so.OutputLimitPubsub}} {
		if l.v == "" {
			continue
		}
		lim, err := walkv.ParseOutputLimit(l.v)
		if err != nil {
			return so, fmt.Errorf("--%s: %w", l.flag, err)
		}
		*l.dst = lim
	}
	return so, nil
}

// clientTLS returns the TLS configuration of the client port, nil
// without --tls-port.
func (o *securityOptions) clientTLS() (*tls.Config, error) {
	if o.tlsPort == 0 {
		return nil, nil
	}
	return walkv.TLSConfig(o.tlsCert, o.tlsKey, o.tlsCA, o.authClients)
}

// serveTLS starts the TLS port beside srv, on the host of addr.
func serveTLS(srv *walkv.Server, addr string, o *securityOptions, stdout io.Writer) error {
	cfg, err := o.clientTLS()
	if err != nil || cfg == nil {
		return err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(o.tlsPort)))
	if err != nil {
		return fmt.Errorf("tls listen: %w", err)
	}
	if err := srv.ServeTLS(ln, cfg); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "walkv: TLS on %s\n", ln.Addr())
	return nil
}

// warnExposure prints Redis's kind of warning when the server listens
// beyond loopback without a password, and warns of a cluster node whose
// raft port or membership is open.
func warnExposure(o *options, so *walkv.ServerOptions, stderr io.Writer) {
	if w := walkv.NonLoopbackWarning(o.addr, so); w != "" {
		fmt.Fprintln(stderr, "walkv: "+strings.TrimSpace(w))
	}
	if o.nodeID == "" {
		return
	}
	if !o.sec.tlsCluster {
		fmt.Fprintln(stderr, "walkv: WARNING: the raft port is plain TCP: anyone who reaches "+o.raftAddr+
			" can disrupt the cluster or inject writes; use --tls-cluster (see docs/security.md)")
	}
	if o.sec.clusterSecret == "" {
		fmt.Fprintln(stderr, "walkv: WARNING: no --cluster-secret: any client allowed to run CLUSTER can add members")
	}
}

// MaxEntryBytes makes walkv cap proto-max-bulk-len and refuse entries to
// what one raft log entry holds (walkv.EntryLimiter).
func (r *replicator) MaxEntryBytes() int { return raftlog.MaxProposalBytes() }

var _ walkv.EntryLimiter = (*replicator)(nil)

// configureNode sets the node's mutual TLS (--tls-cluster) and, with
// --recover, the configuration to force (--peers).
func (o *securityOptions) configureNode(cfg *raftlog.NodeConfig) error {
	if o.recover {
		cfg.Recover = cfg.Peers
	}
	if !o.tlsCluster {
		return nil
	}
	var err error
	cfg.TLS, err = raftlog.MutualTLSConfig(o.tlsCert, o.tlsKey, o.tlsCA)
	return err
}

// AuthorizeJoin admits a new member if the cluster has no secret or
// secret is it (compared in constant time).
func (r *replicator) AuthorizeJoin(secret string) bool {
	if r.joinSecret == "" {
		return true
	}
	a, b := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(r.joinSecret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// Members lists the raft configuration with the members' client
// addresses.
func (r *replicator) Members() ([]walkv.Member, error) {
	ms, err := r.node.Members()
	if err != nil {
		return nil, err
	}
	out := make([]walkv.Member, len(ms))
	for i, m := range ms {
		out[i] = walkv.Member{ID: m.ID, RaftAddr: m.RaftAddr, ClientAddr: r.clientAddr(m.ID),
			Voter: m.Voter, Leader: m.Leader, Self: m.ID == r.node.ID()}
	}
	return out, nil
}

// JoinNonvoter records the client address of node id, then adds it as
// a non-voter.
func (r *replicator) JoinNonvoter(ctx context.Context, id, raftAddr, clientAddr string) error {
	if err := r.record(ctx, id, clientAddr); err != nil {
		return err
	}
	return leaderErr(r.node.AddNonvoter(ctx, id, raftAddr))
}

// Forget removes member id from the raft configuration.
func (r *replicator) Forget(ctx context.Context, id string) error {
	return leaderErr(r.node.RemoveServer(ctx, id))
}

// TransferLeader hands leadership to id (any voter if empty).
func (r *replicator) TransferLeader(_ context.Context, id string) error {
	return leaderErr(r.node.TransferLeadership(id))
}

var (
	_ walkv.Membership     = (*replicator)(nil)
	_ walkv.JoinAuthorizer = (*replicator)(nil)
	_ walkv.NonvoterJoiner = (*replicator)(nil)
)

// joinCreds are what a joining node presents: the password of the
// default user (its own --requirepass: the cluster's nodes share it) and
// the cluster secret.
type joinCreds struct {
	password, secret string
	nonvoter         bool // join as a read replica
}

func (o *securityOptions) joinCreds() joinCreds {
	return joinCreds{password: o.requirePass, secret: o.clusterSecret, nonvoter: o.nonvoter}
}

// send sends args to addr, preceded by AUTH if there is a password and
// followed by SECRET if there is a secret, and returns the first line of
// the reply to args (or the AUTH failure).
func (j joinCreds) send(ctx context.Context, addr string, args ...string) (string, error) {
	if j.secret != "" {
		args = append(args, "SECRET", j.secret)
	}
	if j.nonvoter {
		args = append(args, "NONVOTER")
	}
	cmds := [][]string{args}
	if j.password != "" {
		cmds = [][]string{{"AUTH", j.password}, args}
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.SetDeadline(deadline)
	var req []byte
	for _, cmd := range cmds {
		req = redcon.AppendArray(req, len(cmd))
		for _, a := range cmd {
			req = redcon.AppendBulkString(req, a)
		}
	}
	if _, err := c.Write(req); err != nil {
		return "", err
	}
	br := bufio.NewReader(c)
	var line string
	for range cmds {
		if line, err = br.ReadString('\n'); err != nil {
			return "", err
		}
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "-") {
			break // AUTH refused: its error is the answer
		}
	}
	return line, nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/waldb/wal/raftlog"
	"github.com/waldb/wal/walkv"
)

// options are the command-line flags.
type options struct {
	addr          string
	dir           string
	fsync         walkv.Fsync
	snapshotBytes int64
	ioThreads     int
	metricsAddr   string // serve Prometheus metrics here ("": no)

	// Cluster mode (see cluster.go), on when nodeID is set.
	nodeID            string
	raftAddr          string
	peers             string
	bootstrap         bool
	join              string
	raftLogLevel      string
	staleReads        bool
	leaseReads        bool
	forceNewCluster   bool
	trailingLogs      uint64
	snapshotThreshold uint64
	snapshotInterval  time.Duration
	raftSegmentSize   int

	sec securityOptions // access control, limits, TLS (security.go)
}

// usageError marks errors in the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u) || errors.Is(err, flag.ErrHelp)
}

// parseFlags parses args; -h prints the usage to out and returns
// flag.ErrHelp.
func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("walkv", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:6380", "`address` to listen on")
	fs.StringVar(&o.dir, "dir", "./data", "data `directory` (log in dir/wal, snapshots beside it)")
	fsync := fs.String("appendfsync", "always", "durability `policy`: always, everysec or no")
	fs.Int64Var(&o.snapshotBytes, "snapshot-log-bytes", walkv.DefaultSnapshotLogBytes,
		"take a snapshot and truncate the log after this many `bytes` of log (negative: never)")
	fs.IntVar(&o.ioThreads, "io-threads", walkv.DefaultEventLoops(), "event loops (threads) serving client connections")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://`host:port`/metrics (default: off)")
	fs.StringVar(&o.nodeID, "node-id", "", "cluster mode: this node's raft `id` (empty: single-node mode)")
	fs.StringVar(&o.raftAddr, "raft-addr", "", "cluster mode: `host:port` for raft traffic")
	fs.StringVar(&o.peers, "peers", "", "cluster mode: optional static membership `id=raftaddr=clientaddr,...` (this node included)")
	fs.BoolVar(&o.bootstrap, "bootstrap", false, "cluster mode: start a new cluster (this node alone, or --peers) if this node has no state")
	fs.StringVar(&o.join, "join", "", "cluster mode: on first start, join the cluster through the member at client `address` host:port")
	fs.StringVar(&o.raftLogLevel, "raft-log-level", "", "cluster mode: raft's log `level` on stderr: DEBUG, INFO, WARN, ERROR (default WARN)")
	fs.BoolVar(&o.staleReads, "stale-reads", false,
		"cluster mode: every node serves reads from its own state at once (may miss acknowledged writes; see docs/cluster.md)")
	fs.BoolVar(&o.leaseReads, "lease-reads", false,
		"cluster mode: the leader serves reads within a lease of its last quorum confirmation (assumes clock rates agree)")
	fs.BoolVar(&o.forceNewCluster, "force-new-cluster", false,
		"cluster mode: after losing a quorum for good, make this node's existing state a cluster of itself alone (once; see docs/cluster.md)")
	fs.Uint64Var(&o.trailingLogs, "trailing-logs", 0, "cluster mode: raft `entries` kept behind a snapshot (0: raft's default)")
	fs.Uint64Var(&o.snapshotThreshold, "snapshot-threshold", 0, "cluster mode: raft `entries` between snapshots (0: raft's default)")
	fs.DurationVar(&o.snapshotInterval, "snapshot-interval", 0, "cluster mode: how often raft checks the snapshot threshold (0: raft's default)")
	fs.IntVar(&o.raftSegmentSize, "raft-segment-size", 0, "cluster mode: `bytes` per raft log segment file (0: 64 MiB; small values are for tests)")
	securityFlags(fs, &o.sec)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, usageError{err}
	}
	if fs.NArg() > 0 {
		return o, usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if o.ioThreads < 1 {
		return o, usageError{fmt.Errorf("--io-threads %d: need at least 1", o.ioThreads)}
	}
	if err := o.sec.check(); err != nil {
		return o, usageError{err}
	}
	f, err := walkv.ParseFsync(*fsync)
	if err != nil {
		return o, usageError{err}
	}
	o.fsync = f
	switch {
	case o.nodeID == "":
	case o.raftAddr == "":
		return o, usageError{errors.New("--node-id needs --raft-addr")}
	case o.staleReads && o.leaseReads:
		return o, usageError{errors.New("--stale-reads and --lease-reads exclude each other")}
	case o.bootstrap && o.join != "":
		return o, usageError{errors.New("--bootstrap and --join exclude each other")}
	case !o.bootstrap && o.join == "" && o.peers == "":
		return o, usageError{errors.New("--node-id needs --bootstrap, --join or --peers")}
	case o.sec.recover && o.peers == "":
		return o, usageError{errors.New("--recover needs --peers (the surviving members)")}
	}
	return o, nil
}

// run opens the database, serves until ctx is done or a client sends
// SHUTDOWN, then shuts down gracefully. It prints "listening on ADDR" to
// stdout once the server accepts connections.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	opts := &walkv.Options{AppendFsync: o.fsync, SnapshotLogBytes: o.snapshotBytes, Logger: logger}
	var ms *metricsServer
	if o.metricsAddr != "" {
		ms, err = startMetrics(o.metricsAddr)
		if err != nil {
			return err
		}
		defer ms.Close()
		opts.LogEvents = ms.events
		o.metricsAddr = ms.Addr()
	}
	var node *raftlog.Node
	var db *walkv.DB
	if o.nodeID != "" {
		db, node, err = openCluster(o, opts)
	} else {
		db, err = walkv.Open(o.dir, opts)
	}
	if err != nil {
		return err
	}
	if ms != nil {
		ms.SetDB(db)
	}
	closeDB := func() error {
		if node != nil {
			return errors.Join(node.Shutdown(), db.Close())
		}
		return db.Close()
	}
	// One P per event loop under everysec and no (walkv.ServerOptions.
	// AutoProcs), unless the environment sets GOMAXPROCS; in cluster mode
	// raft's goroutines need the Ps.
	auto := node == nil && os.Getenv("GOMAXPROCS") == ""
	so, _ := o.sec.serverOptions() // checked by parseFlags
	so.EventLoops, so.AutoProcs = o.ioThreads, auto
	warnExposure(&o, &so, stderr)
	srv, err := walkv.Listen(db, o.addr, &so)
	if err != nil {
		return errors.Join(err, closeDB())
	}
	if err := serveTLS(srv, o.addr, &o.sec, stdout); err != nil {
		return errors.Join(err, srv.Close(), closeDB())
	}
	mode := "appendfsync " + o.fsync.String()
	if node != nil {
		mode = "cluster node " + o.nodeID
	}
	fmt.Fprintf(stdout, "walkv: listening on %s (dir %s, %s)\n", srv.Addr(), o.dir, mode)
	if o.metricsAddr != "" {
		fmt.Fprintf(stdout, "walkv: metrics on http://%s/metrics\n", o.metricsAddr)
	}
	select {
	case <-ctx.Done():
	case <-srv.Done():
	}
	err = errors.Join(srv.Close(), closeDB())
	if err == nil {
		fmt.Fprintln(stdout, "walkv: shut down cleanly")
	}
	return err
}

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/waldb/wal/raftlog"
)

// Raft-level cases (issue 7): a 3-node hashicorp/raft cluster in one
// process, connected by raft's in-memory transport, each node with its own
// LogStore+StableStore of the library under test (synced: every store
// fsyncs each StoreLogs and every stable write), an in-memory snapshot store
// and a counter FSM. Clients call Apply on the leader and wait on the
// future, which returns once the entry is committed (stored on a majority)
// and applied to the leader's FSM.

// raftNodes is the cluster size.
const raftNodes = 3

// raftApplyTimeout bounds one Apply's wait to be enqueued.
const raftApplyTimeout = 5 * time.Second

// raftStore is one node's LogStore and StableStore.
type raftStore struct {
	logs   raft.LogStore
	stable raft.StableStore
	close  func() error
}

// openRaftlog: waldb's raftlog.Store, default options (SyncAlways).
func openRaftlog(dir string) (raftStore, error) {
	s, err := raftlog.Open(dir, nil)
	if err != nil {
		return raftStore{}, err
	}
	return raftStore{logs: s, stable: s, close: s.Close}, nil
}

// openRaftWALStore: raft-wal's WAL is both the LogStore and (through its
// BoltDB meta file) the StableStore.
func openRaftWALStore(dir string) (raftStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return raftStore{}, err
	}
	w, err := raftwal.Open(dir, raftwal.WithLogger(hclog.NewNullLogger()))
	if err != nil {
		return raftStore{}, err
	}
	return raftStore{logs: w, stable: w, close: w.Close}, nil
}

// openBoltStore: one raft-boltdb/v2 file is both stores (synced).
func openBoltStore(dir string) (raftStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return raftStore{}, err
	}
	s, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	if err != nil {
		return raftStore{}, err
	}
	return raftStore{logs: s, stable: s, close: s.Close}, nil
}

// counterFSM counts applied commands.
type counterFSM struct{ n atomic.Uint64 }

func (f *counterFSM) Apply(*raft.Log) any { return f.n.Add(1) }

func (f *counterFSM) Snapshot() (raft.FSMSnapshot, error) { return counterSnap(f.n.Load()), nil }

func (f *counterFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var b [8]byte
	if _, err := io.ReadFull(rc, b[:]); err != nil {
		return err
	}
	f.n.Store(binary.LittleEndian.Uint64(b[:]))
	return nil
}

type counterSnap uint64

func (s counterSnap) Persist(sink raft.SnapshotSink) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(s))
	if _, err := sink.Write(b[:]); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (counterSnap) Release() {}

// cluster is a running in-process raft cluster.
type cluster struct {
	rafts  []*raft.Raft
	stores []raftStore
	trans  []*raft.InmemTransport
}

// raftTimeout is the heartbeat, election and leader-lease timeout. Short,
// for an in-memory transport, but not raft's test value of 50 ms: at 100 ms
// a 2-CPU machine under load saw leaders lose their lease mid-run (slow
// fsyncs starve the heartbeat goroutines), which measures elections rather
// than stores. The first election takes 1-2x this after start.
const raftTimeout = 500 * time.Millisecond

// raftConfig: fast timeouts for an in-memory transport, a silent logger.
func raftConfig(id int) *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = raft.ServerID(fmt.Sprintf("n%d", id))
	c.HeartbeatTimeout = raftTimeout
	c.ElectionTimeout = raftTimeout
	c.LeaderLeaseTimeout = raftTimeout
	c.CommitTimeout = 5 * time.Millisecond
	c.Logger = hclog.NewNullLogger()
	return c
}

// startCluster opens each node's store under dir, connects the nodes,
// bootstraps them and waits for a leader.
func startCluster(open func(string) (raftStore, error), dir string) (*cluster, error) {
	cl := &cluster{}
	var servers []raft.Server
	for i := range raftNodes {
		st, err := open(filepath.Join(dir, fmt.Sprintf("node%d", i)))
		if err != nil {
			cl.shutdown()
			return nil, err
		}
		cl.stores = append(cl.stores, st)
		addr, tr := raft.NewInmemTransport(raft.ServerAddress(fmt.Sprintf("n%d", i)))
		cl.trans = append(cl.trans, tr)
		servers = append(servers, raft.Server{ID: raft.ServerID(fmt.Sprintf("n%d", i)), Address: addr})
	}
	for i, a := range cl.trans {
		for j, b := range cl.trans {
			if i != j {
				a.Connect(b.LocalAddr(), b)
			}
		}
	}
	conf := raft.Configuration{Servers: servers}
	for i := range raftNodes {
		c := raftConfig(i)
		st := cl.stores[i]
		snaps := raft.NewInmemSnapshotStore()
		if err := raft.BootstrapCluster(c, st.logs, st.stable, snaps, cl.trans[i], conf); err != nil {
			cl.shutdown()
			return nil, fmt.Errorf("bootstrap node %d: %w", i, err)
		}
		r, err := raft.NewRaft(c, &counterFSM{}, st.logs, st.stable, snaps, cl.trans[i])
		if err != nil {
			cl.shutdown()
			return nil, fmt.Errorf("start node %d: %w", i, err)
		}
		cl.rafts = append(cl.rafts, r)
	}
	if _, err := cl.waitLeader(10 * time.Second); err != nil {
		cl.shutdown()
		return nil, err
	}
	return cl, nil
}

// leader returns the node that is leader now, or nil.
func (cl *cluster) leader() *raft.Raft {
	for _, r := range cl.rafts {
		if r.State() == raft.Leader {
			return r
		}
	}
	return nil
}

func (cl *cluster) waitLeader(d time.Duration) (*raft.Raft, error) {
	deadline := time.Now().Add(d)
	for {
		if r := cl.leader(); r != nil {
			return r, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no leader after %s", d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// shutdown stops every node, closes the transports and the stores.
func (cl *cluster) shutdown() error {
	var errs []error
	for _, r := range cl.rafts {
		errs = append(errs, r.Shutdown().Error())
	}
	for _, t := range cl.trans {
		t.DisconnectAll()
		errs = append(errs, t.Close())
	}
	for _, s := range cl.stores {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}

// raftPhase is one timed phase of clients applying commands.
type raftPhase struct {
	ops     int64
	retries int64
	elapsed time.Duration
	lat     []int64
}

// applyPhase runs c.Writers clients, each applying cmd on the current leader
// and waiting for its future, for d. A client that meets a leadership change
// looks the new leader up and goes on (counted in retries).
func (cl *cluster) applyPhase(c *Case, cmd []byte, d time.Duration, latency bool) (raftPhase, error) {
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		ldr     atomic.Pointer[raft.Raft]
		retries atomic.Int64
		counts  = make([]int64, c.Writers)
		lats    = make([][]int64, c.Writers)
		errs    = make([]error, c.Writers)
	)
	l, err := cl.waitLeader(5 * time.Second)
	if err != nil {
		return raftPhase{}, err
	}
	ldr.Store(l)
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	for w := range c.Writers {
		if latency {
			lats[w] = make([]int64, 0, 1<<12)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := int64(0)
			for !stop.Load() {
				t0 := time.Now()
				err := ldr.Load().Apply(cmd, raftApplyTimeout).Error()
				switch {
				case err == nil:
					if latency {
						lats[w] = append(lats[w], int64(time.Since(t0)))
					}
					n++
				case errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) ||
					errors.Is(err, raft.ErrLeadershipTransferInProgress):
					retries.Add(1)
					nl, werr := cl.waitLeader(5 * time.Second)
					if werr != nil {
						errs[w] = werr
						stop.Store(true)
					} else {
						ldr.Store(nl)
					}
				default:
					errs[w] = err
					stop.Store(true)
				}
			}
			counts[w] = n
		}()
	}
	wg.Wait()
	ph := raftPhase{elapsed: time.Since(start), retries: retries.Load()}
	for w := range c.Writers {
		ph.ops += counts[w]
		ph.lat = append(ph.lat, lats[w]...)
	}
	return ph, errors.Join(errs...)
}

// runRaft measures a raft case: a fresh cluster on lib's store under dir,
// an unmeasured warm-up, the measured phase, then shutdown and removal.
func runRaft(lib *Lib, c *Case, dir string, warmup time.Duration, rep int) (Result, error) {
	res := Result{Case: c.ID, Lib: lib.Name, Rep: rep, Mode: Synced.String()}
	defer os.RemoveAll(dir)
	cl, err := startCluster(lib.Raft, dir)
	if err != nil {
		return res, err
	}
	cmd := payload(c.Size, uint64(rep)+7)
	if _, err := cl.applyPhase(c, cmd, warmup, false); err != nil {
		cl.shutdown()
		return res, fmt.Errorf("warm-up: %w", err)
	}
	ph, err := cl.applyPhase(c, cmd, c.Dur, c.Latency)
	if serr := cl.shutdown(); err == nil && serr != nil {
		err = fmt.Errorf("shutdown: %w", serr)
	}
	if err != nil {
		return res, err
	}
	res.Ops, res.Seconds, res.Retries = ph.ops, ph.elapsed.Seconds(), ph.retries
	res.Bytes = ph.ops * int64(c.Size)
	res.OpsSec = float64(ph.ops) / res.Seconds
	res.MBSec = float64(res.Bytes) / 1e6 / res.Seconds
	setPercentiles(&res, ph.lat)
	return res, nil
}

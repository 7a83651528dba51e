package main

import (
	"errors"
	"sync"
	"time"
)

// Mode is the durability a workload asks of a log.
type Mode int

const (
	// Synced: an append returns after its bytes are durable.
	Synced Mode = iota
	// Unsynced: appends never wait for the disk; the OS writes back.
	Unsynced
	// Interval: appends do not wait; the log is fdatasynced every
	// Config.Interval.
	Interval
)

func (m Mode) String() string {
	switch m {
	case Synced:
		return "synced"
	case Unsynced:
		return "unsynced"
	case Interval:
		return "interval"
	}
	return "?"
}

// Config is what a workload passes to a library's open function.
type Config struct {
	Dir      string
	Mode     Mode
	Interval time.Duration
}

// Log is the common surface the workloads drive. Entries are numbered
// from 1 in append order. Every method is safe for concurrent use: an
// adapter over a library that is not serializes calls with a mutex, as
// that library's users must.
type Log interface {
	// Append adds one entry, durable per the Config's mode.
	Append(p []byte) error
	// AppendBatch adds the entries as one unit, durable per the mode.
	AppendBatch(ps [][]byte) error
	// Read returns entry i (1-based). The result need only stay valid
	// until the next call on this Log (W6 compares it and drops it), so a
	// library may return its own memory, as etcd's in-memory log does, or
	// copy into a reused buffer; Read is never called concurrently.
	Read(i uint64) ([]byte, error)
	// Last returns the last entry, doing whatever a user of the library
	// must do after a restart to find it.
	Last() ([]byte, error)
	// Sync makes every appended entry durable.
	Sync() error
	Close() error
}

// errUnsupported marks a mode a library cannot provide.
var errUnsupported = errors.New("mode not supported by this library")

// Lib describes one library or baseline under test.
type Lib struct {
	Name string
	// Baseline marks the raw-file baselines.
	Baseline bool
	// DiskReads marks libraries whose reads go to files (not a copy of the
	// whole log in memory); W6's "best disk-backed peer".
	DiskReads bool
	// NoUnsynced: the library always fsyncs; W4 skips it.
	NoUnsynced bool
	// NoInterval: the library has no unsynced mode with a working Sync, so
	// the interval workload runs it synced per batch (noted in results).
	NoInterval bool
	// NoReopen: the library has no index to reopen (W7 skips it).
	NoReopen bool
	// Note is printed under the results.
	Note string
	Open func(Config) (Log, error)
	// Raft, if set, opens one raft node's LogStore and StableStore in a
	// directory; the library then runs the raft-level cases (R1, R64).
	Raft func(dir string) (raftStore, error)
	// RaftName names the raft store in the raft section.
	RaftName string
}

// libraries returns every library and baseline, in report order.
func libraries() []*Lib {
	return []*Lib{
		waldbLib(), rawALib(), rawBLib(), tidwallLib(), raftWALLib(),
		etcdLib(), rosedbLib(), boltLib(),
	}
}

// open opens lib per cfg, adapting the interval mode for libraries without
// a native one: they run unsynced with a goroutine calling Sync every
// interval (what their users do), or, lacking that, synced.
func open(lib *Lib, cfg Config) (Log, error) {
	if cfg.Mode == Unsynced && lib.NoUnsynced {
		return nil, errUnsupported
	}
	if cfg.Mode != Interval || lib.Baseline || lib.Name == "waldb" {
		return lib.Open(cfg)
	}
	if lib.NoInterval {
		cfg.Mode = Synced
		return lib.Open(cfg)
	}
	c := cfg
	c.Mode = Unsynced
	l, err := lib.Open(c)
	if err != nil {
		return nil, err
	}
	return newTicking(l, cfg.Interval), nil
}

// ticking calls Sync on a log every interval until Close.
type ticking struct {
	Log
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
}

func newTicking(l Log, d time.Duration) *ticking {
	t := &ticking{Log: l, stop: make(chan struct{})}
	t.wg.Add(1)
	go t.loop(d)
	return t
}

func (t *ticking) loop(d time.Duration) {
	defer t.wg.Done()
	tk := time.NewTicker(d)
	defer tk.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tk.C:
			if err := t.Log.Sync(); err != nil {
				t.mu.Lock()
				t.err = err
				t.mu.Unlock()
				return
			}
		}
	}
}

func (t *ticking) Close() error {
	close(t.stop)
	t.wg.Wait()
	err := t.Log.Close()
	t.mu.Lock()
	defer t.mu.Unlock()
	return errors.Join(t.err, err)
}

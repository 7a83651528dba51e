package main

import (
	"sync"

	"github.com/waldb/wal"
)

// waldbLib is the log under test. It is driven without a harness mutex:
// Append and AppendBatch are safe for concurrent use and share fsyncs.
func waldbLib() *Lib {
	l := &Lib{Name: "waldb", DiskReads: true, Open: openWaldb, Raft: openRaftlog, RaftName: "waldb/raftlog"}
	if waldbNoCopy {
		l.Note = "Options.NoCopy (-waldb-nocopy): reads return slices of the memory map, as etcd's in-memory reads return its own memory"
	} else {
		l.Note = "reads copy each verified entry into one reused buffer (Log.AppendEntry)"
	}
	return l
}

// waldbNoCopy opens waldb with Options.NoCopy (flag -waldb-nocopy).
var waldbNoCopy bool

type waldbLog struct {
	l     *wal.Log
	batch sync.Pool // *wal.Batch, reused so batches allocate nothing
	rbuf  []byte    // Read's reused buffer (see Log.Read)
}

func openWaldb(cfg Config) (Log, error) {
	o := &wal.Options{NoCopy: waldbNoCopy}
	switch cfg.Mode {
	case Synced:
		o.SyncPolicy = wal.SyncAlways
	case Unsynced:
		o.SyncPolicy = wal.SyncNever
	case Interval:
		o.SyncPolicy = wal.SyncInterval
		o.SyncInterval = cfg.Interval
	}
	l, err := wal.Open(cfg.Dir, o)
	if err != nil {
		return nil, err
	}
	w := &waldbLog{l: l}
	w.batch.New = func() any { return new(wal.Batch) }
	return w, nil
}

func (w *waldbLog) Append(p []byte) error {
	_, err := w.l.Append(p)
	return err
}

func (w *waldbLog) AppendBatch(ps [][]byte) error {
	b := w.batch.Get().(*wal.Batch)
	b.Clear()
	for _, p := range ps {
		b.Append(p)
	}
	_, err := w.l.AppendBatch(b)
	w.batch.Put(b)
	return err
}

// Read copies the verified entry into a reused buffer with AppendEntry,
// the cheapest safe read; with -waldb-nocopy it returns a slice of the
// memory map instead.
func (w *waldbLog) Read(i uint64) ([]byte, error) {
	if waldbNoCopy {
		return w.l.Read(i)
	}
	b, err := w.l.AppendEntry(w.rbuf[:0], i)
	w.rbuf = b
	return b, err
}

func (w *waldbLog) Last() ([]byte, error) {
	last, err := w.l.LastIndex()
	if err != nil {
		return nil, err
	}
	return w.l.Read(last)
}

func (w *waldbLog) Sync() error  { return w.l.Sync() }
func (w *waldbLog) Close() error { return w.l.Close() }

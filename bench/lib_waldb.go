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
	}
	return l
}

// waldbNoCopy opens waldb with Options.NoCopy (flag -waldb-nocopy).
var waldbNoCopy bool

type waldbLog struct {
	l     *wal.Log
	batch sync.Pool // *wal.Batch, reused so batches allocate nothing
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

func (w *waldbLog) Read(i uint64) ([]byte, error) { return w.l.Read(i) }

func (w *waldbLog) Last() ([]byte, error) {
	last, err := w.l.LastIndex()
	if err != nil {
		return nil, err
	}
	return w.l.Read(last)
}

func (w *waldbLog) Sync() error  { return w.l.Sync() }
func (w *waldbLog) Close() error { return w.l.Close() }

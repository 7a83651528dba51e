package main

import (
	"os"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftwal "github.com/hashicorp/raft-wal"
)

// hashicorp/raft-wal: StoreLogs always fsyncs; it has no unsynced mode.
// StoreLogs serializes writers itself, but indexes must be assigned in
// order, so the harness mutex does it.
func raftWALLib() *Lib {
	return &Lib{Name: "raft-wal", DiskReads: true, NoUnsynced: true, NoInterval: true, Open: openRaftWAL,
		Raft: openRaftWALStore, RaftName: "raft-wal",
		Note: "always fsyncs (no unsynced mode): skipped in W4, synced per batch in W5; default 64 MiB segments"}
}

type raftWALLog struct {
	mu   sync.Mutex
	w    *raftwal.WAL
	next uint64
	logs []raft.Log
	ptrs []*raft.Log
}

func openRaftWAL(cfg Config) (Log, error) {
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	w, err := raftwal.Open(cfg.Dir, raftwal.WithLogger(hclog.NewNullLogger()))
	if err != nil {
		return nil, err
	}
	last, err := w.LastIndex()
	if err != nil {
		w.Close()
		return nil, err
	}
	return &raftWALLog{w: w, next: last + 1}, nil
}

func (r *raftWALLog) Append(p []byte) error { return r.AppendBatch([][]byte{p}) }

func (r *raftWALLog) AppendBatch(ps [][]byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs, r.ptrs = r.logs[:0], r.ptrs[:0]
	for i, p := range ps {
		r.logs = append(r.logs, raft.Log{Index: r.next + uint64(i), Term: 1, Type: raft.LogCommand, Data: p})
	}
	for i := range r.logs {
		r.ptrs = append(r.ptrs, &r.logs[i])
	}
	if err := r.w.StoreLogs(r.ptrs); err != nil {
		return err
	}
	r.next += uint64(len(ps))
	return nil
}

func (r *raftWALLog) Read(i uint64) ([]byte, error) {
	var l raft.Log
	if err := r.w.GetLog(i, &l); err != nil {
		return nil, err
	}
	return l.Data, nil
}

func (r *raftWALLog) Last() ([]byte, error) {
	last, err := r.w.LastIndex()
	if err != nil {
		return nil, err
	}
	return r.Read(last)
}

func (r *raftWALLog) Sync() error  { return nil } // every StoreLogs is durable
func (r *raftWALLog) Close() error { return r.w.Close() }

package main

import (
	"fmt"
	"math"
	"sync"

	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// etcd's WAL: Save encodes entries through a 4 KiB-page buffered encoder
// and fdatasyncs when it carries entries. Its Sync under SetUnsafeNoFsync
// only flushes the encoder, so it has no interval mode. etcd reads entries
// only at open (ReadAll) and serves them from raft's MemoryStorage, so
// reads here come from memory. The harness mutex assigns indexes.
func etcdLib() *Lib {
	return &Lib{Name: "etcd-wal", NoInterval: true, Open: openEtcd,
		Note: "SetUnsafeNoFsync for unsynced; no interval mode, so synced per batch in W5; reads from raft.MemoryStorage filled by ReadAll at open, as etcd does"}
}

type etcdLog struct {
	mu   sync.Mutex
	w    *wal.WAL
	next uint64
	ents []raftpb.Entry
	ms   *raft.MemoryStorage
}

func openEtcd(cfg Config) (Log, error) {
	lg := zap.NewNop()
	e := &etcdLog{ms: raft.NewMemoryStorage(), next: 1}
	if !wal.Exist(cfg.Dir) {
		w, err := wal.Create(lg, cfg.Dir, nil)
		if err != nil {
			return nil, err
		}
		e.w = w
	} else {
		w, err := wal.Open(lg, cfg.Dir, walpb.Snapshot{})
		if err != nil {
			return nil, err
		}
		_, _, ents, err := w.ReadAll()
		if err != nil {
			w.Close()
			return nil, err
		}
		if err := e.ms.Append(ents); err != nil {
			w.Close()
			return nil, err
		}
		e.w = w
		e.next = uint64(len(ents)) + 1
	}
	if cfg.Mode == Unsynced {
		e.w.SetUnsafeNoFsync()
	}
	return e, nil
}

func (e *etcdLog) Append(p []byte) error { return e.AppendBatch([][]byte{p}) }

func (e *etcdLog) AppendBatch(ps [][]byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ents = e.ents[:0]
	for i, p := range ps {
		e.ents = append(e.ents, raftpb.Entry{Term: 1, Index: e.next + uint64(i), Type: raftpb.EntryNormal, Data: p})
	}
	if err := e.w.Save(raftpb.HardState{}, e.ents); err != nil {
		return err
	}
	e.next += uint64(len(ps))
	return nil
}

func (e *etcdLog) Read(i uint64) ([]byte, error) {
	ents, err := e.ms.Entries(i, i+1, math.MaxUint64)
	if err != nil {
		return nil, err
	}
	if len(ents) != 1 {
		return nil, fmt.Errorf("etcd: entry %d not found", i)
	}
	return ents[0].Data, nil
}

func (e *etcdLog) Last() ([]byte, error) {
	last, err := e.ms.LastIndex()
	if err != nil {
		return nil, err
	}
	return e.Read(last)
}

func (e *etcdLog) Sync() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.w.Sync()
}

func (e *etcdLog) Close() error { return e.w.Close() }

package main

import (
	"os"
	"path/filepath"
	"sync"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// hashicorp/raft-boltdb/v2: each StoreLogs is one bbolt transaction whose
// commit writes pages and fdatasyncs (twice: data, then meta page) unless
// NoSync. The harness mutex assigns indexes.
func boltLib() *Lib {
	return &Lib{Name: "raft-boltdb", DiskReads: true, Open: openBolt,
		Raft: openBoltStore, RaftName: "raft-boltdb",
		Note: "bbolt B+tree; NoSync for unsynced, BoltStore.Sync on the interval"}
}

type boltLog struct {
	mu   sync.Mutex
	s    *raftboltdb.BoltStore
	next uint64
	logs []raft.Log
	ptrs []*raft.Log
}

func openBolt(cfg Config) (Log, error) {
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	s, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.Dir, "raft.db"), NoSync: cfg.Mode != Synced})
	if err != nil {
		return nil, err
	}
	last, err := s.LastIndex()
	if err != nil {
		s.Close()
		return nil, err
	}
	return &boltLog{s: s, next: last + 1}, nil
}

func (b *boltLog) Append(p []byte) error { return b.AppendBatch([][]byte{p}) }

func (b *boltLog) AppendBatch(ps [][]byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.logs, b.ptrs = b.logs[:0], b.ptrs[:0]
	for i, p := range ps {
		b.logs = append(b.logs, raft.Log{Index: b.next + uint64(i), Term: 1, Type: raft.LogCommand, Data: p})
	}
	for i := range b.logs {
		b.ptrs = append(b.ptrs, &b.logs[i])
	}
	if err := b.s.StoreLogs(b.ptrs); err != nil {
		return err
	}
	b.next += uint64(len(ps))
	return nil
}

func (b *boltLog) Read(i uint64) ([]byte, error) {
	var l raft.Log
	if err := b.s.GetLog(i, &l); err != nil {
		return nil, err
	}
	return l.Data, nil
}

func (b *boltLog) Last() ([]byte, error) {
	last, err := b.s.LastIndex()
	if err != nil {
		return nil, err
	}
	return b.Read(last)
}

func (b *boltLog) Sync() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.s.Sync()
}

func (b *boltLog) Close() error { return b.s.Close() }

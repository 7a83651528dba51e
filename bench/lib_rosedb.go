package main

import (
	"errors"
	"fmt"
	"io"
	"sync"

	rosewal "github.com/rosedblabs/wal"
)

// rosedblabs/wal: entries are addressed by ChunkPosition, not index, so
// the adapter keeps every position (what rosedb's in-memory index does)
// and, on reopen, rebuilds them by scanning the log, as rosedb does at
// startup. With Sync it fsyncs after every Write; batches go through
// PendingWrites + WriteAll (+ Sync). The harness mutex orders positions.
func rosedbLib() *Lib {
	return &Lib{Name: "rosedb-wal", DiskReads: true, Open: openRosedb,
		Note: "v1.3.8, 1 GiB segments (default); positions kept in memory and rebuilt by a full scan on open"}
}

type rosedbLog struct {
	mu   sync.Mutex
	w    *rosewal.WAL
	sync bool
	pos  []*rosewal.ChunkPosition
}

func openRosedb(cfg Config) (Log, error) {
	w, err := rosewal.Open(rosewal.Options{
		DirPath: cfg.Dir, SegmentSize: rosewal.GB, SegmentFileExt: ".SEG", Sync: cfg.Mode == Synced,
	})
	if err != nil {
		return nil, err
	}
	r := &rosedbLog{w: w, sync: cfg.Mode == Synced}
	rd := w.NewReader()
	for {
		_, pos, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.Close()
			return nil, err
		}
		r.pos = append(r.pos, pos)
	}
	return r, nil
}

func (r *rosedbLog) Append(p []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	pos, err := r.w.Write(p)
	if err != nil {
		return err
	}
	r.pos = append(r.pos, pos)
	return nil
}

func (r *rosedbLog) AppendBatch(ps [][]byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range ps {
		r.w.PendingWrites(p)
	}
	pos, err := r.w.WriteAll()
	if err != nil {
		return err
	}
	r.pos = append(r.pos, pos...)
	if r.sync {
		return r.w.Sync()
	}
	return nil
}

func (r *rosedbLog) Read(i uint64) ([]byte, error) {
	r.mu.Lock()
	if i == 0 || i > uint64(len(r.pos)) {
		r.mu.Unlock()
		return nil, fmt.Errorf("rosedb: index %d not found", i)
	}
	pos := r.pos[i-1]
	r.mu.Unlock()
	return r.w.Read(pos)
}

func (r *rosedbLog) Last() ([]byte, error) {
	r.mu.Lock()
	n := uint64(len(r.pos))
	r.mu.Unlock()
	return r.Read(n)
}

func (r *rosedbLog) Sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.w.Sync()
}

func (r *rosedbLog) Close() error { return r.w.Close() }

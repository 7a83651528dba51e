package main

import (
	"sync"

	tidwall "github.com/tidwall/wal"
)

// tidwall/wal: one write syscall per Write/WriteBatch and, unless NoSync,
// an fsync (not fdatasync) after it. Segments are not preallocated. The
// harness mutex assigns indexes (Write takes an explicit index).
func tidwallLib() *Lib {
	return &Lib{Name: "tidwall/wal", DiskReads: true, Open: openTidwall,
		Note: "default options (20 MB segments, 2 cached segments); Read loads a whole segment into its cache"}
}

type tidwallLog struct {
	mu    sync.Mutex
	l     *tidwall.Log
	next  uint64
	batch tidwall.Batch
}

func openTidwall(cfg Config) (Log, error) {
	o := *tidwall.DefaultOptions
	o.NoSync = cfg.Mode != Synced
	l, err := tidwall.Open(cfg.Dir, &o)
	if err != nil {
		return nil, err
	}
	last, err := l.LastIndex()
	if err != nil {
		l.Close()
		return nil, err
	}
	return &tidwallLog{l: l, next: last + 1}, nil
}

func (t *tidwallLog) Append(p []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.l.Write(t.next, p); err != nil {
		return err
	}
	t.next++
	return nil
}

func (t *tidwallLog) AppendBatch(ps [][]byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.batch.Clear()
	for i, p := range ps {
		t.batch.Write(t.next+uint64(i), p)
	}
	if err := t.l.WriteBatch(&t.batch); err != nil {
		return err
	}
	t.next += uint64(len(ps))
	return nil
}

func (t *tidwallLog) Read(i uint64) ([]byte, error) { return t.l.Read(i) }

func (t *tidwallLog) Last() ([]byte, error) {
	last, err := t.l.LastIndex()
	if err != nil {
		return nil, err
	}
	return t.l.Read(last)
}

func (t *tidwallLog) Sync() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.l.Sync()
}

func (t *tidwallLog) Close() error { return t.l.Close() }

package raftlog

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	wal "github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
)

const memDir = "/raft"

// baseTime is a fixed AppendedAt for generated entries.
var baseTime = time.Date(2026, 11, 21, 12, 0, 0, 123456789, time.UTC)

// entry returns a deterministic entry for index and term: its data names
// both, a few carry extensions, and the appended-at time depends on index.
func entry(index, term uint64) *raft.Log {
	l := &raft.Log{
		Index:      index,
		Term:       term,
		Type:       raft.LogCommand,
		Data:       fmt.Appendf(nil, "cmd %d term %d", index, term),
		AppendedAt: baseTime.Add(time.Duration(index) * time.Millisecond),
	}
	if index%5 == 0 {
		l.Extensions = fmt.Appendf(nil, "ext-%d", index)
	}
	if index%7 == 0 {
		l.Type, l.Data = raft.LogNoop, nil
	}
	return l
}

// entries returns entry(i, term) for i in [from, to].
func entries(from, to, term uint64) []*raft.Log {
	var ls []*raft.Log
	for i := from; i <= to; i++ {
		ls = append(ls, entry(i, term))
	}
	return ls
}

// model is what a store should hold: the entries of [first, last], or none
// when first == 0.
type model struct {
	first, last uint64
	logs        map[uint64]*raft.Log
}

func newModel() model { return model{logs: map[uint64]*raft.Log{}} }

func (m model) clone() model {
	c := model{first: m.first, last: m.last, logs: make(map[uint64]*raft.Log, len(m.logs))}
	for i := m.first; i <= m.last && m.first != 0; i++ {
		c.logs[i] = m.logs[i]
	}
	return c
}

// store applies StoreLogs as the package doc specifies.
func (m *model) store(ls []*raft.Log) {
	first := ls[0].Index
	if m.first == 0 || first <= m.first || first > m.last+1 {
		*m = newModel()
		m.first = first
	}
	for i := first; i <= m.last; i++ {
		delete(m.logs, i)
	}
	for _, l := range ls {
		m.logs[l.Index] = l
	}
	m.last = ls[len(ls)-1].Index
}

// deleteRange applies DeleteRange as the package doc specifies (not the
// ErrGap case).
func (m *model) deleteRange(lo, hi uint64) {
	if m.first == 0 || lo > hi || hi < m.first || lo > m.last {
		return
	}
	for i := max(lo, m.first); i <= min(hi, m.last); i++ {
		delete(m.logs, i)
	}
	switch {
	case lo <= m.first && hi >= m.last:
		*m = newModel()
	case lo <= m.first:
		m.first = hi + 1
	default:
		m.last = lo - 1
	}
}

// diff reports how s differs from m, or "".
func (m model) diff(s *Store) string {
	f, err1 := s.FirstIndex()
	l, err2 := s.LastIndex()
	if err := errors.Join(err1, err2); err != nil {
		return err.Error()
	}
	if f != m.first || l != m.last {
		return fmt.Sprintf("range [%d, %d], want [%d, %d]", f, l, m.first, m.last)
	}
	var got raft.Log
	for _, i := range []uint64{f - 1, l + 1} {
		if err := s.GetLog(i, &got); err != raft.ErrLogNotFound {
			return fmt.Sprintf("GetLog(%d) outside the range = %v, want raft.ErrLogNotFound", i, err)
		}
	}
	for i := m.first; i <= m.last && m.first != 0; i++ {
		if err := s.GetLog(i, &got); err != nil {
			return fmt.Sprintf("GetLog(%d): %v", i, err)
		}
		if why := diffLog(m.logs[i], &got); why != "" {
			return fmt.Sprintf("entry %d: %s", i, why)
		}
	}
	return ""
}

func (m model) check(t testing.TB, s *Store) {
	t.Helper()
	if why := m.diff(s); why != "" {
		t.Fatal(why)
	}
}

// memOpts returns options for a store on fs with small segments, so tests
// cross segment boundaries.
func memOpts(fs vfs.FS) *Options {
	return &Options{FS: fs, Log: &wal.Options{SegmentSize: 1 << 10, NoPreallocate: true}}
}

func mustOpen(t testing.TB, dir string, o *Options) *Store {
	t.Helper()
	s, err := Open(dir, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

func mustClose(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

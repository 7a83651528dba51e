package wal

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/waldb/wal/vfs"
)

// model is what the log must contain: the range, each entry's generation,
// and the last index an acknowledged durability point covers.
type model struct {
	first, last uint64
	gen         map[uint64]uint64
	durable     uint64 // entries up to here were made durable
	nextGen     uint64
}

func newModel() *model { return &model{first: 1, gen: map[uint64]uint64{}, nextGen: 1} }

// step performs one random operation on l and the model. It returns a
// description for failure messages.
func (m *model) step(t *testing.T, l *Log, rng *rand.Rand, p SyncPolicy) string {
	t.Helper()
	var desc string
	var err error
	switch op := rng.IntN(100); {
	case op < 45:
		n := 1 + rng.IntN(3)
		for i := 0; i < n; i++ {
			idx := m.last + 1
			if _, err = l.Append(payload(idx, m.nextGen)); err != nil {
				break
			}
			m.gen[idx], m.last = m.nextGen, idx
		}
		desc = fmt.Sprintf("append %d", n)
	case op < 70:
		var b Batch
		n := 1 + rng.IntN(20)
		for i := uint64(1); i <= uint64(n); i++ {
			b.Write(m.last+i, payload(m.last+i, m.nextGen))
		}
		b.Sync = rng.IntN(4) == 0
		if err = l.WriteBatch(&b); err == nil {
			for i := uint64(1); i <= uint64(n); i++ {
				m.gen[m.last+i] = m.nextGen
			}
			m.last += uint64(n)
			if b.Sync {
				m.durable = m.last
			}
		}
		desc = fmt.Sprintf("batch %d sync=%v", n, b.Sync)
	case op < 78 && m.last >= m.first:
		idx := m.first + uint64(rng.IntN(int(m.last-m.first+2)))
		err = l.TruncateFront(idx)
		m.durable = m.last // every truncation, even a no-op, is a durability point
		m.first = idx
		desc = fmt.Sprintf("truncate front %d", idx)
	case op < 88 && m.last >= m.first:
		idx := m.first + uint64(rng.IntN(int(m.last-m.first+1)))
		err = l.TruncateBack(idx)
		if idx < m.last {
			m.nextGen++
		}
		m.last, m.durable = idx, idx // a durability point even as a no-op
		desc = fmt.Sprintf("truncate back %d", idx)
	case op < 91:
		idx := 1 + uint64(rng.IntN(int(m.last+50)))
		err = l.Reset(idx)
		m.first, m.last, m.durable = idx, idx-1, idx-1
		m.nextGen++
		desc = fmt.Sprintf("reset %d", idx)
	default:
		err = l.Sync()
		m.durable = m.last
		desc = "sync"
	}
	if err != nil {
		t.Fatalf("%s: %v", desc, err)
	}
	if p == SyncAlways {
		m.durable = m.last
	}
	return desc
}

// check asserts that l holds exactly the model's entries.
func (m *model) check(t *testing.T, l *Log, what string) {
	t.Helper()
	m.checkPrefix(t, l, what, m.last, m.last)
}

// checkPrefix asserts that l starts at the model's first index and ends
// between minLast and maxLast, with every entry of the model's generation.
func (m *model) checkPrefix(t *testing.T, l *Log, what string, minLast, maxLast uint64) {
	t.Helper()
	f, la := bounds(t, l)
	wantF := m.first
	if m.first == 1 && la == 0 {
		wantF = 0
	}
	if f != wantF || la < minLast || la > maxLast {
		t.Fatalf("%s: bounds [%d, %d], want first %d, last in [%d, %d]\nreport: %v", what, f, la, wantF, minLast, maxLast, l.Recovery())
	}
	for i := m.first; i <= la; i++ {
		b, err := l.Read(i)
		if err != nil {
			t.Fatalf("%s: Read(%d): %v", what, i, err)
		}
		g, err := checkPayload(i, b)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if g != m.gen[i] {
			t.Fatalf("%s: entry %d has generation %d, want %d (a stale or resurrected entry)", what, i, g, m.gen[i])
		}
	}
}

// TestModelReopenAfterEveryOp runs random operations, closing and
// reopening the log after every one, and compares it with the model.
func TestModelReopenAfterEveryOp(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncNever} {
		t.Run(p.String(), func(t *testing.T) {
			fs := vfs.NewMem()
			o := &Options{FS: fs, SyncPolicy: p, SegmentSize: 1 << 10}
			rng := newRand(uint64(p) + 1)
			m := newModel()
			l := mustOpen(t, memDir, o)
			for i := 0; i < 400; i++ {
				desc := m.step(t, l, rng, p)
				m.check(t, l, desc)
				mustClose(t, l)
				l = mustOpen(t, memDir, o)
				m.check(t, l, "reopen after "+desc)
			}
			mustClose(t, l)
		})
	}
}

// TestModelPowerLoss runs random operations and, after each, simulates a
// power loss keeping 0%, 50% or 100% of unsynced blocks and directory
// entries: the recovered log must hold every durable entry, nothing but a
// prefix of the model, and accept writes afterwards.
func TestModelPowerLoss(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncNever} {
		for _, keep := range []float64{0, 0.5, 1} {
			t.Run(fmt.Sprintf("%v/keep=%v", p, keep), func(t *testing.T) {
				fs := vfs.NewMem()
				o := Options{FS: fs, SyncPolicy: p, SegmentSize: 1 << 10, FlushInterval: 1 << 40}
				rng := newRand(uint64(p)*10 + uint64(keep*2) + 7)
				m := newModel()
				l := mustOpen(t, memDir, &o)
				defer l.Close()
				for i := 0; i < 300; i++ {
					desc := m.step(t, l, rng, p)
					crashed := fs.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: keep, KeepUnsyncedDirOps: keep, Rand: newRand(uint64(i))})
					co := o
					co.FS = crashed
					cl, err := Open(memDir, &co)
					if err != nil {
						t.Fatalf("op %d (%s): Open after power loss: %v\n%s", i, desc, err, crashed)
					}
					m.checkPrefix(t, cl, fmt.Sprintf("op %d (%s) power loss", i, desc), m.durable, m.last)
					_, la := bounds(t, cl)
					if _, err := cl.Append(payload(la+1, 999)); err != nil {
						t.Fatalf("append after recovery: %v", err)
					}
					mustClose(t, cl)
				}
			})
		}
	}
}

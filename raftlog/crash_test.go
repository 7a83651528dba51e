package raftlog

import (
	"fmt"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/waldb/wal/vfs"
)

// logCall is one LogStore call of a crash workload, with the model states
// it may leave after a crash while it is in flight.
type logCall struct {
	desc string
	do   func(s *Store) error
	// apply updates the model and returns the extra state a crash in
	// flight may leave besides the old and the new one (a StoreLogs that
	// cut or reset the log before writing), or nil.
	apply func(m *model) *model
}

func storeCall(ls []*raft.Log) logCall {
	return logCall{
		desc: fmt.Sprintf("StoreLogs[%d, %d] term %d", ls[0].Index, ls[len(ls)-1].Index, ls[0].Term),
		do:   func(s *Store) error { return s.StoreLogs(ls) },
		apply: func(m *model) *model {
			first, mid := ls[0].Index, m.clone()
			m.store(ls)
			switch {
			case first == mid.last+1: // an append
				return nil
			case mid.first != 0 && mid.first < first && first <= mid.last: // cut, then append
				mid.deleteRange(first, mid.last)
				return &mid
			}
			empty := newModel() // reset, then append
			return &empty
		},
	}
}

func deleteCall(lo, hi uint64) logCall {
	return logCall{
		desc:  fmt.Sprintf("DeleteRange(%d, %d)", lo, hi),
		do:    func(s *Store) error { return s.DeleteRange(lo, hi) },
		apply: func(m *model) *model { m.deleteRange(lo, hi); return nil },
	}
}

// crashWorkload is what raft does to a follower's log over its life:
// appends across segments, a conflicting suffix replaced, compactions, a
// snapshot install (delete everything, store far ahead), more appends.
func crashWorkload() []logCall {
	calls := []logCall{storeCall(entries(1, 1, 1))}
	for i := uint64(2); i <= 30; i += 4 {
		calls = append(calls, storeCall(entries(i, i+3, 1)))
	}
	calls = append(calls,
		deleteCall(26, 33),              // conflicting suffix
		storeCall(entries(26, 35, 2)),   // its replacement
		deleteCall(1, 12),               // compaction
		storeCall(entries(33, 36, 3)),   // overlap without a DeleteRange
		deleteCall(13, 36),              // snapshot restore: everything
		storeCall(entries(90, 99, 4)),   // after the snapshot
		deleteCall(90, 95),              // compaction
		storeCall(entries(120, 122, 5)), // a gap: reset
		storeCall(entries(123, 160, 5)),
		storeCall(entries(110, 112, 6)), // below the first: reset
	)
	return calls
}

// states returns the model after each call (states[0] is empty) and the
// extra in-flight states.
func states(calls []logCall) (after []model, mid []*model) {
	m := newModel()
	after = []model{m.clone()}
	for _, c := range calls {
		mid = append(mid, c.apply(&m))
		after = append(after, m.clone())
	}
	return after, mid
}

// TestCrashAfterEachCall simulates a power loss after every call of the
// workload returned, keeping none, half or all of the unsynced state: the
// store must hold exactly what the calls acknowledged.
func TestCrashAfterEachCall(t *testing.T) {
	calls := crashWorkload()
	after, _ := states(calls)
	mem := vfs.NewMem()
	s := mustOpen(t, memDir, memOpts(mem))
	defer mustClose(t, s)
	for i, c := range calls {
		must(t, c.do(s))
		after[i+1].check(t, s)
		for _, keep := range []float64{0, 0.5, 1} {
			img := mem.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: keep, KeepUnsyncedDirOps: keep, Rand: newRand(uint64(i))})
			r := mustOpen(t, memDir, memOpts(img))
			if why := after[i+1].diff(r); why != "" {
				t.Fatalf("crash after %s, keep %v: %s", c.desc, keep, why)
			}
			mustClose(t, r)
		}
	}
}

// TestLogPowerLoss takes a crash image at every filesystem operation of
// the workload (keeping none, half or all of the unsynced state): each
// image must open to the state before the call in flight, after it, or,
// for a StoreLogs that first cut or reset the log, the cut or emptied log
// without the new entries.
func TestLogPowerLoss(t *testing.T) {
	calls := crashWorkload()
	after, mid := states(calls)
	total := 0
	for _, keep := range []float64{0, 0.5, 1} {
		rec := newRecorder(vfs.NewMem(), keep)
		s := mustOpen(t, memDir, memOpts(rec.wrap()))
		for i, c := range calls {
			rec.start(i, c.desc)
			must(t, c.do(s))
			rec.done(i)
		}
		mustClose(t, s)
		checkImages(t, rec.images, memOpts, func(s *Store, im image) string {
			cands := []*model{&after[min(im.call+1, len(after)-1)]}
			if !im.between {
				cands = append(cands, &after[im.call])
				if im.call < len(mid) && mid[im.call] != nil {
					cands = append(cands, mid[im.call])
				}
			}
			var whys []string
			for _, m := range cands {
				why := m.diff(s)
				if why == "" {
					return ""
				}
				whys = append(whys, why)
			}
			return fmt.Sprintf("matches no allowed state: %q", whys)
		})
		total += len(rec.images)
	}
	t.Logf("%d crash images checked", total)
}

package txn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
)

// workload drives random interleaved streaming and atomic transactions and
// keeps the model: the committed transactions in commit order.
type workload struct {
	t         *testing.T
	w         *Writer
	rng       *rand.Rand
	open      []*Txn
	ops       map[uint64][]string // operations of open streaming txns
	committed []replayed
	seq       int
}

func newWorkload(t *testing.T, l *wal.Log, seed uint64) *workload {
	return &workload{t: t, w: NewWriter(l, 0), rng: rand.New(rand.NewPCG(seed, 7)), ops: map[uint64][]string{}}
}

// value returns a value of a size that makes batches straddle the crash
// simulator's 4 KiB blocks now and then.
func (wl *workload) value() string {
	wl.seq++
	n := wl.rng.IntN(3) * 700
	return fmt.Sprintf("v%d-%s", wl.seq, string(make([]byte, n)))
}

// step performs one random action.
func (wl *workload) step() {
	t := wl.t
	switch r := wl.rng.IntN(10); {
	case r < 2 && len(wl.open) < 4:
		tx, err := wl.w.Begin()
		if err != nil {
			t.Fatal(err)
		}
		wl.open = append(wl.open, tx)
	case r < 6 && len(wl.open) > 0:
		tx := wl.open[wl.rng.IntN(len(wl.open))]
		k := fmt.Sprint("k", wl.rng.IntN(5))
		var err error
		if wl.rng.IntN(4) == 0 {
			err = tx.Delete([]byte(k))
			wl.ops[tx.ID()] = append(wl.ops[tx.ID()], "del "+k)
		} else {
			v := wl.value()
			err = tx.Put([]byte(k), []byte(v))
			wl.ops[tx.ID()] = append(wl.ops[tx.ID()], "put "+k+"="+v)
		}
		if err != nil {
			t.Fatal(err)
		}
	case r < 8 && len(wl.open) > 0:
		i := wl.rng.IntN(len(wl.open))
		tx := wl.open[i]
		wl.open = append(wl.open[:i], wl.open[i+1:]...)
		if wl.rng.IntN(3) == 0 {
			if err := tx.Abort(); err != nil {
				t.Fatal(err)
			}
		} else {
			if _, err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if ops := wl.ops[tx.ID()]; len(ops) > 0 {
				wl.committed = append(wl.committed, replayed{tx.ID(), ops})
			}
		}
		delete(wl.ops, tx.ID())
	default:
		var ops []Op
		var strs []string
		for range 1 + wl.rng.IntN(4) {
			k, v := fmt.Sprint("a", wl.rng.IntN(5)), wl.value()
			ops = append(ops, put(k, v))
			strs = append(strs, "put "+k+"="+v)
		}
		info := mustCommit(t, wl.w, ops...)
		wl.committed = append(wl.committed, replayed{info.ID, strs})
	}
}

// recoverClone opens the log on a crash image and recovers it.
func recoverClone(t *testing.T, fs *vfs.MemFS) []replayed {
	t.Helper()
	l := openLog(t, fs, wal.SyncNever)
	defer l.Close()
	got, _ := recoverAll(t, l, 0, &RecoverOptions{MaxBuffer: 2 << 10})
	return got
}

// TestCrashEveryStepSyncAlways: under SyncAlways every finished call is
// durable, so a power loss after any step — in the middle of streaming
// transactions or between atomic ones — recovers exactly the transactions
// committed so far, in commit order, and nothing of the open or aborted
// ones.
func TestCrashEveryStepSyncAlways(t *testing.T) {
	fs := vfs.NewMem()
	l := openLog(t, fs, wal.SyncAlways)
	defer l.Close()
	wl := newWorkload(t, l, 1)
	for i := range 120 {
		wl.step()
		got := recoverClone(t, fs.CrashClone(vfs.CrashOptions{}))
		if !equalReplay(got, wl.committed) {
			t.Fatalf("step %d: recovered %v\nwant %v", i, got, wl.committed)
		}
	}
	if len(wl.open) == 0 || len(wl.committed) < 10 {
		t.Fatalf("workload too tame: %d open, %d committed", len(wl.open), len(wl.committed))
	}
}

// TestCrashTornUnsynced: with nothing synced after a known point, power
// losses that keep random unsynced blocks (tearing atomic batches and
// streaming transactions anywhere) recover a prefix of the commit order,
// each transaction whole, and at least everything committed before the
// last Sync.
func TestCrashTornUnsynced(t *testing.T) {
	torn := 0
	for seed := range uint64(6) {
		fs := vfs.NewMem()
		l := openLog(t, fs, wal.SyncNever)
		wl := newWorkload(t, l, seed)
		for range 40 {
			wl.step()
		}
		if err := l.Sync(); err != nil {
			t.Fatal(err)
		}
		durable := len(wl.committed)
		for range 40 {
			wl.step()
		}
		for c := range 8 {
			keep := []float64{0, 0.3, 0.7, 1}[c%4]
			img := fs.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: keep, KeepUnsyncedDirOps: keep, Rand: rand.New(rand.NewPCG(seed, uint64(c)))})
			got := recoverClone(t, img)
			if len(got) < durable || len(got) > len(wl.committed) || !equalReplay(got, wl.committed[:len(got)]) {
				t.Fatalf("seed %d crash %d keep %v: recovered %d transactions %v\nnot a prefix of %d committed (%d durable): %v",
					seed, c, keep, len(got), got, len(wl.committed), durable, wl.committed)
			}
			if len(got) < len(wl.committed) && len(got) > durable {
				torn++
			}
		}
		l.Close()
	}
	if torn == 0 {
		t.Fatal("no crash image cut the log between the last sync and the end")
	}
}

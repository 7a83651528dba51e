package txn

import (
	"fmt"
	"slices"
	"testing"

	"github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
)

const logDir = "log"

func openLog(t testing.TB, fs vfs.FS, policy wal.SyncPolicy) *wal.Log {
	t.Helper()
	l, err := wal.Open(logDir, &wal.Options{FS: fs, SyncPolicy: policy, SegmentSize: 4 << 10, NoPreallocate: true})
	if err != nil {
		t.Fatalf("wal.Open: %v", err)
	}
	return l
}

// replayed is one transaction as Recover delivered it.
type replayed struct {
	id  uint64
	ops []string // "put k=v" or "del k"
}

func (r replayed) String() string { return fmt.Sprintf("%d%v", r.id, r.ops) }

func opString(op Op) string {
	if op.Kind == KindDelete {
		return "del " + string(op.Key)
	}
	return "put " + string(op.Key) + "=" + string(op.Value)
}

// recoverAll runs Recover and groups the operations by transaction, in the
// order delivered.
func recoverAll(t testing.TB, l *wal.Log, after uint64, opts *RecoverOptions) ([]replayed, Stats) {
	t.Helper()
	var out []replayed
	st, err := Recover(l, after, func(id uint64, op Op) error {
		if n := len(out); n == 0 || out[n-1].id != id {
			out = append(out, replayed{id: id})
		}
		out[len(out)-1].ops = append(out[len(out)-1].ops, opString(op))
		return nil
	}, opts)
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	return out, st
}

func put(k, v string) Op { return Op{Kind: KindPut, Key: []byte(k), Value: []byte(v)} }
func del(k string) Op    { return Op{Kind: KindDelete, Key: []byte(k)} }

func mustCommit(t testing.TB, w *Writer, ops ...Op) Info {
	t.Helper()
	info, err := w.Commit(ops)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return info
}

func equalReplay(a, b []replayed) bool {
	return slices.EqualFunc(a, b, func(x, y replayed) bool { return x.id == y.id && slices.Equal(x.ops, y.ops) })
}

package txn

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
)

func TestCommitAndRecover(t *testing.T) {
	l := openLog(t, vfs.NewMem(), wal.SyncAlways)
	defer l.Close()
	w := NewWriter(l, 0)
	a := mustCommit(t, w, put("a", "1"), put("b", "2"))
	b := mustCommit(t, w, del("a"))
	c := mustCommit(t, w)
	if a.ID != 1 || b.ID != 2 || c.ID != 3 || w.LastID() != 3 {
		t.Fatalf("ids %d %d %d, LastID %d", a.ID, b.ID, c.ID, w.LastID())
	}
	if a.Index != 4 || b.Index != 7 || c.Index != 9 {
		t.Fatalf("commit indexes %d %d %d, want 4 7 9", a.Index, b.Index, c.Index)
	}
	// begin 10 + put a=1 (10+4+1+4+1 = 20) + put b=2 (20) + commit 10
	if a.Bytes != 60 {
		t.Fatalf("Bytes = %d, want 60", a.Bytes)
	}
	got, st := recoverAll(t, l, 0, nil)
	want := []replayed{{1, []string{"put a=1", "put b=2"}}, {2, []string{"del a"}}}
	if !equalReplay(got, want) {
		t.Fatalf("replayed %v, want %v", got, want)
	}
	if st.Committed != 3 || st.Ops != 3 || st.MaxID != 3 || st.LastIndex != 9 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCommitRejectsNonOps(t *testing.T) {
	l := openLog(t, vfs.NewMem(), wal.SyncAlways)
	defer l.Close()
	w := NewWriter(l, 0)
	if _, err := w.Commit([]Op{{Kind: KindCommit}}); !errors.Is(err, ErrInvalidOp) {
		t.Fatalf("Commit(commit op) = %v, want ErrInvalidOp", err)
	}
	if last, _ := l.LastIndex(); last != 0 {
		t.Fatalf("log has %d entries after a rejected commit", last)
	}
}

// TestCommitErrorLeavesNothing: a transaction too large for the log is not
// written at all, and its id is not reused.
func TestCommitErrorLeavesNothing(t *testing.T) {
	l, err := wal.Open(logDir, &wal.Options{FS: vfs.NewMem(), MaxEntrySize: 64, SegmentSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	w := NewWriter(l, 0)
	if _, err := w.Commit([]Op{put("k", string(make([]byte, 100)))}); !errors.Is(err, wal.ErrTooLarge) {
		t.Fatalf("Commit = %v, want wal.ErrTooLarge", err)
	}
	info := mustCommit(t, w, put("k", "v"))
	if info.ID != 2 {
		t.Fatalf("next id %d, want 2", info.ID)
	}
	got, _ := recoverAll(t, l, 0, nil)
	if !equalReplay(got, []replayed{{2, []string{"put k=v"}}}) {
		t.Fatalf("replayed %v", got)
	}
}

func TestStreaming(t *testing.T) {
	l := openLog(t, vfs.NewMem(), wal.SyncNever)
	defer l.Close()
	w := NewWriter(l, 10)
	t1, err := w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t2, _ := w.Begin()
	t3, _ := w.Begin()
	steps := []error{
		t1.Put([]byte("x"), []byte("1")),
		t2.Put([]byte("y"), []byte("2")),
		t3.Put([]byte("z"), []byte("3")),
		t1.Delete([]byte("w")),
		t2.Abort(),
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, w, put("atomic", "a")) // id 14, commits before t1
	if _, err := t1.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := t2.Put([]byte("late"), nil); !errors.Is(err, ErrDone) {
		t.Fatalf("Put after Abort = %v, want ErrDone", err)
	}
	if _, err := t1.Commit(); !errors.Is(err, ErrDone) {
		t.Fatalf("second Commit = %v, want ErrDone", err)
	}
	// t3 stays unfinished.
	got, st := recoverAll(t, l, 0, nil)
	want := []replayed{{14, []string{"put atomic=a"}}, {11, []string{"put x=1", "del w"}}}
	if !equalReplay(got, want) {
		t.Fatalf("replayed %v, want %v (commit order)", got, want)
	}
	if st.Committed != 2 || st.Aborted != 1 || st.Unfinished != 1 || st.MaxID != 14 {
		t.Fatalf("stats %+v", st)
	}
	if t3.ID() != 13 {
		t.Fatalf("t3 id %d", t3.ID())
	}
}

func TestOldestActive(t *testing.T) {
	l := openLog(t, vfs.NewMem(), wal.SyncNever)
	defer l.Close()
	w := NewWriter(l, 0)
	if _, ok := w.OldestActive(); ok {
		t.Fatal("OldestActive on a fresh writer")
	}
	mustCommit(t, w, put("a", "1")) // indexes 1..3
	t1, _ := w.Begin()              // index 4
	t2, _ := w.Begin()              // index 5
	if idx, ok := w.OldestActive(); !ok || idx != 4 {
		t.Fatalf("OldestActive = %d, %v; want 4", idx, ok)
	}
	t1.Abort()
	if idx, ok := w.OldestActive(); !ok || idx != 5 {
		t.Fatalf("OldestActive = %d, %v; want 5", idx, ok)
	}
	t2.Commit()
	if _, ok := w.OldestActive(); ok {
		t.Fatal("OldestActive with nothing open")
	}
}

// TestRecoverAfter: transactions at or below the checkpoint id are skipped,
// and truncating the log in front of them changes nothing.
func TestRecoverAfter(t *testing.T) {
	l := openLog(t, vfs.NewMem(), wal.SyncNever)
	defer l.Close()
	w := NewWriter(l, 0)
	for i := 1; i <= 5; i++ {
		mustCommit(t, w, put(fmt.Sprint("k", i), fmt.Sprint(i)))
	}
	got, st := recoverAll(t, l, 3, nil)
	want := []replayed{{4, []string{"put k4=4"}}, {5, []string{"put k5=5"}}}
	if !equalReplay(got, want) || st.Skipped != 3 {
		t.Fatalf("replayed %v (stats %+v), want %v", got, st, want)
	}
	if err := l.TruncateFront(3*3 + 1); err != nil { // txn 4's Begin: 3 records per txn
		t.Fatal(err)
	}
	got, st = recoverAll(t, l, 3, nil)
	if !equalReplay(got, want) || st.Skipped != 0 || st.MaxID != 5 {
		t.Fatalf("after truncation replayed %v (stats %+v)", got, st)
	}
}

// TestRecoverSpill: transactions whose operations exceed MaxBuffer are
// re-read from the log, with the same result.
func TestRecoverSpill(t *testing.T) {
	l := openLog(t, vfs.NewMem(), wal.SyncNever)
	defer l.Close()
	w := NewWriter(l, 0)
	big, _ := w.Begin()
	small, _ := w.Begin()
	for i := range 20 {
		big.Put([]byte(fmt.Sprint("b", i)), make([]byte, 50))
		if i%5 == 0 {
			small.Put([]byte(fmt.Sprint("s", i)), []byte("v"))
		}
	}
	mustCommit(t, w, put("mid", "m"))
	small.Commit()
	big.Commit()
	ref, _ := recoverAll(t, l, 0, nil)
	for _, limit := range []int{-1, 300, 1 << 20} {
		got, _ := recoverAll(t, l, 0, &RecoverOptions{MaxBuffer: limit})
		if !equalReplay(got, ref) {
			t.Fatalf("MaxBuffer %d: replayed %v, want %v", limit, got, ref)
		}
	}
	if len(ref) != 3 || ref[0].id != 3 || ref[1].id != 2 || ref[2].id != 1 || len(ref[2].ops) != 20 {
		t.Fatalf("unexpected replay %v", ref)
	}
}

// TestRecoverProtocolErrors: records out of protocol are ErrCorrupt naming
// the index; undecodable ones ErrCorrupt or ErrVersion.
func TestRecoverProtocolErrors(t *testing.T) {
	rec := func(k Kind, id uint64) []byte { return Record{Kind: k, ID: id, Key: []byte("k")}.Append(nil) }
	tests := []struct {
		name    string
		entries [][]byte
		after   uint64
		want    error
	}{
		{"op without begin", [][]byte{rec(KindPut, 1)}, 0, ErrCorrupt},
		{"commit without begin", [][]byte{rec(KindCommit, 1)}, 0, ErrCorrupt},
		{"second begin", [][]byte{rec(KindBegin, 1), rec(KindBegin, 1)}, 0, ErrCorrupt},
		{"op after commit", [][]byte{rec(KindBegin, 1), rec(KindCommit, 1), rec(KindDelete, 1)}, 0, ErrCorrupt},
		{"garbage", [][]byte{[]byte("garbage!!!")}, 0, ErrVersion},
		{"short", [][]byte{{1, 1}}, 0, ErrCorrupt},
		{"below after is not checked", [][]byte{rec(KindPut, 1), rec(KindCommit, 1)}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := openLog(t, vfs.NewMem(), wal.SyncNever)
			defer l.Close()
			for _, e := range tt.entries {
				if _, err := l.Append(e); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Recover(l, tt.after, func(uint64, Op) error { return nil }, nil)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Recover = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRecoverApplyError(t *testing.T) {
	l := openLog(t, vfs.NewMem(), wal.SyncNever)
	defer l.Close()
	w := NewWriter(l, 0)
	mustCommit(t, w, put("a", "1"))
	boom := errors.New("boom")
	_, err := Recover(l, 0, func(uint64, Op) error { return boom }, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("Recover = %v, want boom", err)
	}
}

// TestConcurrentCommits: many goroutines commit at once under SyncAlways
// (sharing fsyncs); every transaction is recovered exactly once and whole.
func TestConcurrentCommits(t *testing.T) {
	l := openLog(t, vfs.NewMem(), wal.SyncAlways)
	defer l.Close()
	w := NewWriter(l, 0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				k := fmt.Sprintf("g%d-%d", g, i)
				if _, err := w.Commit([]Op{put(k, "a"), put(k, "b")}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, st := recoverAll(t, l, 0, nil)
	if len(got) != 200 || st.MaxID != 200 {
		t.Fatalf("recovered %d transactions, MaxID %d", len(got), st.MaxID)
	}
	seen := map[uint64]bool{}
	for _, r := range got {
		if seen[r.id] || len(r.ops) != 2 {
			t.Fatalf("transaction %v duplicated or split", r)
		}
		seen[r.id] = true
	}
}

package raftlog

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	wal "github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

func TestEmptyStore(t *testing.T) {
	s := mustOpen(t, memDir, memOpts(vfs.NewMem()))
	defer mustClose(t, s)
	newModel().check(t, s)
	if !s.IsMonotonic() {
		t.Fatal("IsMonotonic() = false")
	}
	var l raft.Log
	for _, i := range []uint64{0, 1, math.MaxUint64} {
		if err := s.GetLog(i, &l); err != raft.ErrLogNotFound {
			t.Fatalf("GetLog(%d) on an empty store = %v, want raft.ErrLogNotFound unwrapped", i, err)
		}
	}
	must(t, s.DeleteRange(1, 10)) // nothing to delete
	newModel().check(t, s)
}

// storeCase is a scenario: entries stored, then one more call.
type storeCase struct {
	name  string
	setup func(s *Store, m *model) error
	call  func(s *Store, m *model) error
}

func storeLogs(ls []*raft.Log) func(s *Store, m *model) error {
	return func(s *Store, m *model) error {
		m.store(ls)
		return s.StoreLogs(ls)
	}
}

func deleteRange(lo, hi uint64) func(s *Store, m *model) error {
	return func(s *Store, m *model) error {
		m.deleteRange(lo, hi)
		return s.DeleteRange(lo, hi)
	}
}

func seq(fns ...func(s *Store, m *model) error) func(s *Store, m *model) error {
	return func(s *Store, m *model) error {
		for _, fn := range fns {
			if err := fn(s, m); err != nil {
				return err
			}
		}
		return nil
	}
}

// TestLogStoreCases runs each StoreLogs and DeleteRange case of the package
// doc's table and checks the store against the model, then again after a
// reopen and after a power loss that keeps only synced data.
func TestLogStoreCases(t *testing.T) {
	base := storeLogs(entries(10, 40, 1)) // [10, 40] across several segments
	emptied := seq(base, deleteRange(10, 40))
	cases := []storeCase{
		{"append to new store at 1", nil, storeLogs(entries(1, 5, 1))},
		{"append to new store at 100", nil, storeLogs(entries(100, 105, 1))},
		{"StoreLog one by one", nil, seq(storeLogs(entries(1, 1, 1)), storeLogs(entries(2, 2, 1)), storeLogs(entries(3, 3, 2)))},
		{"append", base, storeLogs(entries(41, 45, 2))},
		{"overlap replaces the suffix", base, storeLogs(entries(30, 33, 2))},
		{"overlap at the last entry", base, storeLogs(entries(40, 41, 2))},
		{"first == FirstIndex resets", base, storeLogs(entries(10, 12, 2))},
		{"first below FirstIndex resets", base, storeLogs(entries(3, 5, 2))},
		{"gap above LastIndex resets", base, storeLogs(entries(60, 62, 2))},
		{"after delete-all, at the kept position", emptied, storeLogs(entries(41, 42, 2))},
		{"after delete-all, higher", emptied, storeLogs(entries(1000, 1002, 2))},
		{"after delete-all, lower", emptied, storeLogs(entries(2, 3, 2))},
		{"after delete-all, at 1", emptied, storeLogs(entries(1, 3, 2))},
		{"delete head", base, deleteRange(10, 25)},
		{"delete head from 0", base, deleteRange(0, 25)},
		{"delete head but the last", base, deleteRange(10, 39)},
		{"delete tail", base, deleteRange(25, 40)},
		{"delete tail to MaxUint64", base, deleteRange(25, math.MaxUint64)},
		{"delete tail but the first", base, deleteRange(11, 40)},
		{"delete all", base, deleteRange(10, 40)},
		{"delete all and more", base, deleteRange(0, math.MaxUint64)},
		{"delete below the range", base, deleteRange(1, 9)},
		{"delete above the range", base, deleteRange(41, 50)},
		{"delete min > max", base, deleteRange(30, 20)},
		{"compaction then append", base, seq(deleteRange(10, 30), storeLogs(entries(41, 50, 3)))},
		{"tail delete then append", base, seq(deleteRange(35, 40), storeLogs(entries(35, 38, 3)))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := vfs.NewMem()
			s := mustOpen(t, memDir, memOpts(fs))
			m := newModel()
			if c.setup != nil {
				must(t, c.setup(s, &m))
			}
			must(t, c.call(s, &m))
			m.check(t, s)
			crashed := fs.CrashClone(vfs.CrashOptions{})
			mustClose(t, s)
			for _, fs := range []vfs.FS{fs, crashed} {
				s = mustOpen(t, memDir, memOpts(fs))
				m.check(t, s)
				// The store keeps working after the reopen.
				next := m.last + 1
				if m.first == 0 {
					next = 7
				}
				must(t, storeLogs(entries(next, next+2, 9))(s, &m))
				m.check(t, s)
				mustClose(t, s)
				m.deleteRange(next, next+2)
				if m.last < m.first {
					m = newModel()
				}
			}
		})
	}
}

// TestDeleteRangeGap: a hole inside the stored range is refused and
// changes nothing.
func TestDeleteRangeGap(t *testing.T) {
	s := mustOpen(t, memDir, memOpts(vfs.NewMem()))
	defer mustClose(t, s)
	m := newModel()
	must(t, storeLogs(entries(1, 20, 1))(s, &m))
	if err := s.DeleteRange(5, 10); !errors.Is(err, ErrGap) {
		t.Fatalf("DeleteRange(5, 10) of [1, 20] = %v, want ErrGap", err)
	}
	m.check(t, s)
}

// TestStoreLogsRefusesBadBatches: indexes must be consecutive and start
// above 0; a refused batch changes nothing.
func TestStoreLogsRefusesBadBatches(t *testing.T) {
	s := mustOpen(t, memDir, memOpts(vfs.NewMem()))
	defer mustClose(t, s)
	m := newModel()
	must(t, storeLogs(entries(1, 5, 1))(s, &m))
	for name, ls := range map[string][]*raft.Log{
		"gap inside":  {entry(6, 1), entry(8, 1)},
		"descending":  {entry(7, 1), entry(6, 1)},
		"duplicate":   {entry(6, 1), entry(6, 1)},
		"index 0":     {entry(0, 1)},
		"nil entry":   {entry(6, 1), nil},
		"zero then 1": {entry(0, 1), entry(1, 1)},
	} {
		if err := s.StoreLogs(ls); !errors.Is(err, ErrNotContiguous) {
			t.Errorf("%s: StoreLogs = %v, want ErrNotContiguous", name, err)
		}
		m.check(t, s)
	}
	must(t, s.StoreLogs(nil))
	m.check(t, s)
}

// TestAgainstInmemStore applies random raft-like calls (appends, head and
// tail deletions, deleting everything and storing at a new index) to a
// Store, to raft's own InmemStore and to the model, and compares all three
// after every call, reopening the store now and then.
func TestAgainstInmemStore(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, memDir, memOpts(fs))
	defer func() { mustClose(t, s) }()
	ref := raft.NewInmemStore()
	m := newModel()
	rng := newRand(7)
	term := uint64(1)
	for i := 0; i < 400; i++ {
		var desc string
		var ls []*raft.Log
		lo, hi := uint64(0), uint64(0)
		switch r := rng.IntN(100); {
		case r < 60 || m.first == 0:
			next := m.last + 1
			if m.first == 0 && rng.IntN(2) == 0 {
				next = 1 + rng.Uint64N(500)
			}
			ls = entries(next, next+rng.Uint64N(8), term)
		case r < 75:
			lo, hi = m.first, m.first+rng.Uint64N(m.last-m.first+1)
		case r < 88:
			term++
			lo, hi = m.last-rng.Uint64N(m.last-m.first+1), m.last
		case r < 95:
			lo, hi = m.first, m.last
		default:
			mustClose(t, s)
			s = mustOpen(t, memDir, memOpts(fs))
			desc = "reopen"
		}
		switch {
		case ls != nil:
			desc = fmt.Sprintf("StoreLogs[%d, %d]", ls[0].Index, ls[len(ls)-1].Index)
			m.store(ls)
			must(t, s.StoreLogs(ls))
			must(t, ref.StoreLogs(ls))
		case desc == "":
			desc = fmt.Sprintf("DeleteRange(%d, %d)", lo, hi)
			m.deleteRange(lo, hi)
			must(t, s.DeleteRange(lo, hi))
			must(t, ref.DeleteRange(lo, hi))
		}
		if why := m.diff(s); why != "" {
			t.Fatalf("call %d, %s: store: %s", i, desc, why)
		}
		if why := sameAsInmem(s, ref); why != "" {
			t.Fatalf("call %d, %s: store vs raft.InmemStore: %s", i, desc, why)
		}
	}
}

// sameAsInmem compares s with raft's InmemStore.
func sameAsInmem(s *Store, ref *raft.InmemStore) string {
	f, _ := s.FirstIndex()
	l, _ := s.LastIndex()
	rf, _ := ref.FirstIndex()
	rl, _ := ref.LastIndex()
	if f != rf || l != rl {
		return fmt.Sprintf("range [%d, %d], InmemStore [%d, %d]", f, l, rf, rl)
	}
	var a, b raft.Log
	for i := f; i <= l && f != 0; i++ {
		if err := errors.Join(s.GetLog(i, &a), ref.GetLog(i, &b)); err != nil {
			return fmt.Sprintf("GetLog(%d): %v", i, err)
		}
		if why := diffLog(&b, &a); why != "" {
			return fmt.Sprintf("entry %d: %s", i, why)
		}
	}
	return ""
}

// TestStoreLogsIsOneWrite: a batch of 64 entries costs one write and one
// fdatasync of the log under SyncAlways (group commit shares it further
// between concurrent writers).
func TestStoreLogsIsOneWrite(t *testing.T) {
	counter := &opCounter{}
	o := &Options{FS: errorfs.Wrap(vfs.NewMem(), counter), Log: &wal.Options{SegmentSize: 1 << 20}}
	s := mustOpen(t, memDir, o)
	defer mustClose(t, s)
	must(t, s.StoreLogs(entries(1, 8, 1)))
	before := counter.snapshot()
	must(t, s.StoreLogs(entries(9, 72, 1)))
	after := counter.snapshot()
	if w, y := after.writes-before.writes, after.syncs-before.syncs; w != 1 || y != 1 {
		t.Fatalf("StoreLogs of 64 entries: %d writes and %d syncs, want 1 and 1", w, y)
	}
}

// opCounter counts the log's writes and syncs.
type opCounter struct{ writes, syncs atomic.Int64 }

type opCounts struct{ writes, syncs int64 }

func (c *opCounter) MaybeError(op errorfs.Op, path string) error {
	if strings.Contains(path, "/"+logDirName+"/") {
		switch op {
		case errorfs.OpWrite:
			c.writes.Add(1)
		case errorfs.OpSync:
			c.syncs.Add(1)
		}
	}
	return nil
}

func (c *opCounter) snapshot() opCounts { return opCounts{c.writes.Load(), c.syncs.Load()} }

// TestGetLogBesideWriters reads entries while one goroutine appends,
// compacts and replaces suffixes (as raft's main and snapshot goroutines
// do): every read returns the entry asked for, intact, or
// raft.ErrLogNotFound when it raced with a deletion. Run with -race.
func TestGetLogBesideWriters(t *testing.T) {
	s := mustOpen(t, memDir, memOpts(vfs.NewMem()))
	defer mustClose(t, s)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads, misses atomic.Int64
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := newRand(uint64(r))
			var l raft.Log
			for !stop.Load() {
				f, _ := s.FirstIndex()
				last, _ := s.LastIndex()
				if f == 0 {
					continue
				}
				i := f + rng.Uint64N(last-f+1)
				err := s.GetLog(i, &l)
				if err == raft.ErrLogNotFound {
					misses.Add(1)
					continue
				}
				if err != nil {
					t.Errorf("GetLog(%d): %v", i, err)
					return
				}
				if why := diffLog(entry(i, l.Term), &l); why != "" {
					t.Errorf("GetLog(%d): %s", i, why)
					return
				}
				reads.Add(1)
			}
		}()
	}
	writer(t, s, &stop)
	wg.Wait()
	t.Logf("%d reads, %d raced with a deletion", reads.Load(), misses.Load())
}

// writer appends batches, compacts the head and replaces the suffix with a
// new term now and then, from two goroutines like raft's, then sets stop.
func writer(t *testing.T, s *Store, stop *atomic.Bool) {
	var wg sync.WaitGroup
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()
	wg.Add(1)
	go func() { // raft's snapshot goroutine: compaction
		defer wg.Done()
		for !stop.Load() {
			f, _ := s.FirstIndex()
			l, _ := s.LastIndex()
			if f != 0 && l > f+30 {
				if err := s.DeleteRange(f, l-20); err != nil {
					t.Errorf("DeleteRange: %v", err)
					return
				}
			}
		}
	}()
	rng := newRand(99)
	term := uint64(1)
	for i := 0; i < 300 && !t.Failed(); i++ {
		l, _ := s.LastIndex()
		if rng.IntN(10) == 0 && l > 5 {
			term++
			l -= 3
		}
		if err := s.StoreLogs(entries(l+1, l+1+rng.Uint64N(10), term)); err != nil {
			t.Errorf("StoreLogs: %v", err)
			return
		}
	}
}

func TestOptions(t *testing.T) {
	mem := vfs.NewMem()
	for name, o := range map[string]*Options{
		"NoCopy":       {FS: mem, Log: &wal.Options{NoCopy: true}},
		"different FS": {FS: mem, Log: &wal.Options{FS: vfs.NewMem()}},
	} {
		if s, err := Open(memDir, o); err == nil {
			s.Close()
			t.Errorf("%s: Open succeeded", name)
		}
	}
	// The log's FS alone is used for the whole store.
	s := mustOpen(t, memDir, &Options{Log: &wal.Options{FS: mem, SegmentSize: 1 << 12}})
	must(t, s.SetUint64(keyCurrentTerm, 3))
	must(t, s.StoreLog(entry(1, 3)))
	mustClose(t, s)
	for _, name := range []string{memDir + "/" + stableName, memDir + "/" + logDirName} {
		if _, err := mem.Stat(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLockedAndClosed(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, memDir, memOpts(fs))
	if s2, err := Open(memDir, memOpts(fs)); !errors.Is(err, wal.ErrLocked) {
		if err == nil {
			s2.Close()
		}
		t.Fatalf("second Open = %v, want wal.ErrLocked", err)
	}
	must(t, s.StoreLogs(entries(1, 3, 1)))
	mustClose(t, s)
	var l raft.Log
	for name, err := range map[string]error{
		"FirstIndex":  second(s.FirstIndex()),
		"LastIndex":   second(s.LastIndex()),
		"GetLog":      s.GetLog(1, &l),
		"StoreLogs":   s.StoreLogs(entries(4, 4, 1)),
		"DeleteRange": s.DeleteRange(1, 1),
		"Get":         second(s.Get(keyCurrentTerm)),
		"SetUint64":   s.SetUint64(keyCurrentTerm, 1),
	} {
		if !errors.Is(err, ErrClosed) && !errors.Is(err, wal.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	if s.Dir() != memDir {
		t.Errorf("Dir() = %q", s.Dir())
	}
}

func second[T any](_ T, err error) error { return err }

// TestGetLogCorrupt: an entry that does not decode, or carries another
// index than the one it is stored under, is ErrCorrupt, not a wrong entry.
func TestGetLogCorrupt(t *testing.T) {
	fs := vfs.NewMem()
	l, err := wal.Open(memDir+"/"+logDirName, &wal.Options{FS: fs, SegmentSize: 1 << 12})
	must(t, err)
	must(t, l.Write(1, AppendLog(nil, entry(2, 1))))
	must(t, l.Write(2, []byte{EntryVersion + 1, 0, 0, 2, 1}))
	must(t, l.Close())
	s := mustOpen(t, memDir, memOpts(fs))
	defer mustClose(t, s)
	var got raft.Log
	for _, i := range []uint64{1, 2} {
		if err := s.GetLog(i, &got); !errors.Is(err, ErrCorrupt) {
			t.Errorf("GetLog(%d) = %v, want ErrCorrupt", i, err)
		}
	}
}

// TestDiffLog: the migration's verification tells every field apart.
func TestDiffLog(t *testing.T) {
	base := entry(10, 2)
	base.Extensions = []byte("e")
	for name, change := range map[string]func(l *raft.Log){
		"index":       func(l *raft.Log) { l.Index++ },
		"term":        func(l *raft.Log) { l.Term++ },
		"type":        func(l *raft.Log) { l.Type = raft.LogBarrier },
		"data":        func(l *raft.Log) { l.Data = []byte("other") },
		"extensions":  func(l *raft.Log) { l.Extensions = nil },
		"appended-at": func(l *raft.Log) { l.AppendedAt = l.AppendedAt.Add(1) },
	} {
		other := *base
		change(&other)
		if why := diffLog(base, &other); !strings.HasPrefix(why, name) {
			t.Errorf("%s changed: diffLog = %q", name, why)
		}
	}
	same := *base
	same.AppendedAt = same.AppendedAt.In(time.FixedZone("X", 7200))
	if why := diffLog(base, &same); why != "" {
		t.Errorf("same instant in another zone: %q", why)
	}
}

// TestStoreLogsTooLarge: an entry over MaxEntrySize is refused before the
// log is cut or reset.
func TestStoreLogsTooLarge(t *testing.T) {
	o := memOpts(vfs.NewMem())
	o.Log.MaxEntrySize = 100
	s := mustOpen(t, memDir, o)
	defer mustClose(t, s)
	m := newModel()
	must(t, storeLogs(entries(1, 10, 1))(s, &m))
	big := entry(5, 2)
	big.Data = make([]byte, 100)
	if err := s.StoreLogs([]*raft.Log{entry(4, 2), big}); !errors.Is(err, wal.ErrTooLarge) {
		t.Fatalf("StoreLogs with a large entry = %v, want wal.ErrTooLarge", err)
	}
	m.check(t, s)
}

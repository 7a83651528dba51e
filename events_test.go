package wal_test

import (
	"bytes"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wal "github.com/waldb/wal"
	"github.com/waldb/wal/internal/invariants"
	"github.com/waldb/wal/record"
	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// recorder collects every event.
type recorder struct {
	mu        sync.Mutex
	writes    []wal.WriteInfo
	syncs     []wal.SyncInfo
	stalls    []wal.StallInfo
	sealed    []wal.SegmentInfo
	truncs    []wal.TruncateInfo
	recovered []wal.Report
	failed    []error
}

func (r *recorder) listener() *wal.EventListener {
	return &wal.EventListener{
		WriteEnd:      func(i wal.WriteInfo) { r.mu.Lock(); r.writes = append(r.writes, i); r.mu.Unlock() },
		SyncEnd:       func(i wal.SyncInfo) { r.mu.Lock(); r.syncs = append(r.syncs, i); r.mu.Unlock() },
		SyncStall:     func(i wal.StallInfo) { r.mu.Lock(); r.stalls = append(r.stalls, i); r.mu.Unlock() },
		SegmentSealed: func(i wal.SegmentInfo) { r.mu.Lock(); r.sealed = append(r.sealed, i); r.mu.Unlock() },
		Truncated:     func(i wal.TruncateInfo) { r.mu.Lock(); r.truncs = append(r.truncs, i); r.mu.Unlock() },
		Recovered:     func(i wal.Report) { r.mu.Lock(); r.recovered = append(r.recovered, i); r.mu.Unlock() },
		Failed:        func(err error) { r.mu.Lock(); r.failed = append(r.failed, err); r.mu.Unlock() },
	}
}

// TestEventListenerReports drives a log through writes, rotations,
// truncations, a reopen and a failure, and checks what the listener saw.
func TestEventListenerReports(t *testing.T) {
	fs := vfs.NewMem()
	var rec recorder
	opts := &wal.Options{FS: fs, SegmentSize: 2048, EventListener: rec.listener()}
	l, err := wal.Open("/log", opts)
	if err != nil {
		t.Fatal(err)
	}
	const n, size = 150, 100
	data := bytes.Repeat([]byte{'x'}, size)
	for range n {
		if _, err := l.Append(data); err != nil {
			t.Fatal(err)
		}
	}
	entries, bytesOut := 0, 0
	for _, w := range rec.writes {
		if w.Err != nil || w.Duration < 0 || w.Segment == "" {
			t.Fatalf("write %+v", w)
		}
		entries += w.Entries
		bytesOut += w.Bytes
	}
	if entries != n {
		t.Errorf("WriteEnd reported %d entries, want %d", entries, n)
	}
	if min := n * (record.HeaderSize + size); bytesOut < min {
		t.Errorf("WriteEnd reported %d bytes, want at least %d", bytesOut, min)
	}
	// SyncAlways with one writer: one fdatasync per append at least.
	if len(rec.syncs) < n {
		t.Errorf("%d SyncEnd events for %d synced appends", len(rec.syncs), n)
	}
	for _, s := range rec.syncs {
		if s.Err != nil || s.Duration < 0 {
			t.Fatalf("sync %+v", s)
		}
	}
	segs := l.Segments()
	if len(rec.sealed) != len(segs)-1 || len(rec.sealed) < 5 {
		t.Errorf("%d SegmentSealed events, %d segments", len(rec.sealed), len(segs))
	}
	for i, s := range rec.sealed {
		if s.Name != segs[i].Name || s.FirstIndex != segs[i].FirstIndex || s.LastIndex != segs[i].LastIndex {
			t.Errorf("sealed event %d: %+v, segment %+v", i, s, segs[i])
		}
	}
	if err := l.TruncateFront(50); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateBack(10); !errors.Is(err, wal.ErrOutOfRange) {
		t.Fatalf("TruncateBack(10) = %v", err)
	}
	if err := l.Reset(1000); err != nil {
		t.Fatal(err)
	}
	want := []wal.TruncateInfo{{Op: "front", Index: 50}, {Op: "back", Index: 10}, {Op: "reset", Index: 1000}}
	if len(rec.truncs) != 3 {
		t.Fatalf("truncations %+v", rec.truncs)
	}
	for i, w := range want {
		if g := rec.truncs[i]; g.Op != w.Op || g.Index != w.Index || (g.Err != nil) != (i == 1) {
			t.Errorf("truncation %d: %+v, want %+v", i, g, w)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(rec.recovered) != 1 || rec.recovered[0].State != wal.RecoveryNew {
		t.Fatalf("recovered %+v", rec.recovered)
	}

	// Reopen over a filesystem whose fdatasyncs fail.
	var failSyncs atomic.Bool
	failing := errorfs.Wrap(fs, errorfs.InjectorFunc(func(op errorfs.Op, _ string) error {
		if op == errorfs.OpSync && failSyncs.Load() {
			return errors.New("injected EIO")
		}
		return nil
	}))
	rec = recorder{}
	l, err = wal.Open("/log", &wal.Options{FS: fs, EventListener: rec.listener()})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if len(rec.recovered) != 1 || rec.recovered[0].State != wal.RecoveryClean {
		t.Fatalf("recovered %+v", rec.recovered)
	}
	rec = recorder{}
	opts = &wal.Options{FS: failing, EventListener: rec.listener(), NoPreallocate: true}
	if l, err = wal.Open("/log", opts); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	failSyncs.Store(true)
	if _, err := l.Append(data); !errors.Is(err, wal.ErrFailed) {
		t.Fatalf("Append = %v, want ErrFailed", err)
	}
	if len(rec.failed) != 1 || !strings.Contains(rec.failed[0].Error(), "injected EIO") {
		t.Fatalf("failed %v", rec.failed)
	}
	if len(rec.syncs) == 0 || rec.syncs[len(rec.syncs)-1].Err == nil {
		t.Fatalf("last SyncEnd %+v, want the error", rec.syncs)
	}
}

// gateFS blocks every File.Sync while armed, until released.
type gateFS struct {
	vfs.FS
	armed   atomic.Bool
	entered chan struct{} // a Sync is blocked
	release chan struct{}
}

type gateFile struct {
	vfs.File
	g *gateFS
}

func (g *gateFS) Create(name string) (vfs.File, error) {
	f, err := g.FS.Create(name)
	return gateFile{f, g}, err
}

func (g *gateFS) OpenReadWrite(name string) (vfs.File, error) {
	f, err := g.FS.OpenReadWrite(name)
	return gateFile{f, g}, err
}

func (f gateFile) Sync() error {
	if f.g.armed.CompareAndSwap(true, false) {
		f.g.entered <- struct{}{}
		<-f.g.release
	}
	return f.File.Sync()
}

// TestSlowSyncReportedWhileStalled: an fdatasync blocked past the
// threshold is reported, to the listener and the logger, before it
// returns; concurrent writers meanwhile form one group commit.
func TestSlowSyncReportedWhileStalled(t *testing.T) {
	g := &gateFS{FS: vfs.NewMem(), entered: make(chan struct{}), release: make(chan struct{})}
	stalled := make(chan wal.StallInfo, 16)
	var logBuf syncBuffer
	var rec recorder
	el := rec.listener()
	el.SyncStall = func(i wal.StallInfo) {
		select {
		case stalled <- i:
		default: // reported again while the test looks elsewhere
		}
	}
	l, err := wal.Open("/log", &wal.Options{
		FS: g, EventListener: el, SlowSyncThreshold: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logBuf, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(g.release) }) }
	defer release() // before Close, should the test fail with a sync blocked
	if _, err := l.Append([]byte("warm")); err != nil {
		t.Fatal(err)
	}

	g.armed.Store(true)
	var returned atomic.Int32
	var wg sync.WaitGroup
	appendOne := func() {
		defer wg.Done()
		if _, err := l.Append([]byte("entry")); err != nil {
			t.Error(err)
		}
		returned.Add(1)
	}
	wg.Add(1)
	go appendOne()
	<-g.entered // the first writer's fdatasync is blocked
	const crowd = 8
	wg.Add(crowd)
	for range crowd {
		go appendOne()
	}
	var info wal.StallInfo
	select {
	case info = <-stalled:
	case <-time.After(30 * time.Second):
		t.Fatal("no stall reported while the fdatasync was blocked")
	}
	if n := returned.Load(); n != 0 {
		t.Fatalf("%d appends returned while their fdatasync was blocked", n)
	}
	if info.Elapsed < 20*time.Millisecond || info.Segment == "" {
		t.Fatalf("stall %+v", info)
	}
	if !strings.Contains(logBuf.String(), "fdatasync is slow and still running") {
		t.Fatalf("log:\n%s", logBuf.String())
	}
	// Release once the crowd's entries are all in the buffer (LastIndex
	// counts an entry when it is encoded, before its writer waits).
	deadline := time.Now().Add(30 * time.Second)
	for last, _ := l.LastIndex(); last < 2+crowd; last, _ = l.LastIndex() {
		if time.Now().After(deadline) {
			t.Fatalf("only %d entries encoded", last)
		}
		runtime.Gosched()
	}
	release()
	wg.Wait()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	biggest := 0
	for _, w := range rec.writes {
		biggest = max(biggest, w.Entries)
	}
	if biggest != crowd {
		t.Errorf("largest group commit %d entries, want the %d writers that waited", biggest, crowd)
	}
	last := rec.syncs[len(rec.syncs)-1]
	for _, s := range rec.syncs {
		if s.Duration >= info.Elapsed {
			last = s
		}
	}
	if last.Duration < info.Elapsed {
		t.Errorf("no SyncEnd lasted as long as the reported stall (%v)", info.Elapsed)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAppendAllocsWithListener: reporting events and watching for stalls
// keeps Append allocation-free.
func TestAppendAllocsWithListener(t *testing.T) {
	if invariants.Enabled {
		t.Skip("invariant checks allocate; run without -tags invariants")
	}
	var writes, syncs atomic.Int64
	el := &wal.EventListener{
		WriteEnd: func(i wal.WriteInfo) { writes.Add(int64(i.Entries)) },
		SyncEnd:  func(wal.SyncInfo) { syncs.Add(1) },
	}
	for _, policy := range []wal.SyncPolicy{wal.SyncAlways, wal.SyncNever} {
		l, err := wal.Open(t.TempDir(), &wal.Options{SyncPolicy: policy, EventListener: el,
			Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
		if err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte{1}, 128)
		for range 2000 {
			if _, err := l.Append(data); err != nil {
				t.Fatal(err)
			}
		}
		if a := testing.AllocsPerRun(500, func() { l.Append(data) }); a != 0 {
			t.Errorf("Append under %v with a listener: %v allocations per call, want 0", policy, a)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if writes.Load() == 0 || syncs.Load() == 0 {
		t.Fatalf("listener saw %d entries written, %d syncs", writes.Load(), syncs.Load())
	}
}

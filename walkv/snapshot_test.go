package walkv

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// fill sets keys prefix0..prefix(n-1) to values of size bytes and checks
// the replies.
func (e *env) fill(prefix string, n, size int) {
	e.t.Helper()
	pipe := e.c.Pipeline()
	for i := range n {
		pipe.Set(e.t.Context(), fmt.Sprint(prefix, i), value(prefix, i, size), 0)
	}
	if _, err := pipe.Exec(e.t.Context()); err != nil {
		e.t.Fatalf("fill %s: %v", prefix, err)
	}
}

// value is the deterministic value of key prefix+i.
func value(prefix string, i, size int) string {
	v := fmt.Sprintf("%s-%d-", prefix, i)
	return v + strings.Repeat("x", max(0, size-len(v)))
}

// check verifies the keys fill wrote.
func (e *env) check(prefix string, n, size int) {
	e.t.Helper()
	for i := range n {
		if got := e.do(fmt.Sprint("GET ", prefix, i)); got != value(prefix, i, size) {
			e.t.Fatalf("GET %s%d = %v", prefix, i, got)
		}
	}
}

// segments counts the log's segment files.
func (e *env) segments() int {
	e.t.Helper()
	names, err := e.opts.FS.List(filepath.Join(e.dir, logDirName))
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, name := range names {
		if strings.HasSuffix(name, ".wal") {
			n++
		}
	}
	return n
}

func (e *env) snapshots() []uint64 {
	e.t.Helper()
	ids, _, err := e.db.snapFiles()
	if err != nil {
		e.t.Fatal(err)
	}
	return ids
}

func TestSnapshotTruncatesLog(t *testing.T) {
	e := newEnv(t, &Options{SegmentSize: 4 << 10, SnapshotLogBytes: -1})
	e.fill("a", 300, 100)
	before := e.segments()
	first, _ := e.db.log.FirstIndex()
	e.runSteps([]step{{"SAVE", "OK"}})
	after := e.segments()
	first2, _ := e.db.log.FirstIndex()
	if before < 5 || after > 2 || first2 <= first {
		t.Fatalf("segments %d -> %d, first index %d -> %d", before, after, first, first2)
	}
	if ids := e.snapshots(); len(ids) != 1 || ids[0] != 300 {
		t.Fatalf("snapshots %v, want [300]", ids)
	}
	e.fill("b", 50, 100)
	e.restart()
	e.check("a", 300, 100)
	e.check("b", 50, 100)
	e.runSteps([]step{{"DBSIZE", 350}, {"SAVE", "OK"}, {"SAVE", "OK"}})
	if ids := e.snapshots(); len(ids) != 1 || ids[0] != 350 {
		t.Fatalf("snapshots %v after two more SAVEs", ids)
	}
	e.fill("c", 200, 100) // segments written after a restart are truncated too
	e.runSteps([]step{{"SAVE", "OK"}})
	if n := e.segments(); n > 2 {
		t.Fatalf("%d segments after a SAVE following a restart", n)
	}
	e.restart()
	e.check("b", 50, 100)
	e.check("c", 200, 100)
}

// waitSnapIdle waits until no background snapshot is pending or running.
func (e *env) waitSnapIdle() {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for idle := 0; idle < 2; time.Sleep(time.Millisecond) {
		if len(e.db.snap.req) == 0 && !e.db.snap.running.Load() {
			idle++
		} else {
			idle = 0
		}
		if time.Now().After(deadline) {
			e.t.Fatal("background snapshots did not settle in 10s")
		}
	}
}

// TestAutoSnapshot: snapshots follow log growth and keep the log's disk
// use bounded (about SnapshotLogBytes plus a segment), and everything
// survives a restart.
func TestAutoSnapshot(t *testing.T) {
	e := newEnv(t, &Options{SegmentSize: 4 << 10, SnapshotLogBytes: 16 << 10})
	maxSegs := 0
	for round := range 20 { // about 8.5 KiB of log per round, 170 KiB in all
		e.fill(fmt.Sprint("r", round, "-"), 50, 100)
		e.waitSnapIdle()
		maxSegs = max(maxSegs, e.segments())
	}
	if n := e.db.snap.count.Load(); n < 8 || maxSegs > 9 {
		t.Fatalf("%d automatic snapshots, up to %d segments", n, maxSegs)
	}
	e.restart()
	for round := range 20 {
		e.check(fmt.Sprint("r", round, "-"), 50, 100)
	}
}

func TestBgsave(t *testing.T) {
	e := newEnv(t, &Options{SnapshotLogBytes: -1})
	e.fill("k", 10, 10)
	e.runSteps([]step{{"BGSAVE", "Background saving started"}})
	deadline := time.Now().Add(5 * time.Second)
	for e.db.snap.count.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("BGSAVE never finished")
		}
		time.Sleep(time.Millisecond)
	}
	e.runSteps([]step{{"BGREWRITEAOF", "Background append only file rewriting started"}, {"BGSAVE SCHEDULE", "~"}})
	info := e.do("INFO persistence").(string)
	for _, want := range []string{"aof_enabled:1", "appendfsync:always", "rdb_last_bgsave_status:ok", "walkv_snapshot_txn:10"} {
		if !strings.Contains(info, want) {
			t.Fatalf("INFO persistence lacks %q:\n%s", want, info)
		}
	}
}

// TestSnapshotWhileWriting: writers keep going during snapshots; a
// power loss afterwards keeps every acknowledged write.
func TestSnapshotWhileWriting(t *testing.T) {
	fs := vfs.NewMem()
	e := newEnv(t, &Options{FS: fs, SegmentSize: 4 << 10, SnapshotLogBytes: 8 << 10})
	var acked atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		c := e.client()
		wg.Go(func() {
			for i := range 150 {
				if err := c.Set(t.Context(), fmt.Sprint("w", w, "-", i), i, 0).Err(); err != nil {
					t.Error(err)
					return
				}
				acked.Add(1)
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if err := e.db.Snapshot(); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	img := fs.CrashClone(vfs.CrashOptions{})
	e.stop()
	e2 := newEnv(t, &Options{FS: img, SegmentSize: 4 << 10})
	for w := range 4 {
		for i := range 150 {
			if got := e2.do(fmt.Sprint("GET w", w, "-", i)); got != fmt.Sprint(i) {
				t.Fatalf("w%d-%d = %v after crash", w, i, got)
			}
		}
	}
}

// TestSnapshotCrashAtEveryStep simulates a power loss at every filesystem
// operation of a snapshot, with unsynced data kept or dropped at random,
// while a client keeps writing: the recovered database always holds every
// write acknowledged before the crash, and nothing that was never sent.
func TestSnapshotCrashAtEveryStep(t *testing.T) {
	mem := vfs.NewMem()
	type image struct {
		fs    *vfs.MemFS
		acked int64
		at    string
	}
	var (
		mu        sync.Mutex
		images    []image
		capturing atomic.Bool
		acked     atomic.Int64
		seed      uint64
	)
	inj := errorfs.InjectorFunc(func(op errorfs.Op, path string) error {
		if !capturing.Load() {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		n := acked.Load() // acknowledged before the crash point
		seed++
		keep := []float64{0, 0.5, 1}[seed%3]
		img := mem.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: keep, KeepUnsyncedDirOps: keep, Rand: rand.New(rand.NewPCG(seed, 1))})
		images = append(images, image{img, n, fmt.Sprintf("before %s %s (keep %v)", op, path, keep)})
		return nil
	})
	opts := Options{FS: errorfs.Wrap(mem, inj), SegmentSize: 4 << 10, SnapshotLogBytes: -1}
	e := newEnv(t, &opts)
	e.fill("old", 100, 50)
	acked.Store(0)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		c := e.client()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := c.Set(t.Context(), fmt.Sprint("new", i), i, 0).Err(); err != nil {
				t.Error(err)
				return
			}
			acked.Store(int64(i + 1))
		}
	})
	capturing.Store(true)
	for range 2 {
		if err := e.db.Snapshot(); err != nil {
			t.Fatal(err)
		}
	}
	capturing.Store(false)
	close(stop)
	wg.Wait()
	e.stop()
	t.Logf("%d crash images", len(images))
	for i, img := range images {
		db, err := Open(testDir, &Options{FS: img.fs, SegmentSize: 4 << 10})
		if err != nil {
			t.Fatalf("image %d, %s: Open: %v\nlive FS before: %v\nimage: %v", i, img.at, err, images[max(i-1, 0)].fs, img.fs)
		}
		db.mu.RLock()
		for j := range 100 {
			if it := db.dbs[0].lookup(fmt.Sprint("old", j)); it == nil || string(it.str) != value("old", j, 50) {
				t.Fatalf("image %d: old%d lost", i, j)
			}
		}
		for j := range img.acked {
			if it := db.dbs[0].lookup(fmt.Sprint("new", j)); it == nil || string(it.str) != fmt.Sprint(j) {
				t.Fatalf("image %d: acknowledged new%d lost (acked %d)", i, j, img.acked)
			}
		}
		if n := db.dbs[0].len(); int64(n) > 100+img.acked+1 { // +1: a write in flight
			t.Fatalf("image %d: %d keys, more than were sent", i, n)
		}
		db.mu.RUnlock()
		if err := db.Close(); err != nil {
			t.Fatalf("image %d: Close: %v", i, err)
		}
	}
}

func TestCorruptSnapshot(t *testing.T) {
	tests := []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"flipped byte", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-3] }},
		{"trailing garbage", func(b []byte) []byte { return append(b, 0) }},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }},
		{"empty", func(b []byte) []byte { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := vfs.NewMem()
			e := newEnv(t, &Options{FS: fs, SnapshotLogBytes: -1})
			e.fill("k", 20, 20)
			e.runSteps([]step{{"HSET h f v", 1}, {"SAVE", "OK"}})
			e.stop()
			name := filepath.Join(testDir, snapName(21))
			rewrite(t, fs, name, tt.damage(readAll(t, fs, name)))
			if _, err := Open(testDir, &Options{FS: fs, SegmentSize: 256 << 10}); !errors.Is(err, ErrCorruptSnapshot) {
				t.Fatalf("Open = %v, want ErrCorruptSnapshot", err)
			}
		})
	}
}

// TestLeftoverTempIgnored: a temporary snapshot file left by a crash is
// deleted at Open and never loaded.
func TestLeftoverTempIgnored(t *testing.T) {
	fs := vfs.NewMem()
	e := newEnv(t, &Options{FS: fs})
	e.fill("k", 5, 5)
	e.stop()
	tmp := filepath.Join(testDir, snapName(99)+tmpSuffix)
	rewrite(t, fs, tmp, []byte("half a snapshot"))
	e.start()
	e.check("k", 5, 5)
	if _, err := fs.Stat(tmp); err == nil {
		t.Fatal("temporary snapshot file still there")
	}
}

func readAll(t *testing.T, fs vfs.FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, _ := f.Size()
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

func rewrite(t *testing.T, fs vfs.FS, name string, b []byte) {
	t.Helper()
	f, err := fs.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(f.Sync(), fs.SyncDir(testDir)); err != nil {
		t.Fatal(err)
	}
}

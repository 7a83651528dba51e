package walkv

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// TestPowerLossAlwaysListsSets: under appendfsync always, a power loss at
// any moment keeps every acknowledged list push and pop and set add, in
// order, while clients write concurrently and snapshots are taken; and
// nothing that was not sent is recovered.
func TestPowerLossAlwaysListsSets(t *testing.T) {
	const clients, perClient = 4, 150
	mem := vfs.NewMem()
	e := newEnv(t, &Options{FS: mem, SegmentSize: 16 << 10, SnapshotLogBytes: 16 << 10})
	acks := ackLog{acked: make([]atomic.Int64, clients), sent: make([]atomic.Int64, clients)}
	type image struct {
		fs    *vfs.MemFS
		acked []int64
	}
	var images []image
	var wg sync.WaitGroup
	for w := range clients {
		c := e.client()
		wg.Go(func() {
			list, set := fmt.Sprint("L", w), fmt.Sprint("S", w)
			for i := range perClient {
				acks.sent[w].Store(int64(i + 1))
				var err error
				switch i % 3 {
				case 0: // push i; the pop two writes later takes it
					err = c.RPush(t.Context(), list, i, "keep").Err()
				case 1:
					err = c.SAdd(t.Context(), set, i).Err()
				default:
					err = c.LPop(t.Context(), list).Err()
				}
				if err != nil {
					t.Error(err)
					return
				}
				acks.acked[w].Store(int64(i + 1))
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-time.After(time.Duration(rand.IntN(3000)) * time.Microsecond):
		}
		img := image{acked: make([]int64, clients)}
		for w := range clients {
			img.acked[w] = acks.acked[w].Load()
		}
		img.fs = mem.CrashClone(vfs.CrashOptions{})
		images = append(images, img)
	}
	e.stop()
	t.Logf("%d crash images", len(images))
	for k, img := range images {
		db, err := Open(testDir, &Options{FS: img.fs, SegmentSize: 16 << 10})
		if err != nil {
			t.Fatalf("image %d: %v", k, err)
		}
		db.mu.RLock()
		for w := range clients {
			checkListSetClient(t, db, k, w, img.acked[w], acks.sent[w].Load())
		}
		db.mu.RUnlock()
		db.Close()
	}
}

// checkListSetClient checks client w's list and set in a recovered db:
// the list must be exactly what some count n of its writes, with
// acked <= n <= sent, leaves; the set holds every acknowledged member and
// none not sent. REQUIRES: db.mu.
func checkListSetClient(t *testing.T, db *DB, img, w int, acked, sent int64) {
	t.Helper()
	var got []string
	if it := db.dbs[0].lookup(fmt.Sprint("L", w)); it != nil {
		for _, e := range it.list.elems() {
			got = append(got, string(e))
		}
	}
	ok := false
	for n := acked; n <= sent && !ok; n++ {
		ok = slices.Equal(got, listAfter(n))
	}
	if !ok {
		t.Fatalf("image %d client %d: list %q matches no prefix of %d..%d writes", img, w, got, acked, sent)
	}
	set := db.dbs[0].lookup(fmt.Sprint("S", w))
	for i := int64(1); i < max(acked, sent); i += 3 {
		present := set != nil && set.has(strconv.FormatInt(i, 10))
		switch {
		case i < acked && !present:
			t.Fatalf("image %d client %d: acknowledged SADD %d lost", img, w, i)
		case i >= sent && present:
			t.Fatalf("image %d client %d: SADD %d recovered but never sent", img, w, i)
		}
	}
}

// listAfter is client list after its first n writes: each push adds i and
// "keep", each pop removes the head.
func listAfter(n int64) []string {
	var l []string
	for i := range n {
		switch i % 3 {
		case 0:
			l = append(l, strconv.FormatInt(i, 10), "keep")
		case 2:
			l = l[1:]
		}
	}
	return l
}

// TestSnapshotCrashAtEveryStepAllTypes simulates a power loss at every
// filesystem operation of snapshots holding every type (a string, a hash,
// a list of several chunks, a set), with unsynced data kept or dropped,
// while a client pushes to a list and adds to a set: every image recovers
// the prefilled keys exactly and every acknowledged write.
func TestSnapshotCrashAtEveryStepAllTypes(t *testing.T) {
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
		n := acked.Load()
		seed++
		keep := []float64{0, 0.5, 1}[seed%3]
		img := mem.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: keep, KeepUnsyncedDirOps: keep, Rand: rand.New(rand.NewPCG(seed, 1))})
		images = append(images, image{img, n, fmt.Sprintf("before %s %s (keep %v)", op, path, keep)})
		return nil
	})
	opts := Options{FS: errorfs.Wrap(mem, inj), SegmentSize: 4 << 10, SnapshotLogBytes: -1}
	e := newEnv(t, &opts)
	c := dialResp(t, e.srv.Addr().String())
	mustDo(t, c, "SET", "s", "string")
	mustDo(t, c, "HSET", "h", "f1", "v1", "f2", "v2")
	push := []string{"RPUSH", "l"}
	for i := range 300 {
		push = append(push, strconv.Itoa(i))
	}
	mustDo(t, c, push...)
	mustDo(t, c, "LSET", "l", "150", "middle")
	mustDo(t, c, "SADD", "st", "a", "b", "c")
	want := dumpKeyspace(e.db)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		w := dialResp(t, e.srv.Addr().String())
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			for _, cmd := range [][]string{{"RPUSH", "lw", strconv.Itoa(i)}, {"SADD", "sw", strconv.Itoa(i)}} {
				if v, err := w.do(cmd...); err != nil || showReply(v) != "1" && cmd[0] == "SADD" {
					t.Errorf("%q: %v %v", cmd, showReply(v), err)
					return
				}
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
			t.Fatalf("image %d, %s: Open: %v", i, img.at, err)
		}
		db.mu.Lock()
		lw, sw := db.dbs[0].remove("lw"), db.dbs[0].remove("sw") // checked apart
		db.mu.Unlock()
		if got := dumpKeyspace(db); got != want {
			t.Fatalf("image %d, %s: prefilled keys\n%s\nwant\n%s", i, img.at, got, want)
		}
		var elems [][]byte
		if lw != nil {
			elems = lw.list.elems()
		}
		if int64(len(elems)) < img.acked {
			t.Fatalf("image %d, %s: %d pushes recovered, %d acknowledged", i, img.at, len(elems), img.acked)
		}
		for j, e := range elems {
			if string(e) != strconv.Itoa(j) {
				t.Fatalf("image %d: element %d is %q", i, j, e)
			}
		}
		for j := range img.acked {
			if !sw.has(strconv.FormatInt(j, 10)) {
				t.Fatalf("image %d, %s: acknowledged SADD %d lost", i, img.at, j)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatalf("image %d: Close: %v", i, err)
		}
	}
}

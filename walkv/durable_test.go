package walkv

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// ackLog records, per client, how many of its sequential writes were
// acknowledged and how many were sent (a write is counted as sent before
// it is sent, and acknowledged after its reply arrived).
type ackLog struct {
	acked, sent []atomic.Int64
}

// TestPowerLossAlways: under appendfsync always, a power loss at any
// moment keeps every write acknowledged before it, while many clients
// write concurrently (strings, counters, hashes), and invents nothing.
func TestPowerLossAlways(t *testing.T) {
	const clients, perClient = 6, 120
	mem := vfs.NewMem()
	e := newEnv(t, &Options{FS: mem, SegmentSize: 16 << 10, SnapshotLogBytes: 32 << 10})
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
			for i := range perClient {
				acks.sent[w].Store(int64(i + 1))
				var err error
				switch i % 3 {
				case 0:
					err = c.Set(t.Context(), fmt.Sprint("s", w, "-", i), i, 0).Err()
				case 1:
					err = c.Incr(t.Context(), fmt.Sprint("n", w)).Err()
				default:
					err = c.HSet(t.Context(), fmt.Sprint("h", w), fmt.Sprint(i), i).Err()
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
			img.acked[w] = acks.acked[w].Load() // acknowledged before the crash
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
			checkClient(t, db, k, w, img.acked[w], acks.sent[w].Load(), perClient)
		}
		db.mu.RUnlock()
		db.Close()
	}
}

// checkClient verifies client w's writes in a recovered db: the first
// acked are all present, and nothing the client had not sent yet exists.
// REQUIRES: db.mu.
func checkClient(t *testing.T, db *DB, img, w int, acked, sent, total int64) {
	t.Helper()
	counter := int64(0)
	if it := db.dbs[0].lookup(fmt.Sprint("n", w)); it != nil {
		counter, _ = parseInt(it.str)
	}
	for i := range total {
		var ok bool
		switch i % 3 {
		case 0:
			it := db.dbs[0].lookup(fmt.Sprint("s", w, "-", i))
			ok = it != nil && string(it.str) == fmt.Sprint(i)
		case 1:
			ok = counter >= i/3+1
		default:
			_, ok = db.dbs[0].lookup(fmt.Sprint("h", w)).field(fmt.Sprint(i))
		}
		switch {
		case i < acked && !ok:
			t.Fatalf("image %d client %d: acknowledged write %d lost (%d acknowledged)", img, w, i, acked)
		case i >= sent && ok:
			t.Fatalf("image %d client %d: write %d recovered but never sent (%d sent)", img, w, i, sent)
		}
	}
}

// TestReadWaitsForDurability: under always, a read that sees another
// client's write is not answered before that write is durable.
func TestReadWaitsForDurability(t *testing.T) {
	mem := vfs.NewMem()
	var gate atomic.Pointer[chan struct{}] // set: fsyncs block until it is closed
	inj := errorfs.InjectorFunc(func(op errorfs.Op, path string) error {
		if ch := gate.Load(); ch != nil && op == errorfs.OpSync {
			<-*ch
		}
		return nil
	})
	e := newEnv(t, &Options{FS: errorfs.Wrap(mem, inj)})
	reader := e.client()
	e.do("PING")
	doWith(t, reader, "PING")
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open() // a failing test must not leave the log's fsyncs blocked
	gate.Store(&release)
	wrote := make(chan any, 1)
	go func() { wrote <- doWith(t, e.c, "SET", "k", "v") }()
	deadline := time.Now().Add(5 * time.Second)
	for e.db.dur.logged.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // wait until the SET is applied and logged
	}
	read := make(chan any, 1)
	go func() { read <- doWith(t, reader, "GET", "k") }()
	select {
	case v := <-read:
		t.Fatalf("GET answered %v while the write was not durable", v)
	case v := <-wrote:
		t.Fatalf("SET answered %v while not durable", v)
	case <-time.After(50 * time.Millisecond):
	}
	open()
	if v := <-wrote; v != "OK" {
		t.Fatalf("SET = %v", v)
	}
	if v := <-read; v != "v" {
		t.Fatalf("GET = %v", v)
	}
}

// TestFailStop: when the log cannot fsync, the waiting client gets no
// acknowledgement (its connection drops), every later command is refused,
// and a restart recovers exactly what was durable.
func TestFailStop(t *testing.T) {
	mem := vfs.NewMem()
	var failing atomic.Bool
	inj := errorfs.InjectorFunc(func(op errorfs.Op, path string) error {
		if failing.Load() && op == errorfs.OpSync {
			return syscall.EIO
		}
		return nil
	})
	e := newEnv(t, &Options{FS: errorfs.Wrap(mem, inj), SnapshotLogBytes: -1})
	e.runSteps([]step{{"SET a 1", "OK"}})
	failing.Store(true)
	err := e.c.Set(t.Context(), "b", "2", 0).Err()
	if err == nil {
		t.Fatal("SET acknowledged although its fsync failed")
	}
	other := e.client()
	for _, cmd := range []string{"GET a", "SET c 3", "MULTI"} {
		got := doWith(t, other, words(cmd)...)
		if cmd == "MULTI" {
			got = doWith(t, other, "EXEC")
		}
		if s, _ := got.(string); !errors.Is(e.db.isFailed(), ErrFailed) || len(s) < 4 || s[:4] != "ERR:" {
			t.Fatalf("%s after the failure = %v", cmd, got)
		}
	}
	if v := doWith(t, other, "PING"); v != "PONG" {
		t.Fatalf("PING = %v", v)
	}
	failing.Store(false)
	e.stop()
	img := mem.CrashClone(vfs.CrashOptions{})
	e2 := newEnv(t, &Options{FS: img})
	e2.runSteps([]step{{"GET a", "1"}, {"GET c", nil}})
}

// TestEverysec: under everysec, writes become durable within about a
// second without any client waiting.
func TestEverysec(t *testing.T) {
	mem := vfs.NewMem()
	e := newEnv(t, &Options{FS: mem, AppendFsync: FsyncEverysec})
	e.fill("k", 20, 10)
	deadline := time.Now().Add(5 * time.Second)
	for {
		img := mem.CrashClone(vfs.CrashOptions{})
		db, err := Open(testDir, &Options{FS: img, SegmentSize: 256 << 10})
		if err != nil {
			t.Fatal(err)
		}
		n := db.dbs[0].len()
		db.Close()
		if n == 20 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 20 writes durable after 5s under everysec", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBlockedPopWaitsForDurability: under appendfsync always, a client
// woken from BLPOP by another client's push gets its reply only once the
// pop's transaction is durable (blocking.go), like every other reply.
func TestBlockedPopWaitsForDurability(t *testing.T) {
	mem := vfs.NewMem()
	var gate atomic.Pointer[chan struct{}] // set: fsyncs block until it is closed
	inj := errorfs.InjectorFunc(func(op errorfs.Op, path string) error {
		if ch := gate.Load(); ch != nil && op == errorfs.OpSync {
			<-*ch
		}
		return nil
	})
	e := newEnv(t, &Options{FS: errorfs.Wrap(mem, inj)})
	waiter := e.client()
	e.do("PING")
	doWith(t, waiter, "PING")
	popped := make(chan any, 1)
	go func() { popped <- doWith(t, waiter, "BLPOP", "l", "0") }()
	waitBlocked(t, e.db, "l", 1)
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()                   // a failing test must not leave the log's fsyncs blocked
	base := e.db.dur.lastID.Load() // transactions committed
	gate.Store(&release)
	pushed := make(chan any, 1)
	go func() { pushed <- doWith(t, e.c, "RPUSH", "l", "a") }()
	deadline := time.Now().Add(5 * time.Second)
	for e.db.dur.lastID.Load() < base+2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // wait until the push and the pop are logged
	}
	if got := e.db.dur.lastID.Load(); got < base+2 {
		t.Fatalf("transaction %d committed, want the push and the pop after %d", got, base)
	}
	select {
	case v := <-popped:
		t.Fatalf("BLPOP answered %v while its pop was not durable", v)
	case v := <-pushed:
		t.Fatalf("RPUSH answered %v while not durable", v)
	case <-time.After(50 * time.Millisecond):
	}
	open()
	if v := <-pushed; v != int64(1) {
		t.Fatalf("RPUSH = %v", v)
	}
	if v := fmt.Sprint(<-popped); v != "[l a]" {
		t.Fatalf("BLPOP = %v", v)
	}
	e.restart()
	e.runSteps([]step{{"LLEN l", int64(0)}})
}

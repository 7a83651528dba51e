package walkv

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/redcon"
	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// TestLoopGroupCommit: under appendfsync always, clients whose writes
// arrive while an fsync runs share the next one, and each gets its reply
// only after it; a client that leaves before its reply (the one whose
// request scheduled the first round) holds up nobody. Each fsync takes
// 20 ms, so without sharing the 19 late writes would cost 19 of them.
func TestLoopGroupCommit(t *testing.T) {
	var syncs atomic.Int64
	var slow atomic.Bool
	inj := errorfs.InjectorFunc(func(op errorfs.Op, _ string) error {
		if op == errorfs.OpSync && slow.Load() {
			syncs.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
		return nil
	})
	e := newEnv(t, &Options{FS: errorfs.Wrap(vfs.NewMem(), inj)})
	const n = 20
	conns := make([]net.Conn, n)
	readers := make([]*bufio.Reader, n)
	for i := range n {
		conns[i], readers[i] = e.rawConn()
	}
	for i := range n { // every connection is registered with its loop
		fmt.Fprintf(conns[i], "PING\r\n")
		if line, err := readers[i].ReadString('\n'); err != nil || line != "+PONG\r\n" {
			t.Fatalf("client %d: PING: %q, %v", i, line, err)
		}
	}
	slow.Store(true)
	fmt.Fprintf(conns[0], "SET k0 v\r\n")
	conns[0].Close()
	time.Sleep(5 * time.Millisecond) // k0's fsync is running
	for i := 1; i < n; i++ {
		fmt.Fprintf(conns[i], "SET k%d v\r\n", i)
	}
	for i := 1; i < n; i++ {
		line, err := readers[i].ReadString('\n')
		if err != nil || line != "+OK\r\n" {
			t.Fatalf("client %d: reply %q, %v", i, line, err)
		}
	}
	slow.Store(false)
	if s := syncs.Load(); s > 4 {
		t.Fatalf("%d fsyncs for %d writes: the late ones did not share", s, n)
	}
	if got := e.do("DBSIZE"); got != int64(n) {
		t.Fatalf("DBSIZE = %v, want %d", got, n)
	}
}

// TestAcceptDuringFsync: while an event loop is kept in fsyncs under
// appendfsync always (a client pipelining writes without pause, each fsync
// 20 ms), new clients are accepted and registered together, not one per
// fsync (measured: 0-1 fsyncs pass while 20 clients connect and are
// served; 14 when the accept loop waited for each registration).
func TestAcceptDuringFsync(t *testing.T) {
	var syncs atomic.Int64
	inj := errorfs.InjectorFunc(func(op errorfs.Op, _ string) error {
		if op == errorfs.OpSync {
			syncs.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
		return nil
	})
	// Segments large enough that no rotation (more fsyncs) happens.
	e := newEnv(t, &Options{FS: errorfs.Wrap(vfs.NewMem(), inj), SegmentSize: 64 << 20})
	w, wr := e.rawConn()
	w.SetDeadline(time.Time{})
	stop := make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := io.WriteString(w, strings.Repeat("SET w v\r\n", 100)); err != nil {
				return
			}
		}
	})
	writer.Go(func() { _, _ = io.Copy(io.Discard, wr) })
	defer func() {
		close(stop)
		w.Close()
		writer.Wait()
	}()
	for syncs.Load() < 3 { // the loop is busy with the pipeline's fsyncs
		time.Sleep(time.Millisecond)
	}
	const n = 20
	start := syncs.Load()
	var clients sync.WaitGroup
	for i := range n {
		clients.Go(func() {
			c, r := e.rawConn()
			fmt.Fprintf(c, "PING\r\n")
			if line, err := r.ReadString('\n'); err != nil || line != "+PONG\r\n" {
				t.Errorf("client %d: PING: %q, %v", i, line, err)
			}
		})
	}
	clients.Wait()
	if d := syncs.Load() - start; d > 3 {
		t.Fatalf("%d clients took %d fsyncs to be served: accepted one per fsync", n, d)
	}
}

// TestPipelineTrickle: a pipeline that arrives in pieces of every size,
// split inside commands and arriving while earlier replies still wait
// for durability (appendfsync always), runs every command exactly once
// and answers in order.
func TestPipelineTrickle(t *testing.T) {
	for _, fsync := range []Fsync{FsyncAlways, FsyncNo} {
		t.Run(fsync.String(), func(t *testing.T) {
			e := newEnv(t, &Options{AppendFsync: fsync})
			c, r := e.rawConn()
			const n = 3000
			var req strings.Builder
			for i := range n {
				if i%2 == 0 {
					req.WriteString("INCR n\r\n") // inline
				} else {
					req.WriteString("*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n")
				}
			}
			go func() {
				rnd := rand.New(rand.NewPCG(1, 2))
				b := []byte(req.String())
				for len(b) > 0 {
					k := min(len(b), 1+rnd.IntN(64))
					if _, err := c.Write(b[:k]); err != nil {
						return
					}
					b = b[k:]
					if rnd.IntN(8) == 0 {
						time.Sleep(100 * time.Microsecond)
					}
				}
			}()
			for i := 1; i <= n; i++ {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatalf("reply %d: %v", i, err)
				}
				if want := fmt.Sprintf(":%d\r\n", i); line != want {
					t.Fatalf("reply %d = %q, want %q", i, line, want)
				}
			}
		})
	}
}

// TestLargeReplyWhileWaiting: a reply larger than the socket buffer,
// released after an fsync while the client is not reading, arrives whole
// and in order (the direct write stops short; the event loop sends the
// rest).
func TestLargeReplyWhileWaiting(t *testing.T) {
	e := newEnv(t, &Options{SegmentSize: 64 << 20})
	big := strings.Repeat("v", 8<<20)
	c, r := e.rawConn()
	req := fmt.Sprintf("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n%s\r\n*2\r\n$3\r\nGET\r\n$3\r\nbig\r\nPING\r\n", len(big), big)
	go c.Write([]byte(req))
	time.Sleep(300 * time.Millisecond) // let the server fill the socket
	want := "+OK\r\n$" + fmt.Sprint(len(big)) + "\r\n" + big + "\r\n+PONG\r\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("reply differs (len %d, want %d)", len(got), len(want))
	}
	e.runSteps([]step{{"STRLEN big", int64(len(big))}})
}

// TestClientsVanish: clients that send writes and disconnect at once,
// while their replies wait for durability, are cleaned up: the writes
// they sent whole are applied, Close returns, and DB.Close made them
// durable (a power loss after it keeps all of them).
func TestClientsVanish(t *testing.T) {
	e := newEnv(t, nil)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			c, _ := e.rawConn()
			fmt.Fprintf(c, "SET k%d v\r\nSET l%d v\r\n", i, i)
			c.Close()
		})
	}
	wg.Wait()
	// The writes were sent before the close, so each is applied once it
	// is read; wait for all to be.
	deadline := time.Now().Add(5 * time.Second)
	for e.do("DBSIZE") != int64(80) {
		if time.Now().After(deadline) {
			t.Fatalf("DBSIZE = %v, want 80", e.do("DBSIZE"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	db := e.db
	done := make(chan struct{})
	go func() {
		e.stop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs: a vanished connection was never cleaned up")
	}
	if n := db.stats.clients.Load(); n != 0 {
		t.Fatalf("connected_clients = %d after Close", n)
	}
	o := e.opts
	o.FS = e.opts.FS.(*vfs.MemFS).CrashClone(vfs.CrashOptions{})
	db2, err := Open(e.dir, &o)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if n := db2.dbs[0].n; n != 80 {
		t.Fatalf("%d keys after a power loss that followed Close, want 80", n)
	}
}

// TestPartialRequestAcrossReads: a request that arrives in pieces, split
// inside its length lines and its bulk strings, runs once complete.
func TestPartialRequestAcrossReads(t *testing.T) {
	e := newEnv(t, nil)
	c, r := e.rawConn()
	parts := []string{"*3\r\n$3\r\nS", "ET\r\n$1", "\r\nk\r\n$5\r\nhel", "lo\r\n"}
	for _, p := range parts {
		if _, err := c.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	line, err := r.ReadString('\n')
	if err != nil || line != "+OK\r\n" {
		t.Fatalf("reply %q, %v", line, err)
	}
	e.runSteps([]step{{"GET k", "hello"}})
}

// FuzzRequests feeds arbitrary bytes to a connection's request path (the
// limit scanner, the parser and every command) without the network: it
// never panics, answers requests that ran (unless one closed the
// connection: SHUTDOWN, QUIT), and a violation ends the connection.
func FuzzRequests(f *testing.F) {
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\n"))
	f.Add([]byte("MULTI\r\nINCR n\r\nHSET h f v\r\nEXEC\r\n"))
	f.Add([]byte("SET k v EX 10 GET\r\nTTL k\r\nSCAN 0 MATCH * COUNT 5\r\n"))
	f.Add([]byte("*1\r\n$99999999\r\n"))
	f.Add([]byte("\"unbalanced\r\n"))
	f.Add([]byte("WATCH k\r\nMULTI\r\nDEL k\r\nEXEC\r\nQUIT\r\nPING\r\n"))
	db, err := Open(testDir, &Options{FS: vfs.NewMem(), AppendFsync: FsyncNo, SegmentSize: 1 << 20, SnapshotLogBytes: -1, MaxBulk: 1 << 10})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	srv := &Server{db: db, done: make(chan struct{})} // SHUTDOWN closes done
	if err := srv.initLimits(); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("SHUTDOWN NOSAVE\r\nPING\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &conn{srv: srv, sc: reqScanner{maxBulk: int64(db.opts.MaxBulk)}}
		n, verr := c.sc.feed(in)
		c.violation = verr
		rest := c.run(in[:n])
		complete := n - len(rest)
		if c.violation != nil && !c.closing && !c.s.broken {
			c.reject()
		}
		if ran := countRequests(in[:complete]); ran > 0 && len(c.buf) == 0 && !c.s.broken && !c.closing {
			t.Fatalf("%d requests ran, no reply", ran)
		}
		if (c.violation != nil) && !c.closing {
			t.Fatal("a violation did not close the connection")
		}
		if c.s.watched != nil {
			db.unwatch(&c.s)
		}
	})
}

// countRequests counts the requests with at least one argument in b.
func countRequests(b []byte) int {
	n := 0
	for {
		complete, args, _, rest, err := redcon.ReadNextCommand(b, nil)
		if err != nil || !complete {
			return n
		}
		if len(args) > 0 {
			n++
		}
		b = rest
	}
}

// TestListenAddressInUse: a second server on a port in use fails with a
// clear error, and the first keeps serving.
func TestListenAddressInUse(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := Listen(e.db, e.srv.Addr().String(), nil); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("second Listen on %s = %v, want address already in use", e.srv.Addr(), err)
	}
	e.runSteps([]step{{"PING", "PONG"}})
}

package walkv

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestReqScanner(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   int   // bytes accepted
		err  error // violation
	}{
		{"commands", "*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123456789\r\n", -1, nil},
		{"inline", "PING\r\nSET a b\n", -1, nil},
		{"bulk at limit", "*1\r\n$16\r\n0123456789abcdef\r\n", -1, nil},
		{"bulk over limit", "*2\r\n$3\r\nGET\r\n$17\r\n", 17, errBulkLength},
		{"bulk over limit after a command", "PING\r\n*1\r\n$99999\r\n", 17, errBulkLength},
		{"negative bulk", "*1\r\n$-1\r\n", 8, errBulkLength},
		{"huge bulk number", "*1\r\n$99999999999999999999999999\r\n", 32, errBulkLength},
		{"multibulk over limit", "*1048577\r\n", 9, errMultibulkLength},
		{"multibulk at limit", "*1048576\r\n", -1, nil},
		{"malformed count", "*x\r\n$99999\r\n", 3, errMultibulkLength},
		{"negative count is ignored", "*-10\r\nPING\r\n", -1, nil},
		{"unterminated count", "*" + strings.Repeat("1", maxInline+10), maxInline, errMbulkTooBig},
		{"unterminated bulk count", "*1\r\n$" + strings.Repeat("x", maxInline+10), 4 + maxInline, errBulkCountTooBig},
		{"missing dollar is redcon's", "*1\r\n+99999\r\n", -1, nil},
		{"empty multibulk", "*0\r\nPING\r\n", -1, nil},
		{"inline too long", strings.Repeat("a", maxInline+10), maxInline, errInlineTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.ok
			if want < 0 {
				want = len(tt.in)
			}
			for _, chunk := range []int{len(tt.in), 1, 3} { // any split gives the same verdict
				sc := reqScanner{maxBulk: 16}
				got, err, fed := 0, error(nil), 0
				for fed < len(tt.in) && err == nil {
					end := min(fed+max(chunk, 1), len(tt.in))
					var n int
					n, err = sc.feed([]byte(tt.in[fed:end]))
					got += n
					fed = end
				}
				if got != want || !errors.Is(err, tt.err) {
					t.Fatalf("chunk %d: accepted %d bytes, err %v; want %d, %v", chunk, got, err, want, tt.err)
				}
			}
		})
	}
}

// FuzzReqScanner: the scanner never panics, and feeding a stream in two
// pieces gives the same verdict as feeding it whole.
func FuzzReqScanner(f *testing.F) {
	f.Add([]byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), 5)
	f.Add([]byte("*1\r\n$99999\r\n"), 3)
	f.Add([]byte("PING\r\n"), 1)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		whole := reqScanner{maxBulk: 64}
		n1, err1 := whole.feed(b)
		split = min(max(split, 0), len(b))
		parts := reqScanner{maxBulk: 64}
		n2, err2 := parts.feed(b[:split])
		if err2 == nil {
			var m int
			m, err2 = parts.feed(b[split:])
			n2 += m
		}
		if n1 != n2 || !errors.Is(err1, err2) && !errors.Is(err2, err1) {
			t.Fatalf("whole: %d, %v; split at %d: %d, %v", n1, err1, split, n2, err2)
		}
	})
}

// rawConn dials the server for hand-written protocol bytes.
func (e *env) rawConn() (net.Conn, *bufio.Reader) {
	e.t.Helper()
	c, err := net.Dial("tcp", e.srv.Addr().String())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

// readUntilClose returns everything the server sends until it closes.
func readUntilClose(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("reading: %v", err)
	}
	return string(b)
}

// TestBadInput: protocol violations get Redis-style errors and close only
// the offending connection; other clients go on, and nothing that was not
// fully received is applied.
func TestBadInput(t *testing.T) {
	e := newEnv(t, &Options{MaxBulk: 1 << 10})
	tests := []struct {
		name, send, want string
	}{
		{"bulk over the limit", "SET ok 1\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000\r\nxx",
			"+OK\r\n-ERR Protocol error: invalid bulk length\r\n"},
		{"malformed multibulk", "*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"bad bulk header", "*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"},
		{"unbalanced quotes", "SET \"a b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
		{"too many arguments", "*2000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r := e.rawConn()
			if _, err := c.Write([]byte(tt.send)); err != nil {
				t.Fatal(err)
			}
			if got := readUntilClose(t, r); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			e.runSteps([]step{{"PING", "PONG"}, {"EXISTS k", 0}})
		})
	}
	// A client that disconnects in the middle of a command: nothing applied.
	c, _ := e.rawConn()
	c.Write([]byte("*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$5\r\nab"))
	c.Close()
	// Commands that are fine at the protocol level but wrong get errors and
	// keep the connection.
	c, r := e.rawConn()
	c.Write([]byte("NOPE\r\nGET\r\nSET big " + strings.Repeat("x", 1000) + "\r\nGET half\r\nQUIT\r\n"))
	got := readUntilClose(t, r)
	want := "-ERR unknown command 'NOPE', with args beginning with: \r\n" +
		"-ERR wrong number of arguments for 'get' command\r\n+OK\r\n$-1\r\n+OK\r\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestAppendLimit: APPEND cannot build a string over MaxBulk.
func TestAppendLimit(t *testing.T) {
	e := newEnv(t, &Options{MaxBulk: 1 << 10})
	big := strings.Repeat("x", 600)
	e.runSteps([]step{{"APPEND k " + big, 600}, {"APPEND k " + big, "ERR:ERR string exceeds maximum allowed size"}, {"STRLEN k", 600}})
}

// TestQuitAndPipeline: QUIT answers OK after earlier pipelined replies and
// stops the pipeline.
func TestQuitAndPipeline(t *testing.T) {
	e := newEnv(t, nil)
	c, r := e.rawConn()
	c.Write([]byte("SET a 1\r\nQUIT\r\nSET b 2\r\n"))
	if got := readUntilClose(t, r); got != "+OK\r\n+OK\r\n" {
		t.Fatalf("got %q", got)
	}
	e.runSteps([]step{{"GET a", "1"}, {"GET b", nil}})
}

func TestShutdownCommand(t *testing.T) {
	e := newEnv(t, nil)
	e.do("SET k v")
	c, r := e.rawConn()
	c.Write([]byte("SHUTDOWN BOGUS\r\nSHUTDOWN ABORT\r\nSHUTDOWN SAVE\r\n"))
	got := readUntilClose(t, r)
	if got != "-ERR syntax error\r\n-ERR No shutdown in progress.\r\n" {
		t.Fatalf("got %q", got)
	}
	select {
	case <-e.srv.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after SHUTDOWN")
	}
	if n := e.db.snap.count.Load(); n != 1 {
		t.Fatalf("SHUTDOWN SAVE took %d snapshots", n)
	}
}

// TestServerClose: Close refuses new connections, ends open ones and
// returns once no command runs; a second Close reports ErrClosed.
func TestServerClose(t *testing.T) {
	e := newEnv(t, nil)
	c, r := e.rawConn()
	c.Write([]byte("DEBUG SLEEP 0.2\r\n"))
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Fatal("Close returned while a command was running")
	}
	readUntilClose(t, r)
	if err := e.srv.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := net.DialTimeout("tcp", e.srv.Addr().String(), time.Second); err == nil {
		t.Fatal("connection accepted after Close")
	}
	srv, err := Listen(e.db, "127.0.0.1:0", nil) // for the cleanup
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
}

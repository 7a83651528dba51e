package walkv

import (
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOutOfDescriptors: when the process runs out of file descriptors
// (EMFILE) under a flood of connections, the connected clients keep being
// served, the flood's connections are refused or closed, and the server
// accepts again once descriptors are free.
func TestOutOfDescriptors(t *testing.T) {
	e := newEnv(t, nil)
	first, r := e.rawConn()
	if _, err := first.Write([]byte("PING\r\n")); err != nil { // served: accepted and enrolled
		t.Fatal(err)
	}
	if line, err := r.ReadString('\n'); err != nil || line != "+PONG\r\n" {
		t.Fatalf("before the flood: %q, %v", line, err)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Skip(err)
	}
	low := old
	low.Cur = uint64(len(ents) + 16)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer restore()
	var flood []net.Conn
	for range 40 {
		c, err := net.DialTimeout("tcp", e.srv.Addr().String(), time.Second)
		if err != nil {
			break // this process is out of descriptors too
		}
		flood = append(flood, c)
	}
	time.Sleep(100 * time.Millisecond) // let the server hit EMFILE
	first.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := first.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := r.ReadString('\n'); err != nil || line != "+PONG\r\n" {
		t.Fatalf("connected client during the flood: %q, %v", line, err)
	}
	for _, c := range flood {
		c.Close()
	}
	restore()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", e.srv.Addr().String(), time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(time.Second))
			c.Write([]byte("PING\r\n"))
			b := make([]byte, 7)
			n, _ := c.Read(b)
			c.Close()
			if string(b[:n]) == "+PONG\r\n" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server does not accept after the flood: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// server is a walkv child process.
type server struct {
	cmd  *exec.Cmd
	addr string
}

// startServer re-executes the test binary as a server on dir.
func startServer(t *testing.T, dir string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join([]string{
		"--addr", "127.0.0.1:0", "--dir", dir, "--appendfsync", "always", "--snapshot-log-bytes", "65536"}, "\n"))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd}
	t.Cleanup(func() { s.kill() })
	s.addr = listenAddr(t, out)
	go io.Copy(io.Discard, out)
	return s
}

func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
	}
}

// TestCrashKill9: clients write under appendfsync always; the server is
// killed with SIGKILL at a random moment; after a restart every
// acknowledged write is present and nothing that was never sent is.
// Writes are SETs of unique keys, INCRs of a per-client counter and HSETs,
// so the check covers all three kinds of logged operation and snapshots
// (the server snapshots every 64 KiB of log).
func TestCrashKill9(t *testing.T) {
	dir := t.TempDir()
	const clients = 8
	hist := make([]history, clients)
	for round := range 3 {
		srv := startServer(t, dir)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range clients {
			c := redis.NewClient(&redis.Options{Addr: srv.addr, MaxRetries: -1})
			wg.Go(func() {
				defer c.Close()
				h := &hist[w]
				for ctx.Err() == nil {
					i := h.send()
					if err := write(ctx, c, w, i); err != nil {
						return // the server died; write i may or may not have happened
					}
					h.ack(i)
				}
			})
		}
		time.Sleep(time.Duration(200+rand.IntN(300)) * time.Millisecond)
		srv.kill()
		cancel()
		wg.Wait()
		srv = startServer(t, dir)
		c := redis.NewClient(&redis.Options{Addr: srv.addr})
		total := 0
		for w := range clients {
			verify(t, c, round, w, &hist[w])
			total += len(hist[w].acked)
		}
		c.Close()
		srv.kill()
		t.Logf("round %d: %d writes acknowledged in all", round, total)
	}
}

// write performs client w's write number i.
func write(ctx context.Context, c *redis.Client, w int, i int64) error {
	switch i % 3 {
	case 0:
		return c.Set(ctx, fmt.Sprint("s", w, "-", i), i, 0).Err()
	case 1:
		return c.Incr(ctx, fmt.Sprint("n", w)).Err()
	}
	return c.HSet(ctx, fmt.Sprint("h", w), i, i).Err()
}

// history is what one client did: the writes it sent (numbered from 0)
// and those acknowledged. A write whose reply was lost to the kill may or
// may not have happened.
type history struct {
	sent  int64
	acked map[int64]bool
}

func (h *history) send() int64 {
	h.sent++
	return h.sent - 1
}

func (h *history) ack(i int64) {
	if h.acked == nil {
		h.acked = map[int64]bool{}
	}
	h.acked[i] = true
}

// incrs counts the INCRs (writes i with i%3 == 1) among writes [0, n), and
// among the acknowledged ones.
func (h *history) incrs() (acked, sent int64) {
	for i := range h.acked {
		if i%3 == 1 {
			acked++
		}
	}
	return acked, (h.sent + 1) / 3
}

// verify checks client w's writes after a restart: every acknowledged one
// is there, and none that was never sent.
func verify(t *testing.T, c *redis.Client, round, w int, h *history) {
	t.Helper()
	ctx := context.Background()
	counter, _ := c.Get(ctx, fmt.Sprint("n", w)).Int64()
	fields, err := c.HGetAll(ctx, fmt.Sprint("h", w)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if acked, sent := h.incrs(); counter < acked || counter > sent {
		t.Fatalf("round %d client %d: counter %d, %d INCRs acknowledged, %d sent", round, w, counter, acked, sent)
	}
	for i := range h.sent + 3 {
		var ok bool
		switch i % 3 {
		case 0:
			v, err := c.Get(ctx, fmt.Sprint("s", w, "-", i)).Result()
			ok = err == nil && v == fmt.Sprint(i)
		case 1:
			continue
		default:
			ok = fields[fmt.Sprint(i)] == fmt.Sprint(i)
		}
		if h.acked[i] && !ok {
			t.Fatalf("round %d client %d: acknowledged write %d lost", round, w, i)
		}
		if i >= h.sent && ok {
			t.Fatalf("round %d client %d: write %d present but never sent", round, w, i)
		}
	}
}

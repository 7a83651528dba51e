package main

import (
	"context"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
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

// startServer re-executes the test binary as a server on dir; it
// snapshots every 64 KiB of log, so kills land during snapshots too.
// fsync is the --appendfsync policy.
func startServer(t *testing.T, dir, fsync string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join([]string{
		"--addr", "127.0.0.1:0", "--dir", dir, "--appendfsync", fsync, "--snapshot-log-bytes", "65536"}, "\n"))
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

// TestCrashKill9: several clients run random operations on every type
// walkv has (strings, counters, hashes, lists with pushes, pops and LMOVE,
// sets with SADD, SREM and SPOP, sorted sets with ZADD, ZINCRBY, ZREM and
// ZPOPMIN, keys with deadlines, keys that expire at once, MULTI/EXEC
// across types); the server is killed with SIGKILL at a random moment,
// restarted, and each client's keys are read back. They must hold the
// model's state after some prefix of the client's operations that
// includes every operation acknowledged as durable (see crash_model_test.go):
// an operation in flight may or may not have applied, wholly, but nothing
// acknowledged is lost and nothing is applied twice or in part. The next
// round goes on from the state found.
//
// Acknowledged as durable means: the reply, under appendfsync always; a
// later WAITAOF 1 0 0's reply, under everysec.
//
// WALKV_CRASH_ROUNDS=n sets the kills per policy (default 3).
func TestCrashKill9(t *testing.T) {
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("WALKV_CRASH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	for _, fsync := range []string{"always", "everysec"} {
		t.Run(fsync, func(t *testing.T) { crashRounds(t, fsync, rounds) })
	}
}

// crashRounds runs rounds of load, kill and check under the policy.
func crashRounds(t *testing.T, fsync string, rounds int) {
	dir := t.TempDir()
	const clients = 8
	hist := make([]*history, clients)
	for w := range hist {
		hist[w] = &history{states: []mstate{{}}}
	}
	var ops, inFlight, applied, violations int64
	for round := range rounds {
		srv := startServer(t, dir, fsync)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range clients {
			c := redis.NewClient(&redis.Options{Addr: srv.addr, MaxRetries: -1})
			r := rand.New(rand.NewPCG(uint64(round), uint64(w)))
			wg.Go(func() {
				defer c.Close()
				hist[w].load(ctx, t, c, r, w, fsync == "everysec")
			})
		}
		time.Sleep(time.Duration(200+rand.IntN(400)) * time.Millisecond) // a random moment to kill at
		srv.kill()
		cancel()
		wg.Wait()
		srv = startServer(t, dir, fsync)
		c := redis.NewClient(&redis.Options{Addr: srv.addr})
		for w, h := range hist {
			ops += h.sent
			inFlight += int64(len(h.states) - 1)
			j, ok := h.check(t, c, round, w)
			applied += int64(j)
			if !ok {
				violations++
			}
		}
		c.Close()
		srv.kill()
	}
	t.Logf("%s: %d rounds, %d operations, %d not acknowledged as durable at a kill (%d of them found applied), %d violations",
		fsync, rounds, ops, inFlight, applied, violations)
}

// history is one client's operations since the last check: states[j] is
// the model after the first acked+j of them; states[0] is the state after
// those acknowledged as durable, the last one the state after all sent.
type history struct {
	states []mstate
	sent   int64 // operations sent in this round
}

// load runs operations until the server dies or ctx ends. With waitAOF
// (everysec), an operation is durable once a later WAITAOF answered.
func (h *history) load(ctx context.Context, t *testing.T, c *redis.Client, r *rand.Rand, w int, waitAOF bool) {
	h.sent = 0
	for i := int64(0); ctx.Err() == nil; i++ {
		cur := h.states[len(h.states)-1]
		op := nextOp(r, w, i, cur)
		next := cur.clone()
		op.apply(next)
		h.states = append(h.states, next)
		h.sent++
		if err := runOp(ctx, c, op); err != nil {
			var re redis.Error
			if errors.As(err, &re) && !errors.Is(err, redis.Nil) {
				t.Errorf("client %d: %v: %v (the model is wrong)", w, op.cmds, err)
			}
			return // the server died: the operation may or may not have happened
		}
		if !waitAOF {
			h.states = h.states[1:] // acknowledged: durable
			continue
		}
		if r.IntN(4) == 0 {
			if c.Do(ctx, "WAITAOF", 1, 0, 0).Err() != nil {
				return
			}
			h.states = h.states[len(h.states)-1:]
		}
	}
}

// runOp sends op, in MULTI/EXEC if it is a transaction.
func runOp(ctx context.Context, c *redis.Client, op mop) error {
	if !op.multi {
		err := c.Do(ctx, op.cmds[0]...).Err()
		if errors.Is(err, redis.Nil) {
			err = nil
		}
		return err
	}
	_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, cmd := range op.cmds {
			p.Do(ctx, cmd...)
		}
		return nil
	})
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	return err
}

// check reads client w's keys back and reports whether they hold one of
// the states its history admits, and how many operations past the
// acknowledged ones that state includes; the history goes on from it.
func (h *history) check(t *testing.T, c *redis.Client, round, w int) (int, bool) {
	t.Helper()
	got := readKeys(t, c, w)
	for j := len(h.states) - 1; j >= 0; j-- {
		if maps.Equal(got, canonState(h.states[j], w)) {
			h.states = []mstate{h.states[j]}
			return j, true
		}
	}
	want := canonState(h.states[0], w)
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			t.Errorf("round %d client %d: %s = %s; acknowledged state: %s", round, w, k, got[k], want[k])
		}
	}
	t.Errorf("round %d client %d: the keys match none of the %d states admitted", round, w, len(h.states))
	h.states = []mstate{h.states[0]}
	return 0, false
}

// readKeys reads client w's keys in canon's form.
func readKeys(t *testing.T, c *redis.Client, w int) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, k := range clientKeys(w) {
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		v := &mval{kind: typ, members: map[string]float64{}, fields: map[string]string{}}
		switch typ {
		case "none":
			out[k] = canon(nil)
			continue
		case "string":
			v.str, err = c.Get(ctx, k).Result()
		case "list":
			v.list, err = c.LRange(ctx, k, 0, -1).Result()
		case "set":
			var ms []string
			ms, err = c.SMembers(ctx, k).Result()
			for _, m := range ms {
				v.members[m] = 0
			}
		case "zset":
			var zs []redis.Z
			zs, err = c.ZRangeWithScores(ctx, k, 0, -1).Result()
			for _, z := range zs {
				v.members[z.Member.(string)] = z.Score
			}
		case "hash":
			v.fields, err = c.HGetAll(ctx, k).Result()
		}
		if err != nil {
			t.Fatal(err)
		}
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		v.ttl = ttl > 0
		out[k] = canon(v)
	}
	return out
}

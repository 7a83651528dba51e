package walkv

// Temporary stand-in for the lists helper's differential harness
// (redisdiff_test.go on h/lists): the same API, so the generators in
// redisdiff_zset_test.go and redisdiff_string_test.go run before the
// merge. Delete this file when merging h/lists.

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"os"
	osexec "os/exec"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

type diffFamily struct {
	name      string
	gen       func(r *rand.Rand) []string
	normalize func(cmd []string, reply any) any
}

var diffFamilies []diffFamily

func diffKey(r *rand.Rand) string { return "key" + strconv.Itoa(r.Intn(4)) }

// startRedisTmp starts redis-server on a free loopback port.
func startRedisTmp(t *testing.T) *redis.Client {
	t.Helper()
	bin, err := osexec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := osexec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprint("127.0.0.1:", port), MaxRetries: -1, PoolSize: 1, Protocol: 2})
	t.Cleanup(func() { c.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

func diffDo(c *redis.Client, cmd []string) any {
	args := make([]any, len(cmd))
	for i, a := range cmd {
		args[i] = a
	}
	v, err := c.Do(context.Background(), args...).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return "ERR:" + err.Error()
	}
	return fixErrs(v)
}

func fixErrs(v any) any {
	switch v := v.(type) {
	case []any:
		for i := range v {
			v[i] = fixErrs(v[i])
		}
	case redis.Error:
		return "ERR:" + v.Error()
	}
	return v
}

// TestRedisDiffTmp runs every family's sequences against walkv and
// redis-server. WALKV_DIFF_SEQS sets the number of sequences per family.
func TestRedisDiffTmp(t *testing.T) {
	rc := startRedisTmp(t)
	e := newEnv(t, nil)
	seqs := 20
	if s := os.Getenv("WALKV_DIFF_SEQS"); s != "" {
		seqs, _ = strconv.Atoi(s)
	}
	for _, f := range diffFamilies {
		t.Run(f.name, func(t *testing.T) {
			diffs := 0
			for s := range seqs {
				r := rand.New(rand.NewSource(int64(s)))
				diffDo(rc, []string{"FLUSHALL"})
				diffDo(e.c, []string{"FLUSHALL"})
				var hist [][]string
				for range 60 {
					cmd := f.gen(r)
					hist = append(hist, cmd)
					want, got := diffDo(rc, cmd), diffDo(e.c, cmd)
					if f.normalize != nil {
						want, got = f.normalize(cmd, want), f.normalize(cmd, got)
					}
					if !reflect.DeepEqual(want, got) {
						diffs++
						if diffs < 15 {
							t.Errorf("seq %d: %q:\n redis %#v\n walkv %#v", s, cmd, want, got)
							if os.Getenv("WALKV_DIFF_HIST") != "" {
								for _, h := range hist {
									t.Logf("  %q", h)
								}
							}
						}
						break
					}
				}
			}
		})
	}
}

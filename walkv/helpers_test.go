package walkv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/waldb/wal/vfs"
)

const testDir = "data"

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a DB served on a loopback port, with a go-redis client.
type env struct {
	t    testing.TB
	dir  string
	opts Options
	db   *DB
	srv  *Server
	c    *redis.Client
}

// newEnv opens a DB on a fresh in-memory filesystem (unless opts.FS is
// set) and serves it.
func newEnv(t testing.TB, opts *Options) *env {
	t.Helper()
	e := &env{t: t, dir: testDir}
	if opts != nil {
		e.opts = *opts
	}
	if e.opts.FS == nil {
		e.opts.FS = vfs.NewMem()
	}
	if e.opts.SegmentSize == 0 {
		e.opts.SegmentSize = 256 << 10 // the in-memory FS allocates preallocated space
	}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *env) start() {
	e.t.Helper()
	db, err := Open(e.dir, &e.opts)
	if err != nil {
		e.t.Fatalf("Open: %v", err)
	}
	// Tests may use DEBUG (refused by default, as in Redis 7.0).
	srv, err := Listen(db, "127.0.0.1:0", &ServerOptions{EnableDebugCommand: "yes"})
	if err != nil {
		db.Close()
		e.t.Fatalf("Listen: %v", err)
	}
	e.db, e.srv = db, srv
	e.c = e.client()
}

// client returns a new go-redis client of the server (closed at cleanup).
// It speaks RESP2, whose reply forms the tests' expectations are written
// in; RESP3 has tests of its own (resp3_test.go).
func (e *env) client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: e.srv.Addr().String(), MaxRetries: -1, PoolSize: 4, Protocol: 2})
	e.t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) stop() {
	if e.db == nil {
		return
	}
	e.c.Close()
	if err := e.srv.Close(); err != nil {
		e.t.Errorf("Server.Close: %v", err)
	}
	if err := e.db.Close(); err != nil {
		e.t.Errorf("DB.Close: %v", err)
	}
	e.db = nil
}

// restart closes and reopens the DB on the same filesystem.
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

// do runs a command given as space-separated words and returns its reply
// in a comparable form: string, int64, nil, []any, or "ERR:<message>".
func (e *env) do(cmd string) any {
	e.t.Helper()
	return doWith(e.t, e.c, words(cmd)...)
}

func words(cmd string) []any {
	var args []any
	for _, w := range strings.Fields(cmd) {
		args = append(args, strings.ReplaceAll(w, "␣", " "))
	}
	return args
}

func doWith(t testing.TB, c *redis.Client, args ...any) any {
	t.Helper()
	v, err := c.Do(context.Background(), args...).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil
	case err != nil:
		var re redis.Error
		if errors.As(err, &re) {
			return "ERR:" + re.Error()
		}
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

// step is one command of a scripted test and the reply it must get. A
// want of the form "ERR:prefix" matches an error reply starting with the
// prefix; "~" matches anything.
type step struct {
	cmd  string
	want any
}

// runSteps runs steps in order on e.
func (e *env) runSteps(steps []step) {
	e.t.Helper()
	for i, s := range steps {
		got := e.do(s.cmd)
		if !matchReply(got, s.want) {
			e.t.Fatalf("step %d %q: got %#v, want %#v", i, s.cmd, got, s.want)
		}
	}
}

func matchReply(got, want any) bool {
	if err, ok := got.(redis.Error); ok { // an error inside an array reply
		got = "ERR:" + err.Error()
	}
	if w, ok := want.(string); ok {
		if w == "~" {
			return true
		}
		if p, ok := strings.CutPrefix(w, "ERR:"); ok {
			g, ok := got.(string)
			return ok && strings.HasPrefix(g, "ERR:"+p)
		}
	}
	if w, ok := want.(int); ok {
		want = int64(w)
	}
	if w, ok := want.([]any); ok {
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !matchReply(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return fmt.Sprintf("%#v", got) == fmt.Sprintf("%#v", want)
}

package walkv

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/tidwall/redcon"
)

// TestTypedWriter pins the bytes of each typed reply in both protocols:
// RESP2 is Redis 7.0's form of the reply (what walkv wrote before RESP3),
// RESP3 the typed one.
func TestTypedWriter(t *testing.T) {
	cases := []struct {
		name      string
		write     func(w typedWriter, c redcon.Conn)
		resp2, r3 string
	}{
		{"null", func(_ typedWriter, c redcon.Conn) { c.WriteNull() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w typedWriter, _ redcon.Conn) { w.WriteNullArray() }, "*-1\r\n", "_\r\n"},
		{"map", func(w typedWriter, _ redcon.Conn) { w.WriteMap(3) }, "*6\r\n", "%3\r\n"},
		{"set", func(w typedWriter, _ redcon.Conn) { w.WriteSet(2) }, "*2\r\n", "~2\r\n"},
		{"push", func(w typedWriter, _ redcon.Conn) { w.WritePush(3) }, "*3\r\n", ">3\r\n"},
		{"double", func(w typedWriter, _ redcon.Conn) { w.WriteDouble(0.1) }, "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"},
		{"double exp", func(w typedWriter, _ redcon.Conn) { w.WriteDouble(1e-5) }, "$22\r\n1.0000000000000001e-05\r\n", ",1.0000000000000001e-05\r\n"},
		{"double int", func(w typedWriter, _ redcon.Conn) { w.WriteDouble(-3) }, "$2\r\n-3\r\n", ",-3\r\n"},
		{"inf", func(w typedWriter, _ redcon.Conn) { w.WriteDouble(math.Inf(1)) }, "$3\r\ninf\r\n", ",inf\r\n"},
		{"-inf", func(w typedWriter, _ redcon.Conn) { w.WriteDouble(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"true", func(w typedWriter, _ redcon.Conn) { w.WriteBool(true) }, ":1\r\n", "#t\r\n"},
		{"false", func(w typedWriter, _ redcon.Conn) { w.WriteBool(false) }, ":0\r\n", "#f\r\n"},
		{"verbatim", func(w typedWriter, _ redcon.Conn) { w.WriteVerbatim("a\r\nb") }, "$4\r\na\r\nb\r\n", "=8\r\ntxt:a\r\nb\r\n"},
		{"pairs", func(w typedWriter, c redcon.Conn) {
			w.WritePairs(2)
			for _, m := range []string{"a", "b"} {
				w.WritePair()
				c.WriteBulkString(m)
				w.WriteDouble(1.5)
			}
		}, "*4\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n$3\r\n1.5\r\n", "*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,1.5\r\n"},
	}
	for _, tc := range cases {
		for _, resp3 := range []bool{false, true} {
			s := &session{}
			s.resp3.Store(resp3)
			rc := &replyConn{s: s}
			tc.write(typed(rc), rc)
			want := tc.resp2
			if resp3 {
				want = tc.r3
			}
			if string(rc.buf) != want {
				t.Errorf("%s (resp3 %v): %q, want %q", tc.name, resp3, rc.buf, want)
			}
		}
		// A redcon.Conn without a protocol gets the RESP2 form.
		var w redcon.Writer
		fc := &fakeConn{w: w}
		var buf []byte
		fc.w.SetBuffer(buf)
		tc.write(typed(fc), fc)
		if got := string(fc.w.Buffer()); got != tc.resp2 {
			t.Errorf("%s (no protocol): %q, want %q", tc.name, got, tc.resp2)
		}
	}
}

// TestTypedWriterAllocs: the typed replies add no allocation to the
// reply path (the writer's buffer grows as for any reply).
func TestTypedWriterAllocs(t *testing.T) {
	s := &session{}
	s.resp3.Store(true)
	rc := &replyConn{s: s, buf: make([]byte, 0, 1<<10)}
	var c redcon.Conn = rc
	allocs := testing.AllocsPerRun(1000, func() {
		rc.buf = rc.buf[:0]
		w := typed(c)
		w.WriteMap(1)
		c.WriteBulkString("k")
		w.WriteDouble(123.456)
		w.WriteSet(1)
		c.WriteNull()
		w.WriteNullArray()
	})
	if allocs != 0 {
		t.Errorf("typed replies allocate %v times", allocs)
	}
}

// TestGoRedisResp3: go-redis v9 with its default protocol (RESP3, by
// HELLO 3) reads walkv's typed replies into its typed results.
func TestGoRedisResp3(t *testing.T) {
	e := newEnv(t, nil)
	c := clientOf(t, e.srv, redis.Options{Protocol: 3})
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.HSet(ctx, "h", "f1", "v1", "f2", "v2").Err())
	if m, err := c.HGetAll(ctx, "h").Result(); err != nil || len(m) != 2 || m["f2"] != "v2" {
		t.Errorf("HGETALL: %v %v", m, err)
	}
	must(c.ZAdd(ctx, "z", redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: 2, Member: "b"}).Err())
	if zs, err := c.ZRangeWithScores(ctx, "z", 0, -1).Result(); err != nil || len(zs) != 2 || zs[0].Score != 1.5 || zs[1].Member != "b" {
		t.Errorf("ZRANGE WITHSCORES: %v %v", zs, err)
	}
	if f, err := c.ZIncrBy(ctx, "z", 0.25, "a").Result(); err != nil || f != 1.75 {
		t.Errorf("ZINCRBY: %v %v", f, err)
	}
	if f, err := c.ZScore(ctx, "z", "a").Result(); err != nil || f != 1.75 {
		t.Errorf("ZSCORE: %v %v", f, err)
	}
	if _, err := c.ZScore(ctx, "z", "nope").Result(); err != redis.Nil {
		t.Errorf("ZSCORE of a missing member: %v, want redis.Nil", err)
	}
	if zs, err := c.ZPopMin(ctx, "z", 1).Result(); err != nil || len(zs) != 1 || zs[0].Member != "a" {
		t.Errorf("ZPOPMIN: %v %v", zs, err)
	}
	must(c.SAdd(ctx, "s", "x", "y").Err())
	if ms, err := c.SMembers(ctx, "s").Result(); err != nil || !slices.Equal(slices.Sorted(slices.Values(ms)), []string{"x", "y"}) {
		t.Errorf("SMEMBERS: %v %v", ms, err)
	}
	if _, err := c.Get(ctx, "nokey").Result(); err != redis.Nil {
		t.Errorf("GET of a missing key: %v, want redis.Nil", err)
	}
	if m, err := c.ConfigGet(ctx, "appendfsync").Result(); err != nil || m["appendfsync"] != "always" {
		t.Errorf("CONFIG GET: %v %v", m, err)
	}
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HGetAll(ctx, "h")
		p.ZScore(ctx, "z", "b")
		return nil
	})
	if err != nil || len(cmds) != 2 || cmds[1].(*redis.FloatCmd).Val() != 2 {
		t.Errorf("MULTI/EXEC: %v %v", cmds, err)
	}
	if info, err := c.Info(ctx, "server").Result(); err != nil || len(info) == 0 {
		t.Errorf("INFO: %q %v", info, err)
	}
	sub := c.Subscribe(ctx, "ch")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Publish(ctx, "ch", "hello").Result(); err != nil || n != 1 {
		t.Fatalf("PUBLISH: %v %v", n, err)
	}
	if m, err := sub.ReceiveMessage(ctx); err != nil || m.Payload != "hello" {
		t.Errorf("message: %v %v", m, err)
	}
}

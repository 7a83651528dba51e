package walkv

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/tidwall/redcon"
	"github.com/waldb/wal/vfs"
)

// fakeConn is a redcon.Conn that discards replies, for benchmarks of the
// command path without the network.
type fakeConn struct {
	redcon.Conn // unused methods panic
	ctx         any
	w           redcon.Writer
}

func (c *fakeConn) WriteString(s string)     { c.w.WriteString(s) }
func (c *fakeConn) WriteBulk(b []byte)       { c.w.WriteBulk(b) }
func (c *fakeConn) WriteBulkString(s string) { c.w.WriteBulkString(s) }
func (c *fakeConn) WriteInt(n int)           { c.w.WriteInt(n) }
func (c *fakeConn) WriteInt64(n int64)       { c.w.WriteInt64(n) }
func (c *fakeConn) WriteArray(n int)         { c.w.WriteArray(n) }
func (c *fakeConn) WriteNull()               { c.w.WriteNull() }
func (c *fakeConn) WriteError(s string)      { c.w.WriteError(s) }
func (c *fakeConn) WriteRaw(b []byte)        { c.w.WriteRaw(b) }
func (c *fakeConn) Context() any             { return c.ctx }
func (c *fakeConn) SetContext(v any)         { c.ctx = v }
func (c *fakeConn) RemoteAddr() string       { return "" }
func (c *fakeConn) NetConn() net.Conn        { return nil }

// BenchmarkCommand measures the command path (dispatch, keyspace, log
// append, and under always the fsync wait) on the in-memory filesystem.
func BenchmarkCommand(b *testing.B) {
	for _, fsync := range []Fsync{FsyncAlways, FsyncNo} {
		for _, cmd := range []string{"SET", "GET"} {
			b.Run(fmt.Sprint(cmd, "-", fsync), func(b *testing.B) {
				db, err := Open(testDir, &Options{FS: vfs.NewMem(), AppendFsync: fsync, SegmentSize: 4 << 20, SnapshotLogBytes: -1})
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				srv := &Server{db: db}
				s := &session{}
				c := &fakeConn{ctx: s}
				run := func(args [][]byte) { // as a connection does, without the network
					srv.dispatch(s, c, args)
					srv.waitDurable(s)
					c.w.SetBuffer(nil)
				}
				keys := make([][]byte, 1000)
				for i := range keys {
					keys[i] = fmt.Appendf(nil, "key:%06d", i)
					run([][]byte{[]byte("SET"), keys[i], []byte("xyz")})
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					args := [][]byte{[]byte(cmd), keys[i%len(keys)]}
					if cmd == "SET" {
						args = append(args, []byte("xyz"))
					}
					run(args)
				}
			})
		}
	}
}

// BenchmarkServer measures SET and GET through the whole server (RESP
// over loopback TCP, the event loops, the command path and, for SET, the log on
// the real filesystem) with 50 concurrent go-redis connections, each
// waiting for its reply before sending more, like redis-benchmark -c 50.
// Profile it with -cpuprofile to see where a networked request goes.
func BenchmarkServer(b *testing.B) {
	for _, fsync := range []Fsync{FsyncEverysec, FsyncAlways} {
		for _, cmd := range []string{"SET", "GET"} {
			b.Run(fmt.Sprint(cmd, "-", fsync), func(b *testing.B) {
				e := &env{t: b, dir: b.TempDir(), opts: Options{FS: vfs.Default, AppendFsync: fsync}}
				e.start()
				defer e.stop()
				const conns = 50
				c := redis.NewClient(&redis.Options{Addr: e.srv.Addr().String(), MaxRetries: -1, PoolSize: conns})
				defer c.Close()
				ctx := context.Background()
				for i := range 1000 {
					if err := c.Set(ctx, fmt.Sprintf("key:%06d", i), "xyz", 0).Err(); err != nil {
						b.Fatal(err)
					}
				}
				var next atomic.Int64
				b.SetParallelism((conns + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						key := fmt.Sprintf("key:%06d", next.Add(1)%1000)
						var err error
						if cmd == "SET" {
							err = c.Set(ctx, key, "xyz", 0).Err()
						} else {
							err = c.Get(ctx, key).Err()
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

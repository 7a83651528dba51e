package walkv

import (
	"fmt"
	"net"
	"testing"

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
func (c *fakeConn) PeekPipeline() []redcon.Command {
	c.w.SetBuffer(nil)
	return nil
}
func (c *fakeConn) ReadPipeline() []redcon.Command { return nil }
func (c *fakeConn) RemoteAddr() string             { return "" }
func (c *fakeConn) NetConn() net.Conn              { return nil }

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
				c := &fakeConn{ctx: &session{}}
				keys := make([][]byte, 1000)
				for i := range keys {
					keys[i] = fmt.Appendf(nil, "key:%06d", i)
					srv.serveRESP(c, redcon.Command{Args: [][]byte{[]byte("SET"), keys[i], []byte("xyz")}})
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					args := [][]byte{[]byte(cmd), keys[i%len(keys)]}
					if cmd == "SET" {
						args = append(args, []byte("xyz"))
					}
					srv.serveRESP(c, redcon.Command{Args: args})
				}
			})
		}
	}
}

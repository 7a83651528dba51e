package walkv

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/waldb/wal/vfs"
)

// BenchmarkKeyMemory loads b.N keys of each type through the server (on
// the OS filesystem, so the log is not in the heap) and reports the live
// heap per key after a GC: the structures behind walkv's RSS per key
// (docs/performance.md, "walkv memory and snapshots"). With
// -memprofile, `go tool pprof -sample_index=inuse_space` shows which
// allocation sites hold it. Usage:
//
//	go test -run '^$' -bench KeyMemory -benchtime 200000x ./walkv
func BenchmarkKeyMemory(b *testing.B) {
	five := func(prefix string) []any {
		var a []any
		for j := 1; j <= 5; j++ {
			a = append(a, fmt.Sprint(prefix, j))
		}
		return a
	}
	loads := []struct {
		name string
		cmd  func(key string) []any
	}{
		{"str16", func(k string) []any { return []any{"SET", k, "0000000000000000"} }},
		{"hash", func(k string) []any {
			a := []any{"HSET", k}
			for j := 1; j <= 5; j++ {
				a = append(a, fmt.Sprint("field:", j), fmt.Sprint("member:", j))
			}
			return a
		}},
		{"list", func(k string) []any { return append([]any{"RPUSH", k}, five("member:")...) }},
		{"set", func(k string) []any { return append([]any{"SADD", k}, five("member:")...) }},
		{"zset", func(k string) []any {
			a := []any{"ZADD", k}
			for j := 1; j <= 5; j++ {
				a = append(a, j, fmt.Sprint("member:", j))
			}
			return a
		}},
	}
	for _, l := range loads {
		b.Run(l.name, func(b *testing.B) {
			e := &env{t: b, dir: b.TempDir(), opts: Options{SnapshotLogBytes: -1, FS: vfs.Default, AppendFsync: FsyncEverysec}}
			e.start()
			defer e.stop()
			ctx := context.Background()
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			b.ResetTimer()
			for i := 0; i < b.N; {
				p := e.c.Pipeline()
				for ; i < b.N && p.Len() < 1000; i++ {
					p.Do(ctx, l.cmd(fmt.Sprintf("key:%012d", i))...)
				}
				if _, err := p.Exec(ctx); err != nil && err != redis.Nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&m1)
			b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/float64(b.N), "heap-B/key")
		})
	}
}

package wal_test

import (
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/waldb/wal"
)

// BenchmarkAppendLarge compares the two ways an entry reaches the file:
// copied into the write buffer (path=copy) or written from the caller's
// slice with pwritev (path=direct), by entry size, under SyncNever and
// SyncAlways, with 1 and 4 writers. It is how the default thresholds
// (write_direct.go) were chosen. WAL_BENCH_DIR puts the logs elsewhere
// than the test's temporary directory: on a tmpfs (/dev/shm) it compares
// the CPU cost of the paths without the device's. cpu-ns/op is the
// process's CPU time (user and system, every thread) per Append, which a
// loaded machine distorts less than the elapsed time.
func BenchmarkAppendLarge(b *testing.B) {
	for _, policy := range []wal.SyncPolicy{wal.SyncNever, wal.SyncAlways} {
		b.Run(policy.String(), func(b *testing.B) {
			for _, size := range []int{4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20} {
				b.Run("size="+strconv.Itoa(size), func(b *testing.B) {
					for _, writers := range []int{1, 4} {
						for _, path := range []string{"copy", "direct"} {
							b.Run("writers="+strconv.Itoa(writers)+"/path="+path, func(b *testing.B) {
								benchAppendLarge(b, policy, size, writers, path == "direct")
							})
						}
					}
				})
			}
		})
	}
}

func benchAppendLarge(b *testing.B, policy wal.SyncPolicy, size, writers int, direct bool) {
	dir := b.TempDir()
	if d := os.Getenv("WAL_BENCH_DIR"); d != "" {
		var err error
		if dir, err = os.MkdirTemp(d, "bench-large-"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
	}
	min := -1
	if direct {
		min = 1
	}
	l := openBench(b, dir, wal.WithDirectMin(wal.Options{SyncPolicy: policy}, min))
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	var wg sync.WaitGroup
	for w := range writers {
		n := b.N / writers
		if w < b.N%writers {
			n++
		}
		data := randomBytes(size, uint64(w))
		wg.Go(func() {
			for range n {
				if _, err := l.Append(data); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
	closeBench(b, l)
}

// cpuTime is the process's CPU time so far, user and system, in ns.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

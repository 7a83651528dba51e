package wal_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waldb/wal"
)

// BenchmarkRotation measures what a segment rotation costs the callers
// beside it (issue 13, defect 7): one writer appends 1 KiB entries under
// SyncNever into 1 MiB segments, so one append in about a thousand
// rotates (fdatasync and seal of the old segment, header fsync, rename
// and directory fsync of the new one), while a tail reader loops over
// LastIndex and Read of the last entry. It reports the append latency's
// p99, p99.9 (where rotations show: 0.1% of appends rotate) and maximum,
// and the same for the tail reader's LastIndex+Read:
//
//	go test -run '^$' -bench BenchmarkRotation -benchtime 20000x -count 3 .
func BenchmarkRotation(b *testing.B) {
	l := openBench(b, b.TempDir(), &wal.Options{SyncPolicy: wal.SyncNever, SegmentSize: 1 << 20})
	data := randomBytes(1024, 1)
	if _, err := l.Append(data); err != nil {
		b.Fatal(err)
	}
	var (
		stop  atomic.Bool
		wg    sync.WaitGroup
		reads []time.Duration
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			t0 := time.Now()
			last, err := l.LastIndex()
			if err == nil {
				_, err = l.Read(last)
			}
			reads = append(reads, time.Since(t0))
			if err != nil {
				b.Error(err)
				return
			}
		}
	}()
	appends := make([]time.Duration, 0, b.N)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := l.Append(data); err != nil {
			b.Fatal(err)
		}
		appends = append(appends, time.Since(t0))
	}
	b.StopTimer()
	stop.Store(true)
	wg.Wait()
	closeBench(b, l)
	report := func(name string, d []time.Duration) {
		if len(d) == 0 {
			return
		}
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds()), name+"-p99-ns")
		b.ReportMetric(float64(d[len(d)*999/1000].Nanoseconds()), name+"-p99.9-ns")
		b.ReportMetric(float64(d[len(d)-1].Nanoseconds()), name+"-max-ns")
	}
	report("append", appends)
	report("tailread", reads)
}

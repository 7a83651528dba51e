package wal_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/waldb/wal"
	"github.com/waldb/wal/internal/invariants"
)

// Sizes of the prefilled logs the read-side benchmarks use. Small segments
// put most entries in sealed (memory-mapped) segments and leave a partly
// filled tail.
const (
	readEntries = 100_000
	readSize    = 256
	readSegment = 4 << 20

	openEntries = 200_000
	openSize    = 256
	openSegment = 8 << 20
)

// BenchmarkAppend measures Append of one entry under each sync policy,
// payload size and number of concurrent writers. With many writers under
// SyncAlways, ns/op shows how well group commit shares each fdatasync.
func BenchmarkAppend(b *testing.B) {
	for _, policy := range []wal.SyncPolicy{wal.SyncAlways, wal.SyncInterval, wal.SyncNever} {
		b.Run(policy.String(), func(b *testing.B) {
			for _, size := range []int{128, 4096} {
				b.Run("size="+strconv.Itoa(size), func(b *testing.B) {
					for _, writers := range []int{1, 64} {
						b.Run("writers="+strconv.Itoa(writers), func(b *testing.B) {
							benchAppend(b, policy, size, writers)
						})
					}
				})
			}
		})
	}
}

func benchAppend(b *testing.B, policy wal.SyncPolicy, size, writers int) {
	l := openBench(b, b.TempDir(), &wal.Options{SyncPolicy: policy})
	data := randomBytes(size, 1)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	if writers == 1 {
		for range b.N {
			if _, err := l.Append(data); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		// RunParallel starts parallelism*GOMAXPROCS goroutines; round up so
		// that at least `writers` append at once.
		procs := runtime.GOMAXPROCS(0)
		b.SetParallelism((writers + procs - 1) / procs)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Append(data); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.StopTimer()
	closeBench(b, l)
}

// BenchmarkAppendAsync measures the asynchronous API under SyncAlways
// with 128-byte entries: "wait" appends and waits for each entry
// (AppendAsync + WaitDurable, to compare with BenchmarkAppend's
// always/size=128/writers=1), "window=64" keeps up to 64 entries in flight
// from one goroutine and waits only for the oldest (a raft leader's
// pipeline: one writer, shared fsyncs), "writers=64" is 64 goroutines
// each appending and waiting.
func BenchmarkAppendAsync(b *testing.B) {
	data := randomBytes(128, 1)
	run := func(b *testing.B, body func(l *wal.Log)) {
		l := openBench(b, b.TempDir(), &wal.Options{SyncPolicy: wal.SyncAlways})
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		b.ResetTimer()
		body(l)
		b.StopTimer()
		closeBench(b, l)
	}
	appendWait := func(b *testing.B, l *wal.Log) bool {
		i, err := l.AppendAsync(data)
		if err == nil {
			err = l.WaitDurable(i)
		}
		if err != nil {
			b.Error(err) // not Fatal: RunParallel's goroutines call it too
		}
		return err == nil
	}
	b.Run("wait", func(b *testing.B) {
		run(b, func(l *wal.Log) {
			for range b.N {
				if !appendWait(b, l) {
					return
				}
			}
		})
	})
	b.Run("window=64", func(b *testing.B) {
		run(b, func(l *wal.Log) {
			for n := range b.N {
				i, err := l.AppendAsync(data)
				if err == nil && n >= 64 {
					err = l.WaitDurable(i - 64)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("writers=64", func(b *testing.B) {
		run(b, func(l *wal.Log) {
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((64 + procs - 1) / procs)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() && appendWait(b, l) {
				}
			})
		})
	})
}

// BenchmarkWriteBatch measures WriteBatch of 100 entries of 1 KiB under
// SyncAlways, reusing one Batch.
func BenchmarkWriteBatch(b *testing.B) {
	const n, size = 100, 1 << 10
	l := openBench(b, b.TempDir(), &wal.Options{SyncPolicy: wal.SyncAlways})
	data := randomBytes(size, 2)
	var batch wal.Batch
	next := uint64(1)
	b.SetBytes(n * size)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		batch.Clear()
		for i := range uint64(n) {
			batch.Write(next+i, data)
		}
		if err := l.WriteBatch(&batch); err != nil {
			b.Fatal(err)
		}
		next += n
	}
	b.StopTimer()
	closeBench(b, l)
}

// BenchmarkRead measures random reads of entries in sealed segments (the
// lock-free, memory-mapped path) and in the tail segment (pread under the
// mutex): Read (a fresh copy), Read with Options.NoCopy, and AppendEntry
// into one reused buffer.
func BenchmarkRead(b *testing.B) {
	dir := b.TempDir()
	prefill(b, dir, readEntries, readSize, readSegment)
	tailFirst := tailFirstIndex(b, dir)
	if tailFirst <= 1 || tailFirst > readEntries {
		b.Fatalf("tail segment starts at %d: want sealed entries and a non-empty tail", tailFirst)
	}
	ranges := []struct {
		name        string
		first, last uint64
	}{
		{"sealed", 1, tailFirst - 1},
		{"tail", tailFirst, readEntries},
	}
	for _, r := range ranges {
		b.Run(r.name, func(b *testing.B) {
			for _, mode := range []string{"copy", "nocopy", "append"} {
				b.Run(mode, func(b *testing.B) {
					benchRead(b, dir, mode, r.first, r.last)
				})
			}
		})
	}
}

func benchRead(b *testing.B, dir, mode string, first, last uint64) {
	l := openBench(b, dir, &wal.Options{SegmentSize: readSegment, NoCopy: mode == "nocopy"})
	rng := rand.New(rand.NewPCG(1, 2))
	n := last - first + 1
	var buf []byte
	b.SetBytes(readSize)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var data []byte
		var err error
		if mode == "append" {
			data, err = l.AppendEntry(buf[:0], first+rng.Uint64N(n))
			buf = data
		} else {
			data, err = l.Read(first + rng.Uint64N(n))
		}
		if err != nil {
			b.Fatal(err)
		}
		if len(data) != readSize {
			b.Fatalf("read %d bytes, want %d", len(data), readSize)
		}
	}
	b.StopTimer()
	closeBench(b, l)
}

// BenchmarkOpen measures reopening a cleanly closed log of 200,000 entries
// and reading its last entry, with 8 MiB segments (7 of them) and 1 MiB
// segments (55), each with and without Options.EagerOpen: by default the
// time does not grow with the number of segments. heapMiB is the heap in
// use right after Open (the largest value seen), which shows that Open
// does not load the log.
func BenchmarkOpen(b *testing.B) {
	for _, segSize := range []int{openSegment, openSegment / 8} {
		dir := b.TempDir()
		prefill(b, dir, openEntries, openSize, segSize)
		for _, eager := range []bool{false, true} {
			name := fmt.Sprintf("segment=%dMiB/eager=%v", segSize>>20, eager)
			b.Run(name, func(b *testing.B) {
				benchOpen(b, dir, &wal.Options{SegmentSize: segSize, EagerOpen: eager})
			})
		}
	}
}

func benchOpen(b *testing.B, dir string, opts *wal.Options) {
	var ms runtime.MemStats
	var heap uint64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		l, err := wal.Open(dir, opts)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.ReadMemStats(&ms)
		heap = max(heap, ms.HeapInuse)
		b.StartTimer()
		last, err := l.LastIndex()
		if err != nil || last != openEntries {
			b.Fatalf("LastIndex() = %d, %v; want %d", last, err, openEntries)
		}
		if _, err := l.Read(last); err != nil {
			b.Fatal(err)
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(heap)/(1<<20), "heapMiB")
}

// BenchmarkIter measures iteration over the whole prefilled log. One op is
// one entry, so ns/op compares with BenchmarkRead; the iterator starts
// again at the first entry when it reaches the end.
func BenchmarkIter(b *testing.B) {
	dir := b.TempDir()
	prefill(b, dir, readEntries, readSize, readSegment)
	l := openBench(b, dir, &wal.Options{SegmentSize: readSegment})
	ctx := context.Background()
	it := l.Iter(0, nil)
	b.SetBytes(readSize)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_, data, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			it.Seek(0)
			_, data, err = it.Next(ctx)
		}
		if err != nil {
			b.Fatal(err)
		}
		if len(data) != readSize {
			b.Fatalf("read %d bytes, want %d", len(data), readSize)
		}
	}
	b.StopTimer()
	closeBench(b, l)
}

// TestAppendAllocs checks that Append allocates nothing once the write
// buffers have grown: the encoding goes straight into the reused buffer.
// The asynchronous path (AppendAsync, then WaitDurable) must cost nothing
// either, the syncer goroutine's work included.
func TestAppendAllocs(t *testing.T) {
	if invariants.Enabled {
		t.Skip("invariant checks allocate; run without -tags invariants")
	}
	cases := []struct {
		policy     wal.SyncPolicy
		async      bool
		warm, runs int
		size       int // 0: 128 B, copied; else written from the caller's slice
	}{
		// Enough warm-up to fill the 1 MiB buffer several times, so both
		// write buffers have reached their steady capacity.
		{policy: wal.SyncNever, warm: 40_000, runs: 20_000},
		// Every Append fdatasyncs, so keep the counts small.
		{policy: wal.SyncAlways, warm: 2_000, runs: 500},
		{policy: wal.SyncNever, async: true, warm: 40_000, runs: 20_000},
		{policy: wal.SyncAlways, async: true, warm: 2_000, runs: 500},
		// Large entries (write_direct.go): one pwritev each, no rotation.
		{policy: wal.SyncNever, warm: 1_000, runs: 2_000, size: 8 << 10},
		{policy: wal.SyncAlways, warm: 500, runs: 300, size: 8 << 10},
		{policy: wal.SyncAlways, async: true, warm: 500, runs: 300, size: 8 << 10},
	}
	for _, c := range cases {
		name, size, min := c.policy.String(), 128, -1
		if c.size > 0 {
			name, size, min = fmt.Sprintf("%v/direct-%d", c.policy, c.size), c.size, 4<<10
		}
		if c.async {
			name += "/async"
		}
		t.Run(name, func(t *testing.T) {
			l, err := wal.Open(t.TempDir(), wal.WithDirectMin(wal.Options{SyncPolicy: c.policy}, min))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := l.Close(); err != nil {
					t.Error(err)
				}
			})
			data := randomBytes(size, 3)
			write := func() error {
				if !c.async {
					_, err := l.Append(data)
					return err
				}
				i, err := l.AppendAsync(data)
				if err == nil && c.policy == wal.SyncAlways {
					err = l.WaitDurable(i)
				}
				return err
			}
			for range c.warm {
				if err := write(); err != nil {
					t.Fatal(err)
				}
			}
			var appendErr error
			allocs := testing.AllocsPerRun(c.runs, func() {
				if err := write(); err != nil && appendErr == nil {
					appendErr = err
				}
			})
			if appendErr != nil {
				t.Fatal(appendErr)
			}
			if allocs != 0 {
				t.Errorf("%s: %v allocations per call, want 0", name, allocs)
			}
		})
	}
}

// openBench opens the log in dir or fails the benchmark.
func openBench(b *testing.B, dir string, opts *wal.Options) *wal.Log {
	b.Helper()
	l, err := wal.Open(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

func closeBench(b *testing.B, l *wal.Log) {
	b.Helper()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
}

// randomBytes returns size pseudo-random bytes, the same for the same seed.
func randomBytes(size int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	p := make([]byte, size)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}

// prefill writes n entries of size bytes to a new log in dir quickly (no
// fsync but the ones Close and rotation do) and closes it cleanly.
func prefill(b *testing.B, dir string, n, size, segmentSize int) {
	b.Helper()
	l := openBench(b, dir, &wal.Options{SyncPolicy: wal.SyncNever, SegmentSize: segmentSize})
	data := randomBytes(size, 4)
	var batch wal.Batch
	for done := 0; done < n; {
		batch.Clear()
		for ; batch.Len() < 1000 && done < n; done++ {
			batch.Append(data)
		}
		if _, err := l.AppendBatch(&batch); err != nil {
			b.Fatal(err)
		}
	}
	closeBench(b, l)
}

// tailFirstIndex returns the first index of the log's last segment file,
// read from its name ("<seq, 16 hex digits>-<first index, 20 digits>.wal",
// see segmentName in format.go). The log in dir must be closed.
func tailFirstIndex(b *testing.B, dir string) uint64 {
	b.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, ".wal") && len(n) == 16+1+20+len(".wal") {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		b.Fatalf("no segment files in %s", dir)
	}
	sort.Strings(names) // fixed-width hex sequence numbers sort in order
	last := names[len(names)-1]
	first, err := strconv.ParseUint(last[17:37], 10, 64)
	if err != nil {
		b.Fatal(fmt.Errorf("segment name %q: %w", last, err))
	}
	return first
}

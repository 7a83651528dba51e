package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waldb/wal"
)

// The benchmark: for each sync policy and writer count, writers append
// benchEntrySize-byte entries for the configured duration to a fresh log
// with default options.
const benchEntrySize = 128

var benchWriters = []int{1, 16}

// benchConfig configures runBench.
type benchConfig struct {
	Duration time.Duration // per run
	TempDir  string        // parent of each run's temporary directory; "" for os.TempDir
	Out      io.Writer
}

// benchResult is one run's outcome.
type benchResult struct {
	Appends int64
	Elapsed time.Duration
	Latency time.Duration // sum over all Appends; measured under SyncAlways only
}

func runBench(cfg benchConfig) error {
	where := cfg.TempDir
	if where == "" {
		where = os.TempDir()
	}
	fmt.Fprintf(cfg.Out, "Sync-policy benchmark: %d-byte Appends for %v per run, logs under %s\n", benchEntrySize, cfg.Duration, where)
	if note := fsNote(where); note != "" {
		fmt.Fprintf(cfg.Out, "note: %s\n", note)
	}
	fmt.Fprintf(cfg.Out, "\n%-8s  %7s  %12s  %11s\n", "policy", "writers", "appends/s", "avg latency")
	for _, p := range policies {
		for _, w := range benchWriters {
			r, err := benchRun(cfg, p, w)
			if err != nil {
				return fmt.Errorf("benchmark %s with %d writers: %w", p, w, err)
			}
			lat := "-"
			if p == wal.SyncAlways && r.Appends > 0 {
				lat = (r.Latency / time.Duration(r.Appends)).Round(time.Microsecond).String()
			}
			rate := float64(r.Appends) / r.Elapsed.Seconds()
			fmt.Fprintf(cfg.Out, "%-8s  %7d  %12s  %11s\n", p, w, thousands(int64(rate)), lat)
		}
	}
	fmt.Fprintf(cfg.Out, "\nalways: Append returns after an fdatasync, shared by concurrent writers; interval: an fsync\n"+
		"every %v; never: the OS writes back when it likes. Per the wal.Options docs, a process crash\n"+
		"under interval or never loses what is still buffered (up to FlushInterval, %v), a power loss\n"+
		"what is not yet fsynced; the crash rounds above test only always.\n", wal.DefaultSyncInterval, wal.DefaultFlushInterval)
	return nil
}

// benchRun runs one policy and writer count on a fresh temporary log.
func benchRun(cfg benchConfig, policy wal.SyncPolicy, writers int) (benchResult, error) {
	dir, err := os.MkdirTemp(cfg.TempDir, "waldemo-bench-")
	if err != nil {
		return benchResult{}, err
	}
	defer os.RemoveAll(dir)
	l, err := wal.Open(dir, &wal.Options{SyncPolicy: policy})
	if err != nil {
		return benchResult{}, err
	}
	r, err := benchAppend(l, writers, cfg.Duration, policy == wal.SyncAlways)
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	return r, err
}

// benchAppend runs writers goroutines appending for d and sums their
// results; with timed, it measures each Append's latency.
func benchAppend(l *wal.Log, writers int, d time.Duration, timed bool) (benchResult, error) {
	var stop atomic.Bool
	results := make([]benchResult, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	for w := range writers {
		wg.Go(func() { results[w], errs[w] = appendUntil(l, &stop, timed) })
	}
	wg.Wait()
	total := benchResult{Elapsed: time.Since(start)}
	for w, r := range results {
		if errs[w] != nil {
			return total, errs[w]
		}
		total.Appends += r.Appends
		total.Latency += r.Latency
	}
	return total, nil
}

// appendUntil appends benchEntrySize-byte entries until stop is set.
func appendUntil(l *wal.Log, stop *atomic.Bool, timed bool) (benchResult, error) {
	var r benchResult
	data := make([]byte, benchEntrySize)
	for !stop.Load() {
		var t0 time.Time
		if timed {
			t0 = time.Now()
		}
		if _, err := l.Append(data); err != nil {
			return r, err
		}
		if timed {
			r.Latency += time.Since(t0)
		}
		r.Appends++
	}
	return r, nil
}

// thousands formats n with comma separators: 1234567 -> "1,234,567".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

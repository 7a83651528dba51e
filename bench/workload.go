package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is how a case drives a log.
type Kind int

const (
	// KindWrite: Writers goroutines append entries (Batch > 0: batches).
	KindWrite Kind = iota
	// KindRead: one reader reads random entries of a prefilled log.
	KindRead
	// KindOpen: reopen a prefilled log and read its last entry.
	KindOpen
	// KindRaft: Writers clients apply Size-byte commands to a 3-node
	// hashicorp/raft cluster whose nodes store their logs in the library
	// (lib_raft.go).
	KindRaft
)

// Case is one workload configuration, measured on every library.
type Case struct {
	ID      string
	Title   string
	Kind    Kind
	Mode    Mode
	Writers int
	Size    int // entry size in bytes
	Batch   int // entries per batch; 0 for single appends
	Latency bool
	// Entries is the prefilled log's length (KindRead, KindOpen).
	Entries int
	// Cold drops the page cache of the log's files before opening.
	Cold bool
	// Libs, if set, restricts the case to these libraries.
	Libs []string
	// Dur is the measured duration (write and read cases).
	Dur time.Duration
}

// syncInterval is W5's sync period.
const syncInterval = 10 * time.Millisecond

// Result is one measured run of a case on a library.
type Result struct {
	Case    string  `json:"case"`
	Lib     string  `json:"lib"`
	Rep     int     `json:"rep"`
	Ops     int64   `json:"ops"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
	OpsSec  float64 `json:"ops_per_sec"`
	MBSec   float64 `json:"mb_per_sec"`
	// Latency percentiles of one operation, microseconds.
	P50  float64 `json:"p50_us,omitempty"`
	P90  float64 `json:"p90_us,omitempty"`
	P99  float64 `json:"p99_us,omitempty"`
	P999 float64 `json:"p999_us,omitempty"`
	Max  float64 `json:"max_us,omitempty"`
	// AllocsOp is heap objects allocated per operation, process-wide.
	AllocsOp float64 `json:"allocs_per_op"`
	// HeapMiB is Go heap in use (after a GC) with the log open, less the
	// heap in use before it was opened.
	HeapMiB float64 `json:"heap_mib,omitempty"`
	// OpenMs is KindOpen's time to open and read the last entry.
	OpenMs float64 `json:"open_ms,omitempty"`
	// Retries counts KindRaft applies that met a leadership change.
	Retries int64  `json:"retries,omitempty"`
	Mode    string `json:"mode"`
	Err     string `json:"error,omitempty"`
}

// payload returns n pseudo-random bytes (incompressible, so no library
// gains from compression).
func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// runWrite measures a write case on a fresh log in dir, then removes it.
func runWrite(lib *Lib, c *Case, dir string, warmup time.Duration) (Result, error) {
	res := Result{Case: c.ID, Lib: lib.Name, Mode: effectiveMode(lib, c.Mode).String()}
	l, err := open(lib, Config{Dir: dir, Mode: c.Mode, Interval: syncInterval})
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	ops := makeOps(c)
	if _, err := phase(l, c, ops, warmup, false); err != nil {
		l.Close()
		return res, err
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	ph, err := phase(l, c, ops, c.Dur, c.Latency)
	runtime.ReadMemStats(&m1)
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}
	per := int64(c.Size)
	if c.Batch > 0 {
		per *= int64(c.Batch)
	}
	res.Ops, res.Seconds = ph.ops, ph.elapsed.Seconds()
	res.Bytes = ph.ops * per
	res.OpsSec = float64(ph.ops) / res.Seconds
	res.MBSec = float64(res.Bytes) / 1e6 / res.Seconds
	if ph.ops > 0 {
		res.AllocsOp = float64(m1.Mallocs-m0.Mallocs) / float64(ph.ops)
	}
	setPercentiles(&res, ph.lat)
	return res, nil
}

// effectiveMode is the mode lib actually runs a case of mode m in.
func effectiveMode(lib *Lib, m Mode) Mode {
	if m == Interval && lib.NoInterval {
		return Synced
	}
	return m
}

// makeOps returns each writer's operation.
func makeOps(c *Case) []func(Log) error {
	ops := make([]func(Log) error, c.Writers)
	for w := range ops {
		if c.Batch == 0 {
			p := payload(c.Size, uint64(w)+1)
			ops[w] = func(l Log) error { return l.Append(p) }
			continue
		}
		ps := make([][]byte, c.Batch)
		for i := range ps {
			ps[i] = payload(c.Size, uint64(w*c.Batch+i)+1)
		}
		ops[w] = func(l Log) error { return l.AppendBatch(ps) }
	}
	return ops
}

type phaseResult struct {
	ops     int64
	elapsed time.Duration
	lat     []int64 // nanoseconds, all writers
}

// phase runs every writer's op in a loop for d.
func phase(l Log, c *Case, ops []func(Log) error, d time.Duration, latency bool) (phaseResult, error) {
	var (
		stop   atomic.Bool
		wg     sync.WaitGroup
		counts = make([]int64, len(ops))
		lats   = make([][]int64, len(ops))
		errs   = make([]error, len(ops))
	)
	if latency {
		for w := range lats {
			lats[w] = make([]int64, 0, 1<<15)
		}
	}
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	for w, op := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := int64(0)
			for !stop.Load() {
				var t0 time.Time
				if latency {
					t0 = time.Now()
				}
				if err := op(l); err != nil {
					errs[w] = err
					stop.Store(true)
					break
				}
				if latency {
					lats[w] = append(lats[w], int64(time.Since(t0)))
				}
				n++
			}
			counts[w] = n
		}()
	}
	wg.Wait()
	res := phaseResult{elapsed: time.Since(start)}
	for w := range ops {
		if errs[w] != nil {
			return res, fmt.Errorf("writer %d: %w", w, errs[w])
		}
		res.ops += counts[w]
		res.lat = append(res.lat, lats[w]...)
	}
	return res, nil
}

// readBuildMode is the mode a prefilled log is built in: unsynced where
// the library has it (the build is not measured).
func readBuildMode(lib *Lib) Mode {
	if lib.NoUnsynced {
		return Synced
	}
	return Unsynced
}

// prefillBatch is the batch size of prefill: entry i (from 1) holds
// prefillPayloads(size)[(i-1) % prefillBatch].
const prefillBatch = 1000

// prefillPayloads returns the payloads prefill writes, batch by batch.
func prefillPayloads(size int) [][]byte {
	ps := make([][]byte, prefillBatch)
	for i := range ps {
		ps[i] = payload(size, uint64(i)+7)
	}
	return ps
}

// prefill builds a log of n entries of size bytes in dir, in batches of
// prefillBatch, and closes it.
func prefill(lib *Lib, dir string, n, size int) error {
	l, err := open(lib, Config{Dir: dir, Mode: readBuildMode(lib)})
	if err != nil {
		return err
	}
	const per = prefillBatch
	ps := prefillPayloads(size)
	for done := 0; done < n; {
		k := min(per, n-done)
		if err := l.AppendBatch(ps[:k]); err != nil {
			l.Close()
			return fmt.Errorf("prefill at %d: %w", done, err)
		}
		done += k
	}
	if err := l.Sync(); err != nil {
		l.Close()
		return err
	}
	return l.Close()
}

// heapInUse returns the Go heap in use after a full GC.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// runRead measures random reads of a prefilled log of c.Entries entries.
// Each read counts once its bytes were compared with what prefill wrote:
// a reader uses what it reads, and a library that returns a pointer into
// memory without touching the entry (etcd's in-memory reads) would
// otherwise be timed for a lookup only, its entry's cache misses left to
// the caller. The latency of one read includes that check.
func runRead(lib *Lib, c *Case, dir string, rep int) (Result, error) {
	res := Result{Case: c.ID, Lib: lib.Name, Rep: rep, Mode: "read"}
	h0 := heapInUse()
	l, err := open(lib, Config{Dir: dir, Mode: Synced})
	if err != nil {
		return res, err
	}
	defer l.Close()
	rng := rand.New(rand.NewPCG(uint64(rep)+1, 42))
	n := uint64(c.Entries)
	want := prefillPayloads(c.Size)
	lat := make([]int64, 0, 1<<16)
	var stop atomic.Bool
	timer := time.AfterFunc(c.Dur, func() { stop.Store(true) })
	defer timer.Stop()
	start := time.Now()
	for !stop.Load() {
		i := rng.Uint64N(n) + 1
		t0 := time.Now()
		b, err := l.Read(i)
		ok := err == nil && bytes.Equal(b, want[(i-1)%prefillBatch])
		lat = append(lat, int64(time.Since(t0)))
		if err != nil {
			return res, fmt.Errorf("read %d: %w", i, err)
		}
		if !ok {
			return res, fmt.Errorf("read %d: %d bytes, not the %d bytes written", i, len(b), c.Size)
		}
	}
	el := time.Since(start)
	res.Ops, res.Seconds = int64(len(lat)), el.Seconds()
	res.Bytes = res.Ops * int64(c.Size)
	res.OpsSec = float64(res.Ops) / res.Seconds
	res.MBSec = float64(res.Bytes) / 1e6 / res.Seconds
	setPercentiles(&res, lat)
	// lat is dead here, so the heap measured next excludes the samples.
	res.HeapMiB = mib(heapInUse(), h0)
	runtime.KeepAlive(l)
	return res, nil
}

// runOpen measures reopening a prefilled log and reading its last entry.
func runOpen(lib *Lib, c *Case, dir string, rep int) (Result, error) {
	res := Result{Case: c.ID, Lib: lib.Name, Rep: rep, Mode: "open"}
	if c.Cold {
		if err := dropCache(dir); err != nil {
			return res, err
		}
	} else if err := openLast(lib, dir, c.Size); err != nil { // warm the cache
		return res, err
	}
	h0 := heapInUse()
	start := time.Now()
	l, err := open(lib, Config{Dir: dir, Mode: Synced})
	if err != nil {
		return res, err
	}
	b, err := l.Last()
	el := time.Since(start)
	if err == nil && len(b) != c.Size {
		err = fmt.Errorf("last entry has %d bytes, want %d", len(b), c.Size)
	}
	if err != nil {
		l.Close()
		return res, err
	}
	res.HeapMiB = mib(heapInUse(), h0)
	runtime.KeepAlive(l)
	res.Ops, res.Seconds = 1, el.Seconds()
	res.OpenMs = float64(el.Microseconds()) / 1000
	return res, l.Close()
}

func openLast(lib *Lib, dir string, size int) error {
	l, err := open(lib, Config{Dir: dir, Mode: Synced})
	if err != nil {
		return err
	}
	b, err := l.Last()
	if err == nil && len(b) != size {
		err = fmt.Errorf("last entry has %d bytes, want %d", len(b), size)
	}
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	return err
}

func mib(after, before uint64) float64 {
	if after < before {
		return 0
	}
	return float64(after-before) / (1 << 20)
}

// dirSize returns the bytes of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

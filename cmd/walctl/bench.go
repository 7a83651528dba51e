package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
)

// benchOptions configures bench.
type benchOptions struct {
	dir      string        // where the test files go ("": the current directory)
	quick    bool          // about ten seconds in all
	duration time.Duration // of each measurement
	size     int           // entry size in bytes
	writers  []int         // writer counts of the append runs
	batches  []int         // batch sizes of the batch runs
	out      string        // chart path (.png or .svg); the JSON goes next to it
}

func newBenchCmd(e *env) *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench [DIR]",
		Short: "Measure fsync latency of this disk, then the log's append latency and throughput",
		Long: withExit(`bench measures the filesystem holding DIR (default: the current directory)
the way pg_test_fsync does, then the log on it. It works in a temporary
subdirectory, which it removes.

  1. fsync methods: 8 KiB writes into a preallocated file, each followed by
     fdatasync, by fsync, or written with O_SYNC, and without any sync: the
     latency a synced write costs on this device.
  2. appends under each sync policy (always, interval, never) from 1 to 64
     concurrent writers: entries per second and latency percentiles. Under
     "always" each Append returns after an fdatasync; concurrent writers share
     them (group commit).
  3. batches: AppendBatch of several entries per call under "always".

It prints a table and writes a chart (--out, PNG or SVG by its extension:
throughput against writers per policy, and the latency histograms) and the
full results as JSON next to it (same name, .json); without --out both go to
a new directory under the system's temporary directory, whose name bench
prints, never into the current directory. --quick takes about ten
seconds. On tmpfs fsync costs nothing and the figures say nothing about a disk.`),
		Args: optionalDirArg(&o.dir),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.finish(c); err != nil {
				return err
			}
			return runBench(c.Context(), o, e.stdout, newProgress(e, "bench", false))
		},
	}
	cmd.Flags().BoolVar(&o.quick, "quick", false, "short runs and fewer writer counts: about ten seconds")
	cmd.Flags().DurationVar(&o.duration, "duration", 2*time.Second, "length of each measurement (--quick: 250ms)")
	cmd.Flags().IntVar(&o.size, "size", 256, "entry size in `bytes`")
	cmd.Flags().IntSliceVar(&o.writers, "writers", []int{1, 2, 4, 8, 16, 32, 64}, "writer counts (--quick: 1,4,16,64)")
	cmd.Flags().IntSliceVar(&o.batches, "batches", []int{8, 64}, "batch sizes of the AppendBatch runs")
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "chart `file` (.png or .svg); results go to the same name with .json (default: a new temporary directory)")
	return cmd
}

// finish applies --quick and validates the options.
func (o *benchOptions) finish(c *cobra.Command) error {
	if o.quick {
		if !c.Flags().Changed("duration") {
			o.duration = 250 * time.Millisecond
		}
		if !c.Flags().Changed("writers") {
			o.writers = []int{1, 4, 16, 64}
		}
	}
	switch ext := strings.ToLower(filepath.Ext(o.out)); {
	case o.out != "" && ext != ".png" && ext != ".svg":
		return usageErrorf(c, "--out %q: the chart must be a .png or .svg file", o.out)
	case o.duration <= 0:
		return usageErrorf(c, "--duration %v must be positive", o.duration)
	case o.size < 1 || o.size > 16<<20:
		return usageErrorf(c, "--size %d outside [1, 16777216]", o.size)
	case len(o.writers) == 0:
		return usageErrorf(c, "--writers is empty")
	}
	for _, n := range append(slicesClone(o.writers), o.batches...) {
		if n < 1 || n > 4096 {
			return usageErrorf(c, "writer count or batch size %d outside [1, 4096]", n)
		}
	}
	return nil
}

func slicesClone(s []int) []int { return append([]int(nil), s...) }

// benchReport is bench's JSON result.
type benchReport struct {
	Dir        string         `json:"dir"`
	Filesystem string         `json:"filesystem,omitempty"`
	Started    time.Time      `json:"started"`
	GoVersion  string         `json:"go_version"`
	OS         string         `json:"os"`
	Arch       string         `json:"arch"`
	CPUs       int            `json:"cpus"`
	Quick      bool           `json:"quick"`
	RunSeconds float64        `json:"run_seconds"`
	EntrySize  int            `json:"entry_size"`
	Fsync      []fsyncResult  `json:"fsync"`
	Appends    []appendResult `json:"appends"`
}

type fsyncResult struct {
	Method    string  `json:"method"`
	Ops       int     `json:"ops"`
	OpsPerSec float64 `json:"ops_per_sec"`
	AvgUs     float64 `json:"avg_latency_us"`
}

type appendResult struct {
	Policy        string       `json:"policy"`
	Writers       int          `json:"writers"`
	Batch         int          `json:"batch"`
	Calls         uint64       `json:"calls"`
	Entries       uint64       `json:"entries"`
	Seconds       float64      `json:"seconds"`
	EntriesPerSec float64      `json:"entries_per_sec"`
	MiBPerSec     float64      `json:"mib_per_sec"`
	AvgUs         float64      `json:"avg_latency_us"`
	P50Us         float64      `json:"p50_latency_us"`
	P99Us         float64      `json:"p99_latency_us"`
	MaxUs         float64      `json:"max_latency_us"`
	Histogram     []histBucket `json:"latency_histogram"`
}

// benchRun is one measurement.
type benchRun struct {
	name string
	do   func(ctx context.Context, dir string) error
}

func runBench(ctx context.Context, o benchOptions, out io.Writer, prog progress) error {
	base := o.dir
	if base == "" {
		base = "."
	}
	if err := checkDir(base); err != nil {
		return err
	}
	work, err := os.MkdirTemp(base, "walctl-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	rep := &benchReport{Dir: base, Filesystem: fsType(work), Started: time.Now().UTC().Round(time.Second),
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(),
		Quick: o.quick, RunSeconds: o.duration.Seconds(), EntrySize: o.size}
	fmt.Fprintf(out, "bench: %s (%s), %v per measurement, %d-byte entries\n", base, orUnknown(rep.Filesystem), o.duration, o.size)
	if rep.Filesystem == "tmpfs" {
		fmt.Fprintln(out, "note: tmpfs keeps files in memory; fsync costs nothing there, so these figures say nothing about a disk")
	}
	runs := benchRuns(o, rep)
	for i, r := range runs {
		prog.set(int64(i), int64(len(runs)), fmt.Sprintf("bench %d/%d: %s", i+1, len(runs), r.name))
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.do(ctx, work); err != nil {
			return fmt.Errorf("bench %s: %w", r.name, err)
		}
	}
	prog.set(int64(len(runs)), int64(len(runs)), "bench done")
	prog.finish()
	writeBenchTables(out, rep)
	if o.out == "" {
		d, err := os.MkdirTemp("", "walctl-bench-")
		if err != nil {
			return err
		}
		o.out = filepath.Join(d, "walctl-bench.png")
	}
	return writeBenchFiles(out, o.out, rep)
}

func orUnknown(s string) string {
	if s == "" {
		return "filesystem unknown"
	}
	return s
}

// benchRuns lists the measurements; each appends its result to rep.
func benchRuns(o benchOptions, rep *benchReport) []benchRun {
	var runs []benchRun
	for _, m := range fsyncMethods {
		runs = append(runs, benchRun{name: "fsync " + m.name, do: func(ctx context.Context, dir string) error {
			r, err := measureFsync(ctx, dir, m, o.duration)
			rep.Fsync = append(rep.Fsync, r)
			return err
		}})
	}
	add := func(p wal.SyncPolicy, writers, batch int) {
		name := fmt.Sprintf("append %s, %s, batch %d", p, plural(writers, "writer"), batch)
		runs = append(runs, benchRun{name: name, do: func(ctx context.Context, dir string) error {
			r, err := measureAppends(ctx, dir, appendConfig{policy: p, writers: writers, batch: batch, size: o.size, duration: o.duration})
			rep.Appends = append(rep.Appends, r)
			return err
		}})
	}
	for _, p := range []wal.SyncPolicy{wal.SyncAlways, wal.SyncInterval, wal.SyncNever} {
		for _, w := range o.writers {
			add(p, w, 1)
		}
	}
	for _, b := range o.batches {
		add(wal.SyncAlways, 1, b)
	}
	return runs
}

// fsyncMethod is one way of making an 8 KiB write durable. Writes go
// through fd (opened with flag); vf is the same file opened by the log's
// filesystem, whose Sync is fdatasync (what the log uses).
type fsyncMethod struct {
	name string
	flag int                                  // extra open flags
	sync func(fd *os.File, vf vfs.File) error // after each write; nil: none
}

var fsyncMethods = []fsyncMethod{
	{name: "write + fdatasync", sync: func(_ *os.File, vf vfs.File) error { return vf.Sync() }},
	{name: "write + fsync", sync: func(fd *os.File, _ vfs.File) error { return fd.Sync() }},
	{name: "O_SYNC write", flag: os.O_SYNC},
	{name: "write, no sync"},
}

const (
	fsyncBlock    = 8 << 10
	fsyncFileSize = 16 << 20
)

// measureFsync writes 8 KiB blocks in turn over a preallocated, synced
// 16 MiB file (so a sync need not change the file's size), each made
// durable by m, for d.
func measureFsync(ctx context.Context, dir string, m fsyncMethod, d time.Duration) (fsyncResult, error) {
	res := fsyncResult{Method: m.name}
	name := filepath.Join(dir, "fsync.test")
	defer os.Remove(name)
	if err := os.WriteFile(name, make([]byte, fsyncFileSize), 0o644); err != nil {
		return res, err
	}
	fd, err := os.OpenFile(name, os.O_RDWR|m.flag, 0)
	if err != nil {
		return res, err
	}
	defer fd.Close()
	if err := fd.Sync(); err != nil {
		return res, err
	}
	vf, err := vfs.Default.OpenReadWrite(name)
	if err != nil {
		return res, err
	}
	defer vf.Close()
	block := make([]byte, fsyncBlock)
	start := time.Now()
	for ; time.Since(start) < d && ctx.Err() == nil; res.Ops++ {
		off := int64(res.Ops*fsyncBlock) % fsyncFileSize
		block[0] = byte(res.Ops)
		if _, err := fd.WriteAt(block, off); err != nil {
			return res, err
		}
		if m.sync != nil {
			if err := m.sync(fd, vf); err != nil {
				return res, err
			}
		}
	}
	el := time.Since(start).Seconds()
	res.OpsPerSec = float64(res.Ops) / el
	res.AvgUs = el * 1e6 / float64(max(res.Ops, 1))
	return res, nil
}

// appendConfig is one append measurement.
type appendConfig struct {
	policy   wal.SyncPolicy
	writers  int
	batch    int
	size     int
	duration time.Duration
}

// measureAppends opens a new log and runs c.writers goroutines appending
// for c.duration, timing each call.
func measureAppends(ctx context.Context, dir string, c appendConfig) (appendResult, error) {
	res := appendResult{Policy: c.policy.String(), Writers: c.writers, Batch: c.batch}
	ldir, err := os.MkdirTemp(dir, "log-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(ldir)
	l, err := wal.Open(ldir, &wal.Options{SyncPolicy: c.policy})
	if err != nil {
		return res, err
	}
	var stop atomic.Bool
	timer := time.AfterFunc(c.duration, func() { stop.Store(true) })
	defer timer.Stop()
	hists := make([]latHist, c.writers)
	errs := make([]error, c.writers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range c.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = appendLoop(ctx, l, c, &stop, &hists[w], uint64(w))
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	var h latHist
	for i := range hists {
		h.merge(&hists[i])
		if err == nil {
			err = errs[i]
		}
	}
	res.fill(&h, el, c)
	return res, err
}

// appendLoop appends (or appends batches) until stop, recording latency.
func appendLoop(ctx context.Context, l *wal.Log, c appendConfig, stop *atomic.Bool, h *latHist, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 1))
	data := make([]byte, c.size)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	var b wal.Batch
	for !stop.Load() && ctx.Err() == nil {
		t := time.Now()
		var err error
		if c.batch == 1 {
			_, err = l.Append(data)
		} else {
			b.Clear()
			for range c.batch {
				b.Append(data)
			}
			_, err = l.AppendBatch(&b)
		}
		if err != nil {
			return err
		}
		h.add(time.Since(t))
	}
	return nil
}

func (r *appendResult) fill(h *latHist, seconds float64, c appendConfig) {
	r.Calls, r.Entries, r.Seconds = h.n, h.n*uint64(c.batch), seconds
	r.EntriesPerSec = float64(r.Entries) / seconds
	r.MiBPerSec = r.EntriesPerSec * float64(c.size) / (1 << 20)
	if h.n > 0 {
		r.AvgUs = float64(h.sum) / float64(h.n) / 1e3
	}
	r.P50Us, r.P99Us, r.MaxUs = h.quantile(0.5), h.quantile(0.99), float64(h.max)/1e3
	r.Histogram = h.buckets()
}

// latHist is a latency histogram with four buckets per power of two from
// 100ns: bucket i holds [0.1·2^(i/4), 0.1·2^((i+1)/4)) µs; bucket 0 also
// holds anything faster.
type latHist struct {
	counts   [histBuckets]uint64
	n        uint64
	sum, max int64 // nanoseconds
}

const histBuckets = 4 * 32 // up to 0.1µs·2^32: about 7 minutes

func bucketOf(d time.Duration) int {
	if d <= 100 {
		return 0
	}
	return min(int(4*math.Log2(float64(d)/100)), histBuckets-1)
}

// histLow is the lower bound of bucket i in µs.
func histLow(i int) float64 { return 0.1 * math.Exp2(float64(i)/4) }

func (h *latHist) add(d time.Duration) {
	h.counts[bucketOf(d)]++
	h.n++
	h.sum += int64(d)
	h.max = max(h.max, int64(d))
}

func (h *latHist) merge(o *latHist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the upper bound (µs) of the bucket holding quantile q.
func (h *latHist) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(h.n)))
	var cum uint64
	for i, c := range h.counts {
		if cum += c; cum >= want {
			return math.Min(histLow(i+1), float64(h.max)/1e3)
		}
	}
	return float64(h.max) / 1e3
}

// histBucket is a non-empty bucket in the JSON result.
type histBucket struct {
	LowUs  float64 `json:"low_us"`
	HighUs float64 `json:"high_us"`
	Count  uint64  `json:"count"`
}

func (h *latHist) buckets() []histBucket {
	out := []histBucket{}
	for i, c := range h.counts {
		if c > 0 {
			out = append(out, histBucket{LowUs: round3(histLow(i)), HighUs: round3(histLow(i + 1)), Count: c})
		}
	}
	return out
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// writeBenchTables prints the results.
func writeBenchTables(out io.Writer, rep *benchReport) {
	fmt.Fprintf(out, "\n8 KiB writes, each made durable (as pg_test_fsync):\n")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "METHOD\tOPS/S\tAVG LATENCY\t")
	for _, r := range rep.Fsync {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t\n", r.Method, r.OpsPerSec, fmtUs(r.AvgUs))
	}
	tw.Flush()
	fmt.Fprintf(out, "\nlog appends of %d-byte entries:\n", rep.EntrySize)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "POLICY\tWRITERS\tBATCH\tENTRIES/S\tMiB/S\tAVG\tP50\tP99\tMAX\t")
	for _, r := range rep.Appends {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.1f\t%s\t%s\t%s\t%s\t\n", r.Policy, r.Writers, r.Batch, r.EntriesPerSec, r.MiBPerSec,
			fmtUs(r.AvgUs), fmtUs(r.P50Us), fmtUs(r.P99Us), fmtUs(r.MaxUs))
	}
	tw.Flush()
}

// fmtUs formats microseconds.
func fmtUs(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.2fs", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.2fms", us/1e3)
	}
	return fmt.Sprintf("%.1fµs", us)
}

// writeBenchFiles writes the chart and the JSON result next to it.
func writeBenchFiles(out io.Writer, chartPath string, rep *benchReport) error {
	jsonPath := strings.TrimSuffix(chartPath, filepath.Ext(chartPath)) + ".json"
	f, err := os.Create(jsonPath)
	if err != nil {
		return err
	}
	err = writeJSON(f, rep)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := writeBenchChart(chartPath, rep); err != nil {
		return fmt.Errorf("writing the chart: %w", err)
	}
	fmt.Fprintf(out, "\nwrote %s and %s\n", chartPath, jsonPath)
	return nil
}

// Command bench runs the same workloads on waldb, its peers and raw-file
// baselines, and writes a markdown table, JSON and charts.
//
//	cd bench && go run . -out results/          # full run (median of 5)
//	cd bench && go run . -quick -out /tmp/q     # smoke run, under a minute
//
// See README.md for the workloads, the peers and the targets.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Params are the run's sizes, durations and filters.
type Params struct {
	Quick      bool          `json:"quick"`
	Reps       int           `json:"reps"`
	Dur        time.Duration `json:"dur_ns"`
	Warmup     time.Duration `json:"warmup_ns"`
	W6Entries  int           `json:"w6_entries"`
	W7Entries  int           `json:"w7_entries"`
	W7Scale    []int         `json:"w7_scale_entries"`
	W7ScaleFor []string      `json:"w7_scale_libs"`
	Libs       []string      `json:"libs,omitempty"`
	Cases      []string      `json:"cases,omitempty"`
	DataDir    string        `json:"data_dir"`
	ZeroFill   bool          `json:"raw_zerofill"`
	NoCopy     bool          `json:"waldb_nocopy,omitempty"`
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run parses args, runs the suite and writes the results.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		out        = fs.String("out", "results", "directory for results.md, results.json and charts")
		dataDir    = fs.String("dir", os.TempDir(), "where the logs under test are created (a fresh subdirectory, removed afterwards)")
		quick      = fs.Bool("quick", false, "smoke run: small sizes, short runs, 1 repetition")
		reps       = fs.Int("reps", 0, "repetitions per case (default 5, quick 1)")
		dur        = fs.Duration("dur", 0, "measured time per run (default 2s, quick 150ms)")
		warmup     = fs.Duration("warmup", 0, "unmeasured warm-up per write run (default 300ms, quick 30ms)")
		w6         = fs.Int("w6-entries", 0, "W6 log length (default 1,000,000, quick 20,000)")
		w7         = fs.Int("w7-entries", 0, "W7 log length in 256 B entries (default 4,194,304 = 1 GiB, quick 32,768)")
		w7Scale    = fs.String("w7-scale", "", "extra W7 log lengths for -w7-scale-libs, comma-separated (default 33554432 = 8 GiB; quick none; \"none\" for none)")
		w7ScaleFor = fs.String("w7-scale-libs", "waldb", "libraries measured at the -w7-scale sizes")
		libs       = fs.String("libs", "", "only these libraries (comma-separated names)")
		cases      = fs.String("cases", "", "only these cases (comma-separated: W2 selects W2-4, W2-16, W2-64)")
		cpuprofile = fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
		zeroFill   = fs.Bool("raw-zerofill", false, "raw baselines reserve space by writing zeros instead of fallocate")
		noCopy     = fs.Bool("waldb-nocopy", false, "open waldb with Options.NoCopy: reads alias the memory map instead of copying")
		from       = fs.String("report", "", "run nothing: re-render -out from this results.json")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from != "" {
		rep, err := loadReport(*from)
		if err != nil {
			return err
		}
		if err := rep.write(*out); err != nil {
			return err
		}
		fmt.Fprint(stdout, rep.markdown())
		return nil
	}
	p := Params{Quick: *quick, Reps: *reps, Dur: *dur, Warmup: *warmup, W6Entries: *w6, W7Entries: *w7,
		DataDir: *dataDir, ZeroFill: *zeroFill, NoCopy: *noCopy, Libs: splitList(*libs), Cases: splitList(*cases),
		W7ScaleFor: splitList(*w7ScaleFor)}
	p.defaults()
	scale, err := parseScale(*w7Scale, *quick)
	if err != nil {
		return err
	}
	p.W7Scale = scale
	rawZeroFill = p.ZeroFill
	waldbNoCopy = p.NoCopy
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	s, err := newSuite(p, stderr)
	if err != nil {
		return err
	}
	defer os.RemoveAll(s.root)
	if err := s.runAll(); err != nil {
		return err
	}
	rep := s.report(args)
	if err := rep.write(*out); err != nil {
		return err
	}
	fmt.Fprint(stdout, rep.markdown())
	return nil
}

func (p *Params) defaults() {
	def := func(v *int, full, quick int) {
		if *v == 0 {
			*v = full
			if p.Quick {
				*v = quick
			}
		}
	}
	defDur := func(v *time.Duration, full, quick time.Duration) {
		if *v == 0 {
			*v = full
			if p.Quick {
				*v = quick
			}
		}
	}
	def(&p.Reps, 5, 1)
	def(&p.W6Entries, 1_000_000, 20_000)
	def(&p.W7Entries, 4<<20, 32<<10)
	defDur(&p.Dur, 2*time.Second, 150*time.Millisecond)
	defDur(&p.Warmup, 300*time.Millisecond, 30*time.Millisecond)
}

func parseScale(s string, quick bool) ([]int, error) {
	switch {
	case s == "none":
		return nil, nil
	case s == "" && quick:
		return nil, nil
	case s == "":
		return []int{32 << 20}, nil
	}
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad -w7-scale entry %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// suite is one run of the harness.
type suite struct {
	p       Params
	log     io.Writer
	root    string
	libs    []*Lib
	cases   []*Case
	results []Result
	built   map[string]string // prefilled log dirs by lib and length
	loads   []loadSample
	start   time.Time
	end     time.Time
	core    string
}

type loadSample struct {
	Case string `json:"case"`
	Load string `json:"loadavg"`
}

func newSuite(p Params, log io.Writer) (*suite, error) {
	root, err := os.MkdirTemp(p.DataDir, "waldb-bench-")
	if err != nil {
		return nil, err
	}
	s := &suite{p: p, log: log, root: root, built: map[string]string{}}
	for _, l := range libraries() {
		if len(p.Libs) == 0 || slices.Contains(p.Libs, l.Name) {
			s.libs = append(s.libs, l)
		}
	}
	for _, l := range optionalLibraries() {
		if slices.Contains(p.Libs, l.Name) {
			s.libs = append(s.libs, l)
		}
	}
	if len(s.libs) == 0 {
		os.RemoveAll(root)
		return nil, fmt.Errorf("no library matches -libs %v", p.Libs)
	}
	for _, c := range allCases(p) {
		if selected(c.ID, p.Cases) {
			s.cases = append(s.cases, c)
		}
	}
	return s, nil
}

// selected reports whether case id matches a filter: exactly, or as a
// prefix ending at a dash ("W2" matches "W2-64").
func selected(id string, filters []string) bool {
	if len(filters) == 0 {
		return true
	}
	for _, f := range filters {
		if id == f || strings.HasPrefix(id, f+"-") {
			return true
		}
	}
	return false
}

// allCases returns W1..W7 for the run's parameters.
func allCases(p Params) []*Case {
	d := p.Dur
	cs := []*Case{
		{ID: "W1", Title: "synced, 1 writer, 128 B", Mode: Synced, Writers: 1, Size: 128, Latency: true, Dur: d},
	}
	writers := []int{4, 16, 64}
	if p.Quick {
		writers = []int{16, 64}
	}
	for _, w := range writers {
		cs = append(cs, &Case{ID: fmt.Sprintf("W2-%d", w), Title: fmt.Sprintf("synced, %d writers, 128 B", w),
			Mode: Synced, Writers: w, Size: 128, Latency: true, Dur: d})
	}
	cs = append(cs,
		&Case{ID: "W3", Title: "synced, batches of 100 x 1 KiB", Mode: Synced, Writers: 1, Size: 1024, Batch: 100, Latency: true, Dur: d},
		&Case{ID: "W4-128", Title: "unsynced, 1 writer, 128 B", Mode: Unsynced, Writers: 1, Size: 128, Dur: d},
		&Case{ID: "W4-4K", Title: "unsynced, 1 writer, 4 KiB", Mode: Unsynced, Writers: 1, Size: 4096, Dur: d},
		&Case{ID: "W5", Title: "IoTDB: 100 sensors, batches of 100 x 16 B, sync every 10 ms", Mode: Interval,
			Writers: 100, Size: 16, Batch: 100, Latency: true, Dur: d},
		&Case{ID: "W6", Title: fmt.Sprintf("random reads, %s entries of 256 B", commas(p.W6Entries)), Kind: KindRead,
			Size: 256, Entries: p.W6Entries, Dur: d},
	)
	sizes := []int{p.W7Entries}
	for _, n := range p.W7Scale {
		if n != p.W7Entries {
			sizes = append(sizes, n)
		}
	}
	for i, n := range sizes {
		var only []string
		if i > 0 {
			only = p.W7ScaleFor
		}
		for _, cold := range []bool{true, false} {
			word := map[bool]string{true: "cold", false: "warm"}[cold]
			cs = append(cs, &Case{ID: fmt.Sprintf("W7-%s-%s", word, sizeName(int64(n)*256)),
				Title: fmt.Sprintf("reopen %s log (%s x 256 B), read last entry, %s cache", sizeName(int64(n)*256), commas(n), word),
				Kind:  KindOpen, Size: 256, Entries: n, Cold: cold, Libs: only})
		}
	}
	for _, w := range []int{1, 64} {
		title := fmt.Sprintf("3-node raft cluster, %d clients, 128 B commands", w)
		if w == 1 {
			title = "3-node raft cluster, 1 client, 128 B commands"
		}
		cs = append(cs, &Case{ID: fmt.Sprintf("R%d", w), Title: title, Kind: KindRaft, Writers: w, Size: 128, Latency: true, Dur: d})
	}
	return cs
}

// sizeName formats a byte count as GiB or MiB.
func sizeName(b int64) string {
	if b >= 1<<30 && b%(1<<30) == 0 {
		return fmt.Sprintf("%dGiB", b>>30)
	}
	return fmt.Sprintf("%dMiB", b>>20)
}

func commas(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// libsFor returns the libraries a case runs on.
func (s *suite) libsFor(c *Case) []*Lib {
	var out []*Lib
	for _, l := range s.libs {
		switch {
		case len(c.Libs) > 0 && !slices.Contains(c.Libs, l.Name):
		case c.Kind == KindWrite && c.Mode == Unsynced && l.NoUnsynced:
		case c.Kind == KindOpen && l.NoReopen:
		case c.Kind == KindRaft && l.Raft == nil:
		default:
			out = append(out, l)
		}
	}
	return out
}

func (s *suite) logf(format string, args ...any) {
	fmt.Fprintf(s.log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// runAll runs every case: repetitions outermost, libraries interleaved in
// an order rotated each repetition, so noise hits every library alike.
func (s *suite) runAll() error {
	s.start = time.Now()
	s.core = coreCommit()
	s.logf("data dir %s (%s), load %s", s.root, fsType(s.root), loadAvg())
	for ci, c := range s.cases {
		libs := s.libsFor(c)
		if len(libs) == 0 {
			continue
		}
		s.loads = append(s.loads, loadSample{Case: c.ID, Load: loadAvg()})
		s.logf("== %s: %s (load %s)", c.ID, c.Title, loadAvg())
		if c.Kind == KindRead || c.Kind == KindOpen {
			for _, l := range libs {
				if _, err := s.prefilled(l, c); err != nil {
					s.logf("%s %s: prefill: %v", c.ID, l.Name, err)
				}
			}
		}
		for rep := range s.p.Reps {
			for k := range libs {
				l := libs[(k+rep)%len(libs)]
				s.results = append(s.results, s.runOne(l, c, rep))
			}
		}
		s.dropUnneeded(ci)
	}
	s.end = time.Now()
	return nil
}

// runOne runs one repetition of c on l and logs it.
func (s *suite) runOne(l *Lib, c *Case, rep int) Result {
	var (
		r   Result
		err error
	)
	switch c.Kind {
	case KindWrite:
		dir := filepath.Join(s.root, fmt.Sprintf("%s-%s-%d", c.ID, safeName(l.Name), rep))
		r, err = runWrite(l, c, dir, s.p.Warmup)
		r.Rep = rep
	case KindRaft:
		dir := filepath.Join(s.root, fmt.Sprintf("%s-%s-%d", c.ID, safeName(l.Name), rep))
		r, err = runRaft(l, c, dir, s.p.Warmup, rep)
	default:
		dir, perr := s.prefilled(l, c)
		if perr != nil {
			r, err = Result{Case: c.ID, Lib: l.Name, Rep: rep}, perr
		} else if c.Kind == KindRead {
			r, err = runRead(l, c, dir, rep)
		} else {
			r, err = runOpen(l, c, dir, rep)
		}
	}
	if err != nil {
		r.Case, r.Lib, r.Rep, r.Err = c.ID, l.Name, rep, err.Error()
		s.logf("%-8s %-12s rep %d: ERROR %v", c.ID, l.Name, rep, err)
		return r
	}
	s.logf("%-8s %-12s rep %d: %s", c.ID, l.Name, rep, brief(c, r))
	return r
}

func brief(c *Case, r Result) string {
	switch {
	case c.Kind == KindOpen:
		return fmt.Sprintf("%.1f ms, heap %.1f MiB", r.OpenMs, r.HeapMiB)
	case c.Kind == KindRaft:
		return fmt.Sprintf("%.0f applies/s p50 %.1f us p99 %.1f us retries %d", r.OpsSec, r.P50, r.P99, r.Retries)
	case c.Kind == KindRead:
		return fmt.Sprintf("%.0f reads/s p99 %.1f us heap %.1f MiB", r.OpsSec, r.P99, r.HeapMiB)
	case c.Batch > 0:
		return fmt.Sprintf("%.1f MB/s %.0f batches/s p99 %.0f us", r.MBSec, r.OpsSec, r.P99)
	}
	return fmt.Sprintf("%.0f ops/s %.1f MB/s p50 %.1f us p99 %.1f us allocs/op %.3f", r.OpsSec, r.MBSec, r.P50, r.P99, r.AllocsOp)
}

func safeName(s string) string { return strings.NewReplacer("/", "_", " ", "_").Replace(s) }

// prefilled returns the directory of l's prefilled log for c, building it
// on first use.
func (s *suite) prefilled(l *Lib, c *Case) (string, error) {
	key := fmt.Sprintf("%s-%d", safeName(l.Name), c.Entries)
	if dir, ok := s.built[key]; ok {
		if dir == "" {
			return "", fmt.Errorf("prefill failed earlier")
		}
		return dir, nil
	}
	dir := filepath.Join(s.root, "fill-"+key)
	start := time.Now()
	if err := prefill(l, dir, c.Entries, c.Size); err != nil {
		s.built[key] = ""
		os.RemoveAll(dir)
		return "", err
	}
	s.built[key] = dir
	s.logf("prefilled %s: %s entries, %.1f MiB on disk, %.1fs", l.Name, commas(c.Entries),
		float64(dirSize(dir))/(1<<20), time.Since(start).Seconds())
	return dir, nil
}

// dropUnneeded removes prefilled logs no case after ci uses.
func (s *suite) dropUnneeded(ci int) {
	for key, dir := range s.built {
		keep := false
		for _, c := range s.cases[ci+1:] {
			if (c.Kind == KindRead || c.Kind == KindOpen) && strings.HasSuffix(key, fmt.Sprintf("-%d", c.Entries)) {
				keep = true
			}
		}
		if !keep {
			os.RemoveAll(dir)
			delete(s.built, key)
		}
	}
}

// machine describes where the suite ran.
type machine struct {
	CPUs      int    `json:"nproc"`
	Model     string `json:"cpu_model"`
	Kernel    string `json:"kernel"`
	FS        string `json:"data_dir_fs"`
	DataDir   string `json:"data_dir"`
	GoVersion string `json:"go_version"`
	LoadStart string `json:"loadavg_start"`
	LoadEnd   string `json:"loadavg_end"`
	// Core is the waldb commit the run was built from (git, best effort).
	Core string `json:"waldb_commit"`
}

// coreCommit names the commit of the waldb checkout beside this module,
// with "+dirty" if the files this module builds (the root package,
// record, vfs, internal; tests aside) differ from it.
func coreCommit() string {
	out, err := exec.Command("git", "-C", "..", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	st, err := exec.Command("git", "-C", "..", "status", "--porcelain", "--untracked-files=no", "--",
		":(glob)*.go", "record", "vfs", "internal", "go.mod", ":!*_test.go").Output()
	if err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += "+dirty"
	}
	return c
}

func (s *suite) machine() machine {
	first := "unknown"
	if len(s.loads) > 0 {
		first = s.loads[0].Load
	}
	return machine{CPUs: runtime.NumCPU(), Model: cpuModel(), Kernel: kernel(), FS: fsType(s.root),
		DataDir: s.p.DataDir, GoVersion: runtime.Version(), LoadStart: first, LoadEnd: loadAvg(), Core: s.core}
}

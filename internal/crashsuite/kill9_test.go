package crashsuite

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waldb/wal"
)

// Sizes and timing of TestKill9.
const (
	ciKills   = 1000    // total kills at CI size
	soakKills = 100_000 // total kills with WAL_SOAK=1
	// maxChain children run (and are killed) on the log before the parent
	// verifies it, so all but the first recover from a crash.
	maxChain = 3
	// One kill in earlyOneIn is early: 0 to earlyMax after the child said
	// it is calling Open; the others come 0 to lateMax after Open returned.
	earlyOneIn = 5
	earlyMax   = 5 * time.Millisecond
	lateMax    = 40 * time.Millisecond
	// startTimeout bounds a child's start (a race-enabled binary on a
	// loaded machine) and its Open.
	startTimeout = time.Minute
)

// kill9Cell is one configuration of the matrix.
type kill9Cell struct {
	policy  wal.SyncPolicy
	segSize int
}

func (c kill9Cell) String() string {
	if c.segSize >= 1<<20 {
		return fmt.Sprintf("%v/%dMiB", c.policy, c.segSize>>20)
	}
	return fmt.Sprintf("%v/%dKiB", c.policy, c.segSize>>10)
}

var kill9Matrix = []kill9Cell{
	{wal.SyncAlways, 8 << 10}, {wal.SyncAlways, wal.DefaultSegmentSize},
	{wal.SyncInterval, 8 << 10}, {wal.SyncInterval, wal.DefaultSegmentSize},
	{wal.SyncNever, 8 << 10}, {wal.SyncNever, wal.DefaultSegmentSize},
}

// kill9Stats counts what a run did.
type kill9Stats struct {
	kills, early, beforeOpen int // kills; early ones; kills before Open returned
	verifications            int
	acked, ops, pending      int // entries acknowledged by children; truncations and resets; pending at a kill
	tornTails, dropped       int // recoveries reporting a torn tail; Dropped ranges
	maxEntries               uint64
}

func (s *kill9Stats) add(o kill9Stats) {
	s.kills += o.kills
	s.early += o.early
	s.beforeOpen += o.beforeOpen
	s.verifications += o.verifications
	s.acked += o.acked
	s.ops += o.ops
	s.pending += o.pending
	s.tornTails += o.tornTails
	s.dropped += o.dropped
	s.maxEntries = max(s.maxEntries, o.maxEntries)
}

func (s kill9Stats) String() string {
	return fmt.Sprintf("%d kills (%d early, %d before Open returned), %d verifications, %d acknowledged entries, "+
		"%d truncations/resets (%d pending at a kill), %d torn-tail recoveries, %d dropped ranges, at most %d entries",
		s.kills, s.early, s.beforeOpen, s.verifications, s.acked, s.ops, s.pending, s.tornTails, s.dropped, s.maxEntries)
}

// envInt reads a positive integer from the environment, or returns def.
func envInt(t *testing.T, name string, def uint64) uint64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// testSeed returns WAL_SEED, or a fresh seed; either way it is logged.
func testSeed(t *testing.T) uint64 {
	seed := envInt(t, "WAL_SEED", uint64(time.Now().UnixNano()))
	t.Logf("seed %d (replay: WAL_SEED=%d)", seed, seed)
	return seed
}

// TestKill9 SIGKILLs children running a random mix of operations and checks
// the recovered log against what they acknowledged; see the package doc.
func TestKill9(t *testing.T) {
	total := uint64(ciKills)
	if os.Getenv("WAL_SOAK") == "1" {
		total = soakKills
	}
	total = envInt(t, "WAL_KILLS", total)
	seed := testSeed(t)
	cells := kill9Matrix
	if f := os.Getenv("WAL_CELLS"); f != "" {
		cells = nil
		for _, c := range kill9Matrix {
			if strings.Contains(c.String(), f) {
				cells = append(cells, c)
			}
		}
	}
	if len(cells) == 0 {
		t.Fatalf("WAL_CELLS=%q matches no cell", os.Getenv("WAL_CELLS"))
	}
	perCell := int((total + uint64(len(cells)) - 1) / uint64(len(cells)))
	start := time.Now()
	var mu sync.Mutex
	var sum kill9Stats
	// The cells run at once whatever -parallel says: each spends most of
	// its time waiting (for a child to start, for a kill delay), so on two
	// cores six cells finish in about half the time two at a time take.
	// t.Run may be called from several goroutines.
	var wg sync.WaitGroup
	for i, cell := range cells {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(cell.String(), func(t *testing.T) {
				st := runKill9Cell(t, cell, seed, uint64(i), perCell)
				t.Logf("%v: %v", cell, st)
				mu.Lock()
				sum.add(st)
				mu.Unlock()
			})
		}()
	}
	wg.Wait()
	t.Logf("total: %v in %v (seed %d)", sum, time.Since(start).Round(time.Millisecond), seed)
}

// cellRun is the state of one cell's run.
type cellRun struct {
	t    *testing.T
	cell kill9Cell
	seed uint64
	dir  string
	opts *wal.Options
	rng  *rand.Rand
	m    *model
	st   kill9Stats
	gen  uint64 // the next unused generation
	// chain describes the children since the last verification, and
	// transcript holds their lines, for failure reports.
	chain      []string
	transcript []byte
}

// runKill9Cell runs kills children of one configuration on one directory.
func runKill9Cell(t *testing.T, cell kill9Cell, seed, cellIndex uint64, kills int) kill9Stats {
	dir, err := os.MkdirTemp("", "crashsuite-kill9-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log kept for inspection in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	r := &cellRun{t: t, cell: cell, seed: seed, dir: dir, opts: logOptions(cell.policy, cell.segSize),
		rng: rand.New(rand.NewPCG(seed, cellIndex)), m: newModel(), gen: 1}
	for r.st.kills < kills {
		r.chain, r.transcript = nil, nil
		for n := 1 + r.rng.IntN(maxChain); n > 0 && r.st.kills < kills; n-- {
			r.killOne()
		}
		r.verify()
	}
	r.st.acked = r.m.newFacts
	return r.st
}

// killOne runs one child to its kill and adds its lines to the model.
func (r *cellRun) killOne() {
	cfg := childConfig{Mode: modeKill9, Dir: r.dir, Seed: r.rng.Uint64(), Policy: r.cell.policy, SegSize: r.cell.segSize,
		GenBase: r.gen, StrictNoop: os.Getenv("WAL_STRICT_NOOP") != "0"}
	r.gen += genSpan
	r.m.maxGen = max(r.m.maxGen, cfg.GenBase)
	early := r.rng.IntN(earlyOneIn) == 0
	limit, after := lateMax, "O (Open returned)"
	if early {
		limit, after = earlyMax, "S (calling Open)"
	}
	delay := time.Duration(r.rng.Int64N(int64(limit/time.Microsecond)+1)) * time.Microsecond
	res, err := killChild(cfg, early, delay)
	desc := fmt.Sprintf("kill %d: child seed %d gen %d, killed %v after %s", r.st.kills, cfg.Seed, cfg.GenBase, delay, after)
	r.chain = append(r.chain, desc)
	r.transcript = fmt.Appendf(r.transcript, "# %s\n%s\n", desc, strings.Join(res.lines, "\n"))
	if err == nil {
		err = r.m.apply(r.st.kills, res.lines)
	}
	if err != nil {
		r.t.Fatalf("%v, seed %d, %s: %v", r.cell, r.seed, desc, err)
	}
	r.st.kills++
	if early {
		r.st.early++
	}
	if !res.opened {
		r.st.beforeOpen++
	}
}

// verify checks the log after a chain of kills and rebases the model.
func (r *cellRun) verify() {
	for _, o := range r.m.ops {
		r.st.ops++
		if !o.acked {
			r.st.pending++
		}
	}
	rep, err := verifyKill9(r.dir, r.opts, r.m, r.gen)
	r.gen += genSpan
	r.st.verifications++
	if err != nil {
		lines := r.dir + ".lines"
		if werr := os.WriteFile(lines, r.transcript, 0o644); werr != nil {
			lines = werr.Error()
		}
		r.t.Fatalf("%v, seed %d, verification after kill %d failed.\nchildren since the last verification (their lines: %s):\n  %s\n%v",
			r.cell, r.seed, r.st.kills-1, lines, strings.Join(r.chain, "\n  "), err)
	}
	if rep.State == wal.RecoveryTornTail {
		r.st.tornTails++
	}
	r.st.dropped += len(rep.Dropped)
	r.st.maxEntries = max(r.st.maxEntries, uint64(len(r.m.facts)))
}

// childResult is what a killed child reported.
type childResult struct {
	lines  []string
	opened bool // it reported that Open returned
}

// killChild starts a child, kills it delay after its S line (early) or its
// O line, and returns its lines once it is dead.
func killChild(cfg childConfig, early bool, delay time.Duration) (childResult, error) {
	cmd := childCommand(cfg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return childResult{}, err
	}
	if err := startChild(cmd); err != nil {
		return childResult{}, fmt.Errorf("starting child: %w", err)
	}
	started, opened, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var res childResult
	var readErr error
	go func() {
		defer close(done)
		res, readErr = readLines(out, started, opened)
	}()
	trigger := opened
	if early {
		trigger = started
	}
	select {
	case <-trigger:
		select {
		case <-time.After(delay):
		case <-done:
		}
	case <-done:
	case <-time.After(startTimeout):
	}
	killErr := cmd.Process.Kill()
	<-done // EOF: the child is dead and every line it wrote has been read
	waitErr := cmd.Wait()
	switch {
	case killErr != nil && !errors.Is(killErr, os.ErrProcessDone):
		return res, fmt.Errorf("killing child: %w", killErr)
	case cmd.ProcessState.ExitCode() != -1:
		return res, fmt.Errorf("child exited before the kill (%v); stderr:\n%s", waitErr, stderr.Bytes())
	case stderr.Len() > 0: // a race report, say
		return res, fmt.Errorf("child wrote to stderr before the kill:\n%s", stderr.Bytes())
	case readErr != nil:
		return res, fmt.Errorf("reading the child's lines: %w", readErr)
	}
	select {
	case <-trigger:
	default:
		return res, fmt.Errorf("child did not start or open the log within %v", startTimeout)
	}
	return res, nil
}

// readLines reads a child's lines to EOF, closing started at its S line
// and opened at its O line.
func readLines(r io.Reader, started, opened chan<- struct{}) (childResult, error) {
	var res childResult
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		res.lines = append(res.lines, line)
		switch {
		case line == "S" && len(res.lines) == 1:
			close(started)
		case strings.HasPrefix(line, "O ") && !res.opened:
			res.opened = true
			close(opened)
		}
	}
	return res, sc.Err()
}

// verifyKill9 checks the log against the model (rules 1-6), checks that
// OpenReadOnly predicted the recovery, that a second Open changes nothing
// and that appends work, then rebases the model on the verified log.
// Appended entries get generation gen. It returns the first Open's report.
func verifyKill9(dir string, opts *wal.Options, m *model, gen uint64) (wal.Report, error) {
	roFirst, roLast, err := readOnlyBounds(dir, opts)
	if err != nil {
		return wal.Report{}, err
	}
	l, err := wal.Open(dir, opts)
	if err != nil {
		return wal.Report{}, fmt.Errorf("reopening: %w", err)
	}
	rep := l.Recovery()
	obs, raw, err := readLog(l, rep)
	if err == nil && (roFirst != obs.first || roLast != obs.last) {
		err = fmt.Errorf("OpenReadOnly predicted entries [%d,%d], Open recovered [%d,%d] (%v)", roFirst, roLast, obs.first, obs.last, rep)
	}
	if err == nil {
		err = m.check(obs)
	}
	if cerr := closeLog(l); err == nil && cerr != nil {
		err = fmt.Errorf("closing: %w", cerr)
	}
	if err != nil {
		return rep, fmt.Errorf("recovery report: %v\n%w", rep, err)
	}
	if err := reopenUnchanged(dir, opts, obs, raw, rep, gen); err != nil {
		return rep, fmt.Errorf("recovery report: %v\n%w", rep, err)
	}
	m.maxGen = max(m.maxGen, gen)
	m.rebase(obs)
	return rep, nil
}

// readOnlyBounds returns the bounds OpenReadOnly predicts. It refuses an
// empty directory (a child killed before its Open created anything), where
// Open creates a new log.
func readOnlyBounds(dir string, opts *wal.Options) (first, last uint64, err error) {
	ro, err := wal.OpenReadOnly(dir, opts)
	if errors.Is(err, wal.ErrNotLog) {
		if names, _ := os.ReadDir(dir); len(names) == 0 {
			return 1, 0, nil
		}
	}
	if err != nil {
		return 0, 0, fmt.Errorf("OpenReadOnly: %w", err)
	}
	defer ro.Close()
	return bounds(ro)
}

// readLog reads every entry of l (rule 5's read checks) and returns them
// decoded and raw.
func readLog(l *wal.Log, rep wal.Report) (*observed, [][]byte, error) {
	first, last, err := bounds(l)
	if err != nil {
		return nil, nil, err
	}
	if rf := max(rep.FirstIndex, 1); rf != first || rep.LastIndex != last {
		return nil, nil, fmt.Errorf("Recovery() says [%d,%d], FirstIndex and LastIndex say [%d,%d]", rep.FirstIndex, rep.LastIndex, first, last)
	}
	if last+1 < first {
		return nil, nil, fmt.Errorf("LastIndex %d < FirstIndex %d - 1", last, first)
	}
	obs := &observed{first: first, last: last}
	var raw [][]byte
	var bad []string
	for i := first; i <= last; i++ {
		data, err := l.Read(i)
		var p payload
		if err == nil {
			p, err = decodePayload(data)
		}
		if err == nil && p.Index != i {
			err = fmt.Errorf("payload carries index %d", p.Index)
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("Read(%d) of [%d,%d]: %v", i, first, last, err))
			if len(bad) == 10 {
				break
			}
		}
		obs.ents, raw = append(obs.ents, p), append(raw, data)
	}
	for _, i := range []uint64{first - 1, last + 1} {
		if _, err := l.Read(i); !errors.Is(err, wal.ErrNotFound) {
			bad = append(bad, fmt.Sprintf("Read(%d) outside [%d,%d] returned %v, want ErrNotFound", i, first, last, err))
		}
	}
	if len(bad) > 0 {
		return nil, nil, fmt.Errorf("%d unreadable or wrong entries:\n  %s", len(bad), strings.Join(bad, "\n  "))
	}
	return obs, raw, nil
}

// reopenUnchanged opens the log a second time and requires a clean
// recovery with nothing dropped or removed, the same bounds and the same
// bytes; then appends entries of generation gen (one by Append, two by
// AppendBatch), reads them back, closes, and adds them to obs.
func reopenUnchanged(dir string, opts *wal.Options, obs *observed, raw [][]byte, rep1 wal.Report, gen uint64) error {
	l, err := wal.Open(dir, opts)
	if err != nil {
		return fmt.Errorf("second Open: %w", err)
	}
	rep := l.Recovery()
	err = func() error {
		if rep.State != wal.RecoveryClean || len(rep.Dropped) > 0 || len(rep.Removed) > 0 ||
			rep.FirstIndex != rep1.FirstIndex || rep.LastIndex != rep1.LastIndex {
			return fmt.Errorf("second Open changed something: %v (first Open: %v)", rep, rep1)
		}
		for i := obs.first; i <= obs.last; i++ {
			data, err := l.Read(i)
			if err != nil || !bytes.Equal(data, raw[i-obs.first]) {
				return fmt.Errorf("second Open: Read(%d) = %d bytes, %v; differs from the first Open's %d bytes", i, len(data), err, len(raw[i-obs.first]))
			}
		}
		return appendAfter(l, obs, gen)
	}()
	if cerr := closeLog(l); err == nil && cerr != nil {
		err = fmt.Errorf("closing after the second Open: %w", cerr)
	}
	return err
}

// appendAfter appends three entries of generation gen after a recovery,
// checks they read back and adds them to obs.
func appendAfter(l *wal.Log, obs *observed, gen uint64) error {
	next := obs.last + 1
	p := payload{Index: next, Gen: gen, BatchFirst: next, BatchLen: 1}
	data := [][]byte{appendPayload(nil, p, []byte("after recovery"))}
	if i, err := l.Append(data[0]); err != nil || i != next {
		return fmt.Errorf("Append after recovery: index %d, %v; want index %d", i, err, next)
	}
	var b wal.Batch
	for i := next + 1; i <= next+2; i++ {
		data = append(data, appendPayload(nil, payload{Index: i, Gen: gen, BatchFirst: next + 1, BatchLen: 2}, []byte("batch after recovery")))
		b.Append(data[len(data)-1])
	}
	if i, err := l.AppendBatch(&b); err != nil || i != next+1 {
		return fmt.Errorf("AppendBatch after recovery: index %d, %v; want index %d", i, err, next+1)
	}
	for k, want := range data {
		i := next + uint64(k)
		got, err := l.Read(i)
		if err != nil || !bytes.Equal(got, want) {
			return fmt.Errorf("Read(%d) after appending: %d bytes, %v", i, len(got), err)
		}
		p, _ := decodePayload(want)
		obs.ents = append(obs.ents, p)
	}
	obs.last += 3
	return nil
}

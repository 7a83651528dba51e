package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report is everything a run produced; results.json is its encoding.
type Report struct {
	Command   string       `json:"command"`
	Started   time.Time    `json:"started"`
	Duration  string       `json:"duration"`
	Machine   machine      `json:"machine"`
	Params    Params       `json:"params"`
	Cases     []*Case      `json:"cases"`
	Libs      []libInfo    `json:"libs"`
	Loads     []loadSample `json:"loadavg_per_case"`
	Summaries []Summary    `json:"summaries"`
	Targets   []Target     `json:"targets"`
	Results   []Result     `json:"results"`
	Charts    []string     `json:"charts"`

	byKey map[string]*Summary
}

type libInfo struct {
	Name string `json:"name"`
	Note string `json:"note,omitempty"`
}

func (s *suite) report(args []string) *Report {
	r := &Report{
		Command:  "go run . " + strings.Join(args, " "),
		Started:  s.start,
		Duration: s.end.Sub(s.start).Round(time.Second).String(),
		Machine:  s.machine(),
		Params:   s.p,
		Cases:    s.cases,
		Loads:    s.loads,
		Results:  s.results,
	}
	for _, l := range s.libs {
		r.Libs = append(r.Libs, libInfo{Name: l.Name, Note: l.Note})
	}
	r.evaluate()
	return r
}

// evaluate computes the summaries and targets from the results.
func (r *Report) evaluate() {
	r.Summaries, r.byKey = nil, map[string]*Summary{}
	for _, c := range r.Cases {
		for _, l := range r.Libs {
			var rs []Result
			for _, x := range r.Results {
				if x.Case == c.ID && x.Lib == l.Name {
					rs = append(rs, x)
				}
			}
			if len(rs) > 0 {
				r.Summaries = append(r.Summaries, summarize(rs, primaryOf(c)))
			}
		}
	}
	for i := range r.Summaries {
		sm := &r.Summaries[i]
		r.byKey[sm.Case+"|"+sm.Lib] = sm
	}
	r.Targets = r.targets()
}

// loadReport reads a results.json written earlier and re-evaluates it, so
// tables, targets and charts can be rendered again without rerunning.
func loadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &Report{}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.evaluate()
	return r, nil
}

// primaryOf returns the metric a case is judged by.
func primaryOf(c *Case) func(Result) float64 {
	switch {
	case c.Kind == KindOpen:
		return func(r Result) float64 { return r.OpenMs }
	case c.Batch > 0:
		return func(r Result) float64 { return r.MBSec }
	}
	return func(r Result) float64 { return r.OpsSec }
}

// get returns the summary of case on lib, or nil if it did not run or
// failed every repetition.
func (r *Report) get(c, lib string) *Summary {
	s := r.byKey[c+"|"+lib]
	if s == nil || s.Reps == 0 {
		return nil
	}
	return s
}

func (r *Report) caseByID(id string) *Case {
	for _, c := range r.Cases {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// write writes results.md, results.json and the charts into dir.
func (r *Report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	charts, err := r.charts(dir)
	if err != nil {
		return err
	}
	r.Charts = charts
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(r.markdown()), 0o644)
}

// markdown renders the report.
func (r *Report) markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "# waldb comparison benchmark\n\n")
	fmt.Fprintf(&b, "Command: `cd bench && %s`  \n", r.Command)
	fmt.Fprintf(&b, "Started %s, took %s. %d repetition(s) per case (median shown; libraries interleaved, order rotated each repetition), %s per measured run.\n\n",
		r.Started.Format(time.RFC3339), r.Duration, r.Params.Reps, r.Params.Dur)
	fmt.Fprintf(&b, "Machine: %d CPUs (%s), Linux %s, data dir %s on %s, %s. Load average (1/5/15 min) at start %s, at end %s. waldb at commit %s.\n\n",
		m.CPUs, m.Model, m.Kernel, m.DataDir, m.FS, m.GoVersion, m.LoadStart, m.LoadEnd, m.Core)
	r.summaryTable(&b)
	r.targetTable(&b)
	for _, c := range r.Cases {
		if c.Kind != KindRaft {
			r.caseTable(&b, c)
		}
	}
	r.raftSection(&b)
	fmt.Fprintf(&b, "## Libraries\n\n")
	for _, l := range r.Libs {
		fmt.Fprintf(&b, "- **%s**: %s\n", l.Name, l.Note)
	}
	fmt.Fprintf(&b, "\nMB = 10^6 bytes of payload. Latency is per call (per batch in W3 and W5). allocs/op counts heap objects allocated process-wide per call. Heap = Go heap in use after a GC with the log open, less the heap before opening.\n")
	if len(r.Charts) > 0 {
		fmt.Fprintf(&b, "\n## Charts\n\n")
		for _, c := range r.Charts {
			fmt.Fprintf(&b, "![%s](%s)\n\n", c, c)
		}
	}
	fmt.Fprintf(&b, "\nLoad average at the start of each case: ")
	for i, l := range r.Loads {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", l.Case, l.Load)
	}
	b.WriteString(".\n")
	return b.String()
}

// summaryTable is one row per library with each case's headline number.
func (r *Report) summaryTable(b *strings.Builder) {
	type col struct {
		head string
		c    string
		f    func(*Summary) string
	}
	var cols []col
	for _, c := range r.Cases {
		id := c.ID
		switch {
		case c.Kind == KindRaft:
			continue // in the raft section
		case c.Kind == KindOpen:
			cols = append(cols, col{id + " ms", id, func(s *Summary) string { return f1(s.OpenMs) }})
			if strings.HasPrefix(id, "W7-cold") {
				cols = append(cols, col{id + " heap MiB", id, func(s *Summary) string { return f1(s.HeapMiB) }})
			}
		case c.Kind == KindRead:
			cols = append(cols, col{"W6 reads/s", id, func(s *Summary) string { return f0(s.OpsSec) }},
				col{"W6 p99 µs", id, func(s *Summary) string { return f1(s.P99) }})
		case c.Batch > 0:
			cols = append(cols, col{id + " MB/s", id, func(s *Summary) string { return f1(s.MBSec) }})
		case c.Mode == Unsynced:
			cols = append(cols, col{id + " ops/s", id, func(s *Summary) string { return f0(s.OpsSec) }},
				col{id + " MB/s", id, func(s *Summary) string { return f1(s.MBSec) }})
		default:
			cols = append(cols, col{id + " ops/s", id, func(s *Summary) string { return f0(s.OpsSec) }},
				col{id + " p99 µs", id, func(s *Summary) string { return f0(s.P99) }})
		}
	}
	fmt.Fprintf(b, "## Summary (medians)\n\n| library |")
	for _, c := range cols {
		fmt.Fprintf(b, " %s |", c.head)
	}
	b.WriteString("\n|---|")
	for range cols {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, l := range r.Libs {
		fmt.Fprintf(b, "| %s |", l.Name)
		for _, c := range cols {
			s := r.get(c.c, l.Name)
			if s == nil {
				b.WriteString(" – |")
				continue
			}
			fmt.Fprintf(b, " %s |", c.f(s))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n– : not run (no such mode or no reopen index) or failed; see the case tables.\n\n")
}

// caseTable details one case.
func (r *Report) caseTable(b *strings.Builder, c *Case) {
	fmt.Fprintf(b, "### %s: %s\n\n", c.ID, c.Title)
	switch {
	case c.Kind == KindOpen:
		fmt.Fprintf(b, "| library | open+read ms | min–max ms | heap MiB | reps |\n|---|---:|---:|---:|---:|\n")
	case c.Kind == KindRead:
		fmt.Fprintf(b, "| library | reads/s | min–max | p50 µs | p99 µs | p99.9 µs | heap MiB | reps |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	default:
		fmt.Fprintf(b, "| library | mode | ops/s | MB/s | min–max | p50 µs | p99 µs | p99.9 µs | allocs/op | reps |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	}
	for _, l := range r.Libs {
		s := r.byKey[c.ID+"|"+l.Name]
		if s == nil {
			continue
		}
		if s.Reps == 0 {
			fmt.Fprintf(b, "| %s | failed: %s |\n", l.Name, strings.ReplaceAll(s.Err, "|", "/"))
			continue
		}
		rng := f0(s.MinPrimary) + "–" + f0(s.MaxPrimary)
		switch {
		case c.Kind == KindOpen:
			fmt.Fprintf(b, "| %s | %s | %s–%s | %s | %d |\n", l.Name, f1(s.OpenMs), f1(s.MinPrimary), f1(s.MaxPrimary), f1(s.HeapMiB), s.Reps)
		case c.Kind == KindRead:
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %d |\n", l.Name, f0(s.OpsSec), rng, f1(s.P50), f1(s.P99), f1(s.P999), f1(s.HeapMiB), s.Reps)
		default:
			if c.Batch > 0 {
				rng = f1(s.MinPrimary) + "–" + f1(s.MaxPrimary) + " MB/s"
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n", l.Name, s.Mode, f0(s.OpsSec), f1(s.MBSec), rng,
				lat(s.P50), lat(s.P99), lat(s.P999), f3(s.AllocsOp), s.Reps)
		}
	}
	b.WriteString("\n")
}

func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// lat formats a latency, or a dash where none was measured.
func lat(v float64) string {
	if v == 0 {
		return "–"
	}
	return f1(v)
}

func f3(v float64) string { return fmt.Sprintf("%.3f", v) }

// raftSection renders the raft-level cases (issue 7): applies/s per store
// and the targets.
func (r *Report) raftSection(b *strings.Builder) {
	var cs []*Case
	for _, c := range r.Cases {
		if c.Kind == KindRaft {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return
	}
	b.WriteString(r.raftMarkdown(cs))
}

// raftStoreName is the name a library's raft store goes by.
func raftStoreName(lib string) string {
	for _, l := range libraries() {
		if l.Name == lib && l.RaftName != "" {
			return l.RaftName
		}
	}
	return lib
}

// raftMarkdown is the "Raft-level throughput (issue 7)" section.
func (r *Report) raftMarkdown(cs []*Case) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Raft-level throughput (issue 7)\n\n")
	fmt.Fprintf(&b, "A 3-node hashicorp/raft v1.7.1 cluster in one process (raft.NewInmemTransport, all nodes connected; "+
		"heartbeat, election and leader-lease timeouts %s, commit timeout 5 ms; in-memory snapshot store; a counter FSM). "+
		"Each node's LogStore and StableStore is the store named below, in its own directory under the data dir, synced "+
		"(every StoreLogs durable before it returns). Clients call Apply(128 B command) on the leader and wait on the future "+
		"(committed on a majority and applied on the leader). Each run starts a fresh cluster, waits for a leader, warms up "+
		"for %s, measures for %s, and shuts the cluster down. Applies/s is the median over repetitions; stores interleaved, "+
		"order rotated each repetition. Latency is per Apply.\n\n", raftTimeout, r.Params.Warmup, r.Params.Dur)
	fmt.Fprintf(&b, "| store |")
	for _, c := range cs {
		fmt.Fprintf(&b, " %s applies/s | %s min–max | %s p50 µs | %s p99 µs |", c.ID, c.ID, c.ID, c.ID)
	}
	b.WriteString(" reps |\n|---|")
	for range cs {
		b.WriteString("---:|---:|---:|---:|")
	}
	b.WriteString("---:|\n")
	for _, l := range r.Libs {
		any, reps := false, 0
		var row strings.Builder
		for _, c := range cs {
			s := r.byKey[c.ID+"|"+l.Name]
			if s == nil {
				row.WriteString(" – | – | – | – |")
				continue
			}
			any = true
			if s.Reps == 0 {
				fmt.Fprintf(&row, " failed: %s | – | – | – |", strings.ReplaceAll(s.Err, "|", "/"))
				continue
			}
			reps = max(reps, s.Reps)
			fmt.Fprintf(&row, " %s | %s–%s | %s | %s |", f0(s.OpsSec), f0(s.MinPrimary), f0(s.MaxPrimary), lat(s.P50), lat(s.P99))
		}
		if any {
			fmt.Fprintf(&b, "| %s |%s %d |\n", raftStoreName(l.Name), row.String(), reps)
		}
	}
	var retries []string
	for _, x := range r.Results {
		if x.Retries > 0 {
			retries = append(retries, fmt.Sprintf("%s %s rep %d: %d", x.Case, raftStoreName(x.Lib), x.Rep, x.Retries))
		}
	}
	if len(retries) > 0 {
		fmt.Fprintf(&b, "\nApplies retried after a leadership change: %s.\n", strings.Join(retries, ", "))
	}
	fmt.Fprintf(&b, "\n| target | goal | measured | status | detail |\n|---|---|---:|---|---|\n")
	for _, t := range r.Targets {
		if t.Issue == 7 {
			r.targetRow(&b, t)
		}
	}
	b.WriteString("\nRatios are waldb/raftlog over the reference: the median of per-repetition ratios (same repetition, back to back), with the ratio of medians in the detail.\n\n")
	return b.String()
}

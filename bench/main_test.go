package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestQuickRun runs the whole suite in quick mode on tiny sizes and checks
// that every library produced results and every output file was written.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the harness")
	}
	out := t.TempDir()
	args := []string{"-quick", "-out", out, "-dir", t.TempDir(), "-dur", "40ms", "-warmup", "10ms",
		"-w6-entries", "3000", "-w7-entries", "2000", "-w7-scale", "4000"}
	if err := run(args, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results.md", "results.json", "throughput-vs-writers.png", "latency-W1.png", "latency-W2-64.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Err != "" {
			t.Errorf("%s on %s failed: %s", r.Case, r.Lib, r.Err)
		}
	}
	seen := map[string]bool{}
	for _, s := range rep.Summaries {
		if s.Case == "W1" {
			seen[s.Lib] = s.OpsSec > 0
		}
	}
	for _, l := range libraries() {
		if !seen[l.Name] {
			t.Errorf("no W1 result for %s", l.Name)
		}
	}
	if len(rep.Targets) < 10 {
		t.Errorf("only %d targets evaluated", len(rep.Targets))
	}
	// Raft-level cases: a 3-node cluster on each raft store applied
	// commands at 1 and 64 clients, and issue 7's targets were evaluated.
	applied := map[string]bool{}
	for _, s := range rep.Summaries {
		applied[s.Case+"|"+s.Lib] = s.OpsSec > 0
	}
	for _, c := range []string{"R1", "R64"} {
		for _, l := range libraries() {
			if l.Raft != nil && !applied[c+"|"+l.Name] {
				t.Errorf("no %s result for %s", c, l.Name)
			}
		}
	}
	raftTargets := 0
	for _, tg := range rep.Targets {
		if tg.Issue == 7 && tg.Status != "n/a" {
			raftTargets++
		}
	}
	if raftTargets != 4 {
		t.Errorf("%d raft targets evaluated, want 4", raftTargets)
	}
	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "## Raft-level throughput (issue 7)") {
		t.Error("results.md has no raft section")
	}
}

func TestMedianPercentile(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	lat := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		q    float64
		want int64
	}{{0.5, 5}, {0.9, 9}, {0.99, 10}, {0, 1}} {
		if got := percentile(lat, c.q); got != c.want {
			t.Errorf("percentile(%v) = %d, want %d", c.q, got, c.want)
		}
	}
}

func TestSelected(t *testing.T) {
	for _, c := range []struct {
		id      string
		filters []string
		want    bool
	}{
		{"W2-64", nil, true}, {"W2-64", []string{"W2"}, true}, {"W2-64", []string{"W2-64"}, true},
		{"W2-64", []string{"W2-6"}, false}, {"W7-cold-1GiB", []string{"W7"}, true}, {"W1", []string{"W2"}, false},
		{"R64", []string{"R1"}, false}, {"R1", []string{"R1", "R64"}, true},
	} {
		if got := selected(c.id, c.filters); got != c.want {
			t.Errorf("selected(%q, %v) = %v", c.id, c.filters, got)
		}
	}
}

func TestLogTicks(t *testing.T) {
	ticks, lo, hi := logTicks(85, 3200, shortNum)
	var vals []float64
	for _, tk := range ticks {
		vals = append(vals, tk.Value)
	}
	if want := []float64{50, 100, 200, 500, 1000, 2000, 5000}; !slices.Equal(vals, want) || lo != 50 || hi != 5000 {
		t.Errorf("logTicks(85, 3200) = %v [%v, %v]", vals, lo, hi)
	}
}

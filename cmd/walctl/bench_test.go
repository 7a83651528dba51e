package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"
)

// TestBench runs a tiny bench (tens of milliseconds per measurement) and
// checks the table, the JSON result and the charts.
func TestBench(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "chart.png")
	r := runCLI(t, "", "bench", "--duration", "20ms", "--writers", "1,3", "--batches", "4", "--size", "100", "--out", out, dir)
	r.wantCode(t, exitOK)
	for _, want := range []string{"write + fdatasync", "O_SYNC write", "POLICY  WRITERS  BATCH  ENTRIES/S", "always        3      1", "never        1      1", "always        1      4", "wrote " + out} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "bench 3/11: fsync O_SYNC write") {
		t.Errorf("progress:\n%s", r.stderr)
	}
	var rep benchReport
	if err := json.Unmarshal(readFile(t, strings.TrimSuffix(out, ".png")+".json"), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Fsync) != 4 || len(rep.Appends) != 7 {
		t.Fatalf("results: %d fsync, %d appends", len(rep.Fsync), len(rep.Appends))
	}
	for _, a := range rep.Appends {
		if a.Calls == 0 || a.Entries != a.Calls*uint64(a.Batch) || a.P50Us > a.P99Us || a.P99Us > a.MaxUs+1e-9 || len(a.Histogram) == 0 {
			t.Errorf("implausible result %+v", a)
		}
	}
	img, err := png.Decode(bytes.NewReader(readFile(t, out)))
	if err != nil || img.Bounds().Dx() != 2*panelWidth {
		t.Fatalf("chart: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("bench left %d files in its directory", len(ents))
	}
}

// TestBenchChartSVG renders a result (including a near-empty one) as SVG.
func TestBenchChartSVG(t *testing.T) {
	var h latHist
	for _, d := range []time.Duration{50 * time.Microsecond, 80 * time.Microsecond, 2 * time.Millisecond} {
		h.add(d)
	}
	var a appendResult
	a.Policy, a.Writers, a.Batch = "always", 1, 1
	a.fill(&h, 1, appendConfig{batch: 1, size: 10})
	path := filepath.Join(t.TempDir(), "c.svg")
	if err := writeBenchChart(path, &benchReport{EntrySize: 10, Appends: []appendResult{a}}); err != nil {
		t.Fatal(err)
	}
	b := string(readFile(t, path))
	if !strings.HasPrefix(b, "<svg") || strings.Count(b, "<svg") != 3 || !strings.HasSuffix(b, "</svg>\n") {
		t.Errorf("SVG: %.200s", b)
	}
	// Without results each panel gets a placeholder series: go-chart
	// refuses to render none.
	for _, c := range []func(*benchReport) chart.Chart{throughputChart, latencyChart} {
		if s := c(&benchReport{}).Series; len(s) != 1 {
			t.Errorf("empty report: %d series", len(s))
		}
	}
}

func TestLatHist(t *testing.T) {
	var h latHist
	for i := 1; i <= 100; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct{ q, lo, hi float64 }{{0.5, 50e3, 50e3 * 1.19}, {0.99, 99e3, 100e3}} {
		if got := h.quantile(tc.q); got < tc.lo || got > tc.hi {
			t.Errorf("quantile(%v) = %vµs, want in [%v, %v]", tc.q, got, tc.lo, tc.hi)
		}
	}
	var total uint64
	for _, b := range h.buckets() {
		total += b.Count
		if !(b.LowUs < b.HighUs) || math.Abs(b.HighUs/b.LowUs-math.Exp2(0.25)) > 1e-3 {
			t.Errorf("bucket %+v", b)
		}
	}
	if total != 100 || h.quantile(1) != 100e3 {
		t.Errorf("total %d, max %v", total, h.quantile(1))
	}
	if bucketOf(0) != 0 || bucketOf(time.Hour) != histBuckets-1 {
		t.Error("bucketOf does not clamp")
	}
}

func TestBenchCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := benchOptions{dir: t.TempDir(), duration: time.Second, size: 8, writers: []int{1}, out: filepath.Join(t.TempDir(), "c.png")}
	if err := runBench(ctx, o, &bytes.Buffer{}, nopProgress{}); err != context.Canceled {
		t.Fatalf("runBench = %v, want context.Canceled", err)
	}
}

// TestBenchDefaultOutputs: without --out and DIR, bench writes nothing
// into the current directory; its chart and JSON go to a new temporary
// directory it names.
func TestBenchDefaultOutputs(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	t.Setenv("TMPDIR", t.TempDir())
	r := runCLI(t, "", "bench", "--duration", "10ms", "--writers", "1", "--batches", "2", "--size", "64")
	r.wantCode(t, exitOK)
	if names, err := os.ReadDir(cwd); err != nil || len(names) != 0 {
		t.Fatalf("bench left %d entries in the current directory (%v)", len(names), err)
	}
	m := regexp.MustCompile(`wrote (\S+walctl-bench\.png)`).FindStringSubmatch(r.stdout)
	if m == nil || !strings.HasPrefix(m[1], os.Getenv("TMPDIR")) {
		t.Fatalf("no chart under TMPDIR in the output:\n%s", r.stdout)
	}
	os.RemoveAll(filepath.Dir(m[1]))
}

package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
)

// libColor gives each library the same colour in every chart.
var libColor = map[string]string{
	"waldb":       "d62728",
	"raw-a":       "7f7f7f",
	"raw-b":       "000000",
	"tidwall/wal": "1f77b4",
	"raft-wal":    "2ca02c",
	"etcd-wal":    "ff7f0e",
	"rosedb-wal":  "9467bd",
	"raft-boltdb": "8c564b",
	"raw-dio-a":   "bcbd22",
	"raw-dio-b":   "17becf",
}

func seriesStyle(lib string) chart.Style {
	c := drawing.ColorFromHex(libColor[lib])
	w := 2.0
	if lib == "waldb" {
		w = 4
	}
	st := chart.Style{StrokeColor: c, StrokeWidth: w, DotColor: c, DotWidth: 4}
	if strings.HasPrefix(lib, "raw-") {
		st.StrokeDashArray = []float64{6, 4}
	}
	return st
}

// logTicks returns ticks at 1, 2 and 5 times powers of ten, from the
// largest at or below lo to the smallest at or above hi, and those bounds.
func logTicks(lo, hi float64, format func(float64) string) ([]chart.Tick, float64, float64) {
	lo = max(lo, 1e-3)
	hi = max(hi, lo)
	var vals []float64
	for p := math.Pow(10, math.Floor(math.Log10(lo))); ; p *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := p * m
			if v <= lo {
				vals = vals[:0]
			}
			vals = append(vals, v)
			if v >= hi {
				ticks := make([]chart.Tick, len(vals))
				for i, t := range vals {
					ticks[i] = chart.Tick{Value: t, Label: format(t)}
				}
				return ticks, vals[0], v
			}
		}
	}
}

// latencyLabel formats microseconds.
func latencyLabel(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%gms", v/1000)
	}
	return fmt.Sprintf("%gµs", v)
}

func shortNum(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", v)
}

// charts renders the PNG charts into dir and returns their file names.
func (r *Report) charts(dir string) ([]string, error) {
	var names []string
	add := func(name string, g *chart.Chart) error {
		if g == nil {
			return nil
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := g.Render(chart.PNG, f); err != nil {
			f.Close()
			return fmt.Errorf("chart %s: %w", name, err)
		}
		names = append(names, name)
		return f.Close()
	}
	if err := add("throughput-vs-writers.png", r.writersChart()); err != nil {
		return names, err
	}
	for _, c := range []string{"W1", "W2-64"} {
		if err := add("latency-"+c+".png", r.latencyChart(c)); err != nil {
			return names, err
		}
	}
	return names, nil
}

// writersChart plots synced 128 B appends/s against writers (W1, W2-*).
func (r *Report) writersChart() *chart.Chart {
	var pts []struct {
		c string
		w int
	}
	for _, c := range r.Cases {
		if c.ID == "W1" || strings.HasPrefix(c.ID, "W2-") {
			pts = append(pts, struct {
				c string
				w int
			}{c.ID, c.Writers})
		}
	}
	if len(pts) < 2 {
		return nil
	}
	lo, hi := math.Inf(1), 0.0
	var series []chart.Series
	for _, l := range r.Libs {
		var xs, ys []float64
		for _, p := range pts {
			if s := r.get(p.c, l.Name); s != nil && s.OpsSec > 0 {
				xs, ys = append(xs, math.Log2(float64(p.w))), append(ys, s.OpsSec)
				lo, hi = min(lo, s.OpsSec), max(hi, s.OpsSec)
			}
		}
		if len(xs) > 0 {
			series = append(series, chart.ContinuousSeries{Name: l.Name, XValues: xs, YValues: ys, Style: seriesStyle(l.Name)})
		}
	}
	if len(series) == 0 {
		return nil
	}
	var xt []chart.Tick
	for _, p := range pts {
		xt = append(xt, chart.Tick{Value: math.Log2(float64(p.w)), Label: fmt.Sprint(p.w)})
	}
	yt, ylo, yhi := logTicks(lo, hi, shortNum)
	g := &chart.Chart{
		Title:      "Synced 128 B appends/s vs concurrent writers (median)",
		Width:      960,
		Height:     600,
		Background: chart.Style{Padding: chart.Box{Top: 50, Left: 150, Right: 20, Bottom: 20}},
		XAxis:      chart.XAxis{Name: "writers", Ticks: xt, Range: &chart.ContinuousRange{Min: xt[0].Value - 0.2, Max: xt[len(xt)-1].Value + 0.2}},
		YAxis: chart.YAxis{Name: "appends/s (log)", Ticks: yt,
			Range: &chart.LogarithmicRange{Min: ylo, Max: yhi}},
		Series: series,
	}
	g.Elements = []chart.Renderable{chart.LegendLeft(g)}
	return g
}

// latencyChart plots p50..p99.9 per library for case c.
func (r *Report) latencyChart(c string) *chart.Chart {
	labels := []string{"p50", "p90", "p99", "p99.9"}
	lo, hi := math.Inf(1), 0.0
	var series []chart.Series
	for _, l := range r.Libs {
		s := r.get(c, l.Name)
		if s == nil || s.P50 <= 0 {
			continue
		}
		ys := []float64{s.P50, s.P90, s.P99, s.P999}
		for _, y := range ys {
			lo, hi = min(lo, y), max(hi, y)
		}
		series = append(series, chart.ContinuousSeries{Name: l.Name, XValues: []float64{0, 1, 2, 3}, YValues: ys, Style: seriesStyle(l.Name)})
	}
	if len(series) == 0 {
		return nil
	}
	var xt []chart.Tick
	for i, s := range labels {
		xt = append(xt, chart.Tick{Value: float64(i), Label: s})
	}
	cs := r.caseByID(c)
	yt, ylo, yhi := logTicks(lo, hi, latencyLabel)
	g := &chart.Chart{
		Title:      fmt.Sprintf("%s latency percentiles: %s (median of runs)", c, cs.Title),
		Width:      960,
		Height:     600,
		Background: chart.Style{Padding: chart.Box{Top: 50, Left: 150, Right: 20, Bottom: 20}},
		XAxis:      chart.XAxis{Name: "percentile", Ticks: xt, Range: &chart.ContinuousRange{Min: -0.2, Max: 3.2}},
		YAxis:      chart.YAxis{Name: "latency (log)", Ticks: yt, Range: &chart.LogarithmicRange{Min: ylo, Max: yhi}},
		Series:     series,
	}
	g.Elements = []chart.Renderable{chart.LegendLeft(g)}
	return g
}

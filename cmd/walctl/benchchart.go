package main

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
)

// The bench chart: two panels side by side, throughput against writers
// per sync policy (both axes logarithmic), and the latency histograms of
// a few runs.
const (
	panelWidth  = 800
	panelHeight = 480
)

// writeBenchChart renders rep's chart to path, PNG or SVG by extension.
func writeBenchChart(path string, rep *benchReport) error {
	panels := []chart.Chart{throughputChart(rep), latencyChart(rep)}
	var b []byte
	var err error
	if strings.EqualFold(filepath.Ext(path), ".svg") {
		b, err = composeSVG(panels)
	} else {
		b, err = composePNG(panels)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// throughputChart plots entries/s against writers, one series per policy
// (single-entry appends).
func throughputChart(rep *benchReport) chart.Chart {
	var series []chart.Series
	var writers []int
	var ys []float64
	for _, policy := range []string{"always", "interval", "never"} {
		s := chart.ContinuousSeries{Name: "SyncPolicy " + policy, Style: seriesStyle(len(series))}
		for _, r := range rep.Appends {
			if r.Policy == policy && r.Batch == 1 && r.EntriesPerSec > 0 {
				s.XValues = append(s.XValues, math.Log2(float64(r.Writers)))
				s.YValues = append(s.YValues, math.Log10(r.EntriesPerSec))
				writers = append(writers, r.Writers)
				ys = append(ys, math.Log10(r.EntriesPerSec))
			}
		}
		if len(s.XValues) > 0 {
			series = append(series, s)
		}
	}
	slices.Sort(writers)
	writers = slices.Compact(writers)
	var xt []chart.Tick
	for _, w := range writers {
		xt = append(xt, chart.Tick{Value: math.Log2(float64(w)), Label: fmt.Sprint(w)})
	}
	if len(xt) == 1 { // go-chart takes the x range from the ticks: it needs two
		xt = []chart.Tick{{Value: xt[0].Value - 1}, xt[0], {Value: xt[0].Value + 1}}
	}
	yr := powerRange(ys)
	if yr != nil {
		yr.Max++ // headroom for the legend
	}
	c := chart.Chart{
		Title: fmt.Sprintf("Appends/s of %d-byte entries vs writers (%s)", rep.EntrySize, orUnknown(rep.Filesystem)),
		Width: panelWidth, Height: panelHeight,
		Background: chart.Style{Padding: chart.Box{Top: 50, Left: 20, Right: 20, Bottom: 20}},
		XAxis:      chart.XAxis{Name: "concurrent writers", Ticks: xt},
		YAxis:      chart.YAxis{Name: "entries per second", Ticks: rangeTicks(yr, countLabel), Range: yr},
		Series:     series,
	}
	c.Elements = []chart.Renderable{chart.Legend(&c)}
	return nonEmpty(c)
}

// latencyChart plots the latency histograms (percent of calls per bucket)
// of single-entry appends under SyncPolicy always, where each call waits
// for an fdatasync: with the fewest, a middling and the most writers.
func latencyChart(rep *benchReport) chart.Chart {
	var series []chart.Series
	var xs []float64
	top := 0.0
	for _, pick := range pickHistograms(rep) {
		style := seriesStyle(len(series))
		style.DotWidth = 0
		s := chart.ContinuousSeries{Name: "always, " + plural(pick.Writers, "writer"), Style: style}
		h := pick.Histogram
		// Zero points just outside the occupied buckets close the curve.
		s.XValues = append(s.XValues, math.Log10(h[0].LowUs))
		s.YValues = append(s.YValues, 0)
		for _, b := range h {
			pct := 100 * float64(b.Count) / float64(pick.Calls)
			s.XValues = append(s.XValues, math.Log10(math.Sqrt(b.LowUs*b.HighUs)))
			s.YValues = append(s.YValues, pct)
			top = math.Max(top, pct)
		}
		s.XValues = append(s.XValues, math.Log10(h[len(h)-1].HighUs))
		s.YValues = append(s.YValues, 0)
		xs = append(xs, s.XValues...)
		series = append(series, s)
	}
	xr := powerRange(xs)
	yr := &chart.ContinuousRange{Min: 0, Max: math.Ceil(top*1.3/5) * 5}
	c := chart.Chart{
		Title: "Latency of Append under SyncPolicy always",
		Width: panelWidth, Height: panelHeight,
		Background: chart.Style{Padding: chart.Box{Top: 50, Left: 20, Right: 20, Bottom: 20}},
		XAxis:      chart.XAxis{Name: "latency of one call (log scale)", Ticks: rangeTicks(xr, durationLabel), Range: xr},
		YAxis:      chart.YAxis{Name: "% of calls", Ticks: percentTicks(yr.Max), Range: yr},
		Series:     series,
	}
	c.Elements = []chart.Renderable{chart.Legend(&c)}
	return nonEmpty(c)
}

// pickHistograms chooses the runs whose histograms are drawn: single-entry
// appends under always with the fewest, a middling and the most writers.
func pickHistograms(rep *benchReport) []appendResult {
	var runs []appendResult
	for _, r := range rep.Appends {
		if r.Policy == "always" && r.Batch == 1 && len(r.Histogram) > 0 && r.Calls > 0 {
			runs = append(runs, r)
		}
	}
	slices.SortFunc(runs, func(a, b appendResult) int { return a.Writers - b.Writers })
	if len(runs) <= 3 {
		return runs
	}
	return []appendResult{runs[0], runs[len(runs)/2], runs[len(runs)-1]}
}

// percentTicks labels 0..top% in steps of a fifth, rounded to 5%.
func percentTicks(top float64) []chart.Tick {
	step := math.Max(5, math.Ceil(top/5/5)*5)
	var ticks []chart.Tick
	for v := 0.0; v <= top+1e-9; v += step {
		ticks = append(ticks, chart.Tick{Value: v, Label: fmt.Sprintf("%.0f%%", v)})
	}
	return ticks
}

// nonEmpty gives a chart without data a placeholder series, since go-chart
// refuses to render none.
func nonEmpty(c chart.Chart) chart.Chart {
	if len(c.Series) == 0 {
		c.Series = []chart.Series{chart.ContinuousSeries{Name: "no data", XValues: []float64{0, 1}, YValues: []float64{0, 0}}}
		c.XAxis.Ticks, c.YAxis.Ticks = nil, nil
		c.XAxis.Range, c.YAxis.Range = nil, nil
	}
	return c
}

func seriesStyle(i int) chart.Style {
	colors := []drawing.Color{
		{R: 0x1f, G: 0x77, B: 0xb4, A: 255}, {R: 0xd6, G: 0x27, B: 0x28, A: 255},
		{R: 0x2c, G: 0xa0, B: 0x2c, A: 255}, {R: 0xff, G: 0x7f, B: 0x0e, A: 255},
	}
	c := colors[i%len(colors)]
	return chart.Style{StrokeColor: c, StrokeWidth: 2.5, DotColor: c, DotWidth: 4}
}

// powerRange spans whole powers of ten around log10 values vs.
func powerRange(vs []float64) *chart.ContinuousRange {
	if len(vs) == 0 {
		return nil
	}
	lo, hi := math.Floor(slices.Min(vs)), math.Ceil(slices.Max(vs))
	if hi <= lo {
		hi = lo + 1
	}
	return &chart.ContinuousRange{Min: lo, Max: hi}
}

// rangeTicks labels each power of ten in r (a range of log10 values).
func rangeTicks(r *chart.ContinuousRange, label func(exp int) string) []chart.Tick {
	if r == nil {
		return nil
	}
	var ticks []chart.Tick
	for e := math.Ceil(r.Min); e <= r.Max; e++ {
		ticks = append(ticks, chart.Tick{Value: e, Label: label(int(e))})
	}
	return ticks
}

// countLabel is 10^exp as "1", "10", ..., "1k", "10M".
func countLabel(exp int) string {
	switch {
	case exp >= 9:
		return fmt.Sprintf("%.0fG", math.Pow10(exp-9))
	case exp >= 6:
		return fmt.Sprintf("%.0fM", math.Pow10(exp-6))
	case exp >= 3:
		return fmt.Sprintf("%.0fk", math.Pow10(exp-3))
	}
	return fmt.Sprintf("%.0f", math.Pow10(max(exp, 0)))
}

// durationLabel is 10^exp microseconds as "1µs", ..., "100ms", "10s".
func durationLabel(exp int) string {
	switch {
	case exp >= 6:
		return fmt.Sprintf("%.0fs", math.Pow10(exp-6))
	case exp >= 3:
		return fmt.Sprintf("%.0fms", math.Pow10(exp-3))
	case exp >= 0:
		return fmt.Sprintf("%.0fµs", math.Pow10(exp))
	}
	return fmt.Sprintf("%.0fns", math.Pow10(exp+3))
}

// composePNG renders the panels side by side into one PNG.
func composePNG(panels []chart.Chart) ([]byte, error) {
	dst := image.NewRGBA(image.Rect(0, 0, panelWidth*len(panels), panelHeight))
	for i, c := range panels {
		var buf bytes.Buffer
		if err := c.Render(chart.PNG, &buf); err != nil {
			return nil, err
		}
		img, err := png.Decode(&buf)
		if err != nil {
			return nil, err
		}
		draw.Draw(dst, img.Bounds().Add(image.Pt(i*panelWidth, 0)), img, img.Bounds().Min, draw.Src)
	}
	var out bytes.Buffer
	err := png.Encode(&out, dst)
	return out.Bytes(), err
}

// composeSVG nests the panels' SVG documents side by side in one.
func composeSVG(panels []chart.Chart) ([]byte, error) {
	var out bytes.Buffer
	fmt.Fprintf(&out, `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="%d" height="%d" viewBox="0 0 %d %d">`,
		panelWidth*len(panels), panelHeight, panelWidth*len(panels), panelHeight)
	for i, c := range panels {
		var buf bytes.Buffer
		if err := c.Render(chart.SVG, &buf); err != nil {
			return nil, err
		}
		s, ok := strings.CutPrefix(buf.String(), "<svg ")
		if !ok {
			return nil, fmt.Errorf("unexpected SVG from the chart library")
		}
		fmt.Fprintf(&out, `<svg x="%d" y="0" width="%d" height="%d" %s`, i*panelWidth, panelWidth, panelHeight, s)
	}
	out.WriteString("</svg>\n")
	return out.Bytes(), nil
}

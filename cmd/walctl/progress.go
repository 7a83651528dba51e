package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress reports how far a long operation has come: as a bar with
// throughput and ETA on a terminal, as plain lines (at most one a second,
// and one at the end) otherwise, or not at all under --quiet. It writes to
// stderr, so stdout carries only results (and --json stays parseable).
type progress interface {
	// set reports done of total units; desc, if not "", replaces the
	// description.
	set(done, total int64, desc string)
	// finish ends the report.
	finish()
}

// newProgress returns the progress reporter for e. bytes: the units are
// bytes (shown as KiB, MiB, ...).
func newProgress(e *env, desc string, bytes bool) progress {
	switch {
	case e.quiet:
		return nopProgress{}
	case e.terminal:
		return &barProgress{bar: progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(e.stderr),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowBytes(bytes),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)}
	}
	return &lineProgress{w: e.stderr, desc: desc, bytes: bytes, start: time.Now()}
}

type nopProgress struct{}

func (nopProgress) set(int64, int64, string) {}
func (nopProgress) finish()                  {}

// barProgress draws a progressbar on a terminal.
type barProgress struct {
	bar   *progressbar.ProgressBar
	total int64
}

func (p *barProgress) set(done, total int64, desc string) {
	if total != p.total {
		p.total = total
		p.bar.ChangeMax64(total)
	}
	if desc != "" {
		p.bar.Describe(desc)
	}
	_ = p.bar.Set64(done)
}

func (p *barProgress) finish() { _ = p.bar.Finish() }

// lineProgress prints "desc: done/total (pct%), rate, ETA" lines.
type lineProgress struct {
	w           io.Writer
	desc        string
	bytes       bool
	start, last time.Time
	done, total int64
	printed     bool // the current state was printed
}

func (p *lineProgress) set(done, total int64, desc string) {
	p.done, p.total, p.printed = done, total, false
	if desc != "" && desc != p.desc {
		p.desc = desc
		p.print()
		return
	}
	if time.Since(p.last) >= time.Second {
		p.print()
	}
}

func (p *lineProgress) finish() {
	if !p.printed {
		p.print()
	}
}

func (p *lineProgress) print() {
	p.last, p.printed = time.Now(), true
	s := fmt.Sprintf("%s: %s", p.desc, p.unit(p.done))
	if p.total > 0 {
		s += fmt.Sprintf(" of %s (%d%%)", p.unit(p.total), 100*p.done/p.total)
	}
	if el := time.Since(p.start).Seconds(); el > 0 && p.bytes {
		rate := float64(p.done) / el
		s += fmt.Sprintf(", %s/s", p.unit(int64(rate)))
		if p.total > p.done && rate > 0 {
			s += fmt.Sprintf(", ETA %v", time.Duration(float64(p.total-p.done)/rate*1e9).Round(time.Second))
		}
	}
	fmt.Fprintln(p.w, s)
}

func (p *lineProgress) unit(n int64) string {
	if p.bytes {
		return formatBytes(n)
	}
	return fmt.Sprint(n)
}

// formatBytes formats n bytes with a binary unit.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[i])
}

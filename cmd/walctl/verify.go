package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/waldb/wal"
)

// verifyOptions configures verify.
type verifyOptions struct {
	dir  string
	json bool
}

func newVerifyCmd(e *env) *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify DIR",
		Short: "Re-read every record of a log and check every checksum",
		Long: withExit(`verify opens the log in DIR read-only and re-reads every record of every
segment: it checks each record's CRC-32C, the index sequence, that batches are
complete and that each sealed segment's index block matches its records. It
shows progress on stderr (a bar on a terminal, plain lines otherwise), then a
summary table, or one JSON object with --json.

A torn tail (what a crash leaves after the last complete record) is not
corruption: opening the log for writing cuts it, and verify reports it as the
recovery it would perform. Damage to data that was durable is corruption. If the
log cannot be opened at all, verify reports why and then checks what a
point-in-time recovery would keep.

verify exits 0 if it found no corruption, 1 if it did, 2 on a usage or I/O
error.`),
		Args: dirArg(&o.dir),
		RunE: func(c *cobra.Command, _ []string) error {
			return runVerify(o, e.stdout, newProgress(e, "verify", true))
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object")
	return cmd
}

// verifyResult is verify's report.
type verifyResult struct {
	Dir        string   `json:"dir"`
	OK         bool     `json:"ok"`
	Segments   int      `json:"segments"`
	FirstIndex uint64   `json:"first_index"`
	LastIndex  uint64   `json:"last_index"`
	Entries    uint64   `json:"entries"`
	Bytes      int64    `json:"bytes_checked"`
	Recovery   string   `json:"recovery"`
	Problems   []string `json:"problems"`
	Elapsed    float64  `json:"elapsed_seconds"`
	opened     bool     // some recovery of the log could be opened
}

func runVerify(o verifyOptions, out io.Writer, prog progress) error {
	start := time.Now()
	res, err := verifyLog(o.dir, prog)
	if err != nil {
		return err
	}
	res.Elapsed = time.Since(start).Seconds()
	if o.json {
		err = writeJSON(out, res)
	} else {
		err = writeVerify(out, res)
	}
	if err == nil && !res.OK {
		err = fmt.Errorf("corruption found in %s: %s (%w)", o.dir, plural(len(res.Problems), "problem"), wal.ErrCorrupt)
	}
	return err
}

// verifyLog checks the log in dir. The error is for failures to check
// (I/O, not a log); damage is listed in the result.
func verifyLog(dir string, prog progress) (*verifyResult, error) {
	res := &verifyResult{Dir: dir, Problems: []string{}}
	l, err := openInspect(dir, wal.TolerateTornTail)
	if errors.Is(err, wal.ErrCorrupt) {
		res.Problems = append(res.Problems, err.Error())
		res.Recovery = "cannot open: the log is corrupt; checked what point-in-time recovery keeps"
		l, err = openInspect(dir, wal.PointInTime)
		if errors.Is(err, wal.ErrCorrupt) {
			res.Recovery = "cannot open, not even for point-in-time recovery"
			return res, nil
		}
	}
	if err != nil {
		return nil, err
	}
	defer l.Close()
	res.opened = true
	if res.Recovery == "" {
		res.Recovery = l.Recovery().String()
	}
	if res.FirstIndex, res.LastIndex, res.Entries, err = bounds(l); err != nil {
		return nil, err
	}
	res.Segments = len(l.Segments())
	err = l.Verify(func(done, total int64) {
		res.Bytes = done
		prog.set(done, total, "")
	})
	prog.finish()
	res.Problems = append(res.Problems, splitJoined(err)...)
	res.OK = len(res.Problems) == 0
	return res, nil
}

// splitJoined lists the errors an errors.Join combined.
func splitJoined(err error) []string {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, splitJoined(e)...)
		}
		return out
	}
	return []string{err.Error()}
}

func writeVerify(out io.Writer, r *verifyResult) error {
	for i, p := range r.Problems {
		fmt.Fprintf(out, "problem %d: %s\n", i+1, p)
	}
	if len(r.Problems) > 0 {
		fmt.Fprintln(out)
	}
	result := "ok: no corruption found"
	if !r.OK {
		result = "CORRUPT"
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "log\t%s\n", r.Dir)
	if r.opened {
		fmt.Fprintf(tw, "segments\t%d\n", r.Segments)
		fmt.Fprintf(tw, "entries\t%d %s\n", r.Entries, describeRange(r.FirstIndex, r.LastIndex, r.Entries))
		fmt.Fprintf(tw, "bytes checked\t%d\n", r.Bytes)
	}
	fmt.Fprintf(tw, "recovery\t%s\n", r.Recovery)
	fmt.Fprintf(tw, "problems\t%d\n", len(r.Problems))
	fmt.Fprintf(tw, "elapsed\t%v\n", time.Duration(r.Elapsed*1e9).Round(time.Microsecond))
	fmt.Fprintf(tw, "result\t%s\n", result)
	return tw.Flush()
}

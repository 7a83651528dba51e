package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/waldb/wal"
)

// statOptions configures stat.
type statOptions struct {
	dir  string
	json bool
}

func newStatCmd(e *env) *cobra.Command {
	var o statOptions
	cmd := &cobra.Command{
		Use:   "stat DIR",
		Short: "Show a log's segments, entries and the recovery Open would perform",
		Long: withExit(`stat shows the log in DIR: its first and last index, entry count and size,
each segment file (sequence number, index range, bytes of records, size on disk,
sealed or open), the META file's truncation record, files in the directory that
are not the log's, and the report of the recovery that opening the log for
writing would perform (read-only: nothing is changed).

If the log cannot be opened because it is corrupt, stat lists the files it
found, prints why, and exits with status 1.`),
		Args: dirArg(&o.dir),
		RunE: func(c *cobra.Command, _ []string) error { return runStat(o, e.stdout) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object")
	return cmd
}

// statJSON is stat's output.
type statJSON struct {
	Dir        string        `json:"dir"`
	FirstIndex uint64        `json:"first_index"`
	LastIndex  uint64        `json:"last_index"`
	Entries    uint64        `json:"entries"`
	Bytes      int64         `json:"bytes"`
	Recovery   *reportJSON   `json:"recovery,omitempty"`
	Meta       *metaInfo     `json:"meta"`
	Segments   []segmentJSON `json:"segments"`
	Error      string        `json:"error,omitempty"`
}

type segmentJSON struct {
	Name       string `json:"name"`
	Seq        uint64 `json:"seq"`
	FirstIndex uint64 `json:"first_index"`
	LastIndex  uint64 `json:"last_index"`
	Entries    uint64 `json:"entries"`
	Bytes      int64  `json:"bytes"`
	FileSize   int64  `json:"file_size"`
	Sealed     bool   `json:"sealed"`
	Reset      bool   `json:"reset,omitempty"`
}

// reportJSON is a wal.Report.
type reportJSON struct {
	State      string        `json:"state"`
	FirstIndex uint64        `json:"first_index"`
	LastIndex  uint64        `json:"last_index"`
	Segments   int           `json:"segments"`
	Dropped    []droppedJSON `json:"dropped"`
	Removed    []removedJSON `json:"removed"`
	Ignored    []string      `json:"ignored"`
	DryRun     bool          `json:"dry_run"`
	Summary    string        `json:"summary"`
}

type droppedJSON struct {
	Segment    string `json:"segment"`
	From       int64  `json:"from"`
	To         int64  `json:"to"`
	FirstIndex uint64 `json:"first_index,omitempty"`
	LastIndex  uint64 `json:"last_index,omitempty"`
	Reason     string `json:"reason"`
}

type removedJSON struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func newReportJSON(r wal.Report) *reportJSON {
	j := &reportJSON{State: r.State.String(), FirstIndex: r.FirstIndex, LastIndex: r.LastIndex,
		Segments: r.Segments, Dropped: []droppedJSON{}, Removed: []removedJSON{},
		Ignored: nonNil(r.Ignored), DryRun: r.DryRun, Summary: r.String()}
	for _, d := range r.Dropped {
		j.Dropped = append(j.Dropped, droppedJSON(d))
	}
	for _, m := range r.Removed {
		j.Removed = append(j.Removed, removedJSON(m))
	}
	return j
}

// nonNil makes empty lists print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func runStat(o statOptions, out io.Writer) error {
	l, err := openInspect(o.dir, wal.TolerateTornTail)
	if errors.Is(err, wal.ErrCorrupt) {
		return statBroken(o, out, err)
	}
	if err != nil {
		return err
	}
	defer l.Close()
	st, err := collectStat(o.dir, l)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(out, st)
	}
	return writeStat(out, st)
}

// collectStat gathers what stat shows.
func collectStat(dir string, l *wal.Log) (*statJSON, error) {
	first, last, count, err := bounds(l)
	if err != nil {
		return nil, err
	}
	meta, err := readMeta(dir)
	if err != nil {
		return nil, err
	}
	st := &statJSON{Dir: dir, FirstIndex: first, LastIndex: last, Entries: count,
		Recovery: newReportJSON(l.Recovery()), Meta: meta, Segments: []segmentJSON{}}
	for _, s := range l.Segments() {
		sj := segmentJSON{Name: s.Name, Seq: s.Seq, FirstIndex: s.FirstIndex, LastIndex: s.LastIndex,
			Entries: s.LastIndex + 1 - s.FirstIndex, Bytes: s.Size, Sealed: s.Sealed, Reset: s.Reset}
		if fi, err := os.Stat(filepath.Join(dir, s.Name)); err == nil {
			sj.FileSize = fi.Size()
		}
		st.Bytes += s.Size
		st.Segments = append(st.Segments, sj)
	}
	return st, nil
}

func writeStat(out io.Writer, st *statJSON) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "log:\t%s\n", st.Dir)
	if st.Entries > 0 {
		fmt.Fprintf(tw, "entries:\t%d [%d, %d]\n", st.Entries, st.FirstIndex, st.LastIndex)
	} else {
		fmt.Fprintf(tw, "entries:\t0 (next index %d)\n", st.LastIndex+1)
	}
	fmt.Fprintf(tw, "records:\t%d bytes in %d segments\n", st.Bytes, len(st.Segments))
	fmt.Fprintf(tw, "recovery:\t%s\n", st.Recovery.Summary)
	fmt.Fprintf(tw, "meta:\t%s\n", st.Meta)
	if len(st.Recovery.Ignored) > 0 {
		fmt.Fprintf(tw, "ignored:\t%q\n", st.Recovery.Ignored)
	}
	tw.Flush()
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SEGMENT\tSEQ\tFIRST\tLAST\tENTRIES\tBYTES\tFILE SIZE\tSTATE\t")
	for _, s := range st.Segments {
		state := "open"
		if s.Sealed {
			state = "sealed"
		}
		if s.Reset {
			state += ",reset"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", s.Name, s.Seq, s.FirstIndex, s.LastIndex, s.Entries, s.Bytes, s.FileSize, state)
	}
	return tw.Flush()
}

// String describes META for stat.
func (m *metaInfo) String() string {
	if m == nil {
		return "none (never truncated)"
	}
	s := fmt.Sprintf("front %d (seq %d)", m.Front, m.FrontSeq)
	if m.BackSeq > 0 {
		s += fmt.Sprintf(", back %d (seq %d)", m.Back, m.BackSeq)
	}
	return s
}

// statBroken reports a log that cannot be opened: the files found and the
// reason. It returns the open error (exit status 1).
func statBroken(o statOptions, out io.Writer, openErr error) error {
	segs, err := listSegments(o.dir)
	if err != nil {
		return err
	}
	if o.json {
		st := statJSON{Dir: o.dir, Segments: []segmentJSON{}, Error: openErr.Error()}
		st.Meta, _ = readMeta(o.dir)
		for _, s := range segs {
			st.Segments = append(st.Segments, segmentJSON{Name: s.Name, Seq: s.Seq, FirstIndex: s.First, FileSize: s.Size})
		}
		if err := writeJSON(out, st); err != nil {
			return err
		}
		return openErr
	}
	fmt.Fprintf(out, "log:    %s\nstatus: cannot be opened: %v\n\n", o.dir, openErr)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SEGMENT FILE\tSEQ\tFIRST\tFILE SIZE\t")
	for _, s := range segs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", s.Name, s.Seq, s.First, s.Size)
	}
	tw.Flush()
	fmt.Fprintln(out, "\n(walctl verify DIR lists the damage; walctl repair DIR --dry-run shows what repair would do)")
	return openErr
}

// writeJSON writes v as indented JSON.
func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

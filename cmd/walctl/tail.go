package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/waldb/wal"
)

// tailOptions configures tail.
type tailOptions struct {
	dir      string
	n        uint64
	follow   bool
	interval time.Duration // -f: how often to look for new entries
	data     string
	json     bool
	txn      bool
}

// maxRefreshFailures bounds consecutive failed refreshes under -f: a
// writer's rotation or truncation can make one read-only reopen fail (a
// file listed and then deleted), so one failure is retried; a persistent
// one ends tail.
const maxRefreshFailures = 20

func newTailCmd(e *env) *cobra.Command {
	var o tailOptions
	cmd := &cobra.Command{
		Use:   "tail DIR",
		Short: "Print the last entries of a log, and with -f follow new ones",
		Long: withExit(`tail prints the last -n entries of the log in DIR in dump's format. With -f it
then follows the log: a writer in another process keeps appending, and tail
prints each new entry as it becomes visible (it re-reads the directory every
--interval), until interrupted. If the writer truncates the log, tail says so
on stderr and continues from the new position.`),
		Args: dirArg(&o.dir),
		RunE: func(c *cobra.Command, _ []string) error {
			if _, err := parseDataMode(o.data, o.json); err != nil {
				return usageError(c, err)
			}
			if o.interval <= 0 {
				return usageErrorf(c, "--interval %v must be positive", o.interval)
			}
			err := runTail(c.Context(), o, e.stdout, e.stderr)
			if o.follow && errors.Is(err, context.Canceled) {
				return nil // interrupted: the normal end of tail -f
			}
			return err
		},
	}
	cmd.Flags().Uint64VarP(&o.n, "lines", "n", 10, "number of last entries to print first")
	cmd.Flags().BoolVarP(&o.follow, "follow", "f", false, "keep printing entries as they are appended")
	cmd.Flags().DurationVar(&o.interval, "interval", 250*time.Millisecond, "with -f, how often to look for new entries")
	cmd.Flags().StringVar(&o.data, "data", "auto", "entry data as auto, hex, base64 or raw")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON lines")
	cmd.Flags().BoolVar(&o.txn, "txn", true, "decode records of the txn package")
	return cmd
}

// runTail prints the last o.n entries and, with o.follow, new ones until
// ctx is done (then it returns ctx.Err()). Notices go to errOut.
func runTail(ctx context.Context, o tailOptions, out, errOut io.Writer) error {
	mode, err := parseDataMode(o.data, o.json)
	if err != nil {
		return err
	}
	l, err := openInspect(o.dir, wal.TolerateTornTail)
	if err != nil {
		return err
	}
	defer l.Close()
	_, last, count, err := bounds(l)
	if err != nil {
		return err
	}
	start := last + 1 - min(o.n, count)
	t := &tailer{l: l, it: l.Iter(start, nil), p: &entryPrinter{w: out, mode: mode, json: o.json, txn: o.txn}, errOut: errOut}
	for {
		if err := t.drain(ctx); err != nil {
			return err
		}
		if !o.follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.interval):
		}
		if err := t.refresh(); err != nil {
			return err
		}
	}
}

// tailer follows one read-only log.
type tailer struct {
	l        *wal.Log
	it       *wal.Iterator
	p        *entryPrinter
	errOut   io.Writer
	failures int
}

// drain prints every entry the log shows now.
func (t *tailer) drain(ctx context.Context) error {
	for {
		idx, data, err := t.it.Next(ctx)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, wal.ErrNotFound):
			// The writer truncated the front past our position.
			first, _ := t.l.FirstIndex()
			fmt.Fprintf(t.errOut, "walctl: entries before %d were removed from the front before they were shown\n", first)
			t.it.Seek(first)
			continue
		case err != nil:
			return fmt.Errorf("reading entry %d: %w", t.it.Index(), err)
		}
		if err := t.p.print(idx, data); err != nil {
			return err
		}
	}
}

// refresh picks up what the writer did since the last look.
func (t *tailer) refresh() error {
	if err := t.l.Refresh(); err != nil {
		if t.failures++; t.failures >= maxRefreshFailures {
			return fmt.Errorf("re-reading the log: %w", err)
		}
		return nil
	}
	t.failures = 0
	// Refresh does not tell iterators about a TruncateBack made by another
	// process; notice one that removed entries we were waiting past.
	if last, err := t.l.LastIndex(); err == nil && t.it.Index() > last+1 {
		fmt.Fprintf(t.errOut, "walctl: the log was truncated back to %d\n", last)
		t.it.Seek(last + 1)
	}
	return nil
}

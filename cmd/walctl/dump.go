package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/waldb/wal"
)

// dumpOptions configures dump.
type dumpOptions struct {
	dir      string
	from, to uint64 // 0: the first / last entry
	data     string
	json     bool
	txn      bool
}

func newDumpCmd(e *env) *cobra.Command {
	var o dumpOptions
	cmd := &cobra.Command{
		Use:   "dump DIR",
		Short: "Print a log's entries",
		Long: withExit(`dump prints the entries of the log in DIR, from --from to --to (default: all),
one per line: "INDEX<TAB>SIZE<TAB>DATA", or JSON lines with --json.

--data chooses how entry bytes are shown: auto (the default) prints printable
UTF-8 as text and anything else as "hex:..." (in JSON, "encoding" says which);
hex and base64 always encode; raw writes each entry's bytes followed by a
newline and nothing else.

Entries that are records of the txn package (transaction begin, put, delete,
commit, abort) are shown decoded, as "txn put id=7 key="k" value="v""
(--txn=false shows them as plain data).

An index outside the log is a usage error (exit status 2). An entry that cannot
be read because it is corrupt stops the dump with exit status 1.`),
		Args: dirArg(&o.dir),
		RunE: func(c *cobra.Command, _ []string) error {
			if o.from > 0 && o.to > 0 && o.from > o.to {
				return usageErrorf(c, "--from %d is after --to %d", o.from, o.to)
			}
			if _, err := parseDataMode(o.data, o.json); err != nil {
				return usageError(c, err)
			}
			return runDump(c.Context(), o, e.stdout)
		},
	}
	cmd.Flags().Uint64Var(&o.from, "from", 0, "first index to print (default: the log's first)")
	cmd.Flags().Uint64Var(&o.to, "to", 0, "last index to print (default: the log's last)")
	cmd.Flags().StringVar(&o.data, "data", "auto", "entry data as auto, hex, base64 or raw")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON lines")
	cmd.Flags().BoolVar(&o.txn, "txn", true, "decode records of the txn package")
	return cmd
}

// errOutOfRange: a requested index is outside the log (exit status 2).
var errOutOfRange = errors.New("index out of range")

func runDump(ctx context.Context, o dumpOptions, out io.Writer) error {
	mode, err := parseDataMode(o.data, o.json)
	if err != nil {
		return err
	}
	l, err := openInspect(o.dir, wal.TolerateTornTail)
	if err != nil {
		return err
	}
	defer l.Close()
	first, last, count, err := bounds(l)
	if err != nil {
		return err
	}
	from, to := o.from, o.to
	if from == 0 {
		from = first
	}
	if to == 0 {
		to = last
	}
	for _, i := range []uint64{o.from, o.to} {
		if i != 0 && (i < first || i > last) {
			return fmt.Errorf("%w: %d is outside the log's entries %s", errOutOfRange, i, describeRange(first, last, count))
		}
	}
	p := &entryPrinter{w: out, mode: mode, json: o.json, txn: o.txn}
	return printRange(ctx, l, from, to, p)
}

// printRange prints entries [from, to] of l.
func printRange(ctx context.Context, l *wal.Log, from, to uint64, p *entryPrinter) error {
	if from > to {
		return nil
	}
	it := l.Iter(from, nil)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		idx, data, err := it.Next(ctx)
		if errors.Is(err, io.EOF) || err == nil && idx > to {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading entry %d: %w", it.Index(), err)
		}
		if err := p.print(idx, data); err != nil {
			return err
		}
		if idx == to {
			return nil
		}
	}
}

// describeRange is "[first, last]", or "(none)" for an empty log.
func describeRange(first, last, count uint64) string {
	if count == 0 {
		return fmt.Sprintf("(none; the next index is %d)", last+1)
	}
	return fmt.Sprintf("[%d, %d]", first, last)
}

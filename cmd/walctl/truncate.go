package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/waldb/wal"
)

// truncateOptions configures truncate: exactly one of front and back is set.
type truncateOptions struct {
	dir         string
	front, back uint64
	isFront     bool
	yes         bool
	echo        bool // echo the confirmation answer (stdin is not a terminal)
}

func newTruncateCmd(e *env) *cobra.Command {
	var o truncateOptions
	cmd := &cobra.Command{
		Use:   "truncate DIR (--front N | --back N)",
		Short: "Remove entries from the front or the back of a log",
		Long: withExit(`truncate removes entries from the log in DIR with the library's truncations:

  --front N  removes every entry before N, which becomes the first entry
             (wal.Log.TruncateFront); N may be the last index + 1 to empty the
             log while keeping its position.
  --back N   removes every entry after N, which becomes the last entry
             (wal.Log.TruncateBack).

Both are crash-safe: the new bounds are recorded in META before any file
changes. truncate shows what it will remove and asks for confirmation on stdin
unless --yes is given; anything but "y" or "yes" changes nothing (exit status 2).
It opens the log for writing, so it fails while another process has the log
open, and opening first performs the log's normal crash recovery (a torn tail is
cut); the confirmation says so when that applies. A corrupt log is refused
(exit status 1): run walctl repair first.`),
		Args: dirArg(&o.dir),
		RunE: func(c *cobra.Command, _ []string) error {
			front, back := c.Flags().Changed("front"), c.Flags().Changed("back")
			if front == back {
				return usageErrorf(c, "give exactly one of --front N and --back N")
			}
			o.isFront, o.echo = front, e.echo
			return runTruncate(o, e.stdin, e.stdout)
		},
	}
	cmd.Flags().Uint64Var(&o.front, "front", 0, "remove entries before index `N`")
	cmd.Flags().Uint64Var(&o.back, "back", 0, "remove entries after index `N`")
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// errNotConfirmed: the user did not confirm (exit status 2).
var errNotConfirmed = errors.New("not confirmed: nothing was changed")

func runTruncate(o truncateOptions, in io.Reader, out io.Writer) error {
	plan, noop, err := planTruncate(o)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, plan)
	if noop {
		return nil
	}
	if !o.yes {
		if err := confirm(in, out, "Proceed?", o.echo); err != nil {
			return err
		}
	}
	l, err := openWritable(o.dir)
	if err != nil {
		return err
	}
	if o.isFront {
		err = l.TruncateFront(o.front)
	} else {
		err = l.TruncateBack(o.back)
	}
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return printBounds(out, o.dir)
}

// planTruncate checks the request against the log (read-only) and
// describes it; noop means there is nothing to do.
func planTruncate(o truncateOptions) (plan string, noop bool, err error) {
	l, err := openInspect(o.dir, wal.TolerateTornTail)
	if errors.Is(err, wal.ErrCorrupt) {
		return "", false, fmt.Errorf("refusing to truncate a corrupt log (run walctl verify and walctl repair): %w", err)
	}
	if err != nil {
		return "", false, err
	}
	defer l.Close()
	first, last, count, err := bounds(l)
	if err != nil {
		return "", false, err
	}
	have := describeRange(first, last, count)
	var s string
	switch {
	case o.isFront && (o.front < first || o.front > last+1):
		return "", false, fmt.Errorf("%w: --front %d is outside [%d, %d] (the log holds %s)", errOutOfRange, o.front, first, last+1, have)
	case !o.isFront && (count == 0 || o.back < first || o.back > last):
		return "", false, fmt.Errorf("%w: --back %d is outside the log's entries %s", errOutOfRange, o.back, have)
	case o.isFront && o.front == first, !o.isFront && o.back == last:
		return fmt.Sprintf("nothing to do: the log holds %s", have), true, nil
	case o.isFront:
		s = fmt.Sprintf("truncate --front %d: removes entries [%d, %d] (%d entries) from %s; keeps %s",
			o.front, first, o.front-1, o.front-first, o.dir, describeRange(o.front, last, last+1-o.front))
	default:
		s = fmt.Sprintf("truncate --back %d: removes entries [%d, %d] (%d entries) from %s; keeps [%d, %d]",
			o.back, o.back+1, last, last-o.back, o.dir, first, o.back)
	}
	if rep := l.Recovery(); len(rep.Dropped)+len(rep.Removed) > 0 {
		s += "\nopening the log for writing first recovers it: " + rep.String()
	}
	return s, false, nil
}

// confirm asks question on out and reads the answer from in; echo
// repeats the answer on out (when in is not a terminal, which would have
// echoed it).
func confirm(in io.Reader, out io.Writer, question string, echo bool) error {
	fmt.Fprintf(out, "%s [y/N] ", question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the confirmation: %w", err)
	}
	answer := strings.TrimSpace(line)
	if echo || errors.Is(err, io.EOF) {
		fmt.Fprintln(out, answer)
	}
	switch strings.ToLower(answer) {
	case "y", "yes":
		return nil
	}
	return errNotConfirmed
}

// openWritable opens dir for writing with options that change no more
// than needed (no preallocation).
func openWritable(dir string) (*wal.Log, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	l, err := wal.Open(dir, &wal.Options{NoPreallocate: true})
	if errors.Is(err, wal.ErrLocked) {
		return nil, fmt.Errorf("%s is open in another process (stop it first): %w", dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", dir, err)
	}
	return l, nil
}

// printBounds prints the log's entries after a change.
func printBounds(out io.Writer, dir string) error {
	l, err := openInspect(dir, wal.TolerateTornTail)
	if err != nil {
		return err
	}
	defer l.Close()
	first, last, count, err := bounds(l)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "done: the log holds %d entries %s\n", count, describeRange(first, last, count))
	return nil
}

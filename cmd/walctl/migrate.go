package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"go.etcd.io/bbolt"

	"github.com/waldb/wal"
	"github.com/waldb/wal/raftlog"
	"github.com/waldb/wal/raftlog/boltmigrate"
)

// migrateOptions configures migrate-bolt.
type migrateOptions struct {
	bolt string // the raft-boltdb file
	dir  string // the new raftlog store
}

func newMigrateCmd(e *env) *cobra.Command {
	var o migrateOptions
	cmd := &cobra.Command{
		Use:   "migrate-bolt BOLTFILE DIR",
		Short: "Copy a raft-boltdb store into a new raftlog store, verified",
		Long: withExit(`migrate-bolt copies the raft log and stable state (current term, last vote
and every other key) of a stopped raft node's raft-boltdb store, the Bolt file
BOLTFILE, into a new raftlog store in DIR (boltmigrate.MigrateReport).

Every entry is read back from DIR and compared field by field with the source,
and every stable key byte by byte; on success everything copied is durable.
Entries below a gap in raft-boltdb's index sequence (left by a snapshot install)
precede the node's snapshot and are not copied: the summary counts them.

BOLTFILE is opened read-only; stop the node first (migrate-bolt gives up after a
second if a process holds it open for writing). DIR must not exist or be an
empty directory. If migrate-bolt fails, it removes what it wrote to DIR. A
difference between the copy and the source, or a corrupt
source, exits with status 1.`),
		Args: migrateArgs(&o),
		RunE: func(c *cobra.Command, _ []string) error { return runMigrate(o, e.stdout) },
	}
	return cmd
}

// migrateArgs takes exactly BOLTFILE and DIR.
func migrateArgs(o *migrateOptions) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		switch {
		case len(args) < 2:
			return usageErrorf(c, "want two arguments, BOLTFILE and DIR; got %d", len(args))
		case len(args) > 2:
			return usageErrorf(c, "unexpected argument %q after DIR", args[2])
		case args[0] == "" || args[1] == "":
			return usageErrorf(c, "empty argument")
		}
		o.bolt, o.dir = args[0], args[1]
		return nil
	}
}

func runMigrate(o migrateOptions, out io.Writer) error {
	existed, err := checkMigrateDest(o.dir)
	if err != nil {
		return err
	}
	dst, err := raftlog.Open(o.dir, nil)
	if err != nil {
		return fmt.Errorf("creating the raftlog store %s: %w", o.dir, err)
	}
	rep, err := boltmigrate.MigrateReport(o.bolt, dst)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return migrateError(o, err, removePartial(o.dir, existed))
	}
	printMigration(out, o, rep)
	return nil
}

// removePartial removes what a failed migration wrote to dir, which held
// nothing before (existed: as an empty directory), and says what it did.
func removePartial(dir string, existed bool) string {
	if !existed {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Sprintf("%s may hold part of the data: remove it (%v) and migrate again", dir, err)
		}
		return fmt.Sprintf("removed %s", dir)
	}
	names, err := os.ReadDir(dir)
	for _, n := range names {
		if err == nil {
			err = os.RemoveAll(filepath.Join(dir, n.Name()))
		}
	}
	if err != nil {
		return fmt.Sprintf("%s may hold part of the data: empty it (%v) and migrate again", dir, err)
	}
	return fmt.Sprintf("emptied %s", dir)
}

// checkMigrateDest refuses a DIR that is a file or a non-empty directory;
// existed reports an empty directory.
func checkMigrateDest(dir string) (existed bool, err error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("destination %s: %w", dir, err)
	case !fi.IsDir():
		return false, fmt.Errorf("destination %s: not a directory", dir)
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("destination %s: %w", dir, err)
	}
	if len(names) > 0 {
		return false, fmt.Errorf("destination %s is not empty (%d entries, e.g. %s): migrate into a new directory",
			dir, len(names), names[0].Name())
	}
	return true, nil
}

// migrateError adds what to do next, and marks a verification mismatch or
// a corrupt source for exit status 1.
func migrateError(o migrateOptions, err error, hint string) error {
	switch {
	case errors.Is(err, boltmigrate.ErrMismatch), errors.Is(err, raftlog.ErrCorrupt),
		errors.Is(err, wal.ErrCorrupt), errors.Is(err, bbolt.ErrChecksum):
		return fmt.Errorf("%w: migrating %s: %w (%s)", errCheckFailed, o.bolt, err, hint)
	case errors.Is(err, bbolt.ErrInvalid), errors.Is(err, boltmigrate.ErrNotBolt):
		return fmt.Errorf("%s is not a raft-boltdb store: %w (%s)", o.bolt, err, hint)
	case errors.Is(err, bbolt.ErrTimeout):
		return fmt.Errorf("migrating %s: it is open in another process (stop the raft node first): %w (%s)", o.bolt, err, hint)
	}
	return fmt.Errorf("migrating %s: %w (%s)", o.bolt, err, hint)
}

// printMigration prints the summary.
func printMigration(out io.Writer, o migrateOptions, rep boltmigrate.MigrationReport) {
	fmt.Fprintf(out, "source:       %s (raft-boltdb)\n", o.bolt)
	fmt.Fprintf(out, "destination:  %s (raftlog)\n", o.dir)
	if rep.Last == 0 {
		fmt.Fprintln(out, "entries:      none")
	} else {
		fmt.Fprintf(out, "entries:      %d [%d, %d], each verified\n", rep.Last-rep.First+1, rep.First, rep.Last)
	}
	fmt.Fprintf(out, "skipped:      %d entries below a gap (older than the node's snapshot)\n", rep.Skipped)
	fmt.Fprintf(out, "stable keys:  %d, each verified\n", rep.Keys)
	fmt.Fprintln(out, "result:       ok: migrated and durable")
}

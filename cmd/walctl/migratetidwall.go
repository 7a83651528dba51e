package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/waldb/wal"
	tidwall "github.com/waldb/wal/tidwall"
)

// migrateTidwallOptions configures migrate-tidwall.
type migrateTidwallOptions struct {
	dir  string
	json bool // the tidwall segments are in tidwall's JSON format
}

func newMigrateTidwallCmd(e *env) *cobra.Command {
	var o migrateTidwallOptions
	cmd := &cobra.Command{
		Use:   "migrate-tidwall DIR",
		Short: "Convert a tidwall/wal directory to waldb's format, in place",
		Long: withExit(`migrate-tidwall converts the tidwall/wal log in DIR (segment files named by 20
digits, Binary format unless --json) to waldb's format in place, as
github.com/waldb/wal/tidwall's Open does on first use (tidwall.Migrate).

The new log is built in DIR/tidwall-migrate.tmp and made durable; renaming it
to DIR/tidwall-migrate.done commits the conversion; then the tidwall files are
deleted and the new ones moved into DIR. Interrupted at any point, running it
again (or opening DIR) starts again from the intact tidwall files or finishes
the committed conversion. Stop the program using DIR first. A damaged tidwall
segment exits with status 1 and changes nothing.`),
		Args: dirArg(&o.dir),
		RunE: func(c *cobra.Command, _ []string) error { return runMigrateTidwall(o, e.stdout) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "the segments are in tidwall's JSON format (LogFormat JSON)")
	return cmd
}

func runMigrateTidwall(o migrateTidwallOptions, out io.Writer) error {
	format := tidwall.Binary
	if o.json {
		format = tidwall.JSON
	}
	n, err := tidwall.Migrate(o.dir, format)
	switch {
	case errors.Is(err, wal.ErrCorrupt):
		return fmt.Errorf("%w: converting %s: %w", errCheckFailed, o.dir, err)
	case err != nil:
		return fmt.Errorf("converting %s: %w", o.dir, err)
	case n == 0:
		fmt.Fprintf(out, "%s holds no tidwall segment files: nothing to convert\n", o.dir)
	default:
		fmt.Fprintf(out, "converted %d entries in %s to waldb's format\n", n, o.dir)
	}
	return nil
}

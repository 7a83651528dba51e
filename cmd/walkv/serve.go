package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/waldb/wal/walkv"
)

// options are the command-line flags.
type options struct {
	addr          string
	dir           string
	fsync         walkv.Fsync
	snapshotBytes int64
}

// usageError marks errors in the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u) || errors.Is(err, flag.ErrHelp)
}

// parseFlags parses args; -h prints the usage to out and returns
// flag.ErrHelp.
func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("walkv", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:6380", "`address` to listen on")
	fs.StringVar(&o.dir, "dir", "./data", "data `directory` (log in dir/wal, snapshots beside it)")
	fsync := fs.String("appendfsync", "always", "durability `policy`: always, everysec or no")
	fs.Int64Var(&o.snapshotBytes, "snapshot-log-bytes", walkv.DefaultSnapshotLogBytes,
		"take a snapshot and truncate the log after this many `bytes` of log (negative: never)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, usageError{err}
	}
	if fs.NArg() > 0 {
		return o, usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	f, err := walkv.ParseFsync(*fsync)
	if err != nil {
		return o, usageError{err}
	}
	o.fsync = f
	return o, nil
}

// run opens the database, serves until ctx is done or a client sends
// SHUTDOWN, then shuts down gracefully. It prints "listening on ADDR" to
// stdout once the server accepts connections.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	db, err := walkv.Open(o.dir, &walkv.Options{AppendFsync: o.fsync, SnapshotLogBytes: o.snapshotBytes, Logger: logger})
	if err != nil {
		return err
	}
	srv, err := walkv.Listen(db, o.addr, nil)
	if err != nil {
		return errors.Join(err, db.Close())
	}
	fmt.Fprintf(stdout, "walkv: listening on %s (dir %s, appendfsync %s)\n", srv.Addr(), o.dir, o.fsync)
	select {
	case <-ctx.Done():
	case <-srv.Done():
	}
	err = errors.Join(srv.Close(), db.Close())
	if err == nil {
		fmt.Fprintln(stdout, "walkv: shut down cleanly")
	}
	return err
}

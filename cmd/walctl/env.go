package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/waldb/wal"
)

// env is what commands take from their surroundings; tests substitute
// buffers and a re-executable test binary.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// terminal: stdout and stderr are terminals, so progress is drawn as
	// a bar (on stderr) instead of plain lines.
	terminal bool
	// quiet suppresses progress output (--quiet).
	quiet bool
	// echo: stdin is not a terminal, so confirmation answers read from it
	// are echoed to make the transcript readable.
	echo bool
	// self returns a command running this program with args: crashtest's
	// children. nil if the program cannot find itself.
	self func(args ...string) *exec.Cmd
}

// osEnv is the environment of the real program.
func osEnv() *env {
	e := &env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		terminal: term.IsTerminal(int(os.Stdout.Fd())) && term.IsTerminal(int(os.Stderr.Fd())),
		echo:     !term.IsTerminal(int(os.Stdin.Fd())),
	}
	if exe, err := os.Executable(); err == nil {
		e.self = func(args ...string) *exec.Cmd { return exec.Command(exe, args...) }
	}
	return e
}

// withExit appends the exit statuses to a command's long help.
func withExit(long string) string { return long + "\n" + exitHelp }

// dirArg accepts exactly one argument, the log directory, into *dir.
func dirArg(dir *string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return usageErrorf(c, "missing the log directory argument")
		case len(args) > 1:
			return usageErrorf(c, "unexpected argument %q after the log directory", args[1])
		case args[0] == "":
			return usageErrorf(c, "empty log directory argument")
		}
		*dir = args[0]
		return nil
	}
}

// optionalDirArg accepts zero or one argument into *dir.
func optionalDirArg(dir *string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) > 1 {
			return usageErrorf(c, "unexpected argument %q", args[1])
		}
		if len(args) == 1 {
			*dir = args[0]
		}
		return nil
	}
}

// inspectOptions are the options of every read-only open. NoMmap: a writer
// in another process may shorten a file this process mapped (its recovery
// cuts a torn tail, TruncateBack recuts a sealed segment), and touching a
// mapped page past the end of a file kills the process with SIGBUS; pread
// just returns a short read, which the log reports as an error.
func inspectOptions(mode wal.RecoveryMode) *wal.Options {
	return &wal.Options{NoMmap: true, RecoveryMode: mode}
}

// openInspect opens the log in dir read-only: no lock, no change on disk.
func openInspect(dir string, mode wal.RecoveryMode) (*wal.Log, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	l, err := wal.OpenReadOnly(dir, inspectOptions(mode))
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", dir, err)
	}
	return l, nil
}

// checkDir returns a one-line error if dir is not an existing directory.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		return fmt.Errorf("log directory %s: %w", dir, pe.Err)
	case err != nil:
		return fmt.Errorf("log directory %s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("log directory %s: not a directory", dir)
	}
	return nil
}

// bounds returns the log's first and last index and its entry count.
func bounds(l *wal.Log) (first, last, count uint64, err error) {
	if first, err = l.FirstIndex(); err != nil {
		return 0, 0, 0, err
	}
	if last, err = l.LastIndex(); err != nil {
		return 0, 0, 0, err
	}
	first = max(first, 1) // FirstIndex is 0 for a new, empty log
	if last >= first {
		count = last - first + 1
	}
	return first, last, count, nil
}

package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/waldb/wal"
)

// Exit statuses. They are part of walctl's interface: scripts test them.
const (
	exitOK      = 0
	exitCorrupt = 1 // corruption found, or acknowledged entries lost
	exitError   = 2 // usage error, I/O error, or the command did nothing
)

// exitHelp documents the exit statuses in every command's --help.
const exitHelp = `
Exit status:
  0  success (verify: no corruption found)
  1  corruption found: verify found damage, the log cannot be opened because
     it is corrupt, repair left damage it could not fix, or crashtest found an
     acknowledged entry lost or altered
  2  usage error (unknown flag, missing or bad argument, index out of range),
     not a log directory, I/O error, log locked by another process, or
     confirmation declined`

// errCheckFailed marks failures that mean "the data is bad" (exit 1) when
// they do not already wrap wal.ErrCorrupt: crashtest violations, repair
// leaving damage behind.
var errCheckFailed = errors.New("check failed")

// errUsage marks a usage error: the message gets a pointer to --help.
var errUsage = errors.New("usage")

// usageErr is a usage error of one command.
type usageErr struct {
	cmd string // "walctl stat"
	err error
}

func (u *usageErr) Error() string {
	return fmt.Sprintf("%v (see '%s --help')", u.err, u.cmd)
}

func (u *usageErr) Unwrap() []error { return []error{errUsage, u.err} }

// usageError wraps err as a usage error of c.
func usageError(c *cobra.Command, err error) error {
	return &usageErr{cmd: c.CommandPath(), err: err}
}

// usageErrorf formats a usage error of c.
func usageErrorf(c *cobra.Command, format string, args ...any) error {
	return usageError(c, fmt.Errorf(format, args...))
}

// exitCode maps an error to the documented exit status.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		return exitError
	case errors.Is(err, wal.ErrCorrupt), errors.Is(err, errCheckFailed):
		return exitCorrupt
	}
	return exitError
}

// reportError prints err as one line on w and returns the exit status.
func reportError(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	msg := oneLine(err.Error())
	if strings.HasPrefix(msg, "unknown command") {
		msg += " (see 'walctl --help')"
	}
	fmt.Fprintf(w, "walctl: %s\n", msg)
	return exitCode(err)
}

// oneLine joins the lines of a multi-line message (errors.Join, cobra's
// suggestions) with "; ".
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

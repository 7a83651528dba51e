// Command walctl is the operator's tool for waldb logs: it inspects
// (stat, dump, tail), checks (verify), fixes (repair, truncate) and
// measures (bench, crashtest) a log directory, and migrates a raft node's
// raft-boltdb store to a raftlog store (migrate-bolt) and a tidwall/wal
// directory to waldb's format (migrate-tidwall).
//
// Inspection opens the log with wal.OpenReadOnly: it takes no lock and
// changes nothing, so it is safe beside a running writer and on a damaged
// log. Only repair and truncate open a log for writing.
//
// Exit status: 0 success; 1 corruption found (or, for crashtest,
// acknowledged entries lost); 2 usage error, I/O error or nothing done.
// See exitHelp.
//
// Each subcommand lives in its own file with an options struct and a run
// function that writes to an injected writer and returns an error; this
// file only builds the command tree and turns the error into an exit code.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], osEnv())
	stop()
	os.Exit(code)
}

// execute runs walctl with args and returns the exit status.
func execute(ctx context.Context, args []string, e *env) int {
	root := newRootCmd(e)
	root.SetArgs(append([]string{}, args...)) // never nil: cobra would read os.Args
	err := root.ExecuteContext(ctx)
	return reportError(e.stderr, err)
}

// newRootCmd builds the command tree.
func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "walctl",
		Short: "Inspect, verify, repair and measure waldb write-ahead logs",
		Long: `walctl inspects, verifies, repairs and measures waldb write-ahead logs.

Inspecting commands (stat, dump, tail, verify) open the log read-only: they
take no lock and change nothing, so they are safe beside a running writer and
on a damaged log. repair and truncate open it for writing and refuse while
another process has it open.
` + exitHelp,
		SilenceErrors: true, // reportError prints one line
		SilenceUsage:  true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError(c, err) })
	root.PersistentFlags().BoolVarP(&e.quiet, "quiet", "q", false, "no progress output")
	root.AddCommand(
		newStatCmd(e), newDumpCmd(e), newTailCmd(e), newVerifyCmd(e),
		newRepairCmd(e), newTruncateCmd(e), newBenchCmd(e), newCrashtestCmd(e),
		newMigrateCmd(e), newMigrateTidwallCmd(e), newCrashChildCmd(e),
	)
	return root
}

// Command waldemo demonstrates the log's durability and its sync policies.
//
// It runs crash-and-recover rounds: a child process (this binary re-executed
// with the hidden argument -child DIR) appends to a log under SyncAlways
// from several goroutines and acknowledges every Append that returned; the
// parent kills it with SIGKILL at a random moment, reopens the log, prints
// the recovery report and checks that every acknowledged entry survived and
// that the log holds no holes and no garbage. Then it benchmarks Append
// under each sync policy.
//
// Usage:
//
//	go run ./cmd/waldemo [flags]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"time"
)

// childArg, followed by a directory, runs the process as a crash child.
const childArg = "-child"

func main() {
	if len(os.Args) == 3 && os.Args[1] == childArg {
		childMain(os.Args[2])
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "waldemo:", err)
		os.Exit(1)
	}
}

// childMain runs a crash child on dir, configured by the environment, and
// exits; normally the parent kills it first.
func childMain(dir string) {
	cfg, err := childConfigFromEnv(os.Getenv)
	if err == nil {
		err = runChild(dir, cfg, os.Stdout)
	}
	fmt.Fprintln(os.Stderr, "waldemo:", err)
	os.Exit(1)
}

// options are the command-line flags.
type options struct {
	rounds        int
	seed          uint64
	dir           string
	benchDuration time.Duration
	skipBench     bool
	skipCrash     bool
}

const usageText = `Usage: waldemo [flags]

waldemo kills a process appending to a write-ahead log with SIGKILL at random
moments, recovers the log and checks that every acknowledged append survived;
then it benchmarks Append under the sync policies always, interval and never.

Flags:
`

// parseFlags parses args. On -help it prints the usage to out and returns
// flag.ErrHelp.
func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("waldemo", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, usage printed below
	fs.IntVar(&o.rounds, "rounds", 5, "crash-and-recover `rounds`")
	fs.Uint64Var(&o.seed, "seed", 0, "`seed` for kill delays and payloads (default from the clock; printed)")
	fs.StringVar(&o.dir, "dir", "", "`directory` for the temporary log directories (default the system temp directory)")
	fs.DurationVar(&o.benchDuration, "bench-duration", time.Second, "`duration` of each benchmark run")
	fs.BoolVar(&o.skipBench, "skip-bench", false, "skip the sync-policy benchmark")
	fs.BoolVar(&o.skipCrash, "skip-crash", false, "skip the crash-and-recover rounds")
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(out, usageText)
		fs.SetOutput(out)
		fs.PrintDefaults()
		return o, err
	case err != nil:
		return o, fmt.Errorf("%w (see waldemo -help)", err)
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q (see waldemo -help)", fs.Arg(0))
	case o.rounds < 1 || o.rounds > math.MaxUint16:
		return o, fmt.Errorf("-rounds %d outside [1, %d]", o.rounds, math.MaxUint16)
	case o.benchDuration <= 0:
		return o, fmt.Errorf("-bench-duration %v must be positive", o.benchDuration)
	}
	if !flagSet(fs, "seed") {
		o.seed = uint64(time.Now().UnixNano())
	}
	return o, nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// run is the whole program but the child mode.
func run(args []string, out io.Writer) error {
	o, err := parseFlags(args, out)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if !o.skipCrash {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding this program to run crash children: %w", err)
		}
		err = runCrash(crashConfig{
			Rounds: o.rounds, Seed: o.seed, TempDir: o.dir, Out: out,
			Command: func(dir string) *exec.Cmd { return exec.Command(exe, childArg, dir) },
		})
		if err != nil {
			return err
		}
	}
	if !o.skipBench {
		if !o.skipCrash {
			fmt.Fprintln(out)
		}
		return runBench(benchConfig{Duration: o.benchDuration, TempDir: o.dir, Out: out})
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/waldb/wal"
	"github.com/waldb/wal/internal/killchild"
)

// crashOptions configures crashtest.
type crashOptions struct {
	dir         string // parent of the test's directory ("": current directory)
	kills       int
	writers     int
	policy      string
	async       bool // the child appends with AppendAsync, acknowledging on NotifyDurable
	seed        uint64
	minDelay    time.Duration
	maxDelay    time.Duration
	segmentSize int
	maxFiller   int
	window      int // entries kept in the log between rounds
	verbose     bool
	faultModel  bool // run the in-memory storage fault model (faultmodel.go) instead of kills
}

const readyTimeout = 15 * time.Second // for a child to start and open the log

func newCrashtestCmd(e *env) *cobra.Command {
	o := crashOptions{}
	var quick bool
	cmd := &cobra.Command{
		Use:   "crashtest [DIR]",
		Short: "Kill -9 a process appending to a log, again and again, and check every acknowledged entry survived",
		Long: withExit(`crashtest is the kill -9 acceptance test of the log, run on your filesystem. In a
temporary directory under DIR (default: the current directory) it starts a child
process (walctl itself) whose goroutines append self-verifying entries to a log
and acknowledge each entry on a pipe once it is durable (under SyncPolicy
always, when Append returned; under interval and never, when a later Sync
returned; with --async, when a NotifyDurable callback reported it durable). After a random delay it kills the child with SIGKILL, reopens the
log as an application would (running recovery), and checks:

  - every acknowledged entry is present, at the acknowledged index, intact;
  - every entry in the log is intact (its own checksum), with no holes;
  - each writer's entries appear in order without gaps;
  - nothing verified in an earlier round has changed or disappeared.

Entries that were appended but not yet acknowledged may or may not survive.
Between rounds the log is truncated in front to keep it small. It repeats this
--kills times, then prints a summary; a violation makes it exit with status 1
and keep the directory for inspection (otherwise it is removed).`),
		Args: optionalDirArg(&o.dir),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.finish(c, quick); err != nil {
				return err
			}
			if o.faultModel {
				return runFaultModel(c.Context(), o, e.stdout, newProgress(e, "crashtest", false))
			}
			if e.self == nil {
				return fmt.Errorf("crashtest: cannot find the walctl executable to run children")
			}
			return runCrashtest(c.Context(), o, e.stdout, newProgress(e, "crashtest", false), e.self)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&quick, "quick", false, "20 kills with short delays (a few seconds)")
	f.IntVar(&o.kills, "kills", 200, "number of kills")
	f.IntVar(&o.writers, "writers", 8, "appending goroutines in the child")
	f.StringVar(&o.policy, "policy", "always", "sync policy of the child: always, interval or never")
	f.BoolVar(&o.async, "async", false, "the child appends with AppendAsync and acknowledges an entry only when\n"+
		"a NotifyDurable callback reports it durable")
	f.Uint64Var(&o.seed, "seed", 0, "seed of the kill delays and entry sizes (default: from the clock; printed)")
	f.DurationVar(&o.minDelay, "min-delay", 10*time.Millisecond, "shortest time between the child's ready and the kill")
	f.DurationVar(&o.maxDelay, "max-delay", 150*time.Millisecond, "longest time between the child's ready and the kill")
	f.IntVar(&o.segmentSize, "segment-size", 256<<10, "segment size of the log (small, so kills hit rotations)")
	f.IntVar(&o.maxFiller, "max-entry", 1024, "largest entry filler in bytes")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print a line per kill")
	f.BoolVar(&o.faultModel, "fault-model", false, "instead of kills, run --kills rounds of the storage fault model in memory: torn, garbled and lost\n"+
		"unsynced pages and sectors, lost truncates and directory entries, bit rot (segment size default 4096)")
	return cmd
}

// finish applies --quick and the seed default and validates.
func (o *crashOptions) finish(c *cobra.Command, quick bool) error {
	if quick && !c.Flags().Changed("kills") {
		o.kills = 20
	}
	if quick && !c.Flags().Changed("max-delay") {
		o.maxDelay = 60 * time.Millisecond
	}
	if !c.Flags().Changed("seed") {
		o.seed = uint64(time.Now().UnixNano())
	}
	o.window = 5000
	if o.faultModel && !c.Flags().Changed("segment-size") {
		o.segmentSize = 4 << 10
	}
	if o.faultModel && !c.Flags().Changed("max-entry") {
		o.maxFiller = 300
	}
	switch _, err := parsePolicy(o.policy); {
	case err != nil:
		return usageError(c, err)
	case o.kills < 1:
		return usageErrorf(c, "--kills %d must be at least 1", o.kills)
	case o.writers < 1 || o.writers > 1024:
		return usageErrorf(c, "--writers %d outside [1, 1024]", o.writers)
	case o.minDelay < 0 || o.maxDelay < o.minDelay:
		return usageErrorf(c, "need 0 <= --min-delay (%v) <= --max-delay (%v)", o.minDelay, o.maxDelay)
	case o.segmentSize < 4<<10:
		return usageErrorf(c, "--segment-size %d below 4096", o.segmentSize)
	case o.maxFiller < 0 || o.maxFiller > 1<<20:
		return usageErrorf(c, "--max-entry %d outside [0, 1048576]", o.maxFiller)
	}
	return nil
}

// crashStats summarises a crashtest.
type crashStats struct {
	kills      int
	acked      uint64
	survivors  uint64 // appended, not acknowledged, yet in the log
	entries    uint64 // entries verified, counting each once
	recoveries map[string]int
}

func runCrashtest(ctx context.Context, o crashOptions, out io.Writer, prog progress, self func(args ...string) *exec.Cmd) error {
	base := o.dir
	if base == "" {
		base = "."
	}
	if err := checkDir(base); err != nil {
		return err
	}
	work, err := os.MkdirTemp(base, "walctl-crashtest-")
	if err != nil {
		return err
	}
	logDir := filepath.Join(work, "log")
	mode := ""
	if o.async {
		mode = " (AppendAsync, acknowledged on NotifyDurable)"
	}
	fmt.Fprintf(out, "crashtest: %d kills of a child appending with %d writers under SyncPolicy %s%s\n", o.kills, o.writers, o.policy, mode)
	fmt.Fprintf(out, "log: %s (%s), seed %d (rerun with --seed %d)\n", logDir, orUnknown(fsType(work)), o.seed, o.seed)
	v := &crashVerifier{o: o, known: map[uint64]entryID{}, stats: crashStats{recoveries: map[string]int{}}}
	err = v.rounds(ctx, logDir, out, prog, self)
	prog.finish()
	v.summary(out)
	switch {
	case err != nil:
		return fmt.Errorf("%w (the log is kept in %s)", err, logDir)
	case len(v.violations) > 0:
		return fmt.Errorf("%w: %d violations of the durability guarantee (the log is kept in %s)", errCheckFailed, len(v.violations), logDir)
	}
	return os.RemoveAll(work)
}

// crashVerifier runs the rounds and checks the log after each kill.
type crashVerifier struct {
	o          crashOptions
	known      map[uint64]entryID // verified entries still in the log
	last       uint64             // last index verified
	violations []string
	stats      crashStats
}

const maxViolations = 20 // listed in the summary

func (v *crashVerifier) violate(format string, args ...any) {
	v.violations = append(v.violations, fmt.Sprintf(format, args...))
}

func (v *crashVerifier) rounds(ctx context.Context, dir string, out io.Writer, prog progress, self func(args ...string) *exec.Cmd) error {
	rng := rand.New(rand.NewPCG(v.o.seed, 0))
	for round := 1; round <= v.o.kills && len(v.violations) == 0; round++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		delay := v.o.minDelay + time.Duration(rng.Int64N(int64(v.o.maxDelay-v.o.minDelay)+1))
		child := childOptions{dir: dir, round: uint32(round), seed: rng.Uint64(), writers: v.o.writers,
			policy: v.o.policy, async: v.o.async, segmentSize: v.o.segmentSize, maxFiller: v.o.maxFiller}
		acks, err := killChild(self(child.args()...), delay)
		if err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		rep, err := v.check(dir, uint32(round), acks)
		if err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		v.stats.kills++
		if v.o.verbose {
			fmt.Fprintf(out, "kill %d after %v: %d acks, log ends at %d, %v\n", round, delay.Round(time.Millisecond), len(acks), v.last, rep)
		}
		prog.set(int64(round), int64(v.o.kills), "")
	}
	return nil
}

// killChild runs cmd until SIGKILL (see internal/killchild) and parses
// the acks it wrote before it died.
func killChild(cmd *exec.Cmd, delay time.Duration) ([]ack, error) {
	res, err := killchild.Run(cmd, delay, readyTimeout)
	if errors.Is(err, killchild.ErrExitedEarly) || errors.Is(err, killchild.ErrNotReady) {
		return nil, fmt.Errorf("the child did not open the log or died early (%s)", orNone(oneLine(string(res.Stderr))))
	}
	if err != nil {
		return nil, err
	}
	acks := make([]ack, 0, len(res.Lines))
	for _, l := range res.Lines {
		a, err := parseAck(l)
		if err != nil {
			return acks, fmt.Errorf("reading the child's acks: %w", err)
		}
		acks = append(acks, a)
	}
	return acks, nil
}

// check reopens the log after a kill of round's child and verifies it
// against acks and earlier rounds. It returns the recovery report; an
// error means the check could not run.
func (v *crashVerifier) check(dir string, round uint32, acks []ack) (wal.Report, error) {
	l, err := wal.Open(dir, &wal.Options{SegmentSize: v.o.segmentSize})
	if err != nil {
		v.violate("round %d: the log does not open after the kill: %v", round, err)
		return wal.Report{}, nil
	}
	rep := l.Recovery()
	v.stats.recoveries[rep.State.String()]++
	first, last, _, err := bounds(l)
	if err == nil {
		v.checkEntries(l, round, first, last)
		v.checkAcks(acks, round, last)
		err = v.trim(l, first, last)
	}
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	return rep, err
}

// checkEntries reads every entry in [first, last].
func (v *crashVerifier) checkEntries(l *wal.Log, round uint32, first, last uint64) {
	if last < v.last {
		v.violate("round %d: the log ends at %d; entries up to %d were verified before", round, last, v.last)
	}
	next := map[uint16]uint64{} // this round's writers: next expected seq
	for i := first; i <= last; i++ {
		data, err := l.Read(i)
		var id entryID
		if err == nil {
			id, err = parsePayload(data)
		}
		old, wasKnown := v.known[i]
		switch {
		case err != nil:
			v.violate("round %d: entry %d: %v", round, i, err)
		case wasKnown && old != id:
			v.violate("round %d: entry %d was %v when verified before, now %v", round, i, old, id)
		case !wasKnown && i <= v.last:
			v.violate("round %d: entry %d reappeared as %v", round, i, id)
		case !wasKnown && id.Round != round:
			v.violate("round %d: new entry %d is %v, from another round", round, i, id)
		case !wasKnown && id.Seq != next[id.Writer]:
			v.violate("round %d: entry %d is %v, but that writer's previous entry was seq %d", round, i, id, int64(next[id.Writer])-1)
		}
		if err == nil && !wasKnown {
			next[id.Writer] = id.Seq + 1
			v.known[i] = id
			v.stats.entries++
		}
	}
	v.last = last
}

// checkAcks checks that every acknowledged entry is in the log.
func (v *crashVerifier) checkAcks(acks []ack, round uint32, last uint64) {
	acked := map[uint64]bool{}
	for _, a := range acks {
		got, ok := v.known[a.index]
		switch {
		case a.index > last || !ok:
			v.violate("round %d: acknowledged entry %v at index %d is lost (the log ends at %d)", round, a.id, a.index, last)
		case got != a.id:
			v.violate("round %d: index %d holds %v, but %v was acknowledged there", round, a.index, got, a.id)
		}
		acked[a.index] = true
	}
	v.stats.acked += uint64(len(acks))
	for i, id := range v.known {
		if id.Round == round && !acked[i] {
			v.stats.survivors++
		}
	}
}

// trim truncates the log's front to keep about o.window entries.
func (v *crashVerifier) trim(l *wal.Log, first, last uint64) error {
	if last < first || last-first+1 <= uint64(2*v.o.window) {
		return nil
	}
	front := last - uint64(v.o.window) + 1
	if err := l.TruncateFront(front); err != nil {
		return fmt.Errorf("truncating the front to %d: %w", front, err)
	}
	for i := range v.known {
		if i < front {
			delete(v.known, i)
		}
	}
	return nil
}

func (v *crashVerifier) summary(out io.Writer) {
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	s := v.stats
	fmt.Fprintf(tw, "kills\t%d\n", s.kills)
	fmt.Fprintf(tw, "acknowledged entries\t%d\n", s.acked)
	fmt.Fprintf(tw, "unacknowledged survivors\t%d (appended, not yet acknowledged when killed: allowed)\n", s.survivors)
	fmt.Fprintf(tw, "entries verified\t%d\n", s.entries)
	var recs []string
	for _, st := range []string{"clean", "zeroed-tail", "torn-tail", "point-in-time"} {
		if n := s.recoveries[st]; n > 0 {
			recs = append(recs, fmt.Sprintf("%s %d", st, n))
		}
	}
	fmt.Fprintf(tw, "recoveries\t%s\n", strings.Join(recs, ", "))
	fmt.Fprintf(tw, "violations\t%d\n", len(v.violations))
	result := "ok: every acknowledged entry survived every kill"
	if len(v.violations) > 0 {
		result = "FAILED"
	}
	fmt.Fprintf(tw, "result\t%s\n", result)
	tw.Flush()
	for i, x := range v.violations {
		if i == maxViolations {
			fmt.Fprintf(out, "  ... and %d more\n", len(v.violations)-maxViolations)
			break
		}
		fmt.Fprintf(out, "  violation: %s\n", x)
	}
}

// orNone stands in for an empty message.
func orNone(s string) string {
	if s == "" {
		return "no message"
	}
	return s
}

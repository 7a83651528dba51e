package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/waldb/wal"
	"github.com/waldb/wal/internal/killchild"
)

// Kill timing: the parent kills a child a random delay in
// [minKillDelay, maxKillDelay] after the child reports that its log is open.
const (
	minKillDelay = 50 * time.Millisecond
	maxKillDelay = 300 * time.Millisecond
	readyTimeout = 10 * time.Second // for the child to start and open the log
	maxProblems  = 10               // violations listed per round
)

// crashConfig configures runCrash.
type crashConfig struct {
	Rounds  int
	Seed    uint64    // drives kill delays and the children's payloads
	TempDir string    // parent of the log's temporary directory; "" for os.TempDir
	Out     io.Writer // the report
	// Command returns an unstarted command that runs a crash child on dir.
	// runCrash adds the child's configuration to its environment (to
	// os.Environ if cmd.Env is nil) and sets its stdout and stderr.
	Command func(dir string) *exec.Cmd
}

// childOptions are the log options of the children and of the parent's
// reopen after each kill.
func childOptions(policy wal.SyncPolicy) *wal.Options {
	return &wal.Options{SyncPolicy: policy, SegmentSize: childSegmentSize}
}

// runCrash runs the crash-and-recover rounds on one log directory, so each
// round's recovery starts from everything earlier rounds left. It removes
// the directory on success and keeps it for inspection on failure.
func runCrash(cfg crashConfig) error {
	dir, err := os.MkdirTemp(cfg.TempDir, "waldemo-crash-")
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.Out, "Crash and recover: %d rounds of SIGKILL while %d writers append under SyncPolicy %s (%d KiB segments)\n",
		cfg.Rounds, childWriters, wal.SyncAlways, childSegmentSize>>10)
	fmt.Fprintf(cfg.Out, "seed %d (rerun with -seed %d), log in %s\n\n", cfg.Seed, cfg.Seed, dir)
	if err := crashRounds(cfg, dir); err != nil {
		return fmt.Errorf("%w\n(seed %d; the log is kept in %s)", err, cfg.Seed, dir)
	}
	return os.RemoveAll(dir)
}

func crashRounds(cfg crashConfig, dir string) error {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0))
	fmt.Fprintf(cfg.Out, "%5s  %10s  %7s  %10s  %7s  %-8s  %s\n",
		"round", "kill after", "acked", "last index", "unacked", "verified", "recovery report")
	var last, acked uint64
	for round := 1; round <= cfg.Rounds; round++ {
		n, err := crashRound(cfg, dir, round, rng, &last)
		if err != nil {
			return fmt.Errorf("crash round %d of %d: %w", round, cfg.Rounds, err)
		}
		acked += n
	}
	res, err := verifyLog(dir, nil, last)
	if err == nil && res.Report.State != wal.RecoveryClean {
		err = fmt.Errorf("reopen after a clean Close reports %q, want %q", res.Report.State, wal.RecoveryClean)
	}
	if err != nil {
		return fmt.Errorf("final reopen: %w", err)
	}
	fmt.Fprintf(cfg.Out, "\nfinal reopen: %v: ok\n", res.Report)
	fmt.Fprintf(cfg.Out, "all %d acknowledged appends survived %d kills; no holes, no garbage\n", acked, cfg.Rounds)
	return nil
}

// crashRound runs, kills and verifies one child, prints its row, advances
// *last to the log's last index and returns the number of acks.
func crashRound(cfg crashConfig, dir string, round int, rng *rand.Rand, last *uint64) (uint64, error) {
	delay := killDelay(rng)
	child := childConfig{Round: uint16(round), Seed: rng.Uint64(), Policy: wal.SyncAlways}
	cmd := cfg.Command(dir)
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, child.env()...)
	acks, err := killChild(cmd, delay)
	if err != nil {
		return 0, err
	}
	res, err := verifyLog(dir, acks, *last)
	if res == nil {
		return 0, err
	}
	verdict := "ok"
	if err != nil {
		verdict = "FAIL"
	}
	fmt.Fprintf(cfg.Out, "%5d  %10v  %7d  %10d  %7d  %-8s  %v\n",
		round, delay, len(acks), res.Last, int64(res.Last)-int64(*last)-int64(len(acks)), verdict, res.Report)
	*last = res.Last
	return uint64(len(acks)), err
}

// killDelay draws a delay in [minKillDelay, maxKillDelay], in whole
// milliseconds.
func killDelay(rng *rand.Rand) time.Duration {
	ms := int64((maxKillDelay - minKillDelay) / time.Millisecond)
	return minKillDelay + time.Duration(rng.Int64N(ms+1))*time.Millisecond
}

// killChild runs cmd until SIGKILL (see internal/killchild) and parses
// the acks it wrote before dying. The child writes nothing on stderr, so
// anything there (a race report, say) is a failure.
func killChild(cmd *exec.Cmd, delay time.Duration) ([]ack, error) {
	res, err := killchild.Run(cmd, delay, readyTimeout)
	if err != nil {
		return nil, err
	}
	if len(res.Stderr) > 0 {
		return nil, fmt.Errorf("child wrote to stderr before the kill:\n%s", res.Stderr)
	}
	return parseAcks(res.Lines)
}

// parseAcks parses the ack lines a child wrote after its ready line.
func parseAcks(lines []string) ([]ack, error) {
	acks := make([]ack, 0, len(lines))
	for _, l := range lines {
		a, err := parseAck(l)
		if err != nil {
			return acks, err
		}
		acks = append(acks, a)
	}
	return acks, nil
}

// verifyResult is what verifyLog found.
type verifyResult struct {
	Report wal.Report
	Last   uint64
}

// verifyLog reopens the log in dir, checks it against acks and prevLast
// (the last index an earlier round verified), and closes it. The result is
// nil if the log could not be opened.
func verifyLog(dir string, acks []ack, prevLast uint64) (*verifyResult, error) {
	l, err := wal.Open(dir, childOptions(wal.SyncAlways))
	if err != nil {
		return nil, fmt.Errorf("reopening the log: %w", err)
	}
	res := &verifyResult{Report: l.Recovery()}
	res.Last, err = checkLog(l, acks, prevLast)
	if cerr := l.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the log: %w", cerr)
	}
	return res, err
}

// checkLog returns the last index and an error listing every violation:
//   - the log never shrinks below prevLast and starts at index 1 (it is
//     never truncated), as FirstIndex, LastIndex and the Report agree;
//   - every index in [first, last] reads back (no holes) a payload whose
//     checksum verifies (no garbage);
//   - each writer's entries appear in sequence order with no gaps: a writer
//     starts an Append only after the previous one returned nil, which under
//     SyncAlways means it was durable;
//   - every acknowledged index holds the entry the child acknowledged;
//   - Read outside [first, last] fails with ErrNotFound.
func checkLog(l *wal.Log, acks []ack, prevLast uint64) (uint64, error) {
	first, err := l.FirstIndex()
	if err != nil {
		return 0, err
	}
	last, err := l.LastIndex()
	if err != nil {
		return 0, err
	}
	var p problems
	rep := l.Recovery()
	if rep.FirstIndex != first || rep.LastIndex != last {
		p.addf("Recovery() says entries [%d, %d], FirstIndex and LastIndex say [%d, %d]", rep.FirstIndex, rep.LastIndex, first, last)
	}
	if want := min(last, 1); first != want {
		p.addf("FirstIndex is %d, want %d: the log is never truncated", first, want)
	}
	first = max(first, 1) // FirstIndex reports 0 for a new, empty log
	if last < prevLast {
		p.addf("entries [%d, %d], verified after an earlier round, are gone", last+1, prevLast)
	}
	ids := checkEntries(l, first, last, &p)
	checkAcks(acks, ids, first, last, &p)
	for _, index := range []uint64{first - 1, last + 1} {
		if _, err := l.Read(index); !errors.Is(err, wal.ErrNotFound) {
			p.addf("Read(%d) outside [%d, %d] returned %v, want ErrNotFound", index, first, last, err)
		}
	}
	return last, p.err()
}

// checkEntries reads and checks every entry in [first, last] and returns
// their IDs (the zero ID where an entry is unreadable).
func checkEntries(l *wal.Log, first, last uint64, p *problems) []entryID {
	ids := make([]entryID, 0, last-first+1)
	next := map[[2]uint16]uint32{} // (round, writer) -> next expected seq
	var round uint16
	for index := first; index <= last; index++ {
		data, err := l.Read(index)
		var id entryID
		if err == nil {
			id, err = verifyPayload(data)
		}
		ids = append(ids, id)
		if err != nil {
			p.addf("index %d: %v", index, err)
			continue
		}
		key := [2]uint16{id.Round, id.Writer}
		switch {
		case id.Round < round:
			p.addf("index %d holds entry %v of round %d after entries of round %d", index, id, id.Round, round)
		case id.Seq != next[key]:
			p.addf("index %d holds entry %v, but that writer's previous entry in the log is seq %d", index, id, int64(next[key])-1)
		}
		round, next[key] = max(round, id.Round), id.Seq+1
	}
	return ids
}

// checkAcks checks that every acknowledged index holds its entry.
func checkAcks(acks []ack, ids []entryID, first, last uint64, p *problems) {
	seen := make(map[uint64]bool, len(acks))
	for _, a := range acks {
		switch {
		case seen[a.Index]:
			p.addf("index %d was acknowledged twice", a.Index)
		case a.Index < first || a.Index > last:
			p.addf("acknowledged index %d (entry %v) is missing: the log holds [%d, %d]", a.Index, a.ID, first, last)
		case ids[a.Index-first] != a.ID:
			p.addf("acknowledged index %d should hold entry %v, holds %v", a.Index, a.ID, ids[a.Index-first])
		}
		seen[a.Index] = true
	}
}

// problems collects violations, keeping the first maxProblems.
type problems struct {
	list []string
	more int
}

func (p *problems) addf(format string, args ...any) {
	if len(p.list) == maxProblems {
		p.more++
		return
	}
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	s := fmt.Sprintf("%d violations:\n  %s", len(p.list)+p.more, strings.Join(p.list, "\n  "))
	if p.more > 0 {
		s += fmt.Sprintf("\n  ... and %d more", p.more)
	}
	return errors.New(s)
}

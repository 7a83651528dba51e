package crashsuite

import (
	"bufio"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/waldb/wal"
)

const (
	lockTrials = 1000
	// lockQuick bounds a refused Open: flock with LOCK_NB never waits, so
	// anything near this (generous for -race on a loaded machine) means
	// Open blocked.
	lockQuick = 500 * time.Millisecond
	// lockKills is the number of holders killed.
	lockKills = 20
)

// holderOptions keep the recovery after a killed holder short (it scans
// the preallocated tail), so the Open after the kill measures the lock.
var holderOptions = &wal.Options{SegmentSize: 1 << 20}

// lockTally counts the outcomes of repeated Opens of a locked directory.
type lockTally struct {
	refused, opened, other, slow int
	maxDur                       time.Duration
	firstProblem                 string
}

// tryLocked runs n Opens of dir, which someone else holds.
func tryLocked(dir string, n int) lockTally {
	var t lockTally
	for range n {
		start := time.Now()
		l, err := wal.Open(dir, nil)
		d := time.Since(start)
		t.maxDur = max(t.maxDur, d)
		problem := ""
		switch {
		case err == nil:
			l.Close()
			t.opened++
			problem = "Open of a locked directory succeeded"
		case !errors.Is(err, wal.ErrLocked):
			t.other++
			problem = fmt.Sprintf("Open returned %v, want ErrLocked", err)
		case d > lockQuick:
			t.slow++
			problem = fmt.Sprintf("refusal took %v", d)
		default:
			t.refused++
		}
		if problem != "" && t.firstProblem == "" {
			t.firstProblem = problem
		}
	}
	return t
}

func (t lockTally) String() string {
	return fmt.Sprintf("refused %d, opened %d, other errors %d, slow %d, slowest %v; first problem: %q",
		t.refused, t.opened, t.other, t.slow, t.maxDur, t.firstProblem)
}

func runLockLoopChild(cfg childConfig, out *lineWriter) error {
	t := tryLocked(cfg.Dir, cfg.N)
	out.mu.Lock()
	defer out.mu.Unlock()
	_, err := fmt.Fprintf(out.w, "%d %d %d %d %d %q\n", t.refused, t.opened, t.other, t.slow, t.maxDur, t.firstProblem)
	return err
}

func runLockHoldChild(cfg childConfig, out *lineWriter) error {
	l, err := wal.Open(cfg.Dir, holderOptions)
	if err != nil {
		return err
	}
	if _, err := l.Append([]byte("held")); err != nil {
		return err
	}
	out.line("held")
	select {} // until killed
}

// TestLockAcrossProcessesRepeated: while a log is open, a second Open in
// another process or in this one is refused at once with ErrLocked, 1,000
// times of 1,000; and the lock is free as soon as a holder is SIGKILLed.
func TestLockAcrossProcessesRepeated(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	t.Run("other-process", func(t *testing.T) {
		cmd := childCommand(childConfig{Mode: modeLockLoop, Dir: dir, N: lockTrials})
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v; stderr:\n%s", err, stderrOf(err))
		}
		var tl lockTally
		var d int64
		if _, err := fmt.Sscanf(string(out), "%d %d %d %d %d %q\n", &tl.refused, &tl.opened, &tl.other, &tl.slow, &d, &tl.firstProblem); err != nil {
			t.Fatalf("child printed %q: %v", out, err)
		}
		tl.maxDur = time.Duration(d)
		t.Logf("another process, %d Opens: %v", lockTrials, tl)
		if tl.refused != lockTrials {
			t.Errorf("another process: %d of %d Opens refused at once: %v", tl.refused, lockTrials, tl)
		}
	})

	t.Run("same-process", func(t *testing.T) {
		tl := tryLocked(dir, lockTrials)
		t.Logf("this process, %d Opens: %v", lockTrials, tl)
		if tl.refused != lockTrials {
			t.Errorf("this process: %d of %d Opens refused at once: %v", tl.refused, lockTrials, tl)
		}
	})

	t.Run("killed-holder", func(t *testing.T) {
		var slowest time.Duration
		for k := range lockKills {
			d := killHolder(t, t.TempDir(), k)
			slowest = max(slowest, d)
		}
		t.Logf("%d holders killed; the slowest Open after Wait took %v", lockKills, slowest)
	})
}

// killHolder starts a child that opens dir and holds it, checks that the
// lock is held, SIGKILLs the child and opens dir right after Wait. It
// returns how long that Open took.
func killHolder(t *testing.T, dir string, k int) time.Duration {
	cmd := childCommand(childConfig{Mode: modeLockHold, Dir: dir})
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := startChild(cmd); err != nil {
		t.Fatal(err)
	}
	held := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		held <- sc.Scan() && sc.Text() == "held"
		for sc.Scan() {
		}
	}()
	ok := false
	select {
	case ok = <-held:
	case <-time.After(startTimeout):
	}
	if !ok {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("holder %d did not open the log; stderr:\n%s", k, stderr.String())
	}
	if l, err := wal.Open(dir, holderOptions); !errors.Is(err, wal.ErrLocked) {
		if err == nil {
			l.Close()
		}
		t.Fatalf("holder %d: Open while it holds the lock returned %v, want ErrLocked", k, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != -1 {
		t.Fatalf("holder %d exited with %d before the kill; stderr:\n%s", k, code, stderr.String())
	}
	start := time.Now()
	l, err := wal.Open(dir, holderOptions)
	d := time.Since(start)
	if err != nil {
		t.Fatalf("holder %d: Open right after the holder was killed: %v", k, err)
	}
	defer l.Close()
	if data, err := l.Read(1); err != nil || string(data) != "held" {
		t.Fatalf("holder %d: its acknowledged entry reads back as %q, %v", k, data, err)
	}
	return d
}

// stderrOf returns the stderr an *exec.ExitError captured.
func stderrOf(err error) []byte {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Stderr
	}
	return nil
}

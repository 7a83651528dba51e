package crashsuite

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/waldb/wal"
)

// childEnv carries a childConfig, as JSON, to a re-executed test binary;
// TestMain then runs the child instead of the tests.
const childEnv = "WAL_CRASHSUITE_CHILD"

// Child modes.
const (
	modeKill9    = "kill9"    // the TestKill9 workload, until killed
	modeLockLoop = "lockloop" // N Opens of a locked directory, then exit
	modeLockHold = "lockhold" // Open, say "held", sleep until killed
)

// childLifetime bounds a child the parent forgets to kill.
const childLifetime = 2 * time.Minute

// childConfig is everything a child needs.
type childConfig struct {
	Mode    string
	Dir     string
	Seed    uint64
	Policy  wal.SyncPolicy
	SegSize int
	// GenBase is the generation of the child's first entries; it may use
	// generations up to GenBase+genSpan-1.
	GenBase uint64
	N       int // lockloop: number of Opens
	// StrictNoop: count TruncateFront(FirstIndex()) and
	// TruncateBack(LastIndex()), which return nil without syncing, as
	// durability points, as the README's definition of acknowledged does.
	StrictNoop bool
}

func TestMain(m *testing.M) {
	if s := os.Getenv(childEnv); s != "" {
		os.Exit(childMain(s))
	}
	os.Exit(m.Run())
}

// childMain runs a child and returns its exit code. Failures are written to
// stderr; the parent treats any stderr output as a failure.
func childMain(s string) int {
	var cfg childConfig
	if err := json.Unmarshal([]byte(s), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "crashsuite child: bad %s: %v\n", childEnv, err)
		return 2
	}
	go func() {
		time.Sleep(childLifetime)
		fmt.Fprintf(os.Stderr, "crashsuite child: not killed within %v\n", childLifetime)
		os.Exit(4)
	}()
	out := &lineWriter{w: os.Stdout}
	var err error
	switch cfg.Mode {
	case modeKill9:
		err = runKill9Child(cfg, out)
	case modeLockLoop:
		err = runLockLoopChild(cfg, out)
	case modeLockHold:
		err = runLockHoldChild(cfg, out)
	default:
		err = fmt.Errorf("unknown mode %q", cfg.Mode)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "crashsuite child (%s, seed %d): %v\n", cfg.Mode, cfg.Seed, err)
		return 3
	}
	return 0
}

// childCommand returns an unstarted command running this test binary as a
// child with cfg.
func childCommand(cfg childConfig) *exec.Cmd {
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(err) // a childConfig always marshals
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	return cmd
}

// forkMu orders closing a log against starting a child. A child forked
// while the parent has a log open inherits the LOCK file's descriptor until
// it execs (the descriptor is close-on-exec), and flock belongs to the open
// file description, so a Close during that window would leave the lock held
// for a moment and the parent's next Open would fail with ErrLocked. Starts
// hold forkMu for reading; closes of locked logs hold it for writing.
var forkMu sync.RWMutex

// startChild starts cmd under forkMu.
func startChild(cmd *exec.Cmd) error {
	forkMu.RLock()
	defer forkMu.RUnlock()
	return cmd.Start()
}

// closeLog closes l under forkMu.
func closeLog(l *wal.Log) error {
	forkMu.Lock()
	defer forkMu.Unlock()
	return l.Close()
}

// lineWriter writes protocol lines. Each line is one Write call (one
// write(2) on a pipe, atomic up to PIPE_BUF bytes), so a kill never leaves
// half a line.
type lineWriter struct {
	mu  sync.Mutex // orders the lines and guards buf
	w   io.Writer
	buf []byte
}

// line writes op followed by the numbers, space-separated.
func (lw *lineWriter) line(op string, nums ...uint64) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.buf = append(lw.buf[:0], op...)
	for _, n := range nums {
		lw.buf = strconv.AppendUint(append(lw.buf, ' '), n, 10)
	}
	lw.buf = append(lw.buf, '\n')
	if _, err := lw.w.Write(lw.buf); err != nil {
		// The parent is gone; nothing more can be reported.
		os.Exit(5)
	}
}

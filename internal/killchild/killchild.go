// Package killchild runs the crash half of a kill -9 test, shared by
// walctl's crashtest and waldemo: it starts a child process that writes
// ReadyLine on stdout once its log is open and then one acknowledgement per
// line, SIGKILLs it a chosen delay after it is ready, and returns every line
// it wrote before it died. Parsing and verifying the lines is the caller's.
package killchild

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// ReadyLine is the first line a child writes, once its log is open.
const ReadyLine = "ready"

// Errors Run returns, wrapped with the child's stderr where it helps.
var (
	ErrNotReady    = errors.New("killchild: the child did not report ready")
	ErrExitedEarly = errors.New("killchild: the child exited before the kill")
)

// Result is what a killed child wrote.
type Result struct {
	Lines  []string // acknowledgement lines after ReadyLine, in order
	Stderr []byte   // everything the child wrote on stderr
}

// Run starts cmd, waits up to readyTimeout for its ready line, kills it
// with SIGKILL delay later (or at once if it never became ready), waits for
// it, and returns the lines it wrote. Every line the child wrote before it
// died is read: the pipe reaches EOF only once the child is gone.
func Run(cmd *exec.Cmd, delay, readyTimeout time.Duration) (Result, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Result{}, err
	}
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("starting the child: %w", err)
	}
	ready, done := make(chan struct{}), make(chan struct{})
	var lines []string
	var readErr error
	go func() {
		defer close(done)
		lines, readErr = readLines(out, ready)
	}()
	isReady, ended := waitAndSleep(ready, done, delay, readyTimeout)
	waited := make(chan error, 1)
	go func() {
		<-done // Wait must not run before the output is drained
		waited <- cmd.Wait()
	}()
	var killErr, waitErr error
	if ended {
		// The output ended early: the child is exiting by itself. Let it,
		// so its own exit status is reported, unless it lingers.
		select {
		case waitErr = <-waited:
		case <-time.After(time.Second):
			killErr = kill(cmd.Process)
			waitErr = <-waited
		}
	} else {
		if killErr = kill(cmd.Process); killErr != nil {
			_ = cmd.Process.Kill()
		}
		waitErr = <-waited
	}
	res := Result{Lines: lines, Stderr: stderr.Bytes()}
	switch {
	case killErr != nil && !errors.Is(killErr, os.ErrProcessDone):
		return res, fmt.Errorf("killing the child: %w", killErr)
	case !killed(cmd.ProcessState):
		return res, fmt.Errorf("%w (%v); its stderr:\n%s", ErrExitedEarly, waitErr, stderr.Bytes())
	case !isReady:
		return res, fmt.Errorf("%w within %v; its stderr:\n%s", ErrNotReady, readyTimeout, stderr.Bytes())
	case readErr != nil:
		return res, fmt.Errorf("reading the child's output: %w", readErr)
	}
	return res, nil
}

// waitAndSleep waits for the child to be ready, then for delay. It
// reports whether the child became ready and whether its output ended
// before the wait was over.
func waitAndSleep(ready, done <-chan struct{}, delay, readyTimeout time.Duration) (isReady, ended bool) {
	select {
	case <-ready:
		select {
		case <-time.After(delay):
			return true, false
		case <-done:
			return true, true
		}
	case <-done:
		ended = true
	case <-time.After(readyTimeout):
	}
	select {
	case <-ready:
		return true, ended
	default:
		return false, ended
	}
}

// readLines reads ReadyLine, closes ready, then collects lines to EOF.
func readLines(r io.Reader, ready chan<- struct{}) ([]string, error) {
	defer io.Copy(io.Discard, r) // never leave the child blocked on a full pipe
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		return nil, sc.Err()
	}
	if sc.Text() != ReadyLine {
		return nil, fmt.Errorf("child said %q, want %q first", sc.Text(), ReadyLine)
	}
	close(ready)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

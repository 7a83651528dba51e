//go:build unix

package main

import (
	"os"
	"syscall"
)

// killHard sends SIGKILL: the process dies at once, running no deferred
// code and flushing nothing, as in a crash.
func killHard(p *os.Process) error { return syscall.Kill(p.Pid, syscall.SIGKILL) }

// diedOfKill reports whether the process was killed by SIGKILL.
func diedOfKill(s *os.ProcessState) bool {
	ws, ok := s.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

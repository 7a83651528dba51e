//go:build unix

package main

import (
	"os"
	"syscall"
)

// kill sends SIGKILL: the process dies at once, without running deferred
// code or flushing anything, as in a crash.
func kill(p *os.Process) error { return syscall.Kill(p.Pid, syscall.SIGKILL) }

// killedByKill reports whether the process died of SIGKILL.
func killedByKill(s *os.ProcessState) bool {
	ws, ok := s.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

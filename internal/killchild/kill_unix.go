//go:build unix

package killchild

import (
	"os"
	"syscall"
)

// kill sends SIGKILL: the process dies at once, running no deferred code
// and flushing nothing, as in a crash.
func kill(p *os.Process) error { return syscall.Kill(p.Pid, syscall.SIGKILL) }

// killed reports whether the process was killed by SIGKILL.
func killed(s *os.ProcessState) bool {
	ws, ok := s.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

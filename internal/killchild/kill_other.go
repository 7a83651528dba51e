//go:build !unix

package killchild

import "os"

// kill terminates the process at once (TerminateProcess on Windows).
func kill(p *os.Process) error { return p.Kill() }

// killed reports whether the process ended abnormally.
func killed(s *os.ProcessState) bool { return !s.Success() }

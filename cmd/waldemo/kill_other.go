//go:build !unix

package main

import "os"

// kill terminates the process immediately (TerminateProcess on Windows).
func kill(p *os.Process) error { return p.Kill() }

// killedByKill reports whether the process ended unsuccessfully. Without
// signals, a kill cannot be told apart from a child that failed by itself
// at the same moment; the child's stderr then tells.
func killedByKill(s *os.ProcessState) bool { return !s.Success() }

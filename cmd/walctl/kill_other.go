//go:build !unix

package main

import "os"

// killHard terminates the process at once (TerminateProcess on Windows).
func killHard(p *os.Process) error { return p.Kill() }

// diedOfKill reports whether the process ended abnormally.
func diedOfKill(s *os.ProcessState) bool { return !s.Success() }

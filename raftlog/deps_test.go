package raftlog

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoBoltDependency: importing raftlog links no BoltDB; the migration
// from raft-boltdb lives in package boltmigrate.
func TestNoBoltDependency(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %d packages", len(deps))
	}
	for _, d := range deps {
		if strings.Contains(d, "bolt") {
			t.Errorf("raftlog depends on %s", d)
		}
	}
}

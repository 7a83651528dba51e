package main

import (
	"strings"
	"testing"

	"github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
)

// TestCrashtestFaultModel runs a few rounds of the in-memory fault model:
// crash states are checked, faults injected, and none is a violation.
func TestCrashtestFaultModel(t *testing.T) {
	r := runCLI(t, "", "crashtest", "--fault-model", "--kills", "4", "--seed", "3", t.TempDir())
	r.wantCode(t, exitOK)
	t.Logf("output:\n%s", r.stdout)
	for _, want := range []string{"--fault-model: 4 rounds", "rerun with --seed 3", "rounds        4", "bit flips     1", "violations    0", "result        ok"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "crash states  0\n") || strings.Contains(r.stdout, "crash faults  0 ") {
		t.Errorf("no crash state or fault:\n%s", r.stdout)
	}
}

// TestFaultModelChecks: the checker rejects a stale entry, a lost entry
// and a damaged payload.
func TestFaultModelChecks(t *testing.T) {
	mem := vfs.NewMem()
	l, err := wal.Open(fmDir, &wal.Options{FS: mem, SegmentSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := uint64(1); i <= 3; i++ {
		if err := l.Write(i, fmPayload(i, 1, 5)); err != nil {
			t.Fatal(err)
		}
	}
	ok := fmModel{first: 1, last: 3, gen: map[uint64]uint64{1: 1, 2: 1, 3: 1}}
	if why := fmMatches(l, ok); why != "" {
		t.Fatalf("a matching log: %s", why)
	}
	stale := ok.clone()
	stale.gen[2] = 2
	lost := ok.clone()
	lost.last = 4
	for name, m := range map[string]fmModel{"stale": stale, "lost": lost} {
		if why := fmMatches(l, m); why == "" {
			t.Errorf("%s entry not reported", name)
		}
	}
	b := fmPayload(7, 1, 3)
	b[9] ^= 1
	if _, err := fmCheck(7, b); err == nil {
		t.Error("damaged payload accepted")
	}
	if _, err := fmCheck(8, fmPayload(7, 1, 3)); err == nil {
		t.Error("payload of another index accepted")
	}
}

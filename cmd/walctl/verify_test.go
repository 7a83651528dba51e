package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestVerifyClean(t *testing.T) {
	dir := makeLog(t, 100)
	r := runCLI(t, "", "verify", dir)
	r.wantCode(t, exitOK)
	golden(t, "verify.golden", normalize(r.stdout, dir))
	// Not a terminal: plain progress lines on stderr, ending at 100%.
	if !strings.Contains(r.stderr, "verify: 7.5 KiB of 7.5 KiB (100%)") {
		t.Errorf("progress lines:\n%s", r.stderr)
	}
	r = runCLI(t, "", "verify", "--quiet", "--json", dir)
	r.wantCode(t, exitOK)
	golden(t, "verify-json.golden", normalize(r.stdout, dir))
	if r.stderr != "" {
		t.Errorf("--quiet printed %q", r.stderr)
	}
}

// TestVerifyDamage: verify's verdict and exit status on each kind of
// damage.
func TestVerifyDamage(t *testing.T) {
	sealed, _ := sealedFlipLog(t, 100)
	tail, _ := tailFlipLog(t, 100)
	missing, _ := missingSegmentLog(t, 100)
	for _, tc := range []struct {
		name    string
		dir     string
		code    int
		entries uint64
		want    []string
	}{
		{"torn tail", tornTailLog(t, 100), exitOK, 99, []string{"torn-tail: entries [1, 99]", "dropped", "problems       0"}},
		{"flipped bit in a sealed segment", sealed, exitCorrupt, 100,
			[]string{"problem 1: wal: corrupt: segment 0000000000000002-00000000000000000027.wal offset 40: record: corrupt record: checksum mismatch", "result         CORRUPT"}},
		{"flipped bit in the tail", tail, exitCorrupt, 78,
			[]string{"problem 1: opening", "proves these bytes were durable", "checked what point-in-time recovery keeps"}},
		{"missing segment", missing, exitCorrupt, 0, []string{"missing segment?", "cannot open, not even for point-in-time recovery"}},
		{"bad trailer", badTrailerLog(t, 100), exitCorrupt, 0, []string{"is not sealed (bad or missing trailer) but is not the last segment"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, tc.dir)
			r := runCLI(t, "", "verify", "-q", tc.dir)
			r.wantCode(t, tc.code)
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
			r = runCLI(t, "", "verify", "-q", "--json", tc.dir)
			r.wantCode(t, tc.code)
			var res verifyResult
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatal(err)
			}
			if res.OK != (tc.code == exitOK) || res.Entries != tc.entries || len(res.Problems) == 0 && !res.OK {
				t.Errorf("verify --json = %+v", res)
			}
			unchanged(t, tc.dir, before)
		})
	}
}

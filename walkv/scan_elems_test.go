package walkv

import (
	"fmt"
	"math/rand"
	"testing"
)

// TestScanStringsGuarantee: walking a large collection with small COUNTs
// while members are added and removed returns every member present from
// the first call to the last at least once, and ends.
func TestScanStringsGuarantee(t *testing.T) {
	r := rand.New(rand.NewSource(diffSeed()))
	set := map[string]bool{}
	for i := range 1000 {
		set[fmt.Sprint("m", i)] = true
	}
	stable := map[string]bool{}
	for m := range set {
		if r.Intn(2) == 0 {
			stable[m] = true // never removed
		}
	}
	seen := map[string]bool{}
	cursor, calls := uint64(0), 0
	for {
		all := make([]string, 0, len(set))
		for m := range set {
			all = append(all, m)
		}
		next, got := scanStrings(all, cursor, elemScan{count: 1 + r.Intn(20)})
		for _, m := range got {
			seen[m] = true
		}
		calls++
		// Churn: add new members, remove some that are not stable.
		for range 5 {
			set[fmt.Sprint("n", r.Intn(5000))] = true
		}
		for m := range set {
			if !stable[m] && r.Intn(50) == 0 {
				delete(set, m)
			}
		}
		if next == 0 {
			break
		}
		if next <= cursor || calls > 10000 {
			t.Fatalf("cursor went from %d to %d", cursor, next)
		}
		cursor = next
	}
	for m := range stable {
		if !seen[m] {
			t.Fatalf("stable member %q never returned (%d calls)", m, calls)
		}
	}
	// A small collection comes back whole, filtered by MATCH.
	next, got := scanStrings([]string{"a1", "b2", "a3"}, 0, elemScan{count: 1, match: "a*"})
	if next != 0 || len(got) != 2 {
		t.Fatalf("small scan: %d %q", next, got)
	}
}

package crashsuite

import (
	"strings"
	"testing"
)

// single is a payload written alone.
func single(i, gen uint64) payload { return payload{Index: i, Gen: gen, BatchFirst: i, BatchLen: 1} }

// batch returns the payloads of a batch of n entries from first.
func batch(first uint64, n uint32, gen uint64) []payload {
	var ps []payload
	for i := range uint64(n) {
		ps = append(ps, payload{Index: first + i, Gen: gen, BatchFirst: first, BatchLen: n})
	}
	return ps
}

// logOf builds an observed log from first.
func logOf(first uint64, ents ...[]payload) *observed {
	o := &observed{first: first, last: first - 1}
	for _, es := range ents {
		o.ents = append(o.ents, es...)
		o.last += uint64(len(es))
	}
	return o
}

func run1(i, gen uint64) []payload { return []payload{single(i, gen)} }

// TestModelCheck: the checker accepts what a crash may legally leave and
// names each kind of violation (the rules of the package doc).
func TestModelCheck(t *testing.T) {
	// The baseline: entries 1..3 of generation 1.
	base := logOf(1, run1(1, 1), run1(2, 1), run1(3, 1))
	for _, tc := range []struct {
		name  string
		lines []string
		log   *observed
		want  string // "" for no violation, else a substring of the error
	}{
		{"nothing happened", nil, base, ""},
		{"unacknowledged entries lost",
			[]string{"S", "O 1 3"}, base, ""},
		{"unacknowledged entries survived",
			[]string{"S", "O 1 3"}, logOf(1, run1(1, 1), run1(2, 1), run1(3, 1), run1(4, 10)), ""},
		{"acknowledged entry lost",
			[]string{"A 4 5 10"}, logOf(1, run1(1, 1), run1(2, 1), run1(3, 1), run1(4, 10)), "acknowledged entry 5 (gen 10) is missing"},
		{"baseline entry lost",
			nil, logOf(1, run1(1, 1), run1(2, 1)), "acknowledged entry 3 (gen 1) is missing"},
		{"wrong generation",
			[]string{"A 4 4 11"}, logOf(1, run1(1, 1), run1(2, 1), run1(3, 1), run1(4, 10)), "index 4 holds gen 10, want the acknowledged gen 11"},
		{"TruncateBack acknowledged, entry above resurrected",
			[]string{"A 4 5 10", "b 3 11", "B 3 11"}, logOf(1, run1(1, 1), run1(2, 1), run1(3, 1), run1(4, 10)), "TruncateBack(3) gen 11"},
		{"TruncateBack acknowledged, entries above gone",
			[]string{"A 4 5 10", "b 3 11", "B 3 11"}, base, ""},
		{"TruncateBack pending, either outcome (took effect)",
			[]string{"A 4 5 10", "b 3 11"}, base, ""},
		{"TruncateBack pending, either outcome (did not)",
			[]string{"A 4 5 10", "b 3 11"}, logOf(1, run1(1, 1), run1(2, 1), run1(3, 1), run1(4, 10), run1(5, 10)), ""},
		{"TruncateBack pending, half done",
			[]string{"A 4 5 10", "b 3 11"}, logOf(1, run1(1, 1), run1(2, 1), run1(3, 1), run1(4, 10)), "missing"},
		{"new generation after the cut",
			[]string{"A 4 5 10", "b 3 11", "B 3 11", "A 4 4 11"}, logOf(1, run1(1, 1), run1(2, 1), run1(3, 1), run1(4, 11)), ""},
		{"generation goes down",
			nil, logOf(1, run1(1, 1), run1(2, 1), run1(3, 1), run1(4, 12), run1(5, 11)), "follows entry"},
		{"generation never handed out",
			nil, logOf(1, run1(1, 1), run1(2, 1), run1(3, 1), run1(4, 99)), "never handed out"},
		{"TruncateFront acknowledged",
			[]string{"f 3 10", "F 3 10"}, logOf(3, run1(3, 1)), ""},
		{"TruncateFront acknowledged, first index old",
			[]string{"f 3 10", "F 3 10"}, base, "first index is 1, want 3"},
		{"TruncateFront pending, either first index",
			[]string{"f 3 10"}, logOf(3, run1(3, 1)), ""},
		{"Reset acknowledged",
			[]string{"r 50 11", "R 50 11", "A 50 50 11"}, logOf(50, run1(50, 11)), ""},
		{"Reset acknowledged, old entries resurrected",
			[]string{"r 2 11", "R 2 11"}, logOf(2, run1(2, 1), run1(3, 1)), "Reset(2) gen 11"},
		{"Reset to an empty log",
			[]string{"r 50 11", "R 50 11"}, logOf(50), ""},
		{"complete batch",
			nil, logOf(1, run1(1, 1), run1(2, 1), run1(3, 1), batch(4, 3, 10)), ""},
		{"incomplete batch at the tail",
			nil, logOf(1, run1(1, 1), run1(2, 1), run1(3, 1), batch(4, 3, 10)[:2]), "incomplete batch survived"},
		{"batch cut by an acknowledged TruncateBack",
			[]string{"b 5 11", "B 5 11"}, logOf(1, run1(1, 1), run1(2, 1), run1(3, 1), batch(4, 3, 10)[:2]), ""},
		{"batch without its head",
			nil, logOf(1, run1(1, 1), run1(2, 1), run1(3, 1), batch(3, 3, 10)[1:]), "inside a batch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newModel()
			m.maxGen = 20
			m.rebase(base)
			if err := m.apply(1, tc.lines); err != nil {
				t.Fatal(err)
			}
			err := m.check(tc.log)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected violation: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want a violation mentioning %q", err, tc.want)
			}
		})
	}
}

// TestModelProtocol: malformed or out-of-order lines are protocol errors.
func TestModelProtocol(t *testing.T) {
	for _, lines := range [][]string{
		{"X 1"},
		{"A 1 2"},
		{"A 2 1 5"},
		{"F 3 1"},
		{"f 3 1", "b 4 2"},
		{"f 3 1", "F 4 1"},
		{"A one 2 3"},
	} {
		if err := newModel().apply(1, lines); err == nil {
			t.Errorf("apply(%q) accepted", lines)
		}
	}
}

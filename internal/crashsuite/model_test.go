package crashsuite

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The parent's model of TestKill9. The package doc states its rules; the
// numbers in comments below refer to them.

// opKind is a truncation or Reset, named by its line letter.
type opKind byte

const (
	opFront opKind = 'F'
	opBack  opKind = 'B'
	opReset opKind = 'R'
)

// op is a truncation or Reset a child started.
type op struct {
	kind  opKind
	index uint64
	gen   uint64 // TruncateFront: the generation then; others: the new one
	acked bool   // its call returned nil (else it is pending: it may or may not have happened)
	child int    // the kill number of the child that ran it
}

func (o op) String() string {
	name := map[opKind]string{opFront: "TruncateFront", opBack: "TruncateBack", opReset: "Reset"}[o.kind]
	s := fmt.Sprintf("%s(%d) gen %d (child %d)", name, o.index, o.gen, o.child)
	if !o.acked {
		s += " pending"
	}
	return s
}

// model is what the parent knows about the log since the last verification.
type model struct {
	first  uint64            // the baseline's first index (>= 1)
	facts  map[uint64]uint64 // index -> largest acknowledged generation there
	ops    []op
	maxGen uint64 // the largest generation handed out so far
	// cutEnds are baseline entries, (index, gen), that end a run of the
	// log in the middle of their batch, accepted by the last verification.
	cutEnds map[[2]uint64]bool
	// newFacts counts the (index, generation) pairs acknowledged by
	// children, for the statistics.
	newFacts int
}

func newModel() *model {
	return &model{first: 1, facts: map[uint64]uint64{}, cutEnds: map[[2]uint64]bool{}}
}

var errProtocol = errors.New("child protocol error")

// apply adds the lines of one child to the model.
func (m *model) apply(child int, lines []string) error {
	pending := -1 // index in m.ops of this child's pending op
	for _, line := range lines {
		f := strings.Fields(line)
		nums := make([]uint64, len(f)-1)
		for i := range nums {
			n, err := strconv.ParseUint(f[i+1], 10, 64)
			if err != nil {
				return fmt.Errorf("%w: %q", errProtocol, line)
			}
			nums[i] = n
		}
		if err := m.applyLine(child, f[0], nums, &pending); err != nil {
			return fmt.Errorf("%w: line %q: %v", errProtocol, line, err)
		}
	}
	return nil
}

func (m *model) applyLine(child int, word string, n []uint64, pending *int) error {
	want := map[string]int{"S": 0, "O": 2, "A": 3, "f": 2, "F": 2, "b": 2, "B": 2, "r": 2, "R": 2}
	w, ok := want[word]
	if !ok || w != len(n) {
		return errors.New("unknown line")
	}
	switch word {
	case "S", "O":
	case "A":
		if n[0] > n[1] || n[1]-n[0] > 1<<20 {
			return errors.New("bad range")
		}
		for i := n[0]; i <= n[1]; i++ {
			if m.facts[i] < n[2] {
				m.facts[i] = n[2]
				m.newFacts++
			}
		}
		m.maxGen = max(m.maxGen, n[2])
	case "f", "b", "r":
		if *pending >= 0 {
			return fmt.Errorf("intent while %v is pending", m.ops[*pending])
		}
		*pending = len(m.ops)
		m.ops = append(m.ops, op{kind: opKind(word[0] - 'a' + 'A'), index: n[0], gen: n[1], child: child})
		m.maxGen = max(m.maxGen, n[1])
	default: // F, B, R
		if *pending < 0 {
			return errors.New("acknowledgement of no pending operation")
		}
		o := &m.ops[*pending]
		if byte(o.kind) != word[0] || o.index != n[0] || o.gen != n[1] {
			return fmt.Errorf("acknowledges %v", *o)
		}
		o.acked, *pending = true, -1
	}
	return nil
}

// observed is the log as the parent read it after a crash.
type observed struct {
	first, last uint64    // first >= 1; the log is empty if last < first
	ents        []payload // entries first..last
}

func (o *observed) at(i uint64) payload { return o.ents[i-o.first] }

// check returns nil if some world (choice of pending operations taking
// effect or not) explains the observed log, else the violations of the
// world with the fewest.
func (m *model) check(obs *observed) error {
	var pend []int
	for i, o := range m.ops {
		if !o.acked {
			pend = append(pend, i)
		}
	}
	var best []string
	var bestWorld string
	for mask := 0; mask < 1<<len(pend); mask++ {
		eff := make([]bool, len(m.ops))
		var world []string
		for i, o := range m.ops {
			eff[i] = o.acked
		}
		for j, i := range pend {
			eff[i] = mask&(1<<j) != 0
			world = append(world, fmt.Sprintf("%v took effect: %v", m.ops[i], eff[i]))
		}
		v := m.checkWorld(obs, eff)
		if len(v) == 0 {
			return nil
		}
		if best == nil || len(v) < len(best) {
			best, bestWorld = v, strings.Join(world, "; ")
		}
	}
	if bestWorld == "" {
		bestWorld = "no pending operations"
	}
	const maxShown = 12
	s := fmt.Sprintf("%d violations (world: %s):", len(best), bestWorld)
	for i, v := range best {
		if i == maxShown {
			s += fmt.Sprintf("\n  ... and %d more", len(best)-maxShown)
			break
		}
		s += "\n  " + v
	}
	return errors.New(s)
}

// checkWorld applies rules 1-6 with the operations eff says took effect.
func (m *model) checkWorld(obs *observed, eff []bool) []string {
	var v []string
	addf := func(format string, args ...any) { v = append(v, fmt.Sprintf(format, args...)) }
	var ops []op
	first := m.first
	for i, o := range m.ops {
		if eff[i] {
			ops = append(ops, o)
			if o.kind != opBack {
				first = o.index
			}
		}
	}
	// Rule 1.
	if obs.first != first {
		addf("first index is %d, want %d", obs.first, first)
	}
	if obs.last+1 < obs.first {
		addf("last index %d is below first index %d minus one", obs.last, obs.first)
		return v
	}
	// Rule 3.
	for i, g := range m.facts {
		if _, ok := remover(ops, i, g); ok {
			continue
		}
		switch {
		case i < obs.first || i > obs.last:
			addf("acknowledged entry %d (gen %d) is missing: the log holds [%d,%d]", i, g, obs.first, obs.last)
		case obs.at(i).Gen != g:
			addf("index %d holds gen %d, want the acknowledged gen %d", i, obs.at(i).Gen, g)
		}
	}
	// Rules 4, 5 and 6.
	for i := obs.first; i <= obs.last; i++ {
		e := obs.at(i)
		if o, ok := remover(ops, i, e.Gen); ok {
			addf("entry %v is present, but %v removed it", e, o)
		}
		if e.Gen == 0 || e.Gen > m.maxGen {
			addf("entry %v has a generation never handed out (max %d)", e, m.maxGen)
		}
		if i > obs.first {
			prev := obs.at(i - 1)
			if prev.Gen > e.Gen {
				addf("entry %v follows entry %v of a newer generation", e, prev)
			}
			if e.BatchFirst < i && (prev.Gen != e.Gen || prev.BatchFirst != e.BatchFirst || prev.BatchLen != e.BatchLen) {
				addf("entry %v is inside a batch, but the entry before it is %v", e, prev)
			}
		}
		if e.batchLast() > i && !sameBatch(obs, i, e) && !m.cutEnds[[2]uint64{i, e.Gen}] && !cutAt(ops, i, e.Gen) {
			addf("batch [%d,%d] of gen %d ends early at %d (incomplete batch survived)", e.BatchFirst, e.batchLast(), e.Gen, i)
		}
	}
	return v
}

// sameBatch reports whether entry i+1 exists and belongs to e's batch.
func sameBatch(obs *observed, i uint64, e payload) bool {
	if i+1 > obs.last {
		return false
	}
	n := obs.at(i + 1)
	return n.Gen == e.Gen && n.BatchFirst == e.BatchFirst && n.BatchLen == e.BatchLen
}

// cutAt reports whether an effective TruncateBack(i) newer than gen exists.
func cutAt(ops []op, i, gen uint64) bool {
	for _, o := range ops {
		if o.kind == opBack && o.index == i && o.gen > gen {
			return true
		}
	}
	return false
}

// remover returns an effective operation that removed entry (i, gen), by
// rule 2.
func remover(ops []op, i, gen uint64) (op, bool) {
	for _, o := range ops {
		switch {
		case o.kind == opBack && o.gen > gen && i > o.index,
			o.kind == opReset && o.gen > gen,
			o.kind == opFront && o.gen >= gen && i < o.index:
			return o, true
		}
	}
	return op{}, false
}

// rebase makes the verified log the new baseline.
func (m *model) rebase(obs *observed) {
	m.first, m.ops = obs.first, nil
	m.facts = make(map[uint64]uint64, len(obs.ents))
	m.cutEnds = map[[2]uint64]bool{}
	for i := obs.first; i <= obs.last; i++ {
		e := obs.at(i)
		m.facts[i] = e.Gen
		if e.batchLast() > i && !sameBatch(obs, i, e) {
			m.cutEnds[[2]uint64{i, e.Gen}] = true
		}
	}
}

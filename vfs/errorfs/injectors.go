package errorfs

import (
	"sync/atomic"
)

// OpSet is a set of operations; the empty set matches every operation.
type OpSet uint32

// Ops returns the set holding ops; no ops gives the empty set, which matches
// every operation.
func Ops(ops ...Op) OpSet {
	var s OpSet
	for _, op := range ops {
		s |= 1 << op
	}
	return s
}

// Matches reports whether op is in s, or s is empty.
func (s OpSet) Matches(op Op) bool { return s == 0 || s&(1<<op) != 0 }

// Counter is an Injector that never fails; it counts the operations it
// matches. Use it to learn how many operations a workload performs.
type Counter struct {
	ops OpSet
	n   atomic.Int64
}

// NewCounter returns a Counter of the given operations (all if none).
func NewCounter(ops ...Op) *Counter { return &Counter{ops: Ops(ops...)} }

// MaybeError counts op if it matches and returns nil.
func (c *Counter) MaybeError(op Op, _ string) error {
	if c.ops.Matches(op) {
		c.n.Add(1)
	}
	return nil
}

// Count returns the number of matching operations seen so far.
func (c *Counter) Count() int64 { return c.n.Load() }

// Index is an Injector that fails matching operations by their 0-based
// position among the matching operations it has seen: only position n
// (OnIndex) or every position from n on (FromIndex).
type Index struct {
	ops  OpSet
	n    int64
	err  error
	from bool
	seen atomic.Int64
}

// OnIndex returns an Injector that fails the n-th (0-based) operation in ops
// (all operations if none) with err, once.
func OnIndex(n int64, err error, ops ...Op) *Index {
	return &Index{ops: Ops(ops...), n: n, err: err}
}

// FromIndex returns an Injector that fails every operation in ops (all
// operations if none) with err, from the n-th (0-based) on.
func FromIndex(n int64, err error, ops ...Op) *Index {
	return &Index{ops: Ops(ops...), n: n, err: err, from: true}
}

// MaybeError counts op if it matches and fails it if its position is chosen.
func (x *Index) MaybeError(op Op, _ string) error {
	if !x.ops.Matches(op) {
		return nil
	}
	i := x.seen.Add(1) - 1
	if i == x.n || (x.from && i > x.n) {
		return x.err
	}
	return nil
}

// Count returns the number of matching operations seen so far.
func (x *Index) Count() int64 { return x.seen.Load() }

// Fired reports whether an error has been injected.
func (x *Index) Fired() bool { return x.seen.Load() > x.n }

package wal

import (
	"fmt"
	"maps"
	"os"
	"sync"
	"testing"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// soak reports whether the long (soak) sizes of the fault suites run:
// WAL_SOAK=1 go test -run 'PowerLoss|IOError|Sweep' -timeout 0 .
func soak() bool { return os.Getenv("WAL_SOAK") != "" }

// state is a model of the log: the range, each entry's generation, the
// entries that end a batch, and the last index a durability point covers.
type state struct {
	first, last, durable uint64
	gen                  map[uint64]uint64
	ends                 map[uint64]bool // indexes that end a batch
}

func (s state) clone() state {
	return state{s.first, s.last, s.durable, maps.Clone(s.gen), maps.Clone(s.ends)}
}

// consistent reports why l cannot be a crash outcome of s, or "".
func (s state) consistent(l *Log) string {
	l.mu.Lock()
	first, last := l.first, l.last
	l.mu.Unlock()
	if first != s.first {
		return fmt.Sprintf("first %d, model %d", first, s.first)
	}
	if last < s.durable || last > s.last {
		return fmt.Sprintf("last %d outside [%d, %d]", last, s.durable, s.last)
	}
	if last >= first && !s.ends[last] {
		return fmt.Sprintf("last %d splits a batch", last)
	}
	for i := first; i <= last; i++ {
		b, err := l.Read(i)
		if err != nil {
			return fmt.Sprintf("Read(%d): %v", i, err)
		}
		g, err := checkPayload(i, b)
		if err != nil {
			return err.Error()
		}
		if g != s.gen[i] {
			return fmt.Sprintf("entry %d generation %d, model %d (stale or resurrected)", i, g, s.gen[i])
		}
	}
	return ""
}

// op is one step of a workload: a call and its effect on the model.
// Appends also have an async form, which withMode substitutes.
type op struct {
	desc  string
	call  func(l *Log) error
	async func(l *Log, m writeMode) error
	apply func(s *state, p SyncPolicy)
}

// writeMode says how a workload's appends are made and acknowledged.
type writeMode int

const (
	modeSync   writeMode = iota // WriteBatch: acknowledged when it returns
	modeWait                    // AppendBatchAsync, then WaitDurable
	modeNotify                  // AppendBatchAsync, then NotifyDurable's callback
)

func (m writeMode) String() string { return [...]string{"sync", "wait", "notify"}[m] }

// withMode makes ops' appends go through the API m names.
func withMode(ops []op, m writeMode) []op {
	out := make([]op, len(ops))
	for i, o := range ops {
		if o.async != nil && m != modeSync {
			async := o.async
			o.call = func(l *Log) error { return async(l, m) }
			o.desc += " (" + m.String() + ")"
		}
		out[i] = o
	}
	return out
}

// appendAsync appends b asynchronously and, if wait (the batch must be
// acknowledged as durable: b.Sync or SyncAlways), returns only once the
// log reports its last entry durable, by m's means.
func appendAsync(l *Log, b *Batch, m writeMode, wait bool) error {
	_, last, err := l.AppendBatchAsync(b)
	if err != nil || !wait {
		return err
	}
	if m == modeWait {
		return l.WaitDurable(last)
	}
	done := make(chan error, 1)
	if err := l.NotifyDurable(last, func(err error) { done <- err }); err != nil {
		return err
	}
	return <-done
}

// appendOp writes n entries as one batch; a lone unsynced entry with
// Write, which takes the path that writes a large entry from the caller's
// slice when Options.directMin is lowered (write_direct.go).
func appendOp(n int, sync bool, gen uint64) op {
	batch := func(l *Log) *Batch {
		last, _ := l.LastIndex()
		var b Batch
		b.Sync = sync
		for i := uint64(1); i <= uint64(n); i++ {
			b.Write(last+i, payload(last+i, gen))
		}
		return &b
	}
	return op{
		desc: fmt.Sprintf("batch of %d sync=%v", n, sync),
		call: func(l *Log) error {
			if n == 1 && !sync {
				last, _ := l.LastIndex()
				return l.Write(last+1, payload(last+1, gen))
			}
			return l.WriteBatch(batch(l))
		},
		async: func(l *Log, m writeMode) error {
			return appendAsync(l, batch(l), m, sync || l.opts.SyncPolicy == SyncAlways)
		},
		apply: func(s *state, p SyncPolicy) {
			for i := 0; i < n; i++ {
				s.last++
				s.gen[s.last] = gen
			}
			s.ends[s.last] = true
			if sync || p == SyncAlways {
				s.durable = s.last
			}
		},
	}
}

func truncFrontOp(to func(s state) uint64) op {
	var idx uint64
	return op{
		desc: "truncate front",
		call: func(l *Log) error { return l.TruncateFront(idx) },
		apply: func(s *state, p SyncPolicy) {
			s.durable = s.last // every truncation, even a no-op, syncs
			if idx == s.last+1 {
				s.durable = idx - 1
			}
			s.first = idx
		},
	}.withArg(&idx, to)
}

func truncBackOp(to func(s state) uint64) op {
	var idx uint64
	return op{
		desc: "truncate back",
		call: func(l *Log) error {
			if idx == 0 {
				return nil // the log was empty
			}
			return l.TruncateBack(idx)
		},
		apply: func(s *state, p SyncPolicy) {
			if s.last < s.first {
				idx = 0
				return
			}
			s.last, s.durable = idx, idx // every truncation, even a no-op, syncs
			s.ends[idx] = true
		},
	}.withArg(&idx, to)
}

func resetOp(to uint64) op {
	return op{
		desc: fmt.Sprintf("reset %d", to),
		call: func(l *Log) error { return l.Reset(to) },
		apply: func(s *state, p SyncPolicy) {
			s.first, s.last, s.durable = to, to-1, to-1
		},
	}
}

func syncOp() op {
	return op{desc: "sync", call: func(l *Log) error { return l.Sync() },
		apply: func(s *state, p SyncPolicy) { s.durable = s.last }}
}

// withArg makes the op compute its index from the model when it runs.
func (o op) withArg(idx *uint64, to func(s state) uint64) op {
	apply := o.apply
	o.apply = func(s *state, p SyncPolicy) {
		*idx = to(*s)
		apply(s, p)
	}
	return o
}

// script is a fixed workload crossing several rotations and both
// truncations, emptying and resetting the log.
func script() []op {
	var ops []op
	for i := 0; i < 30; i++ {
		ops = append(ops, appendOp(1, false, 1))
	}
	ops = append(ops, appendOp(12, false, 1), syncOp(),
		truncFrontOp(func(s state) uint64 { return s.first + 17 }))
	for i := 0; i < 10; i++ {
		ops = append(ops, appendOp(2, i%3 == 0, 1))
	}
	ops = append(ops,
		truncBackOp(func(s state) uint64 { return s.first + 9 }),
		appendOp(9, false, 2), appendOp(1, true, 2),
		truncFrontOp(func(s state) uint64 { return s.last + 1 }),
		appendOp(4, false, 3), resetOp(500), appendOp(6, false, 4), syncOp())
	return ops
}

// crashPoint is a simulated power loss: the filesystem as it could be
// after a crash at one operation, and the model before and after the call
// in flight.
type crashPoint struct {
	fs            *vfs.MemFS
	before, after state
	at            string
}

// recorder takes a crash image at chosen filesystem operations.
type recorder struct {
	mu            sync.Mutex
	mem           *vfs.MemFS
	keep          float64
	every         func(n int64) bool
	n             int64
	before, after state
	desc          string
	points        []crashPoint
}

func (r *recorder) MaybeError(o errorfs.Op, path string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.every(r.n) {
		img := r.mem.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: r.keep, KeepUnsyncedDirOps: r.keep, Rand: newRand(uint64(r.n))})
		r.points = append(r.points, crashPoint{img, r.before, r.after, fmt.Sprintf("fs op %d (%v %s) during %s", r.n, o, path, r.desc)})
	}
	return nil
}

func (r *recorder) pending(before, after state, desc string) {
	r.mu.Lock()
	r.before, r.after, r.desc = before, after, desc
	r.mu.Unlock()
}

// runWithCrashes runs ops on a log whose filesystem records crash images,
// then opens each image and checks it against the model.
// directMin is Options.directMin: 1 writes every lone entry from the
// caller's slice, 0 keeps the default.
func runWithCrashes(t *testing.T, ops []op, p SyncPolicy, keep float64, directMin int, every func(int64) bool) int {
	t.Helper()
	mem := vfs.NewMem()
	o := Options{SyncPolicy: p, SegmentSize: 1 << 10, FlushInterval: 1 << 40, SyncInterval: 1 << 40, directMin: directMin}
	s := state{first: 1, gen: map[uint64]uint64{}, ends: map[uint64]bool{}}
	rec := &recorder{mem: mem, keep: keep, every: every, before: s, after: s}
	o.FS = errorfs.Wrap(mem, rec)
	l := mustOpen(t, memDir, &o)
	for _, op := range ops {
		after := s.clone()
		op.apply(&after, p)
		rec.pending(s, after, op.desc)
		if err := op.call(l); err != nil {
			t.Fatalf("%s: %v", op.desc, err)
		}
		s = after
		rec.pending(s, s, "between operations")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, cp := range rec.points {
		checkCrashPoint(t, cp, o)
	}
	return len(rec.points)
}

func checkCrashPoint(t *testing.T, cp crashPoint, o Options) {
	t.Helper()
	o.FS = cp.fs
	l, err := Open(memDir, &o)
	if err != nil {
		t.Fatalf("%s: Open after crash: %v", cp.at, err)
	}
	defer l.Close()
	why1 := cp.before.consistent(l)
	if why1 == "" {
		return
	}
	if why2 := cp.after.consistent(l); why2 != "" {
		t.Fatalf("%s: recovered log matches neither model: before the call: %s; after it: %s; report %v",
			cp.at, why1, why2, l.Recovery())
	}
}

// TestPowerLossEveryOperation crashes at every filesystem operation of a
// scripted workload (rotations, both truncations, emptying, a reset),
// keeping 0%, 50% and 100% of unsynced blocks and directory entries. The
// runs keeping 50% write lone entries from the caller's slice (pwritev).
//
// It runs the workload through the synchronous API and through the
// asynchronous one (AppendBatchAsync acknowledged by WaitDurable under
// SyncAlways, by NotifyDurable under SyncNever): an entry reported durable
// by either must survive every later crash.
func TestPowerLossEveryOperation(t *testing.T) {
	total := 0
	for _, p := range []SyncPolicy{SyncAlways, SyncNever} {
		async := map[SyncPolicy]writeMode{SyncAlways: modeWait, SyncNever: modeNotify}[p]
		for _, m := range []writeMode{modeSync, async} {
			for _, keep := range []float64{0, 0.5, 1} {
				total += runWithCrashes(t, withMode(script(), m), p, keep, directFor(keep == 0.5), func(int64) bool { return true })
			}
		}
	}
	t.Logf("%d crash states checked", total)
}

// TestPowerLossRandomWorkloads crashes at random operations of seeded
// random workloads, through the synchronous and both asynchronous APIs
// (see writeMode). CI size: at least 10,000 crash states with the
// exhaustive test; soak: 20x more.
func TestPowerLossRandomWorkloads(t *testing.T) {
	seeds := 36
	if soak() {
		seeds *= 20
	}
	total := 0
	for seed := 0; seed < seeds; seed++ {
		rng := newRand(uint64(seed) + 1000)
		ops := withMode(randomOps(rng, 120), writeMode(seed/6%3))
		p := []SyncPolicy{SyncAlways, SyncNever}[seed%2]
		keep := []float64{0, 0.5, 1}[seed%3]
		total += runWithCrashes(t, ops, p, keep, directFor(seed%4 >= 2), func(int64) bool { return rng.IntN(2) == 0 })
	}
	t.Logf("%d crash states checked", total)
}

// directFor is the Options.directMin of a test run: 1 (every lone entry
// written from the caller's slice) if direct, else 0 (the default).
func directFor(direct bool) int {
	if direct {
		return 1
	}
	return 0
}

// randomOps draws a workload of n operations.
func randomOps(rng interface{ IntN(int) int }, n int) []op {
	var ops []op
	gen := uint64(1)
	for i := 0; i < n; i++ {
		switch r := rng.IntN(100); {
		case r < 60:
			ops = append(ops, appendOp(1+rng.IntN(6), rng.IntN(5) == 0, gen))
		case r < 70:
			k := uint64(rng.IntN(30))
			ops = append(ops, truncFrontOp(func(s state) uint64 { return min(s.first+k, s.last+1) }))
		case r < 80:
			k := uint64(rng.IntN(30))
			gen++
			ops = append(ops, truncBackOp(func(s state) uint64 { return max(s.first, s.last-min(k, s.last)) }))
		case r < 83:
			gen++
			ops = append(ops, resetOp(uint64(1+rng.IntN(1000))))
		default:
			ops = append(ops, syncOp())
		}
	}
	return ops
}

// TestPowerLossDuringTruncateBackSeal is the regression test for a bug
// the random power-loss suite found: a crash while TruncateBack sealed the
// cut segment left its new index block over old records whose sync
// markers then "proved" the garbage durable, failing Open with ErrCorrupt.
// Entries above META's back index are void, so the scan now stops there.
func TestPowerLossDuringTruncateBackSeal(t *testing.T) {
	ops := []op{}
	for i := 0; i < 6; i++ { // all in the tail segment
		ops = append(ops, appendOp(1, false, 1))
	}
	ops = append(ops, truncBackOp(func(s state) uint64 { return s.last - 4 }), appendOp(3, false, 2))
	for _, keep := range []float64{0.5, 1} {
		runWithCrashes(t, ops, SyncAlways, keep, 0, func(int64) bool { return true })
	}
}

// TestPowerLossDuringMultiSegmentTruncateFront is the regression test for
// a bug walkv's tests found: TruncateFront deletes several segments with
// one directory fsync at the end, so a crash can keep a later deletion and
// lose an earlier one; Open then saw a gap below the first index and
// failed with ErrCorrupt instead of dropping what META says is gone.
func TestPowerLossDuringMultiSegmentTruncateFront(t *testing.T) {
	var ops []op
	for i := 0; i < 12; i++ {
		ops = append(ops, appendOp(10, false, 1))
	}
	ops = append(ops, truncFrontOp(func(s state) uint64 { return s.last - 5 }), appendOp(2, false, 1))
	for seed := 0; seed < 4; seed++ {
		runWithCrashes(t, ops, SyncAlways, 0.5, 0, func(int64) bool { return true })
	}
}

package crashsuite

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/waldb/wal"
)

// The TestKill9 child. See the package doc for the protocol and why the
// sequencing mutex makes every index known before its write.

const (
	childWriters = 4
	// genSpan is the number of generations a child may use from its base.
	genSpan = 1 << 20
	// keepEntries: above this many entries the child favours TruncateFront,
	// so the log (and the parent's checks) stay small.
	keepEntries = 3000
)

// logOptions are the options of the children and of the parent's opens.
func logOptions(policy wal.SyncPolicy, segSize int) *wal.Options {
	o := &wal.Options{SyncPolicy: policy, SegmentSize: segSize}
	if policy == wal.SyncInterval {
		// Short periods, so background flushes and syncs happen within the
		// few milliseconds a child lives.
		o.SyncInterval, o.FlushInterval = 5*time.Millisecond, 2*time.Millisecond
	}
	return o
}

// run is a stretch of the child's own entries with one generation.
type run struct{ from, to, gen uint64 }

// child is the state of the workload. mu is the sequencing mutex: it is
// held from choosing an index until the log has taken the entry, and for
// the whole of every truncation and Reset.
type child struct {
	l    *wal.Log
	cfg  childConfig
	out  *lineWriter
	fail chan error

	mu     sync.Mutex
	first  uint64 // the log's first index (1 for a new log)
	next   uint64 // LastIndex()+1
	gen    uint64 // generation of entries written now
	maxGen uint64 // largest generation the child may use
	// runs are the child's own entries in the log, ascending and contiguous.
	runs []run
	// ackedUpTo: the child's own entries up to here were reported durable.
	ackedUpTo uint64
	// epoch counts TruncateBack and Reset calls, which invalidate
	// snapshots of runs taken before them.
	epoch uint64
}

func runKill9Child(cfg childConfig, out *lineWriter) error {
	out.line("S")
	l, err := wal.Open(cfg.Dir, logOptions(cfg.Policy, cfg.SegSize))
	if err != nil {
		return fmt.Errorf("Open: %w", err)
	}
	first, last, err := bounds(l)
	if err != nil {
		return err
	}
	out.line("O", first, last)
	c := &child{l: l, cfg: cfg, out: out, fail: make(chan error, childWriters+1),
		first: first, next: last + 1, gen: cfg.GenBase, maxGen: cfg.GenBase + genSpan - 1, ackedUpTo: last}
	for w := range childWriters {
		go c.writer(rand.New(rand.NewPCG(cfg.Seed, uint64(w))))
	}
	go c.reader(rand.New(rand.NewPCG(cfg.Seed, childWriters)))
	return <-c.fail // normally the parent kills us first
}

// bounds returns the first and last index, with FirstIndex's 0 for an empty
// new log normalised to 1.
func bounds(l *wal.Log) (first, last uint64, err error) {
	if first, err = l.FirstIndex(); err != nil {
		return 0, 0, err
	}
	if last, err = l.LastIndex(); err != nil {
		return 0, 0, err
	}
	return max(first, 1), last, nil
}

// failf reports a failure; the first one ends the child.
func (c *child) failf(format string, args ...any) {
	select {
	case c.fail <- fmt.Errorf(format, args...):
	default:
	}
	runtime.Goexit()
}

// writer runs a seeded mix of operations forever.
func (c *child) writer(rng *rand.Rand) {
	var buf []byte
	for {
		switch r := rng.IntN(1000); {
		case r < 700:
			buf = c.write(rng, buf, 1, rng.IntN(3) == 0, false)
		case r < 880:
			buf = c.write(rng, buf, 2+rng.IntN(15), rng.IntN(2) == 0, rng.IntN(4) == 0)
		case r < 940:
			c.sync()
		case r < 970:
			c.truncateFront(rng)
		case r < 990:
			c.truncateBack(rng)
		default:
			c.reset(rng)
		}
	}
}

// call is the result of a write call.
type call struct {
	index uint64
	err   error
}

// write writes n entries: one by Append (or Write if explicit), several as
// a batch by AppendBatch (or WriteBatch), with Batch.Sync if bsync.
func (c *child) write(rng *rand.Rand, buf []byte, n int, explicit, bsync bool) []byte {
	c.mu.Lock()
	first, gen, epoch := c.next, c.gen, c.epoch
	last := first + uint64(n) - 1
	var b wal.Batch
	b.Sync = bsync
	for i := first; i <= last; i++ {
		p := payload{Index: i, Gen: gen, BatchFirst: first, BatchLen: uint32(n)}
		f := make([]byte, fillerLen(rng))
		fill(rng, f)
		buf = appendPayload(buf[:0], p, f)
		b.Write(i, buf)
	}
	done := make(chan call, 1)
	go func() {
		var r call
		switch {
		case n == 1 && explicit:
			r.index, r.err = first, c.l.Write(first, buf)
		case n == 1:
			r.index, r.err = c.l.Append(buf)
		case explicit:
			r.index, r.err = first, c.l.WriteBatch(&b)
		default:
			r.index, r.err = c.l.AppendBatch(&b)
		}
		done <- r
	}()
	r, finished := c.awaitTaken(last, done)
	if finished && r.err != nil {
		c.mu.Unlock()
		c.failf("writing [%d,%d] (explicit %v, Batch.Sync %v): %v", first, last, explicit, bsync, r.err)
	}
	c.next = last + 1
	c.addRun(run{first, last, gen})
	var durable []run
	if bsync {
		// The batch is durable with every entry the log took before it.
		durable = c.unacked(last)
	}
	c.mu.Unlock()
	if !finished {
		r = <-done
	}
	if r.err != nil {
		c.failf("writing [%d,%d] (explicit %v, Batch.Sync %v): %v", first, last, explicit, bsync, r.err)
	}
	if r.index != first {
		c.failf("wrote [%d,%d] but the log assigned index %d", first, last, r.index)
	}
	switch {
	case c.cfg.Policy == wal.SyncAlways:
		c.out.line("A", first, last, gen)
	case bsync:
		c.ack(durable, epoch, last)
	}
	return buf
}

// awaitTaken waits until the log has taken the entries up to last
// (LastIndex reaches it) or the call returned. REQUIRES: c.mu held.
func (c *child) awaitTaken(last uint64, done <-chan call) (r call, finished bool) {
	for spin := 0; ; spin++ {
		select {
		case r := <-done:
			return r, true
		default:
		}
		if li, err := c.l.LastIndex(); err == nil && li >= last {
			return call{}, false
		}
		if spin < 20 {
			runtime.Gosched()
		} else {
			time.Sleep(20 * time.Microsecond)
		}
	}
}

// sync calls Sync, which makes durable every entry taken before it.
func (c *child) sync() {
	c.mu.Lock()
	last, epoch := c.next-1, c.epoch
	durable := c.unacked(last)
	c.mu.Unlock()
	if err := c.l.Sync(); err != nil {
		c.failf("Sync: %v", err)
	}
	c.ack(durable, epoch, last)
}

// truncateFront calls TruncateFront, which makes every entry durable,
// except TruncateFront(FirstIndex()): the log returns nil at once, without
// a sync, so the child counts it as a durability point only under
// StrictNoop (the README's reading; see the package doc).
func (c *child) truncateFront(rng *rand.Rand) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checkBounds("TruncateFront")
	last := c.next - 1
	var i uint64
	switch n := c.next - c.first; {
	case n > keepEntries:
		i = last - uint64(rng.IntN(keepEntries/2))
	case rng.IntN(10) == 0:
		i = c.next // empties the log
	default:
		i = c.first + uint64(rng.IntN(int(n/2)+1))
	}
	c.out.line("f", i, c.gen)
	if err := c.l.TruncateFront(i); err != nil {
		c.failf("TruncateFront(%d) with entries [%d,%d]: %v", i, c.first, last, err)
	}
	c.trimBelow(i)
	if i != c.first || c.cfg.StrictNoop {
		c.reportRuns(c.unacked(last))
		c.ackedUpTo = max(c.ackedUpTo, last)
	}
	c.out.line("F", i, c.gen)
	c.first = i
}

// truncateBack calls TruncateBack(k), which makes the entries up to k
// durable (except TruncateBack(LastIndex()), as for truncateFront) and
// starts a new generation.
func (c *child) truncateBack(rng *rand.Rand) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checkBounds("TruncateBack")
	last := c.next - 1
	if c.first > last || c.gen == c.maxGen {
		return
	}
	k := last - uint64(rng.IntN(int(min(last-c.first, 40))+1))
	gen := c.gen + 1
	c.out.line("b", k, gen)
	if err := c.l.TruncateBack(k); err != nil {
		c.failf("TruncateBack(%d) with entries [%d,%d]: %v", k, c.first, last, err)
	}
	c.trimAbove(k)
	if k != last || c.cfg.StrictNoop {
		c.reportRuns(c.unacked(k))
		c.ackedUpTo = k
	}
	c.out.line("B", k, gen)
	c.gen, c.next = gen, k+1
	c.epoch++
}

// reset calls Reset(k) and starts a new generation.
func (c *child) reset(rng *rand.Rand) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checkBounds("Reset")
	if c.gen == c.maxGen {
		return
	}
	var k uint64
	switch rng.IntN(4) {
	case 0:
		k = c.next
	case 1:
		k = c.next + 1 + uint64(rng.IntN(100)) // a gap
	case 2:
		k = max(1, c.first-min(c.first, uint64(rng.IntN(100)))) // back below the first index
	default:
		k = c.first + uint64(rng.IntN(int(c.next-c.first)+1))
	}
	gen := c.gen + 1
	c.out.line("r", k, gen)
	if err := c.l.Reset(k); err != nil {
		c.failf("Reset(%d) with entries [%d,%d]: %v", k, c.first, c.next-1, err)
	}
	c.out.line("R", k, gen)
	c.runs = nil
	c.first, c.next, c.gen, c.ackedUpTo = k, k, gen, k-1
	c.epoch++
}

// checkBounds checks that the log's bounds are what the child expects.
// REQUIRES: c.mu held, so no entry is being taken.
func (c *child) checkBounds(op string) {
	first, last, err := bounds(c.l)
	if err != nil {
		c.failf("%s: bounds: %v", op, err)
	}
	if first != c.first || last != c.next-1 {
		c.failf("before %s: the log holds [%d,%d], the child expects [%d,%d]", op, first, last, c.first, c.next-1)
	}
}

// addRun records own entries. REQUIRES: c.mu held.
func (c *child) addRun(r run) {
	if n := len(c.runs); n > 0 && c.runs[n-1].gen == r.gen && c.runs[n-1].to+1 == r.from {
		c.runs[n-1].to = r.to
		return
	}
	c.runs = append(c.runs, r)
}

// trimAbove forgets own entries above k. REQUIRES: c.mu held.
func (c *child) trimAbove(k uint64) {
	keep := c.runs[:0]
	for _, r := range c.runs {
		if r.from <= k {
			r.to = min(r.to, k)
			keep = append(keep, r)
		}
	}
	c.runs = keep
}

// trimBelow forgets own entries below i. REQUIRES: c.mu held.
func (c *child) trimBelow(i uint64) {
	keep := c.runs[:0]
	for _, r := range c.runs {
		if r.to >= i {
			r.from = max(r.from, i)
			keep = append(keep, r)
		}
	}
	c.runs = keep
}

// unacked returns the own entries in (ackedUpTo, last], as runs.
// REQUIRES: c.mu held.
func (c *child) unacked(last uint64) []run {
	var out []run
	for _, r := range c.runs {
		r.from, r.to = max(r.from, c.ackedUpTo+1), min(r.to, last)
		if r.from <= r.to {
			out = append(out, r)
		}
	}
	return out
}

// ack reports runs made durable by a durability point that returned, and
// advances ackedUpTo to last unless a TruncateBack or Reset intervened.
func (c *child) ack(durable []run, epoch, last uint64) {
	c.reportRuns(durable)
	c.mu.Lock()
	if c.epoch == epoch {
		c.ackedUpTo = max(c.ackedUpTo, last)
	}
	c.mu.Unlock()
}

func (c *child) reportRuns(rs []run) {
	for _, r := range rs {
		c.out.line("A", r.from, r.to, r.gen)
	}
}

// reader reads random entries and checks their payloads. A miss must be
// ErrNotFound (a concurrent truncation).
func (c *child) reader(rng *rand.Rand) {
	for {
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Microsecond)
		first, last, err := bounds(c.l)
		if err != nil {
			c.failf("reader: bounds: %v", err)
		}
		if first > last {
			continue
		}
		i := first + rng.Uint64N(last-first+1)
		data, err := c.l.Read(i)
		if errors.Is(err, wal.ErrNotFound) {
			continue
		}
		if err != nil {
			c.failf("reader: Read(%d) of [%d,%d]: %v", i, first, last, err)
		}
		p, err := decodePayload(data)
		if err == nil && p.Index != i {
			err = fmt.Errorf("payload carries index %d", p.Index)
		}
		if err != nil {
			c.failf("reader: Read(%d) of [%d,%d]: %v", i, first, last, err)
		}
	}
}

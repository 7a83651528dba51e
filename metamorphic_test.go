package wal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// Known defects of issue 13 that the metamorphic test finds on this branch.
// Each gates the one operation combination that triggers it, so the test
// passes until the fix is merged; the lead flips each to false after
// merging the core fixes, and the test then checks the full property.
const (
	// knownDefect1FailedTruncateBack: a TruncateBack into a sealed segment
	// that fails part way leaves the log inconsistent (Read panics under the
	// mutex, then everything deadlocks). Gate: no fault is injected while a
	// TruncateBack runs.
	knownDefect1FailedTruncateBack = false
	// knownDefect2VerifyCallback: TruncateBack waits for Verify's segment
	// pins while holding the mutex, so a progress callback that calls into
	// the log deadlocks. Gate: the callback does not call into the log.
	knownDefect2VerifyCallback = false
	// knownDefect3NoCopyUnmapped: TruncateBack re-cuts and unmaps a sealed
	// segment while NoCopy slices of entries it keeps are in use (SIGSEGV
	// with mmap). Gate: NoCopy is not used with a memory-mapping FS.
	knownDefect3NoCopyUnmapped = false
	// knownDefect4VerifyLive: Verify reads the tail's sealed state without
	// the mutex while rotation seals it (a data race and false ErrCorrupt).
	// Gate: Verify runs excluded from writers and truncations (a test-side
	// lock).
	knownDefect4VerifyLive = false
	// knownDefect5SegmentsRace: Segments reads a lazily opened segment's
	// index offset while a Read opens it. Gate: Segments runs excluded from
	// readers, iterators and Verify (test-side locks).
	knownDefect5SegmentsRace = false
	// knownDefectVerifySplitBatch (not in issue 13's list; found by this
	// test): TruncateBack(k) with k inside a batch seals the cut segment
	// ending in the batch's More records, and Verify then reports
	// "sealed with an incomplete batch at its end" (ErrCorrupt) on a
	// healthy log, live or reopened. Gate: that one Verify error is
	// tolerated (and counted).
	knownDefectVerifySplitBatch = false
	// knownDefectVerifyIOErrorAsCorrupt (not in issue 13's list; found by
	// this test): Verify formats a read error with %v inside ErrCorrupt, so
	// an injected EIO is reported as corruption ("wal: corrupt: segment ...
	// offset 40: read .../prepare-7.tmp: input/output error") and
	// errors.Is(err, syscall.EIO) is false. Gate: such a Verify error is
	// tolerated when its text names the injected errno.
	knownDefectVerifyIOErrorAsCorrupt = false
)

// verifyTolerated reports whether a Verify error is only known false
// corruption: knownDefectVerifySplitBatch, or knownDefectVerifyIOErrorAsCorrupt
// for the injected errno inj (0: none).
func verifyTolerated(err error, inj syscall.Errno) bool {
	for _, line := range strings.Split(err.Error(), "\n") {
		split := knownDefectVerifySplitBatch && strings.HasSuffix(line, "sealed with an incomplete batch at its end")
		io := knownDefectVerifyIOErrorAsCorrupt && inj != 0 && strings.HasSuffix(line, inj.Error())
		if !split && !io {
			return false
		}
	}
	return true
}

// TestMetamorphic runs every public operation of the log at once from
// several goroutines, mostly with 1 KiB segments (so lazy opening, sealing
// and re-cutting happen constantly; some seeds use 16 or 64 KiB), on
// a log prefilled and reopened (so some sealed segments open lazily), and, in most runs, I/O errors (EIO, ENOSPC,
// EMFILE) injected at random points, and checks the outcome against a
// model that tolerates concurrency.
//
// Every payload names a unique token (and, when the caller chose the index,
// that index) and carries a CRC, so any read is checked: a well-formed
// payload; never a token whose write was rejected; the index its write was
// acknowledged at; never one a successful truncation or Reset that started
// after its acknowledgement had finished removing (stale or resurrected).
// Also: no panic; no deadlock (a watchdog dumps every goroutine and fails
// the test when a worker makes no progress); no ErrCorrupt on this
// undamaged log; after an ErrFailed no write is accepted; at the end every
// entry that must be in the log is, and durable entries stay readable;
// and a reopen with no faults succeeds and matches the model again.
//
// Sizes, by environment variable:
//
//	WAL_METAMORPHIC_SEED=n   run only seed n (printed by every failure)
//	WAL_METAMORPHIC_RUNS=n   number of seeds (default 5)
//	WAL_METAMORPHIC_OPS=n    operations per worker per run (default 40)
//	WAL_METAMORPHIC_STALL=d  watchdog limit, a Go duration (default 30s)
//
// Soak: WAL_METAMORPHIC_RUNS=200 WAL_METAMORPHIC_OPS=2000 go test -race
// -run TestMetamorphic -timeout 0 .
func TestMetamorphic(t *testing.T) {
	runs, ops := envInt("WAL_METAMORPHIC_RUNS", 5), envInt("WAL_METAMORPHIC_OPS", 40)
	stall := 30 * time.Second
	if s := os.Getenv("WAL_METAMORPHIC_STALL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		stall = d
	}
	seeds := make([]uint64, runs)
	for i := range seeds {
		seeds[i] = uint64(i) + 1
	}
	if s := os.Getenv("WAL_METAMORPHIC_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seeds = []uint64{n}
	}
	var total mmStats
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			st := runMetamorphic(t, seed, ops, stall)
			total.add(st)
			if t.Failed() {
				t.Logf("reproduce: WAL_METAMORPHIC_SEED=%d WAL_METAMORPHIC_OPS=%d go test -race -tags invariants -run TestMetamorphic .", seed, ops)
			}
		})
	}
	t.Logf("total: %s", total)
}

func envInt(name string, def int) int {
	if s := os.Getenv(name); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return def
}

// mmStats counts what a run did, for the log.
type mmStats struct {
	ops, reads, writes, truncs, faults, failedRuns, verifyTolerated int64
	sliceTouched, sliceSkipped                                      int64 // NoCopy slices touched later / skipped (entry maybe removed)
	sliceRaced                                                      int64 // NoCopy slices that faulted or changed while a truncation removed their entry
}

func (s *mmStats) add(o mmStats) {
	s.ops += o.ops
	s.reads += o.reads
	s.writes += o.writes
	s.truncs += o.truncs
	s.faults += o.faults
	s.failedRuns += o.failedRuns
	s.verifyTolerated += o.verifyTolerated
	s.sliceTouched += o.sliceTouched
	s.sliceSkipped += o.sliceSkipped
	s.sliceRaced += o.sliceRaced
}

func (s mmStats) String() string {
	return fmt.Sprintf("%d ops (%d entries read, %d written, %d truncations), %d faults injected, %d runs ended fail-stopped, %d Verify false ErrCorrupt tolerated (knownDefectVerify*), %d NoCopy slices touched later (%d skipped: a truncation may have removed the entry), %d NoCopy slices lost to a concurrent truncation (allowed)",
		s.ops, s.reads, s.writes, s.truncs, s.faults, s.failedRuns, s.verifyTolerated, s.sliceTouched, s.sliceSkipped, s.sliceRaced)
}

// Payloads: "mmP1" | token u64 | declared index u64 (0: chosen by Append)
// | filler (length from the token) | CRC-32C of the rest.
const mmMagic = "mmP1"

var mmCRC = crc32.MakeTable(crc32.Castagnoli)

func mmPayload(token, index uint64) []byte {
	n := int(token*2654435761>>7) % 300
	b := make([]byte, 0, 24+n+4)
	b = append(b, mmMagic...)
	b = binary.LittleEndian.AppendUint64(b, token)
	b = binary.LittleEndian.AppendUint64(b, index)
	for i := range n {
		b = append(b, byte(token)^byte(i))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, mmCRC))
}

// mmDecode checks a payload read at index and returns its token.
func mmDecode(index uint64, b []byte) (uint64, error) {
	if len(b) < 24 || string(b[:4]) != mmMagic {
		return 0, fmt.Errorf("index %d: not a payload (%d bytes)", index, len(b))
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, mmCRC) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return 0, fmt.Errorf("index %d: payload checksum mismatch (garbled bytes)", index)
	}
	token, declared := binary.LittleEndian.Uint64(b[4:]), binary.LittleEndian.Uint64(b[12:])
	if declared != 0 && declared != index {
		return 0, fmt.Errorf("index %d: payload of token %d written for index %d", index, token, declared)
	}
	if string(b) != string(mmPayload(token, declared)) {
		return 0, fmt.Errorf("index %d: payload of token %d has the wrong shape", index, token)
	}
	return token, nil
}

// Token states.
const (
	tokPending  = iota // the write is in flight
	tokAcked           // the write returned nil at index
	tokRejected        // the write returned a usage error: it never entered the log
	tokFailed          // the write returned another error: it may or may not be in the log
)

type mmToken struct {
	state         int
	invoke, ack   uint64 // logical clock
	index         uint64 // when acked
	syncedWithAck bool   // acknowledged durable (SyncAlways or Batch.Sync)
	declaredIndex uint64 // 0 for Append
}

// mmEvent is a truncation, Reset or durability point.
type mmEvent struct {
	kind         string // "front", "back", "reset", "sync"
	k            uint64
	invoke, done uint64
	err          error
}

// covers reports whether e, had it taken effect, removed the entry at i.
func (e mmEvent) covers(i uint64) bool {
	switch e.kind {
	case "reset":
		return true
	case "back":
		return i > e.k
	case "front":
		return i < e.k
	}
	return false
}

// mmObs is one entry a read returned.
type mmObs struct {
	index, token uint64
	start        uint64 // clock when the read started (read-only log: its last Refresh)
	who          string
}

// mmHarness holds one run.
type mmHarness struct {
	t       *testing.T
	seed    uint64
	l       *Log
	raw     vfs.FS
	dir     string
	opts    Options
	inj     *mmInjector
	clock   atomic.Uint64
	stop    atomic.Bool
	failed  atomic.Uint64 // clock when an op first returned ErrFailed; 0 if none
	written atomic.Int64  // entries acknowledged

	// gates for the known defects
	writerGate, readerGate sync.RWMutex
	truncBackInFlight      atomic.Int64

	mu         sync.Mutex
	tokens     map[uint64]*mmToken
	events     []mmEvent
	inflight   map[uint64]mmEvent // truncations and Resets running, by invoke
	obs        []mmObs
	violations []string
	softErrors []string // write errors that did not fail the log
	stats      mmStats

	beats []mmBeat
}

// mmBeat is a worker's heartbeat for the watchdog.
type mmBeat struct {
	op    atomic.Value // string
	since atomic.Int64 // unix nanos when op started
}

func (h *mmHarness) tick() uint64 { return h.clock.Add(1) }

func (h *mmHarness) violate(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.violations) < 50 {
		h.violations = append(h.violations, msg)
	}
}

// mmInjector fails operations at random once armed: each matching
// operation fails with probability p, at most budget times in a run.
type mmInjector struct {
	h      *mmHarness
	mu     sync.Mutex
	rng    *rand.Rand
	armed  atomic.Bool
	ops    errorfs.OpSet
	errno  syscall.Errno
	p      float64
	budget int
	armAt  int64 // entries written before the first fault
	fired  []string
}

func (in *mmInjector) MaybeError(op errorfs.Op, path string) error {
	if !in.armed.Load() || !in.ops.Matches(op) || in.h.written.Load() < in.armAt {
		return nil
	}
	if knownDefect1FailedTruncateBack && in.h.truncBackInFlight.Load() > 0 {
		return nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.budget <= 0 || in.rng.Float64() >= in.p {
		return nil
	}
	in.budget--
	in.fired = append(in.fired, fmt.Sprintf("%v %s: %v", op, path, in.errno))
	return in.errno
}

// mmFaultPlans are the fault mixes a run draws from.
var mmFaultPlans = []struct {
	name  string
	errno syscall.Errno
	ops   errorfs.OpSet
}{
	{"none", 0, 0},
	{"EIO on write/sync", syscall.EIO, errorfs.Ops(errorfs.OpWrite, errorfs.OpSync)},
	{"EIO on directory and META", syscall.EIO, errorfs.Ops(errorfs.OpRemove, errorfs.OpRename, errorfs.OpSyncDir, errorfs.OpCreate)},
	{"EIO on read", syscall.EIO, errorfs.Ops(errorfs.OpRead, errorfs.OpMmap)},
	{"ENOSPC", syscall.ENOSPC, errorfs.Ops(errorfs.OpWrite, errorfs.OpPreallocate, errorfs.OpCreate, errorfs.OpTruncate)},
	{"EMFILE", syscall.EMFILE, errorfs.Ops(errorfs.OpOpen, errorfs.OpCreate)},
	{"EIO anywhere", syscall.EIO, errorfs.Ops()},
}

func runMetamorphic(t *testing.T, seed uint64, opsPerWorker int, stall time.Duration) mmStats {
	rng := newRand(seed)
	plan := mmFaultPlans[rng.IntN(len(mmFaultPlans))]
	useOS := rng.IntN(3) == 0                                                       // the OS FS (memory maps, real fsyncs) is slower
	policy := []SyncPolicy{SyncAlways, SyncNever, SyncAlways, SyncInterval}[seed%4] // every CI size sees each
	h := &mmHarness{t: t, seed: seed, tokens: map[uint64]*mmToken{}}
	h.inj = &mmInjector{h: h, rng: newRand(seed ^ 0xfa17), ops: plan.ops, errno: plan.errno, p: 0.02 + rng.Float64()*0.1, budget: 1 + rng.IntN(4), armAt: int64(rng.IntN(opsPerWorker * 4))}
	if plan.errno == 0 {
		h.inj.budget = 0
	}
	if useOS {
		h.raw, h.dir = vfs.Default, t.TempDir()
	} else {
		h.raw, h.dir = vfs.NewMem(), memDir
	}
	h.opts = Options{
		FS:            errorfs.Wrap(h.raw, h.inj),
		SyncPolicy:    policy,
		SegmentSize:   1 << 10,
		SyncInterval:  time.Millisecond,
		FlushInterval: time.Millisecond,
		NoCopy:        !useOS || !knownDefect3NoCopyUnmapped,
		NoPreallocate: rng.IntN(2) == 0,
	}
	if seed%4 == 2 {
		h.opts.SegmentSize = []int{16 << 10, 64 << 10}[rng.IntN(2)] // larger maps (knownDefect3)
	}
	// Half the seeds write every Append and Write from the caller's slice
	// (pwritev, write_direct.go), and every seed of each policy meets both.
	h.opts.directMin = directFor(seed%8 >= 4)
	t.Logf("seed %d: fs=%s policy=%v segment=%d faults=%q from entry %d p=%.3f budget=%d NoCopy=%v directMin=%d", seed, map[bool]string{true: "os", false: "mem"}[useOS],
		policy, h.opts.SegmentSize, plan.name, h.inj.armAt, h.inj.p, h.inj.budget, h.opts.NoCopy, h.opts.directMin)
	h.l = h.prefill(t, 40+rng.IntN(120))
	h.inj.armAt += h.written.Load()

	workers := []func(w int, rng *rand.Rand){}
	for range 4 {
		workers = append(workers, func(w int, rng *rand.Rand) { h.writer(w, rng, opsPerWorker) })
	}
	for range 2 {
		workers = append(workers, func(w int, rng *rand.Rand) { h.reader(w, rng, opsPerWorker) })
	}
	workers = append(workers,
		func(w int, rng *rand.Rand) { h.truncator(w, rng, opsPerWorker/3) },
		func(w int, rng *rand.Rand) { h.inspector(w, rng, opsPerWorker/4) },
		func(w int, rng *rand.Rand) { h.follower(w) },
		func(w int, rng *rand.Rand) { h.readOnly(w, rng) },
	)
	h.beats = make([]mmBeat, len(workers))
	for i := range h.beats {
		h.beats[i].op.Store("starting")
		h.beats[i].since.Store(time.Now().UnixNano())
	}
	var wg sync.WaitGroup
	var active atomic.Int64 // workers that stop by themselves
	for w, fn := range workers {
		wg.Add(1)
		if w < len(workers)-2 {
			active.Add(1)
		}
		go func() {
			defer wg.Done()
			defer func() {
				if w < len(workers)-2 && active.Add(-1) == 0 {
					h.stop.Store(true)
				}
			}()
			fn(w, newRand(seed*1000+uint64(w)))
			h.beat(w, "done")
		}()
	}
	h.inj.armed.Store(true) // faults start once armAt entries are written
	if !h.waitWatchdog(&wg, stall) {
		t.FailNow() // the dump is logged; workers are stuck and leak
	}
	h.inj.armed.Store(false)
	h.finalChecks()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.faults = int64(len(h.inj.fired))
	if len(h.inj.fired) > 0 {
		t.Logf("faults injected: %s", strings.Join(h.inj.fired, "; "))
	}
	if h.failed.Load() != 0 {
		h.stats.failedRuns = 1
	}
	if len(h.softErrors) > 0 {
		t.Logf("write errors that did not fail the log: %s", strings.Join(h.softErrors, "; "))
	}
	for _, v := range h.violations {
		t.Errorf("seed %d: %s", seed, v)
	}
	t.Logf("seed %d: %s", seed, h.stats)
	return h.stats
}

// prefill writes n entries, closes the log and reopens it, so the
// concurrent phase starts with sealed segments that Open left closed
// (lazy opening).
func (h *mmHarness) prefill(t *testing.T, n int) *Log {
	l, err := Open(h.dir, &h.opts)
	if err != nil {
		t.Fatalf("seed %d: Open: %v", h.seed, err)
	}
	for n > 0 {
		var b Batch
		ids := make([]uint64, min(n, 3))
		for i := range ids {
			ids[i] = h.newToken(99, 1, 0)
			b.Append(mmPayload(ids[i], 0))
		}
		first, err := l.AppendBatch(&b)
		if err != nil {
			t.Fatalf("seed %d: prefill: %v", h.seed, err)
		}
		h.settle(ids, first, nil, true)
		n -= len(ids)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("seed %d: prefill: Close: %v", h.seed, err)
	}
	if l, err = Open(h.dir, &h.opts); err != nil {
		t.Fatalf("seed %d: reopen after prefill: %v", h.seed, err)
	}
	return l
}

func (h *mmHarness) beat(w int, op string) {
	h.beats[w].op.Store(op)
	h.beats[w].since.Store(time.Now().UnixNano())
}

// waitWatchdog waits for the workers; if one stays in one operation for
// longer than stall, it logs every goroutine's stack and returns false.
func (h *mmHarness) waitWatchdog(wg *sync.WaitGroup, stall time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(stall / 10)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return true
		case <-tick.C:
		}
		now := time.Now().UnixNano()
		for w := range h.beats {
			b := &h.beats[w]
			if op := b.op.Load().(string); op != "done" && time.Duration(now-b.since.Load()) > stall {
				h.stop.Store(true)
				buf := make([]byte, 1<<22)
				buf = buf[:runtime.Stack(buf, true)]
				h.t.Errorf("seed %d: DEADLOCK: worker %d stuck in %q for over %v; faults %v\n%s", h.seed, w, op, stall, h.inj.fired, buf)
				return false
			}
		}
	}
}

// newToken registers a write about to be invoked.
func (h *mmHarness) newToken(w int, n int, declared uint64) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := uint64(w+1)<<40 | uint64(len(h.tokens)+1)
	h.tokens[id] = &mmToken{state: tokPending, invoke: h.tick(), declaredIndex: declared}
	_ = n
	return id
}

// mutating records the outcome of a write, truncation or sync invoked at
// clock inv, and checks fail-stop.
func (h *mmHarness) mutating(what string, inv uint64, err error) {
	if err == nil {
		if f := h.failed.Load(); f != 0 && inv > f {
			h.violate("%s succeeded although the log had failed (ErrFailed at clock %d, call at %d)", what, f, inv)
		}
		return
	}
	if errors.Is(err, ErrCorrupt) {
		h.violate("%s: ErrCorrupt on an undamaged log: %v", what, err)
	}
	if errors.Is(err, ErrFailed) {
		h.failed.CompareAndSwap(0, h.tick())
	} else if !usageError(err) {
		// A write error that did not fail the log (the log retries, say, a
		// segment it could not create): logged for the reader of the run.
		h.mu.Lock()
		if len(h.softErrors) < 5 {
			h.softErrors = append(h.softErrors, fmt.Sprintf("%s: %v", what, err))
		}
		h.mu.Unlock()
	}
}

func usageError(err error) bool {
	return errors.Is(err, ErrOutOfOrder) || errors.Is(err, ErrOutOfRange) || errors.Is(err, ErrTooLarge)
}

// settle records the outcome of the write of tokens (consecutive indexes
// from first when acked); durable says that a nil acknowledges them as
// durable (see syncWrite).
func (h *mmHarness) settle(tokens []uint64, first uint64, err error, durable bool) {
	done := h.tick()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, id := range tokens {
		tk := h.tokens[id]
		switch {
		case err == nil:
			tk.state, tk.ack, tk.index = tokAcked, done, first+uint64(i)
			tk.syncedWithAck = durable
		case usageError(err):
			tk.state = tokRejected
		default:
			tk.state = tokFailed
		}
	}
	if err == nil {
		h.stats.writes += int64(len(tokens))
		h.written.Add(int64(len(tokens)))
	}
}

// observe checks a payload read at index and records it.
func (h *mmHarness) observe(who string, index uint64, b []byte, start uint64) {
	var token uint64
	var err error
	if h.opts.NoCopy && (who == "Read" || who == "Iter" || who == "Iter(Follow)") {
		var ok bool
		if token, ok, err = h.decodeNoCopy(index, start, b); !ok {
			return
		}
	} else {
		token, err = mmDecode(index, b)
	}
	if err != nil {
		h.violate("%s: wrong payload: %v", who, err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.reads++
	tk := h.tokens[token]
	if tk == nil {
		h.violations = append(h.violations, fmt.Sprintf("%s: index %d holds token %d that was never written", who, index, token))
		return
	}
	h.obs = append(h.obs, mmObs{index: index, token: token, start: start, who: who})
}

// decodeNoCopy decodes a payload that Read returned under NoCopy, which may
// alias a segment's memory map. Its lifetime ends when a truncation or
// Reset removes its entry (Options.NoCopy: then a crash or other bytes),
// which can happen right after the read returns. So a memory fault (made a
// panic by SetPanicOnFault) or wrong bytes while such a truncation was
// running or finished since the read started (clock start) is allowed:
// ok is false and it is counted. Any other fault or wrong byte is err.
func (h *mmHarness) decodeNoCopy(index, start uint64, b []byte) (token uint64, ok bool, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("index %d: memory fault reading a NoCopy slice: %v", index, r)
		}
		if err != nil && h.mayHaveRemoved(index, start) {
			token, ok, err = 0, false, nil
			h.mu.Lock()
			h.stats.sliceRaced++
			h.mu.Unlock()
		}
	}()
	token, err = mmDecode(index, b)
	return token, true, err
}

// readErr classifies a read error: ErrNotFound and injected faults are
// fine; ErrCorrupt is not.
func (h *mmHarness) readErr(who string, index uint64, err error) {
	switch {
	case err == nil, errors.Is(err, ErrNotFound), errors.Is(err, ErrClosed):
	case errors.Is(err, ErrCorrupt):
		h.violate("%s: Read(%d): ErrCorrupt on an undamaged log: %v (faults so far %v)", who, index, err, h.firedNow())
	case h.injected(err):
	default:
		h.violate("%s: Read(%d): unexpected error %v", who, index, err)
	}
}

func (h *mmHarness) injected(err error) bool {
	return h.inj.errno != 0 && errors.Is(err, h.inj.errno)
}

func (h *mmHarness) firedNow() []string {
	h.inj.mu.Lock()
	defer h.inj.mu.Unlock()
	return slices.Clone(h.inj.fired)
}

// writer appends with every write form.
func (h *mmHarness) writer(w int, rng *rand.Rand, n int) {
	for i := 0; i < n && !h.stop.Load(); i++ {
		h.writerGate.RLock()
		h.writeOnce(w, rng)
		h.writerGate.RUnlock()
		h.mu.Lock()
		h.stats.ops++
		h.mu.Unlock()
	}
}

func (h *mmHarness) writeOnce(w int, rng *rand.Rand) {
	l := h.l
	switch rng.IntN(7) {
	case 5, 6:
		h.writeAsync(w, rng)
	case 0:
		h.beat(w, "Append")
		id := h.newToken(w, 1, 0)
		inv := h.clock.Load()
		idx, err := l.Append(mmPayload(id, 0))
		h.settle([]uint64{id}, idx, err, h.syncWrite(false))
		h.mutating("Append", inv, err)
	case 1:
		h.beat(w, "Write")
		_, last, _ := l.Bounds()
		id := h.newToken(w, 1, last+1)
		inv := h.clock.Load()
		err := l.Write(last+1, mmPayload(id, last+1))
		h.settle([]uint64{id}, last+1, err, h.syncWrite(false))
		h.mutating("Write", inv, err)
	case 2, 3:
		explicit := rng.IntN(2) == 0
		h.beat(w, fmt.Sprintf("batch explicit=%v", explicit))
		var b Batch
		b.Sync = rng.IntN(3) == 0
		_, last, _ := l.Bounds()
		k := 1 + rng.IntN(6)
		ids := make([]uint64, k)
		for j := range ids {
			if explicit {
				ids[j] = h.newToken(w, 1, last+1+uint64(j))
				b.Write(last+1+uint64(j), mmPayload(ids[j], last+1+uint64(j)))
			} else {
				ids[j] = h.newToken(w, 1, 0)
				b.Append(mmPayload(ids[j], 0))
			}
		}
		inv := h.clock.Load()
		var err error
		first := last + 1
		if explicit {
			err = l.WriteBatch(&b)
		} else {
			first, err = l.AppendBatch(&b)
		}
		h.settle(ids, first, err, h.syncWrite(b.Sync))
		h.mutating("batch", inv, err)
	case 4:
		h.beat(w, "Sync")
		inv := h.tick()
		err := l.Sync()
		h.event(mmEvent{kind: "sync", invoke: inv, err: err})
		h.mutating("Sync", inv, err)
	}
}

// syncWrite reports whether a synchronous write returning nil is durable.
func (h *mmHarness) syncWrite(batchSync bool) bool {
	return batchSync || h.opts.SyncPolicy == SyncAlways
}

// writeAsync appends one entry or a batch asynchronously (acknowledged as
// written, not durable), then, most of the time, waits for durability with
// WaitDurable or NotifyDurable: a nil makes the entries count as
// acknowledged durable, so the final checks require them to survive
// unless a truncation removed them.
func (h *mmHarness) writeAsync(w int, rng *rand.Rand) {
	l := h.l
	k := 1 + rng.IntN(4)
	h.beat(w, fmt.Sprintf("async batch of %d", k))
	ids := make([]uint64, k)
	var b Batch
	b.Sync = rng.IntN(4) == 0
	for j := range ids {
		ids[j] = h.newToken(w, 1, 0)
		b.Append(mmPayload(ids[j], 0))
	}
	inv := h.clock.Load()
	var first, last uint64
	var err error
	if k == 1 && !b.Sync {
		first, err = l.AppendAsync(b.data)
		last = first
	} else {
		first, last, err = l.AppendBatchAsync(&b)
	}
	h.settle(ids, first, err, false) // acknowledged, not durable
	h.mutating("async append", inv, err)
	if err != nil || rng.IntN(4) == 0 {
		return
	}
	inv = h.clock.Load()
	if rng.IntN(2) == 0 {
		h.beat(w, "WaitDurable")
		err = l.WaitDurable(last)
	} else {
		h.beat(w, "NotifyDurable")
		done := make(chan error, 1)
		if err = l.NotifyDurable(last, func(err error) { done <- err }); err == nil {
			err = <-done
		}
	}
	switch {
	case err == nil:
		h.mu.Lock()
		for _, id := range ids {
			h.tokens[id].syncedWithAck = true
		}
		h.mu.Unlock()
	case errors.Is(err, ErrNotFound): // a TruncateBack or Reset removed it first
	default:
		// Not through mutating when nil: an entry durable before a failure
		// is reported durable after it too (the final checks then require
		// it).
		h.mutating("durability wait", inv, err)
	}
}

// begin registers a truncation or Reset that is about to run, so that
// readers stop touching NoCopy slices of the entries it may remove.
func (h *mmHarness) begin(e mmEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.inflight == nil {
		h.inflight = map[uint64]mmEvent{}
	}
	h.inflight[e.invoke] = e
}

// end unregisters a truncation begun with begin; it is recorded (event)
// unless it was refused as a usage error.
func (h *mmHarness) end(e mmEvent, record bool) {
	if record {
		h.event(e)
		return
	}
	h.mu.Lock()
	delete(h.inflight, e.invoke)
	h.mu.Unlock()
}

// mayHaveRemoved reports whether a truncation or Reset that had not
// finished when a read started at clock start may have removed the entry
// at index since: the NoCopy slice that read returned is then past its
// documented lifetime (Options.NoCopy) and must not be touched.
func (h *mmHarness) mayHaveRemoved(index, start uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.inflight {
		if e.covers(index) {
			return true
		}
	}
	for _, e := range h.events { // appended in about, not exactly, done order
		if e.done > start && e.covers(index) {
			return true
		}
	}
	return false
}

func (h *mmHarness) event(e mmEvent) {
	e.done = h.tick()
	h.mu.Lock()
	delete(h.inflight, e.invoke)
	h.events = append(h.events, e)
	if e.kind != "sync" && e.err == nil {
		h.stats.truncs++
	}
	h.mu.Unlock()
}

// reader reads with Read (NoCopy slices kept and touched later),
// AppendEntry and non-following iterators.
func (h *mmHarness) reader(w int, rng *rand.Rand, n int) {
	type kept struct {
		index, start uint64
		b            []byte
	}
	var ring []kept
	var buf []byte
	for i := 0; i < n*3 && !h.stop.Load(); i++ {
		h.readerGate.RLock()
		first, last, err := h.l.Bounds()
		if err != nil {
			h.violate("Bounds: %v", err)
		}
		if first > last+1 && !(first == 0) {
			h.violate("Bounds = [%d, %d]", first, last)
		}
		idx := first + rng.Uint64N(last-first+3) - 1
		switch rng.IntN(3) {
		case 0:
			h.beat(w, "Read")
			start := h.tick()
			b, err := h.l.Read(idx)
			if err != nil {
				h.readErr("Read", idx, err)
			} else {
				h.observe("Read", idx, b, start)
				ring = append(ring, kept{idx, start, b})
			}
		case 1:
			h.beat(w, "AppendEntry")
			start := h.tick()
			buf, err = h.l.AppendEntry(buf[:0], idx)
			if err != nil {
				h.readErr("AppendEntry", idx, err)
			} else {
				h.observe("AppendEntry", idx, buf, start)
			}
		case 2:
			h.beat(w, "Iter")
			it := h.l.Iter(idx, nil)
			for range 1 + rng.IntN(20) {
				start := h.tick()
				j, b, err := it.Next(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					h.readErr("Iter", j, err)
					break
				}
				h.observe("Iter", j, b, start)
			}
		}
		h.readerGate.RUnlock()
		// Touch NoCopy slices some operations after they were returned,
		// unless a truncation or Reset since may have removed their entry
		// (which ends the slice's lifetime, Options.NoCopy).
		if len(ring) > 8 {
			k := ring[0]
			ring = ring[1:]
			switch {
			case h.mayHaveRemoved(k.index, k.start):
				h.mu.Lock()
				h.stats.sliceSkipped++
				h.mu.Unlock()
			default:
				// A truncation may begin after the check: decodeNoCopy.
				_, ok, err := h.decodeNoCopy(k.index, k.start, k.b)
				if err != nil {
					h.violate("NoCopy slice of index %d changed after it was returned: %v", k.index, err)
				}
				if ok {
					h.mu.Lock()
					h.stats.sliceTouched++
					h.mu.Unlock()
				}
			}
		}
		h.mu.Lock()
		h.stats.ops++
		h.mu.Unlock()
	}
}

// truncator cuts the log at both ends (across sealed segments), resets it
// now and then, and syncs.
func (h *mmHarness) truncator(w int, rng *rand.Rand, n int) {
	for i := 0; i < n && !h.stop.Load(); i++ {
		first, last, _ := h.l.Bounds()
		if first == 0 {
			first = 1
		}
		var e mmEvent
		var err error
		h.writerGate.RLock() // truncations seal the tail too (knownDefect4)
		switch r := rng.IntN(20); {
		case r < 8:
			e = mmEvent{kind: "back", k: max(first, last-min(last, uint64(rng.IntN(25))))}
			if rng.IntN(4) == 0 {
				e.k = h.insideSealed(rng, first, e.k) // re-cut an older segment
			}
			h.beat(w, fmt.Sprintf("TruncateBack(%d)", e.k))
			h.truncBackInFlight.Add(1)
			e.invoke = h.tick()
			h.begin(e)
			err = h.l.TruncateBack(e.k)
			h.truncBackInFlight.Add(-1)
		case r < 16:
			e = mmEvent{kind: "front", k: first + uint64(rng.IntN(10))}
			h.beat(w, fmt.Sprintf("TruncateFront(%d)", e.k))
			e.invoke = h.tick()
			h.begin(e)
			err = h.l.TruncateFront(e.k)
		case r < 17:
			e = mmEvent{kind: "reset", k: last + 1 + uint64(rng.IntN(3))}
			if rng.IntN(2) == 0 {
				e.k = max(1, first/2)
			}
			h.beat(w, fmt.Sprintf("Reset(%d)", e.k))
			e.invoke = h.tick()
			h.begin(e)
			err = h.l.Reset(e.k)
		default:
			e = mmEvent{kind: "sync"}
			h.beat(w, "Sync")
			e.invoke = h.tick()
			err = h.l.Sync()
		}
		h.writerGate.RUnlock()
		e.err = err
		h.end(e, !usageError(err))
		h.mutating(e.kind, e.invoke, err)
		h.mu.Lock()
		h.stats.ops++
		h.mu.Unlock()
	}
}

// insideSealed returns an index inside a random sealed segment of the log,
// at least first, or def if there is none.
func (h *mmHarness) insideSealed(rng *rand.Rand, first, def uint64) uint64 {
	if knownDefect5SegmentsRace {
		h.readerGate.Lock()
		defer h.readerGate.Unlock()
	}
	segs := h.l.Segments()
	if len(segs) < 2 {
		return def
	}
	s := segs[rng.IntN(len(segs)-1)]
	if s.LastIndex < s.FirstIndex || s.LastIndex < first {
		return def
	}
	lo := max(s.FirstIndex, first)
	return lo + rng.Uint64N(s.LastIndex-lo+1)
}

// inspector runs Segments, Verify (with a callback that calls back into
// the log) and the bound queries.
func (h *mmHarness) inspector(w int, rng *rand.Rand, n int) {
	for i := 0; i < n && !h.stop.Load(); i++ {
		switch rng.IntN(3) {
		case 0:
			h.beat(w, "Segments")
			if knownDefect5SegmentsRace { // exclude every lazy opener: readers and Verify
				h.writerGate.Lock()
				h.readerGate.Lock()
			}
			segs := h.l.Segments()
			if knownDefect5SegmentsRace {
				h.readerGate.Unlock()
				h.writerGate.Unlock()
			}
			for j := 1; j < len(segs); j++ {
				if segs[j].FirstIndex != segs[j-1].LastIndex+1 || segs[j].Seq <= segs[j-1].Seq {
					h.violate("Segments not contiguous: %+v then %+v", segs[j-1], segs[j])
				}
			}
		case 1:
			h.beat(w, "Verify")
			if knownDefect4VerifyLive {
				h.writerGate.Lock()
			}
			err := h.l.Verify(func(done, total int64) {
				if !knownDefect2VerifyCallback {
					h.l.LastIndex()
					h.l.Segments()
				}
			})
			if knownDefect4VerifyLive {
				h.writerGate.Unlock()
			}
			switch {
			case err == nil, errors.Is(err, ErrClosed), h.injected(err):
			case verifyTolerated(err, h.inj.errno):
				h.mu.Lock()
				h.stats.verifyTolerated++
				h.mu.Unlock()
			default:
				h.violate("Verify on an undamaged log: %v", err)
			}
		case 2:
			h.beat(w, "FirstIndex/LastIndex")
			f, err1 := h.l.FirstIndex()
			la, err2 := h.l.LastIndex()
			if err := errors.Join(err1, err2); err != nil {
				h.violate("FirstIndex/LastIndex: %v", err)
			}
			_ = f
			_ = la
		}
		h.mu.Lock()
		h.stats.ops++
		h.mu.Unlock()
	}
}

// follower iterates with Follow until the run stops.
func (h *mmHarness) follower(w int) {
	it := h.l.Iter(0, &IterOptions{Follow: true})
	for !h.stop.Load() {
		h.beat(w, "Iter Follow")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		start := h.tick()
		h.readerGate.RLock()
		j, b, err := it.Next(ctx)
		h.readerGate.RUnlock()
		cancel()
		switch {
		case err == nil:
			h.observe("Iter(Follow)", j, b, start)
		case errors.Is(err, context.DeadlineExceeded):
		case errors.Is(err, ErrNotFound):
			it.Seek(0) // truncated below us
		default:
			h.readErr("Iter(Follow)", j, err)
		}
	}
}

// readOnly opens the log read-only beside the writer and refreshes it.
// Its reads may fail while racing the writer (OpenReadOnly's doc), but any
// payload it serves must be right as of its last Refresh.
func (h *mmHarness) readOnly(w int, rng *rand.Rand) {
	h.beat(w, "OpenReadOnly")
	start := h.tick()
	ro, err := OpenReadOnly(h.dir, &Options{FS: h.raw, SegmentSize: 1 << 10})
	if err != nil {
		return // racing the writer's own changes; not checked
	}
	defer ro.Close()
	for !h.stop.Load() {
		first, last, _ := ro.Bounds()
		for range 4 {
			idx := first + rng.Uint64N(last-first+2)
			h.beat(w, "read-only Read")
			if b, err := ro.Read(idx); err == nil {
				h.observe("read-only Read", idx, b, start)
			}
		}
		h.beat(w, "Refresh")
		s := h.tick()
		if ro.Refresh() == nil {
			start = s
		}
	}
}

// finalChecks checks the observations against the model, then the live
// log, then a reopen.
func (h *mmHarness) finalChecks() {
	h.mu.Lock()
	for _, o := range h.obs {
		h.checkObs(o)
	}
	h.mu.Unlock()
	failed := h.failed.Load() != 0
	h.checkLog(h.l, "live log", failed)
	err := h.l.Close()
	if err != nil && !(failed && errors.Is(err, ErrFailed)) {
		h.violate("Close: %v (failed=%v)", err, failed)
	}
	o := h.opts
	o.FS = h.raw
	l, err := Open(h.dir, &o)
	if err != nil {
		h.violate("reopen without faults: %v", err)
		return
	}
	defer l.Close()
	// A clean Close made everything acknowledged durable.
	h.checkLog(l, "reopened log", failed)
	if err := l.Verify(nil); err != nil && !verifyTolerated(err, 0) {
		h.violate("Verify after reopen: %v", err)
	}
}

// checkObs checks one observation against the final model.
// REQUIRES: h.mu held.
func (h *mmHarness) checkObs(o mmObs) {
	tk := h.tokens[o.token]
	switch tk.state {
	case tokRejected:
		h.violations = append(h.violations, fmt.Sprintf("%s: index %d served token %d whose write was rejected", o.who, o.index, o.token))
		return
	case tokAcked:
		if tk.index != o.index {
			h.violations = append(h.violations, fmt.Sprintf("%s: index %d served token %d acknowledged at index %d", o.who, o.index, o.token, tk.index))
			return
		}
	default:
		return // failed or in flight: may be anywhere its write could put it
	}
	for _, e := range h.events {
		if e.err == nil && e.kind != "sync" && e.invoke > tk.ack && e.covers(o.index) && o.start > e.done {
			h.violations = append(h.violations, fmt.Sprintf("%s: index %d served token %d (acked at clock %d) after %s(%d) [clock %d-%d] removed it; read started at %d",
				o.who, o.index, o.token, tk.ack, e.kind, e.k, e.invoke, e.done, o.start))
			return
		}
	}
}

// checkLog reads the whole log: every entry must be a right payload per
// the model, and every entry certainly in the log must be there. When the
// log failed (or was reopened after failing) only entries known durable
// are certain.
func (h *mmHarness) checkLog(l *Log, what string, failed bool) {
	first, last, err := l.Bounds()
	if err != nil {
		h.violate("%s: Bounds: %v", what, err)
		return
	}
	if first == 0 {
		first = 1
	}
	start := h.tick()
	got := map[uint64]uint64{}
	var obs []mmObs
	for i := first; i <= last; i++ {
		b, err := l.Read(i)
		if err != nil {
			h.violate("%s: Read(%d) in [%d, %d]: %v", what, i, first, last, err)
			continue
		}
		tok, err := mmDecode(i, b)
		if err != nil {
			h.violate("%s: %v", what, err)
			continue
		}
		got[i] = tok
		obs = append(obs, mmObs{index: i, token: tok, start: start, who: what})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, o := range obs {
		if h.tokens[o.token] == nil {
			h.violations = append(h.violations, fmt.Sprintf("%s: index %d holds token %d that was never written", what, o.index, o.token))
			continue
		}
		h.checkObs(o)
	}
	for id, tk := range h.tokens {
		if tk.state != tokAcked || !h.certain(tk) {
			continue
		}
		if failed && !h.durable(tk) {
			continue
		}
		if tk.index < first || tk.index > last || got[tk.index] != id {
			h.violations = append(h.violations, fmt.Sprintf("%s: acknowledged token %d at index %d is missing (log [%d, %d] holds token %d there)",
				what, id, tk.index, first, last, got[tk.index]))
		}
	}
}

// certain reports whether no truncation or Reset (whatever its outcome)
// could have removed tk. REQUIRES: h.mu held.
func (h *mmHarness) certain(tk *mmToken) bool {
	for _, e := range h.events {
		if e.kind != "sync" && e.done > tk.invoke && e.covers(tk.index) {
			return false
		}
	}
	return true
}

// durable reports whether tk was acknowledged durable, or a successful
// durability point started after its acknowledgement. REQUIRES: h.mu held.
func (h *mmHarness) durable(tk *mmToken) bool {
	if tk.syncedWithAck {
		return true
	}
	for _, e := range h.events {
		if e.err == nil && e.invoke > tk.ack {
			return true
		}
	}
	return false
}

package walkv

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/waldb/wal"
)

// Group-commit gathering bounds (see durability).
const (
	// gatherQuiet ends a gathering when no client joined for this long.
	gatherQuiet = 100 * time.Microsecond
	// gatherMax bounds a gathering.
	gatherMax = time.Millisecond
)

// durability tracks which transactions are durable and makes them so.
//
// The log is opened with wal.SyncNever: a commit, made under DB.mu so that
// log order is apply order, only appends to the log's buffer. A client
// that must not be answered before its transaction is durable
// (appendfsync always) calls wait after releasing DB.mu.
//
// # Group commit
//
// Syncs run one at a time, in rounds. A round first gathers participants,
// then syncs (wal.Log.Sync), covering every transaction appended before
// the sync started, then wakes its participants, each exactly once. A
// client that calls wait joins the round that is gathering; if the round
// is already syncing, it waits for it if its transaction is covered, and
// otherwise joins the next round, which starts gathering as soon as the
// running one ends. A client that finds no round at all starts one and
// leads it itself (a lone client pays no goroutine switch); if others
// queued up meanwhile, it hands the following rounds to a background
// goroutine and returns to its client at once.
//
// Gathering is what keeps batches full. With a fixed set of clients that
// each wait for their reply before sending more (redis-benchmark, most
// applications), starting the next fsync the moment the last one ends
// splits the clients into two alternating halves: those just released
// come back while the next sync, holding the other half, already runs.
// So a round waits until as many clients have joined as were active in the
// previous round (those it released plus those already queued), but no
// longer than gatherQuiet after the last one joined and gatherMax in all.
// A lone client's round waits for nobody.
//
// Invariants: durable <= logged; every transaction with id <= logged has
// been appended to the log (logged is stored after the append returns,
// under DB.mu); every transaction with id <= durable is durable. mu
// guards the fields below it.
type durability struct {
	log     *wal.Log
	logged  atomic.Uint64
	durable atomic.Uint64
	syncs   atomic.Int64 // fsyncs requested by walkv (INFO)

	mu     sync.Mutex
	phase  roundPhase
	target uint64        // what the syncing round covers
	cur    chan struct{} // closed when the current round's sync ends
	curN   int           // clients waiting on cur
	next   chan struct{} // the round after a syncing one; nil if nobody waits
	nextN  int           // clients waiting on next
	lastN  int           // clients the last finished round released
	joined chan struct{} // (buffer 1) a client joined a gathering round
	err    error         // sticky: a failed sync fails every later wait
}

// roundPhase is the state of the current round.
type roundPhase uint8

const (
	idle      roundPhase = iota // no round
	gathering                   // cur is gathering participants
	syncing                     // cur's sync runs and covers up to target
)

// wait returns once transaction id is durable. REQUIRES: id <= logged.
func (d *durability) wait(id uint64) error {
	for id > d.durable.Load() {
		d.mu.Lock()
		switch {
		case id <= d.durable.Load():
			d.mu.Unlock()
		case d.err != nil:
			err := d.err
			d.mu.Unlock()
			return err
		case d.phase == gathering || (d.phase == syncing && d.target >= id):
			d.curN++
			ch := d.cur
			d.signalJoin()
			d.mu.Unlock()
			<-ch
		case d.phase == syncing:
			if d.next == nil {
				d.next = make(chan struct{})
			}
			d.nextN++
			ch := d.next
			d.mu.Unlock()
			<-ch
		default: // idle: lead a round
			d.phase, d.cur, d.curN = gathering, make(chan struct{}), 1
			goal := d.lastN
			d.mu.Unlock()
			if d.round(goal) {
				go d.lead()
			}
		}
	}
	return nil
}

// signalJoin wakes a gathering leader. REQUIRES: mu held.
func (d *durability) signalJoin() {
	if d.joined == nil {
		return
	}
	select {
	case d.joined <- struct{}{}:
	default:
	}
}

// lead runs rounds back to back while anyone waits for another.
func (d *durability) lead() {
	for {
		d.mu.Lock()
		goal := d.lastN + d.curN
		d.mu.Unlock()
		if !d.round(goal) {
			return
		}
	}
}

// round gathers up to goal participants for the current round, syncs, and
// wakes them. It reports whether another round is wanted; the next round
// is then already gathering and the caller must run it.
// REQUIRES: phase == gathering, mu not held.
func (d *durability) round(goal int) (more bool) {
	d.gather(goal)
	d.mu.Lock()
	d.phase, d.target = syncing, d.logged.Load() // all of it is in the log already
	d.mu.Unlock()
	d.syncs.Add(1)
	err := d.log.Sync()
	if err == nil {
		d.advance(d.target)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil && d.err == nil {
		d.err = err
	}
	close(d.cur)
	d.lastN = d.curN
	if d.next == nil || d.err != nil {
		if d.next != nil {
			close(d.next)
		}
		d.phase, d.cur, d.curN, d.next, d.nextN = idle, nil, 0, nil, 0
		return false
	}
	d.phase, d.cur, d.curN, d.next, d.nextN = gathering, d.next, d.nextN, nil, 0
	return true
}

// gather waits until the gathering round has goal participants, or no one
// joined for gatherQuiet, or gatherMax passed.
func (d *durability) gather(goal int) {
	d.mu.Lock()
	if d.curN >= goal {
		d.mu.Unlock()
		return
	}
	joined := make(chan struct{}, 1)
	d.joined = joined
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.joined = nil
		d.mu.Unlock()
	}()
	quiet := time.NewTimer(gatherQuiet)
	defer quiet.Stop()
	deadline := time.Now().Add(gatherMax)
	for {
		select {
		case <-joined:
		case <-quiet.C:
			return
		}
		d.mu.Lock()
		n := d.curN
		d.mu.Unlock()
		if n >= goal || time.Now().After(deadline) {
			return
		}
		quiet.Reset(gatherQuiet)
	}
}

// advance raises durable to at least to.
func (d *durability) advance(to uint64) {
	for {
		cur := d.durable.Load()
		if cur >= to || d.durable.CompareAndSwap(cur, to) {
			return
		}
	}
}

// syncAll makes every transaction appended so far durable.
func (d *durability) syncAll() error { return d.wait(d.logged.Load()) }

// everysec syncs once a second while the policy is everysec, until stop
// is closed. A failure makes the DB fail-stop.
func (db *DB) everysec(stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if db.Fsync() != FsyncEverysec {
			continue
		}
		if err := db.dur.syncAll(); err != nil {
			db.fail(err)
		}
	}
}

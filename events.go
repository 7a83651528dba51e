package wal

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// EventListener receives what the log does, for metrics and logs (package
// walprom adapts it to Prometheus). Every field is optional; a nil field
// costs nothing. The callbacks run synchronously on the log's goroutines,
// some while the log's mutex is held: they must be fast, must not block,
// and must not call the Log. The Info values they receive are theirs.
type EventListener struct {
	// WriteEnd is called after each write of buffered entries to the tail
	// segment (one write syscall): under SyncAlways each is a group
	// commit, whose Entries are the entries of every writer it covers.
	// Writes of the log's own markers alone (sync and close markers) have
	// Entries 0.
	WriteEnd func(WriteInfo)
	// SyncEnd is called after each fdatasync of the tail segment.
	SyncEnd func(SyncInfo)
	// SyncStall is called, from a timer goroutine, while an fdatasync of
	// the tail has been running for longer than Options.SlowSyncThreshold,
	// and again after every further threshold until it returns: a hung
	// disk is reported while it hangs.
	SyncStall func(StallInfo)
	// SegmentSealed is called when a full tail segment has been sealed
	// and the log moves to a new one (a rotation).
	SegmentSealed func(SegmentInfo)
	// Truncated is called after each TruncateFront, TruncateBack and
	// Reset, successful or not.
	Truncated func(TruncateInfo)
	// Recovered is called at the end of a successful Open with its report.
	Recovered func(Report)
	// Failed is called once, when a write or fsync failure makes the log
	// fail-stop (ErrFailed); err is the cause.
	Failed func(err error)
}

// WriteInfo describes one write of buffered bytes to the tail segment.
type WriteInfo struct {
	Segment  string        // the segment file's name
	Bytes    int           // bytes written: records, headers and markers
	Entries  int           // entries among them
	Duration time.Duration // of the write syscall
	Err      error         // non-nil if the write failed
}

// SyncInfo describes one fdatasync of the tail segment.
type SyncInfo struct {
	Segment  string
	Duration time.Duration
	Err      error
}

// StallInfo describes an fdatasync still running.
type StallInfo struct {
	Segment string
	Elapsed time.Duration // since the fdatasync started
}

// TruncateInfo describes a truncation.
type TruncateInfo struct {
	Op    string // "front" (TruncateFront), "back" (TruncateBack) or "reset"
	Index uint64 // the argument
	Err   error
}

// DefaultSlowSyncThreshold is Options.SlowSyncThreshold's default, the
// threshold at which etcd warns about a slow fdatasync.
const DefaultSlowSyncThreshold = time.Second

// events dispatches to the EventListener and the Logger. A nil *events
// (neither configured) does nothing; every method checks.
type events struct {
	el    *EventListener
	log   *slog.Logger
	stall *stallWatch // nil unless stalls are reported
}

func newEvents(o *Options) *events {
	if o.EventListener == nil && o.Logger == nil {
		return nil
	}
	e := &events{el: o.EventListener, log: o.Logger}
	if e.el == nil {
		e.el = &EventListener{}
	}
	if o.SlowSyncThreshold > 0 && (e.el.SyncStall != nil || e.log != nil) {
		e.stall = newStallWatch(o.SlowSyncThreshold, e.stalled)
	}
	return e
}

// timed reports whether writes and syncs are to be timed.
func (e *events) timed() bool {
	return e != nil && (e.el.WriteEnd != nil || e.el.SyncEnd != nil || e.stall != nil)
}

func (e *events) wrote(info WriteInfo) {
	if e != nil && e.el.WriteEnd != nil {
		e.el.WriteEnd(info)
	}
}

// syncStart arms the stall watch for an fdatasync of the segment named
// *segment (a pointer, so that arming allocates nothing).
func (e *events) syncStart(segment *string) {
	if e != nil && e.stall != nil {
		e.stall.start(segment)
	}
}

func (e *events) synced(info SyncInfo) {
	if e == nil {
		return
	}
	if e.stall != nil {
		e.stall.stop()
	}
	if e.el.SyncEnd != nil {
		e.el.SyncEnd(info)
	}
}

func (e *events) stalled(info StallInfo) {
	if e.log != nil {
		e.log.Warn("wal: fdatasync is slow and still running", "segment", info.Segment, "elapsed", info.Elapsed)
	}
	if e.el.SyncStall != nil {
		e.el.SyncStall(info)
	}
}

func (e *events) sealed(info SegmentInfo) {
	if e == nil {
		return
	}
	if e.el.SegmentSealed != nil {
		e.el.SegmentSealed(info)
	}
	if e.log != nil {
		e.log.Debug("wal: segment sealed", "segment", info.Name, "first", info.FirstIndex, "last", info.LastIndex)
	}
}

func (e *events) truncated(op string, index uint64, err error) {
	if e == nil {
		return
	}
	if e.el.Truncated != nil {
		e.el.Truncated(TruncateInfo{Op: op, Index: index, Err: err})
	}
	if e.log != nil {
		lvl := slog.LevelDebug
		if err != nil {
			lvl = slog.LevelWarn
		}
		e.log.Log(context.Background(), lvl, "wal: truncated", "op", op, "index", index, "err", err)
	}
}

func (e *events) recovered(dir string, r Report) {
	if e == nil {
		return
	}
	if e.el.Recovered != nil {
		e.el.Recovered(r)
	}
	if e.log != nil {
		lvl := slog.LevelInfo
		if r.State != RecoveryNew && r.State != RecoveryClean {
			lvl = slog.LevelWarn
		}
		e.log.Log(context.Background(), lvl, "wal: opened", "dir", dir, "state", r.State.String(),
			"first", r.FirstIndex, "last", r.LastIndex, "segments", r.Segments)
	}
}

func (e *events) failed(err error) {
	if e == nil {
		return
	}
	if e.el.Failed != nil {
		e.el.Failed(err)
	}
	if e.log != nil {
		e.log.Error("wal: log failed; writes refused until it is reopened", "err", err)
	}
}

// stallWatch reports an fdatasync that runs past a threshold while it
// runs: one timer, made once, armed at each fdatasync's start and stopped
// at its end (Reset and Stop do not allocate, so the write path stays
// allocation-free). Only one fdatasync of the tail runs at a time.
type stallWatch struct {
	threshold time.Duration
	report    func(StallInfo)
	timer     *time.Timer
	began     atomic.Int64 // UnixNano of the running fdatasync's start; 0 if none
	segment   atomic.Pointer[string]
}

func newStallWatch(threshold time.Duration, report func(StallInfo)) *stallWatch {
	w := &stallWatch{threshold: threshold, report: report}
	w.timer = time.AfterFunc(time.Hour, w.fire)
	w.timer.Stop()
	return w
}

func (w *stallWatch) start(segment *string) {
	w.segment.Store(segment)
	w.began.Store(time.Now().UnixNano())
	w.timer.Reset(w.threshold)
}

func (w *stallWatch) stop() {
	w.began.Store(0)
	w.timer.Stop()
}

// fire runs on the timer's goroutine. A timer that fires just as its
// fdatasync ends, or as the next one starts, finds began 0 or recent and
// reports nothing.
func (w *stallWatch) fire() {
	b := w.began.Load()
	if b == 0 {
		return
	}
	elapsed := time.Duration(time.Now().UnixNano() - b)
	if elapsed < w.threshold {
		return
	}
	w.report(StallInfo{Segment: *w.segment.Load(), Elapsed: elapsed})
	if w.began.Load() == b {
		w.timer.Reset(w.threshold) // still stalled: report again later
	}
}

// close stops the stall watch's timer for good (Close, a failed Open).
func (e *events) close() {
	if e != nil && e.stall != nil {
		e.stall.stop()
	}
}

package txn

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/waldb/wal"
)

// ApplyFunc receives one operation of a committed transaction during
// recovery. Key and Value are fresh copies read from the log (unless the
// log was opened with wal.Options.NoCopy, when they alias its memory); apply
// may keep them. A non-nil error stops recovery and is returned wrapped.
type ApplyFunc func(id uint64, op Op) error

// RecoverOptions configures Recover; nil means defaults.
type RecoverOptions struct {
	// MaxBuffer bounds, in bytes, the operations of unfinished
	// transactions held in memory during the scan. The operations of a
	// transaction that would exceed it are dropped from memory and read
	// back from the log when its Commit record is reached. Zero means
	// DefaultMaxBuffer; a negative value buffers nothing.
	MaxBuffer int
}

// DefaultMaxBuffer is RecoverOptions.MaxBuffer's default.
const DefaultMaxBuffer = 64 << 20

// opOverhead is the memory an Op costs beyond its key and value bytes, for
// the MaxBuffer accounting.
const opOverhead = 64

// Stats reports what Recover found.
type Stats struct {
	Committed  int // transactions replayed
	Ops        int // operations passed to apply
	Skipped    int // committed transactions at or below after, not replayed
	Aborted    int // aborted transactions above after
	Unfinished int // transactions above after with no Commit or Abort
	// MaxID is the largest transaction id in any record of the log; create
	// the next Writer with max(MaxID, checkpoint id).
	MaxID uint64
	// LastIndex is the index of the last log entry scanned (0 if the log
	// is empty).
	LastIndex uint64
}

// Recover replays the committed transactions in log whose ids are greater
// than after, in commit order, calling apply for each of their operations
// (see the package doc for the order and the checkpoint contract). It
// reads the log through an iterator and does not modify it. Errors wrap
// ErrCorrupt or ErrVersion for a bad record (naming its index), the log's
// own errors, or apply's.
func Recover(log *wal.Log, after uint64, apply ApplyFunc, opts *RecoverOptions) (Stats, error) {
	r := &recoverer{log: log, after: after, apply: apply, limit: DefaultMaxBuffer, open: map[uint64]*pending{}}
	if opts != nil && opts.MaxBuffer != 0 {
		r.limit = max(opts.MaxBuffer, 0)
	}
	err := r.scan()
	r.st.Unfinished = len(r.open)
	return r.st, err
}

// recoverer is the state of one Recover call.
type recoverer struct {
	log   *wal.Log
	after uint64
	apply ApplyFunc
	limit int // MaxBuffer
	used  int // bytes buffered in open transactions' ops
	open  map[uint64]*pending
	st    Stats
}

// pending is an open transaction above after seen during the scan.
//
// Invariant: runs covers exactly the indexes of the transaction's
// operation records seen so far, in order; unless spilled, ops holds those
// same operations.
type pending struct {
	runs    []span
	ops     []Op
	bytes   int // accounted size of ops
	spilled bool
}

// span is an inclusive range of log indexes.
type span struct{ from, to uint64 }

// scan reads every entry of the log once.
func (r *recoverer) scan() error {
	it := r.log.Iter(0, nil)
	for {
		idx, data, err := it.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("txn: recover: %w", err)
		}
		rec, err := Decode(data)
		if err != nil {
			return fmt.Errorf("txn: recover: log index %d: %w", idx, err)
		}
		r.st.LastIndex = idx
		r.st.MaxID = max(r.st.MaxID, rec.ID)
		if rec.ID <= r.after {
			if rec.Kind == KindCommit {
				r.st.Skipped++
			}
			continue
		}
		if err := r.step(idx, rec); err != nil {
			return err
		}
	}
}

// step advances the transaction rec belongs to.
func (r *recoverer) step(idx uint64, rec Record) error {
	p, ok := r.open[rec.ID]
	switch {
	case rec.Kind == KindBegin && ok:
		return fmt.Errorf("%w: log index %d: second begin of transaction %d", ErrCorrupt, idx, rec.ID)
	case rec.Kind == KindBegin:
		r.open[rec.ID] = &pending{}
	case !ok:
		return fmt.Errorf("%w: log index %d: %s of transaction %d, which has no open begin", ErrCorrupt, idx, rec.Kind, rec.ID)
	case rec.Kind.isOp():
		r.add(p, idx, rec)
	case rec.Kind == KindAbort:
		r.close(rec.ID, p)
		r.st.Aborted++
	default: // KindCommit
		r.close(rec.ID, p)
		return r.replay(rec.ID, p)
	}
	return nil
}

// add records an operation of p, buffering it while the budget allows.
func (r *recoverer) add(p *pending, idx uint64, rec Record) {
	if n := len(p.runs); n > 0 && p.runs[n-1].to+1 == idx {
		p.runs[n-1].to = idx
	} else {
		p.runs = append(p.runs, span{idx, idx})
	}
	if p.spilled {
		return
	}
	size := opOverhead + len(rec.Key) + len(rec.Value)
	if r.used+size > r.limit {
		r.used -= p.bytes
		p.ops, p.bytes, p.spilled = nil, 0, true
		return
	}
	p.ops = append(p.ops, Op{Kind: rec.Kind, Key: rec.Key, Value: rec.Value})
	p.bytes += size
	r.used += size
}

// close forgets the open transaction id.
func (r *recoverer) close(id uint64, p *pending) {
	delete(r.open, id)
	r.used -= p.bytes
}

// replay applies the operations of committed transaction id.
func (r *recoverer) replay(id uint64, p *pending) error {
	r.st.Committed++
	if !p.spilled {
		for _, op := range p.ops {
			if err := r.applyOne(id, op); err != nil {
				return err
			}
		}
		return nil
	}
	for _, s := range p.runs {
		for idx := s.from; idx <= s.to; idx++ {
			op, err := r.reread(id, idx)
			if err != nil {
				return err
			}
			if err := r.applyOne(id, op); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *recoverer) applyOne(id uint64, op Op) error {
	r.st.Ops++
	if err := r.apply(id, op); err != nil {
		return fmt.Errorf("txn: recover: applying transaction %d: %w", id, err)
	}
	return nil
}

// reread reads back operation record idx of transaction id.
func (r *recoverer) reread(id, idx uint64) (Op, error) {
	data, err := r.log.Read(idx)
	if err != nil {
		return Op{}, fmt.Errorf("txn: recover: rereading log index %d: %w", idx, err)
	}
	rec, err := Decode(data)
	if err != nil {
		return Op{}, fmt.Errorf("txn: recover: rereading log index %d: %w", idx, err)
	}
	if rec.ID != id || !rec.Kind.isOp() {
		return Op{}, fmt.Errorf("%w: log index %d changed during recovery", ErrCorrupt, idx)
	}
	return Op{Kind: rec.Kind, Key: rec.Key, Value: rec.Value}, nil
}

package raftlog

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
	wal "github.com/waldb/wal"
)

// FirstIndex returns the index of the first stored entry, or 0 if the
// store holds none (raft.LogStore). It takes no lock.
func (s *Store) FirstIndex() (uint64, error) {
	b := s.bounds.Load()
	if b.closed {
		return 0, ErrClosed
	}
	return b.first, nil
}

// LastIndex returns the index of the last stored entry, or 0 if the store
// holds none (raft.LogStore). It takes no lock.
func (s *Store) LastIndex() (uint64, error) {
	b := s.bounds.Load()
	if b.closed {
		return 0, ErrClosed
	}
	return b.last, nil
}

// IsMonotonic reports true: the store holds one contiguous run of indexes,
// so raft removes all entries after restoring a snapshot instead of leaving
// a gap (raft.MonotonicLogStore).
func (s *Store) IsMonotonic() bool { return true }

// GetLog reads the entry at index into out (raft.LogStore). It returns
// raft.ErrLogNotFound, unwrapped, if the store does not hold index: raft
// compares with == to decide to send a snapshot instead. It takes no lock
// of the store's; out.Data is a fresh copy that raft may keep.
func (s *Store) GetLog(index uint64, out *raft.Log) error {
	if b := s.recent.Load().get(index); b != nil {
		return s.decode(index, append([]byte(nil), b...), out) // out aliases what it decodes
	}
	b, err := s.log.Read(index)
	if errors.Is(err, wal.ErrNotFound) {
		return raft.ErrLogNotFound
	}
	if err != nil {
		return fmt.Errorf("raftlog: reading entry %d: %w", index, err)
	}
	return s.decode(index, b, out)
}

// decode decodes entry index's encoding b into out.
func (s *Store) decode(index uint64, b []byte, out *raft.Log) error {
	if err := DecodeLog(b, out); err != nil {
		return fmt.Errorf("raftlog: entry %d: %w", index, err)
	}
	if out.Index != index {
		return corruptf("entry %d carries index %d", index, out.Index)
	}
	return nil
}

// StoreLog stores one entry (raft.LogStore); see StoreLogs.
func (s *Store) StoreLog(l *raft.Log) error {
	return s.StoreLogs([]*raft.Log{l})
}

// StoreLogs stores entries with consecutive indexes (ErrNotContiguous
// otherwise) as one atomic, group-committed log write (raft.LogStore).
// Let first be logs[0].Index and [F, L] the stored range:
//
//   - first == L+1 (or the store is empty and its position is first): the
//     entries are appended.
//   - F < first <= L: entries from first on are replaced, as raft's log
//     matching requires: the log is cut after first-1 (TruncateBack), then
//     appended to.
//   - otherwise (first > L+1, first <= F, or an empty store positioned
//     elsewhere, as after raft installs a snapshot): the log cannot keep
//     the old entries next to a gap, so it is reset to start at first
//     (Reset), then appended to.
//
// Each step is crash-safe; a crash between the cut or reset and the write
// leaves the log cut or empty, never with the old entries above first.
// Under SyncAlways the call returns after the entries are durable.
func (s *Store) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	if err := s.checkBatch(logs); err != nil {
		return err
	}
	s.w.Lock()
	defer s.w.Unlock()
	defer s.publish()
	if err := s.makeWayFor(logs[0].Index); err != nil {
		return err
	}
	b := &s.w.batch
	b.Clear()
	var enc [][]byte // copies for the recent entries (b copies what it is given)
	if s.keepRecent {
		enc = make([][]byte, 0, len(logs))
	}
	for _, l := range logs {
		s.w.buf = AppendLog(s.w.buf[:0], l)
		b.Write(l.Index, s.w.buf)
		if s.keepRecent {
			enc = append(enc, bytes.Clone(s.w.buf))
		}
	}
	if err := s.log.WriteBatch(b); err != nil {
		s.recent.Store(nil)
		return fmt.Errorf("raftlog: storing entries [%d, %d]: %w", logs[0].Index, logs[len(logs)-1].Index, err)
	}
	if s.keepRecent {
		s.recent.Store(s.recent.Load().extend(logs[0].Index, enc))
	}
	return nil
}

// checkBatch checks, before anything changes, that logs carry consecutive
// indexes from at least 1 and that each fits the log's MaxEntrySize.
func (s *Store) checkBatch(logs []*raft.Log) error {
	for i, l := range logs {
		switch {
		case l == nil:
			return fmt.Errorf("%w: entry %d of the batch is nil", ErrNotContiguous, i)
		case l.Index == 0:
			return fmt.Errorf("%w: index 0", ErrNotContiguous)
		case i > 0 && l.Index != logs[i-1].Index+1:
			return fmt.Errorf("%w: index %d follows %d", ErrNotContiguous, l.Index, logs[i-1].Index)
		case EncodedLen(l) > s.maxEntry:
			return fmt.Errorf("raftlog: entry %d: %w: %d bytes encoded, limit %d", l.Index, wal.ErrTooLarge, EncodedLen(l), s.maxEntry)
		}
	}
	return nil
}

// makeWayFor cuts or resets the log so that the next write takes index
// first (see StoreLogs). REQUIRES: w held.
func (s *Store) makeWayFor(first uint64) error {
	f, l, err := s.logBounds()
	if err != nil {
		return err
	}
	if first == l+1 {
		return nil
	}
	s.recent.Store(nil) // before the log changes: GetLog must not see the old entries after
	switch {
	case !s.emptyBounds(f, l) && f < first && first <= l:
		return s.wrap(s.log.TruncateBack(first-1), "TruncateBack(%d) before storing entry %d", first-1, first)
	default:
		return s.wrap(s.log.Reset(first), "Reset(%d) before storing entry %d", first, first)
	}
}

// DeleteRange removes the entries with indexes in [min, max]
// (raft.LogStore). With [F, L] the stored range:
//
//   - nothing stored in [min, max]: nothing happens.
//   - min <= F and max >= L (everything; raft after restoring a snapshot):
//     the log is emptied keeping its position (Reset(L+1)); the next
//     StoreLogs may start at any index.
//   - min <= F (the head; raft's compaction after a snapshot):
//     TruncateFront(max+1).
//   - max >= L (the tail; raft removing a conflicting suffix):
//     TruncateBack(min-1).
//   - F < min and max < L: ErrGap; raft never asks for this.
//
// Each case is one crash-safe log operation that is durable when
// DeleteRange returns: after a crash the entries are either all still
// there or all gone, and entries removed from the tail never reappear.
func (s *Store) DeleteRange(min, max uint64) error {
	s.w.Lock()
	defer s.w.Unlock()
	defer s.publish()
	f, l, err := s.logBounds()
	if err != nil || s.emptyBounds(f, l) || min > max || max < f || min > l {
		return err
	}
	s.recent.Store(nil) // before the log changes: GetLog must not see the old entries after
	switch {
	case min <= f && max >= l:
		return s.wrap(s.log.Reset(l+1), "DeleteRange(%d, %d): Reset(%d)", min, max, l+1)
	case min <= f:
		return s.wrap(s.log.TruncateFront(max+1), "DeleteRange(%d, %d): TruncateFront(%d)", min, max, max+1)
	case max >= l:
		return s.wrap(s.log.TruncateBack(min-1), "DeleteRange(%d, %d): TruncateBack(%d)", min, max, min-1)
	}
	return fmt.Errorf("%w: DeleteRange(%d, %d) inside the stored range [%d, %d]", ErrGap, min, max, f, l)
}

// logBounds returns the log's first and last index as the wal reports them:
// while the log is empty, last is the index before the next write and
// first is last+1, or 0 if that is 1. REQUIRES: w held (so no writer
// changes them between the two calls).
func (s *Store) logBounds() (first, last uint64, err error) {
	if first, err = s.log.FirstIndex(); err != nil {
		return 0, 0, fmt.Errorf("raftlog: %w", err)
	}
	if last, err = s.log.LastIndex(); err != nil {
		return 0, 0, fmt.Errorf("raftlog: %w", err)
	}
	return first, last, nil
}

func (s *Store) emptyBounds(first, last uint64) bool { return first == 0 || last < first }

// publish stores the bounds FirstIndex and LastIndex report; if the log
// cannot tell them (it was closed) the old ones stay. REQUIRES: w held, or
// no other goroutine has the store yet.
func (s *Store) publish() {
	f, l, err := s.logBounds()
	if err != nil {
		return
	}
	if s.emptyBounds(f, l) {
		f, l = 0, 0
	}
	s.bounds.Store(&bounds{first: f, last: l})
}

// wrap adds context to a log operation's error, or returns nil.
func (s *Store) wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("raftlog: "+format+": %w", append(args, err)...)
}

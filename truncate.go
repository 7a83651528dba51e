package wal

import (
	"fmt"
)

// TruncateFront removes every entry before index, which becomes the first.
// Sealed segments wholly below it are deleted from disk; the new first
// index is recorded durably in the META file first, so a crash part way
// leaves either the old or the new log. TruncateFront(LastIndex()+1)
// empties the log and keeps its position: the next write takes that index.
// Like every truncation it makes all earlier entries durable, even when
// there is nothing to cut.
func (l *Log) TruncateFront(index uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.exclusively(func() error { return l.truncateFront(index) })
	l.ev.truncated("front", index, err)
	return err
}

func (l *Log) truncateFront(index uint64) error {
	if err := l.writable(0); err != nil {
		return err
	}
	if index < l.first || index > l.last+1 {
		return fmt.Errorf("%w: TruncateFront(%d) outside [%d, %d]", ErrOutOfRange, index, l.first, l.last+1)
	}
	if index == l.first {
		return l.syncAll() // nothing to cut, but still a durability point
	}
	if index == l.last+1 {
		return l.reset(index)
	}
	// META may name only a first index whose entries are durable.
	if err := l.syncAll(); err != nil {
		return err
	}
	m := l.meta
	m.front, m.frontSeq = index, l.maxSeq()
	if err := l.writeMeta(m); err != nil {
		return err
	}
	l.first = index
	var dead []*segment
	for len(l.sealed) > 0 && l.sealed[0].last() < index && (l.tail != nil || len(l.sealed) > 1) {
		dead = append(dead, l.sealed[0])
		l.sealed = l.sealed[1:]
	}
	l.publish()
	return l.removeSegments(dead)
}

// Reset removes every entry and makes index the next one written: the
// log reports FirstIndex() == index and LastIndex() == index-1 (raft after
// installing a snapshot); FirstIndex reports 0 if index is 1, as for a
// new log. It writes a reset segment that supersedes all
// older segments, then deletes them; a crash part way leaves the old log or
// the empty one. If a deletion fails, the log fails (ErrFailed) before any
// newer segment exists, and reopening it completes the reset.
func (l *Log) Reset(index uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.exclusively(func() error { return l.resetChecked(index) })
	l.ev.truncated("reset", index, err)
	return err
}

func (l *Log) resetChecked(index uint64) error {
	if err := l.writable(0); err != nil {
		return err
	}
	if index == 0 {
		return fmt.Errorf("%w: Reset(0): indexes start at 1", ErrOutOfRange)
	}
	return l.reset(index)
}

// reset implements Reset. REQUIRES: mu held; exclusive.
func (l *Log) reset(index uint64) error {
	if err := l.syncAll(); err != nil {
		return err
	}
	dead := append([]*segment(nil), l.sealed...)
	if l.tail != nil {
		dead = append(dead, l.tail)
	}
	first, last, seq := l.first, l.last, l.nextSeq()
	l.first, l.last = index, index-1
	if err := l.newTail(seq, flagReset); err != nil {
		l.first, l.last = first, last
		return err
	}
	l.sealed, l.meta, l.synIdx = nil, metaRecord{}, l.last
	l.noteBack(index - 1)
	l.publish()
	if err := l.removeSegments(dead); err != nil {
		// Older segments may remain. No segment may follow the reset one
		// until they are gone: Open looks for reset segments only first
		// and last (lazyEnd). Reopening completes the reset.
		l.fail(err)
		return l.err
	}
	return nil
}

// TruncateBack removes every entry after index, which becomes the last.
// The cut is recorded in META before any file changes, so entries above
// index never reappear, even after a crash in the middle; the segment
// holding index is then cut and sealed, later segments are deleted, and
// writing continues in a new segment.
func (l *Log) TruncateBack(index uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.exclusively(func() error { return l.truncateBack(index) })
	l.ev.truncated("back", index, err)
	return err
}

func (l *Log) truncateBack(index uint64) error {
	if err := l.writable(0); err != nil {
		return err
	}
	if index < l.first || index > l.last {
		return fmt.Errorf("%w: TruncateBack(%d) outside [%d, %d]", ErrOutOfRange, index, l.first, l.last)
	}
	if index == l.last {
		return l.syncAll() // nothing to cut, but still a durability point
	}
	if err := l.syncAll(); err != nil {
		return err
	}
	seq := l.maxSeq()
	m := l.meta
	m.back, m.backSeq = index, seq
	if m.front < l.first {
		m.front, m.frontSeq = l.first, seq
	}
	if err := l.writeMeta(m); err != nil {
		return err
	}
	if err := l.cutBack(index); err != nil {
		l.fail(err)
		return l.err
	}
	l.last, l.synIdx = index, index
	l.noteBack(index)
	// The truncation is durable now. If the new tail cannot be created (a
	// full disk), the next write retries and reports that error.
	_ = l.newTail(seq+1, 0)
	return nil
}

// cutBack physically removes entries after index, once META records the
// cut: the segment holding index is cut and sealed, later ones deleted.
// REQUIRES: mu held; everything synced.
func (l *Log) cutBack(index uint64) error {
	if l.tail != nil && index >= l.tail.first {
		k := index - l.tail.first + 1
		t := l.tail
		if err := l.sealSegment(t, l.tailOffs[:k], int64(l.tailOffs[k])); err != nil {
			return err
		}
		l.sealed, l.tail = append(l.sealed, t), nil
		l.publish()
		return nil
	}
	j := 0
	for j < len(l.sealed)-1 && l.sealed[j].last() < index {
		j++
	}
	old := l.sealed[j]
	dead := append([]*segment(nil), l.sealed[j+1:]...)
	if l.tail != nil {
		dead = append(dead, l.tail)
	}
	l.sealed, l.tail = l.sealed[:j], nil
	l.publish()
	s, err := l.recut(old, index)
	if err != nil {
		return err
	}
	l.sealed = append(l.sealed, s)
	l.publish()
	return l.removeSegments(dead)
}

// recut replaces sealed segment old by a copy cut after index: it waits
// for readers of old's memory map to finish (truncating a mapped file
// under a reader would fault), then truncates and reseals the file.
// REQUIRES: mu held; old no longer published.
func (l *Log) recut(old *segment, index uint64) (*segment, error) {
	k := index - old.first + 1
	offs, err := old.offsets(k)
	if err != nil {
		return nil, err
	}
	cut := old.indexOff // index is old's last entry: keep all its records
	if k < old.count {
		if cut, _, err = old.recordBounds(index + 1); err != nil {
			return nil, err
		}
	}
	f, err := l.fs.OpenReadWrite(old.path)
	if err != nil {
		return nil, fmt.Errorf("wal: reopening %s: %w", old.name, err)
	}
	s := newSegment(f, l.dir, old.name, segHeader{flags: old.flags, seq: old.seq, first: old.first})
	old.retire()
	<-old.gone
	if err := l.sealSegment(s, offs, cut); err != nil {
		s.retire()
		return nil, err
	}
	return s, nil
}

// removeSegments retires and deletes segments, then fsyncs the directory
// so they cannot reappear. A failure leaves files that recovery removes.
// REQUIRES: mu held.
func (l *Log) removeSegments(dead []*segment) error {
	if len(dead) == 0 {
		return nil
	}
	for _, s := range dead {
		s.retire()
		if err := l.fs.Remove(s.path); err != nil {
			return fmt.Errorf("wal: removing %s: %w", s.name, err)
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("wal: syncing directory after removing segments: %w", err)
	}
	return nil
}

// writeMeta replaces META atomically: temp file, fsync, rename, fsync of
// the directory. A failure after the rename leaves the outcome unknown, so
// it is sticky. REQUIRES: mu held.
func (l *Log) writeMeta(m metaRecord) error {
	tmp := joinPath(l.dir, metaName+tmpSuffix)
	f, err := l.fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("wal: creating %s: %w", tmp, err)
	}
	_, err = f.WriteAt(m.encode(), 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = l.fs.Rename(tmp, joinPath(l.dir, metaName))
	}
	if err != nil {
		_ = l.fs.Remove(tmp)
		return fmt.Errorf("wal: writing META: %w", err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		l.fail(fmt.Errorf("syncing directory after replacing META: %w", err))
		return l.err
	}
	l.meta = m
	return nil
}

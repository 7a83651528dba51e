package wal

import (
	"errors"
	"fmt"

	"github.com/waldb/wal/vfs"
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
		if l.err != nil {
			// The new META may be on disk: serve only what survives a
			// reopen either way.
			l.first = index
			l.publish()
		}
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
	if index == 0 || index > MaxIndex {
		return fmt.Errorf("%w: Reset(%d): indexes are in [1, %d]", ErrOutOfRange, index, MaxIndex)
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
	l.sealed, l.meta = nil, metaRecord{}
	l.setSynIdx(l.last)
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
//
// Cutting a sealed segment writes a cut copy of it (up to one segment's
// bytes) and renames it over the original, so readers and NoCopy slices
// of the old file are never disturbed; on a full disk that copy fails. An
// error wrapping ErrFailed after META was written means the cut has taken
// effect (LastIndex reports index, and a reopen agrees) but the log is
// fail-stopped; an error before that means nothing changed.
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
		if l.err != nil {
			// The new META may be on disk: from now on serve only what
			// survives a reopen either way.
			l.dropAfter(index)
			l.publish()
		}
		return err
	}
	err := l.cutBack(index)
	// META records the cut: whatever cutBack did, entries above index are
	// void and never served again, and those up to index stay readable
	// from the segments that still hold them.
	l.dropAfter(index)
	if err != nil {
		l.fail(err)
		l.publish()
		return l.err
	}
	// The truncation is durable now. If the new tail cannot be created (a
	// full disk), the next write retries and reports that error.
	_ = l.newTail(seq+1, 0)
	return nil
}

// dropAfter makes index the last entry in memory, as META's cut says,
// whether or not the segments were cut yet. REQUIRES: mu held.
func (l *Log) dropAfter(index uint64) {
	l.last = index
	l.setSynIdx(index)
	if t := l.tail; t != nil && index < t.first+uint64(len(l.tailOffs)) {
		keep := uint64(0)
		if index >= t.first {
			keep = index - t.first + 1
		}
		l.tailOffs = l.tailOffs[:keep]
	}
	l.noteBack(index)
}

// cutBack physically removes entries after index, once META records the
// cut: the segment holding index is cut and sealed, later ones deleted.
// On failure the in-memory segments still hold every entry up to index.
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
	s, err := l.recut(old, index)
	if err != nil {
		return err
	}
	dead := append([]*segment(nil), l.sealed[j+1:]...)
	if l.tail != nil {
		dead = append(dead, l.tail)
	}
	l.sealed, l.tail = append(l.sealed[:j], s), nil
	l.publish()
	old.retire()
	return l.removeSegments(dead)
}

// recut writes a copy of sealed segment old cut after index, as a new
// file that replaces old's by rename, and returns it as a new segment.
// old's file and memory map are left alone: readers that pinned old
// finish undisturbed without the log waiting for them, and old's map
// lives on (see keep) while NoCopy slices of the entries kept may still
// use it. The copy costs at most one segment's bytes, and TruncateBack
// into a sealed segment is rare. A crash before the rename leaves old's
// file, which META's cut already voids beyond index.
// REQUIRES: mu held; index in old.
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
	tmp := l.tmpName()
	f, err := l.fs.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("wal: creating %s to cut %s: %w", tmp, old.name, err)
	}
	s := newSegment(renamed(f, tmp, old.path), l.dir, old.name, segHeader{version: old.version, flags: old.flags, salt: old.salt, seq: old.seq, first: old.first})
	if err = copyRecords(old, f, cut); err == nil {
		err = l.sealSegment(s, offs, cut)
	}
	if err == nil {
		err = vfs.Replace(l.fs, l.dir, tmp, old.path)
	}
	if err != nil {
		s.retire()
		_ = l.fs.Remove(tmp) // gone already if the rename took effect
		return nil, fmt.Errorf("wal: cutting %s: %w", old.name, err)
	}
	if l.opts.NoCopy && old.data != nil && old.acquire() {
		s.keep = old
	}
	return s, nil
}

// copyRecords copies the bytes [0, end) of sealed segment src (header and
// records) to f.
func copyRecords(src *segment, f interface {
	WriteAt([]byte, int64) (int, error)
}, end int64) error {
	const chunk = 1 << 20
	for off := int64(0); off < end; off += chunk {
		n := min(chunk, end-off)
		b, err := src.slice(off, n)
		if err != nil {
			return fmt.Errorf("reading %s at %d: %w", src.name, off, err)
		}
		if _, err := f.WriteAt(b, off); err != nil {
			return fmt.Errorf("writing the copy at %d: %w", off, err)
		}
	}
	return nil
}

// removeSegments retires every dead segment (so its file and map are
// released once no reader pins it), then tries to delete each file and
// fsyncs the directory so the deletions cannot be undone by a crash. It
// returns every failure joined; a file left behind is removed by the next
// Open. REQUIRES: mu held.
func (l *Log) removeSegments(dead []*segment) error {
	if len(dead) == 0 {
		return nil
	}
	for _, s := range dead {
		s.retire()
	}
	var errs []error
	for _, s := range dead {
		if err := l.fs.Remove(s.path); err != nil {
			errs = append(errs, fmt.Errorf("wal: removing %s: %w", s.name, err))
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		errs = append(errs, fmt.Errorf("wal: syncing directory after removing segments: %w", err))
	}
	return errors.Join(errs...)
}

// writeMeta replaces META with vfs.WriteFileAtomic (temp file, fsync,
// rename, fsync of the directory). A failure before the rename changes
// nothing and is returned; a failed rename or directory fsync
// (vfs.ErrOutcomeUnknown) leaves the outcome unknown: the new META, and
// with it a cut the log in memory does not make, may be on disk (a rename
// can take effect and still report an error). So it fail-stops the log
// (ErrFailed), as a failed directory fsync does; a reopen finds which META
// won. REQUIRES: mu held.
func (l *Log) writeMeta(m metaRecord) error {
	if err := vfs.WriteFileAtomic(l.fs, l.dir, metaName, m.encode()); err != nil {
		if errors.Is(err, vfs.ErrOutcomeUnknown) {
			l.fail(fmt.Errorf("replacing META: %w", err))
			return l.err
		}
		return fmt.Errorf("wal: writing META: %w", err)
	}
	l.meta = m
	return nil
}

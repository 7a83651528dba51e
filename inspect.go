package wal

import (
	"errors"
	"fmt"
	"io"
)

// SegmentInfo describes one segment file.
type SegmentInfo struct {
	Name       string `json:"name"`
	Seq        uint64 `json:"seq"`
	FirstIndex uint64 `json:"firstIndex"` // index of the segment's first entry
	LastIndex  uint64 `json:"lastIndex"`  // FirstIndex-1 if the segment holds no entry
	Size       int64  `json:"size"`       // bytes of records (excluding preallocated space and the index block)
	Sealed     bool   `json:"sealed"`     // has an index block and trailer (read-only logs: complete and not the last)
	Reset      bool   `json:"reset"`      // a reset segment
}

// Segments describes the log's segment files, oldest first.
func (l *Log) Segments() []SegmentInfo {
	out, closed := l.segmentInfos()
	for i, s := range closed {
		out[i].Size = l.closedRecordBytes(s)
	}
	return out
}

// segmentInfos describes the segments under mu. closed maps a position in
// out to a segment not opened yet, whose size Segments finds after the
// unlock.
func (l *Log) segmentInfos() (out []SegmentInfo, closed map[int]*segment) {
	l.mu.Lock()
	defer l.mu.Unlock()
	closed = map[int]*segment{}
	for _, s := range l.sealed {
		var size int64
		if s.lazy != nil && !s.lazy.done.Load() {
			// Not open: a Read may be opening it and setting indexOff
			// right now (lazy.go), so indexOff is not read here.
			closed[len(out)] = s
		} else {
			size = s.indexOff
		}
		out = append(out, SegmentInfo{Name: s.name, Seq: s.seq, FirstIndex: s.first, LastIndex: s.last(),
			Size: size, Sealed: s.heapOffs == nil, Reset: s.flags&flagReset != 0})
	}
	if t := l.tail; t != nil {
		out = append(out, SegmentInfo{Name: t.name, Seq: t.seq, FirstIndex: t.first,
			LastIndex: t.first + uint64(len(l.tailOffs)) - 1, Size: l.lsn - l.tailBase, Reset: t.flags&flagReset != 0})
	}
	return out, closed
}

// closedRecordBytes is the size of the records of a sealed segment Open
// left closed (lazy.go), from its file's size without opening it: the
// index block and trailer take 4 bytes per entry plus 40. 0 if unknown.
func (l *Log) closedRecordBytes(s *segment) int64 {
	fi, err := l.fs.Stat(s.path)
	if err != nil {
		return 0
	}
	return max(fi.Size()-int64(4*s.count)-segTrailerSize, 0)
}

// Verify re-reads every record of every segment and checks its checksum,
// the index sequence, that batches are complete, and that each sealed
// segment's index block matches its records. progress, if not nil, is
// called after each chunk with the bytes verified so far and the total. It
// returns nil, or every problem found joined (errors.Join), each wrapping
// ErrCorrupt and naming the segment and offset. Entries still in the write
// buffer are not checked; Sync first to include them.
//
// Verify works on a live log: it checks the segments as they were when it
// started, holding none of the log's locks while it reads, and pins one
// segment at a time, so writers, readers and truncations proceed meanwhile
// and nothing waits for Verify. Entries that a truncation or Reset removes
// while Verify runs are not checked, and their segments are skipped.
// progress is called with no lock held: it may call any method of the
// log, including writes, truncations and Close (Verify then skips the
// segments left and returns ErrClosed).
func (l *Log) Verify(progress func(done, total int64)) error {
	targets, err := l.verifyTargets()
	if err != nil {
		return err
	}
	// Segments Open left closed are opened here, without the log's mutex;
	// those that fail to open are problems (unless a truncation removed
	// them meanwhile), and are not scanned.
	var problems []error
	var total, done int64
	for i := range targets {
		v := &targets[i]
		if v.end >= 0 {
			total += v.end - segHeaderSize
			continue
		}
		if !v.s.acquire() {
			continue // retired: removed by a truncation meanwhile
		}
		err := v.s.ready()
		if err == nil {
			v.end = v.s.indexOff
			total += v.end - segHeaderSize
		}
		v.s.release()
		if err != nil && l.stillVerifying(v) {
			problems = append(problems, err)
		}
	}
	for i := range targets {
		v := &targets[i]
		if v.end < 0 || !v.s.acquire() {
			continue
		}
		err := verifySegment(v, &done, total, progress)
		v.s.release()
		if err != nil && l.stillVerifying(v) {
			problems = append(problems, err)
		}
	}
	if l.isClosed() {
		return ErrClosed // closed meanwhile: segments were skipped
	}
	return errors.Join(problems...)
}

func (l *Log) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// verifyTarget is one segment Verify checks, as it was when Verify began.
type verifyTarget struct {
	s      *segment
	sealed bool   // s was sealed: it has an index block of count entries
	count  uint64 // entries in s's index block if sealed
	// end is where s's records end: for the tail, what had been written
	// to it; -1 for a sealed segment, whose indexOff is known once open.
	end int64
	gen uint64 // the log's backGen when the target was taken
}

// verifyTargets lists the segments and their state under mu, so that
// Verify never reads state that rotation or truncation changes (a tail
// being sealed). It pins nothing.
func (l *Log) verifyTargets() ([]verifyTarget, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	var out []verifyTarget
	for _, s := range l.sealed {
		out = append(out, verifyTarget{s: s, sealed: s.sealed, count: s.count, end: -1, gen: l.backGen})
	}
	if t := l.tail; t != nil {
		out = append(out, verifyTarget{s: t, end: l.written - l.tailBase, gen: l.backGen})
	}
	return out, nil
}

// stillVerifying reports whether a problem Verify found in v is real:
// false if a truncation, Reset or Close since Verify began removed the
// segment, or may have rewritten the bytes it read. Only the tail is ever
// rewritten in place (TruncateBack cuts and seals it); a sealed segment is
// replaced by a new file, and the old one retired (recut).
func (l *Log) stillVerifying(v *verifyTarget) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.closed && !v.s.retired.Load() && (v.sealed || l.backGen == v.gen)
}

// verifySegment checks one segment's records in [header, v.end).
// REQUIRES: v.s pinned.
// It reads through the scanner recovery uses (segScanner), so Verify judges
// records by the same rules as Open: CRC, index sequence, markers valid in
// the segment and never inside a batch. A sealed segment's last listed
// entry ends its batch, as the entry at META's back does for recovery: a
// TruncateBack inside a batch seals the segment after that entry, and Open
// serves the segment's entries by its index block, More records or not. A
// read error is reported as such, never as ErrCorrupt.
func verifySegment(v *verifyTarget, done *int64, total int64, progress func(int64, int64)) error {
	s, end := v.s, v.end
	limit := uint64(noLimit)
	if v.sealed && v.count > 0 {
		limit = s.first + v.count - 1
	}
	sc, err := newSegScanner(s, end, limit, 1<<20, 0)
	if err != nil {
		return verifyErr(s, 0, err)
	}
	var offs []uint32
	last := int64(segHeaderSize)
	for {
		off, h, _, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errBeyondLimit) {
			return corruptf("segment %s offset %d: entry %d is not in the index block (%d entries from %d)", s.name, off, h.Index, v.count, s.first)
		}
		if err != nil {
			return verifyErr(s, off, err)
		}
		if h.Type.IsEntry() {
			offs = append(offs, uint32(off))
		}
		if progress != nil && off-last >= 1<<20 {
			*done += off - last
			last = off
			progress(*done, total)
		}
	}
	*done += end - last
	if progress != nil {
		progress(*done, total)
	}
	if sc.pending > 0 && v.sealed {
		return corruptf("segment %s: sealed with an incomplete batch at its end", s.name)
	}
	return checkIndexBlock(v, offs)
}

// verifyErr is the error for err from segment s's scanner at offset off:
// ErrCorrupt if the bytes there break the format, else the read failure
// itself, wrapped (an I/O error says nothing about the bytes).
func verifyErr(s *segment, off int64, err error) error {
	if isFormatErr(err) {
		return corruptf("segment %s offset %d: %v", s.name, off, err)
	}
	return fmt.Errorf("wal: verifying segment %s offset %d: %w", s.name, off, err)
}

// checkIndexBlock compares a sealed segment's index with scanned offsets.
func checkIndexBlock(v *verifyTarget, offs []uint32) error {
	s := v.s
	if !v.sealed {
		return nil
	}
	if uint64(len(offs)) < v.count {
		return corruptf("segment %s: index block lists %d entries, records hold %d", s.name, v.count, len(offs))
	}
	want, err := s.offsets(v.count)
	if err != nil {
		return err
	}
	for i, o := range want {
		if o != offs[i] {
			return corruptf("segment %s: index block entry %d is offset %d, record is at %d", s.name, i, o, offs[i])
		}
	}
	return nil
}

package wal

import (
	"errors"
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
	l.mu.Lock()
	var out []SegmentInfo
	closed := map[int]*segment{} // position in out -> a segment not opened yet, sized after the unlock
	for _, s := range l.sealed {
		if s.lazy != nil && !s.lazy.done.Load() {
			closed[len(out)] = s
		}
		out = append(out, SegmentInfo{Name: s.name, Seq: s.seq, FirstIndex: s.first, LastIndex: s.last(),
			Size: s.indexOff, Sealed: s.heapOffs == nil, Reset: s.flags&flagReset != 0})
	}
	if t := l.tail; t != nil {
		out = append(out, SegmentInfo{Name: t.name, Seq: t.seq, FirstIndex: t.first,
			LastIndex: t.first + uint64(len(l.tailOffs)) - 1, Size: l.lsn - l.tailBase, Reset: t.flags&flagReset != 0})
	}
	l.mu.Unlock()
	for i, s := range closed {
		out[i].Size = l.closedRecordBytes(s)
	}
	return out
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
func (l *Log) Verify(progress func(done, total int64)) error {
	segs, ends, err := l.verifyTargets()
	if err != nil {
		return err
	}
	defer func() {
		for _, s := range segs {
			s.release()
		}
	}()
	// Segments Open left closed are opened here, without the log's mutex;
	// those that fail to open are problems (unless a truncation removed
	// them meanwhile), and are not scanned.
	var problems []error
	var total, done int64
	for i, s := range segs {
		if ends[i] < 0 {
			if err := s.ready(); err != nil {
				if !s.retired.Load() {
					problems = append(problems, err)
				}
				continue
			}
			ends[i] = s.indexOff
		}
		total += ends[i] - segHeaderSize
	}
	for i, s := range segs {
		if ends[i] < 0 {
			continue
		}
		if err := verifySegment(s, ends[i], &done, total, progress); err != nil {
			problems = append(problems, err)
		}
	}
	return errors.Join(problems...)
}

// verifyTargets pins the segments and where their records end: -1 for a
// sealed segment, whose indexOff is known once it is open.
func (l *Log) verifyTargets() (segs []*segment, ends []int64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, nil, ErrClosed
	}
	for _, s := range l.sealed {
		s.acquire()
		segs, ends = append(segs, s), append(ends, -1)
	}
	if t := l.tail; t != nil {
		t.acquire()
		segs, ends = append(segs, t), append(ends, l.written-l.tailBase)
	}
	return segs, ends, nil
}

// verifySegment checks one segment's records in [header, end), through
// the scanner recovery uses (segScanner), so Verify judges records by the
// same rules as Open: CRC, index sequence, markers valid in the segment and
// never inside a batch.
func verifySegment(s *segment, end int64, done *int64, total int64, progress func(int64, int64)) error {
	sc, err := newSegScanner(s, end, noLimit, 1<<20, 0)
	if err != nil {
		return corruptf("segment %s offset 0: %v", s.name, err)
	}
	var offs []uint32
	last := int64(segHeaderSize)
	for {
		off, h, _, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return corruptf("segment %s offset %d: %v", s.name, off, err)
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
	if sc.pending > 0 && s.sealed {
		return corruptf("segment %s: sealed with an incomplete batch at its end", s.name)
	}
	return checkIndexBlock(s, offs)
}

// checkIndexBlock compares a sealed segment's index with scanned offsets.
func checkIndexBlock(s *segment, offs []uint32) error {
	if !s.sealed {
		return nil
	}
	if uint64(len(offs)) < s.count {
		return corruptf("segment %s: index block lists %d entries, records hold %d", s.name, s.count, len(offs))
	}
	want, err := s.offsets(s.count)
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

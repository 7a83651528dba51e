package wal

import (
	"errors"
	"fmt"

	"github.com/waldb/wal/record"
)

// checkSegments validates the chain of segments: sealed ones by their
// trailers, unsealed ones by a scan. Only the last segment may be unsealed,
// except segments an interrupted TruncateBack left (seq <= META's backSeq),
// whose entries above the kept index are void.
func (r *opener) checkSegments() error {
	kept := r.segs[:0]
	for _, s := range r.segs {
		if lim := r.limit(s); lim != noLimit && s.first > lim {
			if err := r.dropSegment(s, "above an interrupted TruncateBack"); err != nil {
				return err
			}
			continue
		}
		kept = append(kept, s)
	}
	r.segs = kept
	if err := r.dropBelowMetaFront(); err != nil {
		return err
	}
	var expect uint64
	for i, s := range r.segs {
		if i > 0 && s.first != expect {
			return corruptf("segment %s starts at index %d, want %d (missing segment?)", s.name, s.first, expect)
		}
		if s.lazy != nil && i+1 < len(r.segs) && r.segs[i+1].first >= s.first {
			// Left closed; its count is what its successor's name implies,
			// and opening it checks that (lazy.go).
			s.sealed, s.count = true, r.segs[i+1].first-s.first
			s.lazy.want = s.count
			r.l.sealed = append(r.l.sealed, s)
			expect = s.first + s.count
			continue
		}
		if s.lazy != nil {
			// The drops above left it without a usable successor.
			var err error
			if s, err = r.openNow(s); err != nil {
				return err
			}
			r.segs[i] = s
		}
		count, err := r.checkSegment(s, i == len(r.segs)-1)
		if err != nil {
			return err
		}
		expect = s.first + count
	}
	return nil
}

// openNow opens a segment that loadSegments left closed, as it opens the
// others. It was sealed before the last two segments once, so an all-zero
// header there is corruption, not an unfinished creation.
func (r *opener) openNow(s *segment) (*segment, error) {
	of, err := r.openFile(s.name)
	if err != nil {
		return nil, err
	}
	return r.openSegment(of, s.name, s.seq, s.first, false)
}

// dropBelowMetaFront removes segments that hold only entries below META's
// first index, before contiguity is checked: TruncateFront records the
// first index durably, then deletes such segments with one directory fsync
// at the end, so a crash may leave any subset of them and thus a gap. A
// segment holds only entries below the next segment's first index, since
// indexes grow with sequence numbers (older ones were dropped by
// applyReset).
func (r *opener) dropBelowMetaFront() error {
	front := r.metaFront()
	k := 0
	for k+1 < len(r.segs) && r.segs[k+1].first <= front {
		k++
	}
	for _, s := range r.segs[:k] {
		if err := r.dropSegment(s, "below the first index"); err != nil {
			return err
		}
	}
	r.segs = r.segs[k:]
	return nil
}

// metaFront is META's first index if no newer reset segment supersedes
// it, else 0.
func (r *opener) metaFront() uint64 {
	if m := r.l.meta; r.hasMeta && m.frontSeq >= r.resetSeq {
		return m.front
	}
	return 0
}

// limit is the last index segment s may hold, by META's TruncateBack record.
func (r *opener) limit(s *segment) uint64 {
	if m := r.l.meta; m.backSeq > 0 && s.seq <= m.backSeq {
		return m.back
	}
	return noLimit
}

// checkSegment validates one segment and returns its entry count. A sealed
// segment joins l.sealed; an unsealed last segment of the current format
// version becomes the tail; any other unsealed one is recovered and sealed.
func (r *opener) checkSegment(s *segment, isLast bool) (uint64, error) {
	l, lim := r.l, r.limit(s)
	sealed, err := r.trySealed(s, isLast, lim)
	if err != nil {
		return 0, err
	}
	if sealed {
		l.sealed = append(l.sealed, s)
		return s.count, nil
	}
	if !isLast && lim == noLimit {
		if rule := decide(tailInput{header: hdrValid, sealed: false}); rule.v == vCorrupt {
			return 0, corruptf("segment %s is not sealed (bad or missing trailer) but is not the last segment", s.name)
		}
	}
	res, err := r.recoverUnsealed(s, lim, isLast)
	if err != nil {
		return 0, err
	}
	if l.readOnly {
		s.sealHeap(res.offs, res.end, l.opts.NoMmap)
		l.sealed = append(l.sealed, s)
		return s.count, nil
	}
	if isLast && lim == noLimit && s.version == formatVersion {
		l.tail, l.tailOffs, l.lsn = s, res.offs, res.end
		return uint64(len(res.offs)), nil
	}
	if err := l.sealSegment(s, res.offs, res.end); err != nil {
		return 0, err
	}
	l.sealed = append(l.sealed, s)
	return s.count, nil
}

// trySealed reports whether s has a valid trailer, and seals it if so. The
// last segment's index block is verified too (its seal may have been torn
// by a crash). Entries above lim are cut, leaving s unsealed.
func (r *opener) trySealed(s *segment, isLast bool, lim uint64) (bool, error) {
	size, err := s.f.Size()
	if err != nil {
		return false, fmt.Errorf("wal: segment %s: %w", s.name, err)
	}
	if size < segHeaderSize+segTrailerSize {
		return false, nil
	}
	b := make([]byte, segTrailerSize)
	if _, err := s.f.ReadAt(b, size-segTrailerSize); err != nil {
		return false, fmt.Errorf("wal: segment %s: reading trailer: %w", s.name, err)
	}
	t, ok := decodeSegTrailer(b, size)
	if !ok || t.first != s.first {
		return false, nil
	}
	s.seal(t, size, r.l.opts.NoMmap)
	if isLast && s.checkIndex() != nil {
		s.unseal()
		return false, nil
	}
	if lim == noLimit || s.count == 0 || s.last() <= lim {
		return true, nil
	}
	if r.l.readOnly {
		r.rep.Dropped = append(r.rep.Dropped, Dropped{Segment: s.name, FirstIndex: lim + 1, LastIndex: s.last(),
			Reason: "above an interrupted TruncateBack"})
		s.count = lim - s.first + 1
		return true, nil
	}
	return false, r.cutSealed(s, lim, size)
}

// cutSealed truncates a sealed segment after entry lim, completing an
// interrupted TruncateBack. The segment is left unsealed.
func (r *opener) cutSealed(s *segment, lim uint64, size int64) error {
	off, _, err := s.recordBounds(lim + 1)
	if err != nil {
		return err
	}
	last := s.last()
	s.unseal()
	if err := truncateSync(s, off); err != nil {
		return err
	}
	r.rep.Dropped = append(r.rep.Dropped, Dropped{Segment: s.name, From: off, To: size,
		FirstIndex: lim + 1, LastIndex: last, Reason: "above an interrupted TruncateBack"})
	return nil
}

// truncateSync cuts s's file at size and makes the new size durable.
func truncateSync(s *segment, size int64) error {
	if err := s.f.Truncate(size); err != nil {
		return fmt.Errorf("wal: segment %s: truncating to %d: %w", s.name, size, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("wal: segment %s: sync after truncation: %w", s.name, err)
	}
	return nil
}

// recoverUnsealed scans s, decides whether what follows its last complete
// batch is a torn tail (truncated) or corruption (an error), and cuts it.
func (r *opener) recoverUnsealed(s *segment, lim uint64, isLast bool) (scanResult, error) {
	size, err := s.f.Size()
	if err != nil {
		return scanResult{}, fmt.Errorf("wal: segment %s: %w", s.name, err)
	}
	res, err := scanSegment(s, size, lim, r.l.opts.MaxEntrySize)
	if err != nil {
		return res, fmt.Errorf("wal: segment %s: %w", s.name, err)
	}
	state, reason, err := r.classifyTail(s, res)
	if err != nil {
		return res, err
	}
	if isLast {
		r.rep.State, r.stateSet = state, true
	}
	if res.end == size {
		return res, nil
	}
	if reason != "" {
		d := Dropped{Segment: s.name, From: res.end, To: size, Reason: reason}
		if res.openFirst > 0 {
			d.FirstIndex, d.LastIndex = res.openFirst, res.openLast
		}
		r.rep.Dropped = append(r.rep.Dropped, d)
	}
	if r.l.readOnly {
		return res, nil
	}
	return res, truncateSync(s, res.end)
}

// classifyTail decides what the bytes after res.end are, by the recovery
// table (rtable.go). It returns the recovery state, the reason to report a
// drop ("" for plain zeros), or ErrCorrupt.
func (r *opener) classifyTail(s *segment, res scanResult) (RecoveryState, string, error) {
	if res.voided {
		// Before the table: the entries above META's back are void
		// (FORMAT.md, Recovery step 3).
		return RecoveryTornTail, "above an interrupted TruncateBack", nil
	}
	in, proof, err := r.tailInput(s, res)
	if err != nil {
		return 0, "", fmt.Errorf("wal: segment %s: %w", s.name, err)
	}
	bad := res.bad
	if bad < 0 {
		bad = res.end
	}
	switch rule := decide(in); rule.v {
	case vClean:
		return RecoveryClean, "", nil
	case vZeroed:
		return RecoveryZeroedTail, "", nil
	case vPointInTime:
		return RecoveryPointInTime, fmt.Sprintf("damaged durable record at offset %d: %v", bad, res.badErr), nil
	case vTorn:
		if in.batch {
			return RecoveryTornTail, "incomplete batch", nil
		}
		return RecoveryTornTail, fmt.Sprintf("torn or garbage record at offset %d: %v", bad, res.badErr), nil
	case vCorrupt:
		if in.proof {
			return 0, "", corruptf("segment %s offset %d: %v (a sync marker at offset %d proves these bytes were durable)", s.name, bad, res.badErr, proof)
		}
		return 0, "", corruptf("segment %s offset %d: incomplete tail (%v) under AbsoluteConsistency", s.name, bad, res.badErr)
	default:
		panic(fmt.Sprintf("wal: recovery table row %q for a scanned segment", rule.why))
	}
}

// tailInput computes the recovery table's inputs for a scanned segment
// (judged as the last one: a segment before the last is scanned only when
// an interrupted TruncateBack left it, and then as a tail cut at META's
// back), and the offset of the proof, if any.
func (r *opener) tailInput(s *segment, res scanResult) (tailInput, int64, error) {
	in := tailInput{header: hdrValid, last: true, stop: stopEnd, batch: res.openFirst > 0,
		closed: res.closed, mode: r.l.opts.RecoveryMode}
	switch {
	case res.bad < 0:
	case errors.Is(res.badErr, record.ErrShort):
		in.stop = stopShort
	case errors.Is(res.badErr, record.ErrZero):
		zero, err := allZero(s.f, res.stop, res.size)
		if err != nil {
			return in, -1, err
		}
		in.stop = stopBad
		if zero {
			in.stop = stopZeros
		}
	default:
		in.stop = stopBad
	}
	if res.end == res.size {
		return in, -1, nil
	}
	proof, err := findProof(s.f, s.header(), res.stop, res.size, res.end, r.l.opts.MaxEntrySize)
	in.proof = proof >= 0
	return in, proof, err
}

// applyFront sets the first and last index and removes segments wholly
// below the first index (left by an interrupted TruncateFront).
func (r *opener) applyFront() error {
	l := r.l
	if len(r.segs) == 0 {
		if r.hasMeta {
			return corruptf("%s: META present but no segment files", l.dir)
		}
		l.first, l.last = 1, 0
		return nil
	}
	l.first = r.segs[0].first
	l.last = l.first - 1
	if l.tail != nil {
		l.last = l.tail.first + uint64(len(l.tailOffs)) - 1
	} else if n := len(l.sealed); n > 0 {
		l.last = l.sealed[n-1].last()
	}
	if front := r.metaFront(); front > l.first {
		l.first = front
	}
	if l.first > l.last+1 {
		return corruptf("%s: META first index %d is beyond the last entry %d", l.dir, l.first, l.last)
	}
	return r.dropBelowFront()
}

// dropBelowFront removes sealed segments whose entries all precede first.
func (r *opener) dropBelowFront() error {
	l := r.l
	keep := l.sealed[:0]
	for i, s := range l.sealed {
		// The last segment stays even if empty: it carries the position.
		if s.last() < l.first && (l.tail != nil || i < len(l.sealed)-1) {
			if err := r.dropSegment(s, "below the first index"); err != nil {
				return err
			}
			continue
		}
		keep = append(keep, s)
	}
	l.sealed = keep
	return nil
}

// finishTail makes sure there is a writable tail segment and sets the
// write positions.
func (r *opener) finishTail() error {
	l := r.l
	if l.readOnly {
		r.setState()
		return nil
	}
	r.setState()
	l.setSynIdx(l.last)
	if l.tail == nil {
		s := r.reopenable()
		if s == nil {
			return l.newTail(l.nextSeq(), 0)
		}
		if err := r.unsealTail(s); err != nil {
			return err
		}
	}
	// A crashed process may have left the tail's last bytes in the page
	// cache only: make what recovery now serves durable before any reader
	// or writer relies on it.
	if err := l.tail.f.Sync(); err != nil {
		return fmt.Errorf("wal: segment %s: syncing the recovered tail: %w", l.tail.name, err)
	}
	l.preallocTail()
	l.written, l.synced, l.entryEnd = l.lsn, l.lsn, l.lsn
	l.startPrepare()
	return nil
}

// setState sets the report's state where no tail scan did: the last
// segment was sealed, by a clean Close (its records end with a close
// marker) or by a rotation the crash interrupted before the next segment
// existed (nothing lost either way).
func (r *opener) setState() {
	switch {
	case len(r.segs) == 0:
		r.rep.State = RecoveryNew
	case r.stateSet:
	default:
		closed := len(r.l.sealed) > 0 && closedCleanly(r.l.sealed[len(r.l.sealed)-1])
		r.rep.State = RecoveryZeroedTail
		if decide(tailInput{header: hdrValid, last: true, sealed: true, closed: closed}).v == vClean {
			r.rep.State = RecoveryClean
		}
	}
}

// closedCleanly reports whether sealed segment s's records end with a
// clean-close marker.
func closedCleanly(s *segment) bool {
	n := markerSize(s.version)
	if !s.sealed || s.indexOff < segHeaderSize+n {
		return false
	}
	b := make([]byte, n)
	if s.readAt(b, s.indexOff-n) != nil {
		return false
	}
	h, p, err := record.Decode(b)
	if err != nil || h.Type != record.Marker {
		return false
	}
	kind, ok := markerOf(s.header(), p)
	return ok && kind == record.MarkerClosed && int64(h.Index) == s.indexOff-n
}

// reopenable returns the last segment if it is sealed and may become the
// tail again: it has room, no TruncateBack froze it, and it has the format
// version the log writes (an older segment is left sealed, so that every
// marker the log writes is bound to its segment).
func (r *opener) reopenable() *segment {
	l := r.l
	n := len(l.sealed)
	if n == 0 || len(r.segs) == 0 || l.sealed[n-1] != r.segs[len(r.segs)-1] {
		return nil
	}
	s := l.sealed[n-1]
	if s.heapOffs != nil || s.seq <= l.meta.backSeq || s.indexOff >= int64(l.opts.SegmentSize) || s.version != formatVersion {
		return nil
	}
	return s
}

// unsealTail makes sealed segment s the tail again: its offsets move to
// memory and the index block and trailer are cut off (durably), before any
// reader can have mapped it. A crash after the cut leaves an unsealed last
// segment that the next Open scans.
func (r *opener) unsealTail(s *segment) error {
	l := r.l
	offs, err := s.offsets(s.count)
	if err != nil {
		return err
	}
	end := s.indexOff
	s.unseal()
	if err := truncateSync(s, end); err != nil {
		return err
	}
	l.sealed = l.sealed[:len(l.sealed)-1]
	l.tail, l.tailOffs, l.lsn = s, offs, end
	return nil
}

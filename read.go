package wal

import (
	"fmt"
	"slices"
	"sort"

	"github.com/waldb/wal/record"
)

// Read returns the entry at index, or an error wrapping ErrNotFound when
// index is outside [FirstIndex, LastIndex]. The record's checksum and index
// are verified on every read; damage is ErrCorrupt naming the segment and
// offset. The result is a copy unless Options.NoCopy (see there).
//
// Entries in sealed segments are read without taking the log's mutex,
// through the memory map; entries in the tail segment are read with pread,
// or copied from the write buffer if not yet handed to the OS.
func (l *Log) Read(index uint64) ([]byte, error) {
	return l.read(nil, index, l.opts.NoCopy)
}

// AppendEntry appends the entry at index to dst and returns the extended
// slice, like Read (same checks and errors; on error dst is returned
// unchanged) but without allocating when dst has room: reading into a
// reused buffer is the cheapest way to copy entries out, since a fresh
// copy per read costs an allocation and its garbage, and writing into
// memory that is not in the CPU cache. Options.NoCopy does not apply.
func (l *Log) AppendEntry(dst []byte, index uint64) ([]byte, error) {
	if dst == nil {
		dst = []byte{}
	}
	b, err := l.read(dst, index, false)
	if err != nil {
		return dst, err
	}
	return b, nil
}

// read implements Read and AppendEntry: the entry is appended to dst, or
// with a nil dst returned in a slice of its own, which with alias may be
// the memory map's.
func (l *Log) read(dst []byte, index uint64, alias bool) ([]byte, error) {
	if v := l.view.Load(); v != nil && !v.closed && index >= v.first {
		if s := v.find(index); s != nil && s.acquire() {
			data, err := readPinned(s, dst, index, alias)
			// A segment retired meanwhile may have been deleted before it
			// was opened (lazy.go); the locked path tells what is left.
			if err == nil || !s.retired.Load() {
				return data, err
			}
		}
	}
	return l.readSlow(dst, index, alias)
}

// readPinned reads entry index from s, which the caller pinned with
// acquire, and unpins it, even if the read panics.
func readPinned(s *segment, dst []byte, index uint64, alias bool) ([]byte, error) {
	defer s.release()
	return s.read(dst, index, alias)
}

// find returns the sealed segment holding index, or nil. It never returns
// a segment for an index above v.last: after a failed TruncateBack the
// sealed segments may still hold entries the cut removed.
func (v *view) find(index uint64) *segment {
	if index > v.last {
		return nil
	}
	i := sort.Search(len(v.sealed), func(i int) bool { return v.sealed[i].last() >= index })
	if i < len(v.sealed) && v.sealed[i].first <= index {
		return v.sealed[i]
	}
	return nil
}

// readSlow reads under the mutex's protection: a tail entry, or a sealed
// one the lock-free path missed because of a concurrent change. A tail read
// that races with TruncateBack may see other bytes; it then retries, and
// the retry reports ErrNotFound if the entry is gone.
func (l *Log) readSlow(dst []byte, index uint64, alias bool) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		data, retry, err := l.readLocked(dst, index, alias)
		if !retry || attempt == 2 {
			return data, err
		}
	}
}

func (l *Log) readLocked(dst []byte, index uint64, alias bool) (data []byte, retry bool, err error) {
	p, data, err := l.locate(dst, index)
	if err != nil || p.seg == nil {
		return data, false, err
	}
	defer p.seg.release()
	if p.tail {
		data, err = readTail(p.seg, dst, index, p.off, p.end)
		return data, err != nil, err
	}
	data, err = p.seg.read(dst, index, alias)
	return data, err != nil && p.seg.retired.Load(), err
}

// readPlan says where locate found an entry: in seg, pinned, which is a
// sealed segment or (tail) the tail, whose record lies in [off, end).
type readPlan struct {
	seg      *segment
	tail     bool
	off, end int64
}

// locate finds entry index under mu. It returns the entry itself if it is
// still in the write buffer, else the pinned segment to read it from
// without mu. Every unlock is deferred: no read path may leave mu held.
func (l *Log) locate(dst []byte, index uint64) (p readPlan, data []byte, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return p, nil, ErrClosed
	}
	if first, last := l.first, l.last; index < first || index > last {
		return p, nil, fmt.Errorf("%w: index %d outside [%d, %d]", ErrNotFound, index, first, last)
	}
	if l.tail == nil || index < l.tail.first {
		s := (&view{sealed: l.sealed, last: l.last}).find(index)
		if s == nil || !s.acquire() {
			// Unreachable while the invariants hold: the sealed segments
			// and the tail cover [first, last].
			return p, nil, fmt.Errorf("wal: no segment holds index %d of [%d, %d]", index, l.first, l.last)
		}
		return readPlan{seg: s}, nil, nil
	}
	i := index - l.tail.first
	off := int64(l.tailOffs[i])
	if b, ext := l.buffered(off + l.tailBase); b != nil {
		data, err := decodeBuffered(b, ext, index)
		if err != nil {
			return p, nil, err
		}
		return p, append(dst, data...), nil
	}
	end := l.written - l.tailBase
	if i+1 < uint64(len(l.tailOffs)) && int64(l.tailOffs[i+1]) < end {
		end = int64(l.tailOffs[i+1])
	}
	l.tail.acquire()
	return readPlan{seg: l.tail, tail: true, off: off, end: end}, nil, nil
}

// buffered returns the buffer bytes starting at LSN pos if they have not
// been written to the OS yet, else nil. While a flush writes a large
// entry from its writer's slice (flushExt), the bytes from pos may end
// with that entry's header: ext is then the payload that follows them.
// REQUIRES: mu held.
func (l *Log) buffered(pos int64) (b, ext []byte) {
	if pos < l.written {
		return nil, nil
	}
	pos -= l.written
	if pos < int64(len(l.flushBuf)) {
		return l.flushBuf[pos:], l.flushExt
	}
	pos -= int64(len(l.flushBuf) + len(l.flushExt))
	return l.buf[pos:], nil
}

// decodeBuffered decodes the entry record at the start of b, as buffered
// returned them: if b is exactly a header and ext is set, ext is its
// payload (a large entry in flight, whose header ends flushBuf).
func decodeBuffered(b, ext []byte, index uint64) ([]byte, error) {
	if ext == nil || len(b) != record.HeaderSize {
		return decodeEntry(b, index)
	}
	h, err := record.DecodeHeader(b)
	if err != nil {
		return nil, err
	}
	if int(h.Length) != len(ext) {
		return nil, fmt.Errorf("header of length %d before a payload of %d bytes", h.Length, len(ext))
	}
	if err := record.Verify(h, b[4:], ext); err != nil {
		return nil, err
	}
	if !h.Type.IsEntry() || h.Index != index {
		return nil, fmt.Errorf("found %v record with index %d", h.Type, h.Index)
	}
	return ext, nil
}

// readTail reads entry index from the tail file at [off, end) and appends
// its payload to dst, reading into dst's spare room; with a nil dst it
// returns a slice of a fresh buffer.
func readTail(t *segment, dst []byte, index uint64, off, end int64) ([]byte, error) {
	if end-off < record.HeaderSize {
		return nil, corruptf("segment %s offset %d: record bounds [%d,%d)", t.name, off, off, end)
	}
	n := len(dst)
	buf := slices.Grow(dst, int(end-off))[:n+int(end-off)]
	b := buf[n:]
	if _, err := t.f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("wal: segment %s offset %d: %w", t.name, off, err)
	}
	data, err := decodeEntry(b, index)
	if err != nil {
		return nil, corruptf("segment %s offset %d index %d: %v", t.name, off, index, err)
	}
	if dst == nil {
		return data, nil
	}
	return buf[:n+copy(b, data)], nil
}

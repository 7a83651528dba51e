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
			data, err := s.read(dst, index, alias)
			s.release()
			// A segment retired meanwhile may have been deleted before it
			// was opened (lazy.go); the locked path tells what is left.
			if err == nil || !s.retired.Load() {
				return data, err
			}
		}
	}
	return l.readSlow(dst, index, alias)
}

// find returns the sealed segment holding index, or nil.
func (v *view) find(index uint64) *segment {
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
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, false, ErrClosed
	}
	if first, last := l.first, l.last; index < first || index > last {
		l.mu.Unlock()
		return nil, false, fmt.Errorf("%w: index %d outside [%d, %d]", ErrNotFound, index, first, last)
	}
	if l.tail == nil || index < l.tail.first {
		s := (&view{sealed: l.sealed}).find(index)
		s.acquire() // published segments hold the log's reference
		l.mu.Unlock()
		data, err := s.read(dst, index, alias)
		s.release()
		return data, err != nil && s.retired.Load(), err
	}
	i := index - l.tail.first
	off := int64(l.tailOffs[i])
	if b := l.buffered(off + l.tailBase); b != nil {
		data, err := decodeEntry(b, index)
		if err == nil {
			data = append(dst, data...)
		}
		l.mu.Unlock()
		return data, false, err
	}
	end := l.written - l.tailBase
	if i+1 < uint64(len(l.tailOffs)) && int64(l.tailOffs[i+1]) < end {
		end = int64(l.tailOffs[i+1])
	}
	t := l.tail
	t.acquire()
	l.mu.Unlock()
	data, err = readTail(t, dst, index, off, end)
	t.release()
	return data, err != nil, err
}

// buffered returns the buffer bytes starting at LSN pos if they have not
// been written to the OS yet, else nil. REQUIRES: mu held.
func (l *Log) buffered(pos int64) []byte {
	if pos < l.written {
		return nil
	}
	pos -= l.written
	if pos < int64(len(l.flushBuf)) {
		return l.flushBuf[pos:]
	}
	return l.buf[pos-int64(len(l.flushBuf)):]
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

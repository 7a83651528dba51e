package wal

import (
	"fmt"

	"github.com/waldb/wal/record"
)

// Write appends an entry with the given index, which must be LastIndex()+1
// (ErrOutOfOrder otherwise). Under SyncAlways it returns after the entry
// is durable. The log is done with data when Write returns: a large entry
// is written to the file from data itself, before the return, and a small
// one copied.
func (l *Log) Write(index uint64, data []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(len(data)); err != nil {
		return err
	}
	if index == 0 {
		return fmt.Errorf("%w: index 0", ErrOutOfOrder)
	}
	_, err := l.writeOne(index, data, false)
	return err
}

// Append appends an entry at the next index and returns that index. It is
// safe for many goroutines at once; under SyncAlways they share fsyncs.
// As with Write, data may be reused as soon as Append returns.
func (l *Log) Append(data []byte) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(len(data)); err != nil {
		return 0, err
	}
	return l.writeOne(0, data, false)
}

// writeOne encodes one entry at index (0: the next one) and commits it
// (async: without waiting for durability, see commit), writing a large one
// from data itself (writeDirect). A direct write is finished before
// writeOne returns, so an asynchronous append may take it too: only its
// fsync is left for later. REQUIRES: mu held.
func (l *Log) writeOne(index uint64, data []byte, async bool) (uint64, error) {
	return l.writeEntry(index, data, async, l.direct(len(data)))
}

// writeEntry encodes one entry at index (0: the next one) and commits it:
// copied into buf, or, if direct, written from data before it returns
// (writeDirect). The index is checked after entryRoom, which may release
// mu. REQUIRES: mu held.
func (l *Log) writeEntry(index uint64, data []byte, async, direct bool) (uint64, error) {
	if err := l.entryRoom(len(data), direct); err != nil {
		return 0, err
	}
	if index != 0 && index != l.last+1 {
		return 0, fmt.Errorf("%w: index %d, next is %d", ErrOutOfOrder, index, l.last+1)
	}
	index = l.last + 1
	if direct {
		return index, l.writeDirect(data, async)
	}
	l.encode(record.Full, data)
	l.entryEnd = l.lsn
	l.checkInvariants()
	l.wake()
	return index, l.commit(false, async)
}

// entryRoom makes room for one entry of n bytes (makeRoom, indexRoom)
// and, if direct, waits until no flush is in progress, so that the caller
// can take the flush role without releasing mu. It may release mu.
// REQUIRES: mu held.
func (l *Log) entryRoom(n int, direct bool) error {
	for {
		if err := l.makeRoom(int64(record.HeaderSize + n)); err != nil {
			return err
		}
		if err := l.indexRoom(1); err != nil {
			return err
		}
		if !direct || !l.flushing {
			return nil
		}
		l.roomCond.Wait()
	}
}

// WriteBatch writes b's entries, whose indexes must be consecutive from
// LastIndex()+1, as one unit. It does not change b: Clear it to reuse it
// (tidwall/wal's WriteBatch clears the batch; package tidwall does too).
func (l *Log) WriteBatch(b *Batch) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(0); err != nil {
		return err
	}
	_, err := l.writeBatch(b, true, false)
	return err
}

// AppendBatch writes b's entries as one unit at the next indexes, ignoring
// any indexes given to Batch.Write, and returns the first index used.
func (l *Log) AppendBatch(b *Batch) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(0); err != nil {
		return 0, err
	}
	return l.writeBatch(b, false, false)
}

// writeBatch checks sizes (and, if explicit, indexes), then encodes and
// commits (async: see commit); it returns the first index.
// REQUIRES: mu held.
func (l *Log) writeBatch(b *Batch, explicit, async bool) (uint64, error) {
	if len(b.entries) == 0 {
		return l.last + 1, nil
	}
	total := int64(0)
	for _, e := range b.entries {
		if e.size > l.opts.MaxEntrySize {
			return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, e.size, l.opts.MaxEntrySize)
		}
		total += int64(record.HeaderSize + e.size)
	}
	if err := l.makeRoom(total); err != nil {
		return 0, err
	}
	if err := l.indexRoom(uint64(len(b.entries))); err != nil {
		return 0, err
	}
	first := l.last + 1
	for i, e := range b.entries {
		if explicit && e.index != first+uint64(i) {
			return 0, fmt.Errorf("%w: batch entry %d has index %d, want %d", ErrOutOfOrder, i, e.index, first+uint64(i))
		}
	}
	pos := 0
	for i, e := range b.entries {
		t := record.More
		if i == len(b.entries)-1 {
			t = record.Full
		}
		l.encode(t, b.data[pos:pos+e.size])
		pos += e.size
	}
	l.entryEnd = l.lsn
	l.checkInvariants()
	l.wake()
	return first, l.commit(b.Sync, async)
}

// indexRoom checks that n more entries fit below MaxIndex.
// REQUIRES: mu held.
func (l *Log) indexRoom(n uint64) error {
	if l.last >= MaxIndex || n > MaxIndex-l.last {
		return fmt.Errorf("%w: %d entries after index %d would pass MaxIndex", ErrOutOfRange, n, l.last)
	}
	return nil
}

// writable checks that the log accepts a write of an entry of size n.
// REQUIRES: mu held.
func (l *Log) writable(n int) error {
	switch {
	case l.closed:
		return ErrClosed
	case l.readOnly:
		return ErrReadOnly
	case l.err != nil:
		return l.err
	case n > l.opts.MaxEntrySize:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, l.opts.MaxEntrySize)
	}
	return nil
}

// makeRoom ensures the tail can take size more bytes, rotating first if
// the tail has entries and would grow past SegmentSize. A batch never
// spans segments. It waits while an exclusive operation runs, and so may
// release mu: callers check indexes after it. REQUIRES: mu held.
func (l *Log) makeRoom(size int64) error {
	if size > MaxSegmentSize {
		return fmt.Errorf("%w: batch of %d bytes exceeds the segment limit %d", ErrTooLarge, size, MaxSegmentSize)
	}
	for {
		for l.exclusive {
			l.cond.Wait()
		}
		if err := l.writable(0); err != nil {
			return err
		}
		if err := l.ensureTail(); err != nil {
			return err
		}
		if len(l.tailOffs) == 0 || l.lsn-l.tailBase+size <= int64(l.opts.SegmentSize) {
			return nil
		}
		if err := l.exclusively(l.rotate); err != nil {
			return err
		}
	}
}

// encode appends one entry record to buf at the next index.
// REQUIRES: mu held; makeRoom succeeded.
func (l *Log) encode(t record.Type, data []byte) {
	l.tailOffs = append(l.tailOffs, uint32(l.lsn-l.tailBase))
	l.buf = record.Append(l.buf, t, l.last+1, data)
	l.last++
	l.bufEntries++
	l.lsn += int64(record.HeaderSize + len(data))
}

// wake tells waiting followers that entries were added. REQUIRES: mu held.
func (l *Log) wake() {
	if l.notify != nil {
		close(l.notify)
		l.notify = nil
	}
}

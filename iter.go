package wal

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Iterator streams entries in index order from a starting index without
// holding the log in memory: each Next reads one entry. With Follow it
// waits for entries not yet written (tail -f, replication). An Iterator is
// not safe for concurrent use; many may run at once on one Log.
type Iterator struct {
	l      *Log
	next   uint64
	follow bool
	gen    uint64 // the log's backGen when next was last validated
}

// backEvent records a cut of the log's end: entries after to were removed
// (TruncateBack or Reset), in cut generation gen.
type backEvent struct {
	gen, to uint64
}

// maxBackEvents bounds the cut history kept for iterators; an iterator
// older than the history rewinds to the lowest cut remembered.
const maxBackEvents = 64

// noteBack records a cut after index to. REQUIRES: mu held.
func (l *Log) noteBack(to uint64) {
	l.backGen++
	if len(l.backs) == maxBackEvents {
		copy(l.backs, l.backs[1:])
		l.backs = l.backs[:maxBackEvents-1]
	}
	l.backs = append(l.backs, backEvent{gen: l.backGen, to: to})
}

// cutSince returns the lowest cut made after generation gen.
// REQUIRES: mu held; gen < backGen.
func (l *Log) cutSince(gen uint64) uint64 {
	low := uint64(noLimit)
	for _, e := range l.backs {
		if e.gen > gen && e.to < low {
			low = e.to
		}
	}
	return low
}

// IterOptions configures Iter. The zero value reads to the current end.
type IterOptions struct {
	// Follow makes Next wait for new entries instead of returning io.EOF.
	Follow bool
}

// Iter returns an iterator starting at index from; 0 means the first entry.
func (l *Log) Iter(from uint64, opts *IterOptions) *Iterator {
	it := &Iterator{l: l, next: from}
	if opts != nil {
		it.follow = opts.Follow
	}
	l.mu.Lock()
	it.gen = l.backGen
	l.mu.Unlock()
	return it
}

// Next returns the next entry and its index. At the end of the log it
// returns io.EOF, or with Follow waits until an entry is written, ctx is
// done (ctx.Err()) or the log is closed (ErrClosed). If the entry was
// removed by TruncateFront it returns an error wrapping ErrNotFound. After
// a TruncateBack or Reset below the iterator's position, Next rewinds to
// the first index past the cut, so it returns the entries written in place
// of the removed ones: an index lower than the previous one means the
// entries from it on replace those returned before.
func (it *Iterator) Next(ctx context.Context) (uint64, []byte, error) {
	for {
		idx, ch, err := it.position()
		if err != nil {
			return 0, nil, err
		}
		if ch == nil {
			data, err := it.l.Read(idx)
			if errors.Is(err, ErrNotFound) {
				continue // truncated meanwhile; position() classifies it
			}
			if err != nil {
				return 0, nil, err
			}
			it.next = idx + 1
			return idx, data, nil
		}
		if !it.follow {
			return 0, nil, io.EOF
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
	}
}

// position resolves the index to read next. If it is past the end it
// returns a channel closed when entries are added.
func (it *Iterator) position() (uint64, chan struct{}, error) {
	l := it.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, nil, ErrClosed
	}
	if it.gen != l.backGen {
		if to := l.cutSince(it.gen); it.next > to+1 {
			it.next = to + 1
		}
		it.gen = l.backGen
	}
	if it.next == 0 {
		it.next = l.first
	}
	if it.next < l.first {
		return 0, nil, fmt.Errorf("%w: index %d was truncated; first is %d", ErrNotFound, it.next, l.first)
	}
	if it.next <= l.last {
		return it.next, nil, nil
	}
	if l.notify == nil {
		l.notify = make(chan struct{})
	}
	return 0, l.notify, nil
}

// Seek moves the iterator to index (0: the first entry).
func (it *Iterator) Seek(index uint64) { it.next = index }

// Index returns the index Next will try to return.
func (it *Iterator) Index() uint64 { return it.next }

package wal

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/waldb/wal/vfs"
)

// lazyOpen is how a sealed segment that Open did not open gets opened on
// first use (see Options.EagerOpen). Open knows such a segment from its
// file name and its successor's: its first index and its entry count (the
// successor's first index minus its own). Opening it checks what Open
// would have checked: the header names the same segment and is not a
// reset segment, and the trailer is valid and holds exactly that count, so
// a missing or foreign segment is ErrCorrupt at the first read of its
// range instead of at Open.
//
// Invariant: done is set only after f, data, unmap, indexOff and indexCRC
// of the segment are, so a reader that sees done may use them without the
// mutex. Until then they are zero and the segment's file is not open.
type lazyOpen struct {
	fs     vfs.FS
	noMmap bool
	// want is the entry count the segment must hold.
	want uint64

	mu   sync.Mutex
	done atomic.Bool
	err  error // with done: the permanent outcome (nil or ErrCorrupt)
}

// ready opens a lazily opened segment if it is not open yet. It returns
// nil for every other segment. A corrupt segment's error is remembered;
// any other failure (such as too many open files) is retried next time.
func (s *segment) ready() error {
	z := s.lazy
	if z == nil {
		return nil
	}
	if z.done.Load() {
		return z.err
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.done.Load() {
		return z.err
	}
	err := s.openLazily(z)
	if err == nil || errors.Is(err, ErrCorrupt) {
		z.err = err
		z.done.Store(true)
	}
	return err
}

// openLazily opens the file of a sealed segment and validates its header
// and trailer. REQUIRES: z.mu held; a reference to s held.
func (s *segment) openLazily(z *lazyOpen) error {
	f, err := z.fs.Open(s.path)
	if errors.Is(err, os.ErrNotExist) && !s.retired.Load() {
		return corruptf("segment %s: file missing: %v", s.name, err)
	}
	if err != nil {
		return fmt.Errorf("wal: opening segment %s: %w", s.name, err)
	}
	t, size, err := s.checkLazy(f, z.want)
	if err != nil {
		f.Close()
		return err
	}
	s.f = f
	s.indexOff, s.indexCRC = int64(t.indexOff), t.indexCRC
	if m, ok := f.(vfs.Mmapper); ok && !z.noMmap {
		if data, unmap, err := m.Mmap(int(size)); err == nil {
			s.data, s.unmap = data, unmap
		}
	}
	return nil
}

// checkLazy reads and validates the header and trailer of s's file f.
func (s *segment) checkLazy(f vfs.File, want uint64) (segTrailer, int64, error) {
	size, err := f.Size()
	if err != nil {
		return segTrailer{}, 0, fmt.Errorf("wal: segment %s: %w", s.name, err)
	}
	if size < segHeaderSize+segTrailerSize {
		return segTrailer{}, 0, corruptf("segment %s: %d bytes, too short for a sealed segment", s.name, size)
	}
	b := make([]byte, segHeaderSize+segTrailerSize)
	if _, err := f.ReadAt(b[:segHeaderSize], 0); err != nil {
		return segTrailer{}, 0, fmt.Errorf("wal: segment %s: reading header: %w", s.name, err)
	}
	if _, err := f.ReadAt(b[segHeaderSize:], size-segTrailerSize); err != nil {
		return segTrailer{}, 0, fmt.Errorf("wal: segment %s: reading trailer: %w", s.name, err)
	}
	h, err := decodeSegHeader(b[:segHeaderSize])
	switch {
	case err != nil:
		return segTrailer{}, 0, corruptf("segment %s offset 0: %v", s.name, err)
	case h.seq != s.seq || h.first != s.first:
		return segTrailer{}, 0, corruptf("segment %s: header says seq %d first %d", s.name, h.seq, h.first)
	case h.flags&flagReset != 0:
		// A segment opened here always has older segments (Open opens the
		// first itself), and Reset deletes every older segment before any
		// newer one is created: a reset segment after older ones can only
		// be the last, which Open opens itself too.
		return segTrailer{}, 0, corruptf("segment %s: a reset segment after older segments", s.name)
	}
	t, ok := decodeSegTrailer(b[segHeaderSize:], size)
	if !ok || t.first != s.first {
		return segTrailer{}, 0, corruptf("segment %s is not sealed (bad or missing trailer) but is not the last segment", s.name)
	}
	if t.count != want {
		return segTrailer{}, 0, corruptf("segment %s holds %d entries, but the next segment starts at index %d (missing segment?)",
			s.name, t.count, s.first+want)
	}
	s.version, s.salt = h.version, h.salt // markers in it are bound to them
	return t, size, nil
}

package wal

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"

	"github.com/waldb/wal/record"
	"github.com/waldb/wal/vfs"
)

// segment is one segment file. Its identity fields never change. A sealed
// segment's fields are immutable too, so readers use it without the log's
// mutex; the tail segment's entry offsets live in the Log, under its mutex.
//
// Lifetime: refs starts at 1, the log's reference. Readers pin the segment
// with acquire/release around each access; retire drops the log's
// reference, and the last release closes the file and unmaps it. A retired
// segment can no longer be acquired. The log never waits for readers: a
// segment's file is never truncated or rewritten while it may be mapped
// (TruncateBack writes a cut copy instead, see recut).
type segment struct {
	name  string
	path  string
	seq   uint64
	first uint64
	flags uint16
	// version and salt come from the header (format.go); markers written
	// to or read from the segment are bound to them.
	version uint16
	salt    uint32
	f       vfs.File
	refs    atomic.Int64
	// retired is set once the log dropped its reference.
	retired atomic.Bool
	// keep is a segment whose memory map this one keeps alive (a
	// reference to it, released with this segment's last): the file this
	// one replaced when TruncateBack cut it (recut), whose map NoCopy
	// slices of the entries kept may still alias.
	keep *segment

	// Sealed segments only.
	sealed   bool
	count    uint64
	indexOff int64
	indexCRC uint32
	data     []byte   // whole-file memory map, or nil
	heapOffs []uint32 // read-only logs' unsealed segments: offsets in memory
	unmap    func() error
	// indexState caches the verification of the index block: 0 unknown,
	// 1 good, 2 bad.
	indexState atomic.Uint32
	// guess is set, before indexState becomes 1, if the records are
	// evenly spaced enough for recordBounds to guess where one starts
	// (see evenlySpaced).
	guess atomic.Bool

	// lazy is set for a sealed segment Open did not open; until
	// lazy.ready succeeds, f is nil and the fields that come from the
	// file (indexOff, indexCRC, data) are unset. See lazy.go.
	lazy *lazyOpen

	// wbOff is the tail's file offset below which write-back was asked
	// for (see startWriteback); the flush role (Log.flushing) guards it.
	wbOff int64
}

func newSegment(f vfs.File, dir, name string, h segHeader) *segment {
	s := &segment{name: name, path: joinPath(dir, name), seq: h.seq, first: h.first, flags: h.flags,
		version: h.version, salt: h.salt, f: f}
	s.refs.Store(1)
	return s
}

func (s *segment) acquire() bool {
	for {
		r := s.refs.Load()
		if r <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		if s.unmap != nil {
			_ = s.unmap()
		}
		if s.f != nil {
			_ = s.f.Close()
		}
		if s.keep != nil {
			s.keep.release()
		}
	}
}

// retire drops the log's reference; it is idempotent.
func (s *segment) retire() {
	if !s.retired.Swap(true) {
		s.release()
	}
}

// unseal undoes seal, before the segment is shared with readers.
func (s *segment) unseal() {
	if s.unmap != nil {
		_ = s.unmap()
	}
	s.data, s.unmap, s.sealed, s.count = nil, nil, false, 0
	s.indexState.Store(0)
	s.guess.Store(false)
}

// last is the index of a sealed segment's last entry.
func (s *segment) last() uint64 { return s.first + s.count - 1 }

// seal turns s into a sealed segment using trailer t, mapping the file
// unless noMmap. The segment must not yet be shared with readers.
func (s *segment) seal(t segTrailer, size int64, noMmap bool) {
	s.sealed = true
	s.count = t.count
	s.indexOff = int64(t.indexOff)
	s.indexCRC = t.indexCRC
	if m, ok := s.f.(vfs.Mmapper); ok && !noMmap && size > 0 {
		if data, unmap, err := m.Mmap(int(size)); err == nil {
			s.data, s.unmap = data, unmap
		}
	}
}

// sealHeap makes an unsealed segment readable like a sealed one, its
// record offsets held in memory (read-only logs, which cannot write an
// index block). end is where its complete records end.
func (s *segment) sealHeap(offs []uint32, end int64, noMmap bool) {
	s.heapOffs = offs
	s.seal(segTrailer{first: s.first, count: uint64(len(offs)), indexOff: uint64(end)}, end, noMmap)
	s.indexState.Store(1)
}

// readAt reads len(p) bytes at off from the map or the file.
func (s *segment) readAt(p []byte, off int64) error {
	if s.data != nil {
		if off < 0 || off+int64(len(p)) > int64(len(s.data)) {
			return fmt.Errorf("read [%d,%d) beyond mapped size %d", off, off+int64(len(p)), len(s.data))
		}
		copy(p, s.data[off:])
		return nil
	}
	_, err := s.f.ReadAt(p, off)
	return err
}

// slice returns bytes [off, off+n) aliasing the map, or a fresh copy.
func (s *segment) slice(off, n int64) ([]byte, error) {
	if s.data != nil && off >= 0 && off+n <= int64(len(s.data)) {
		return s.data[off : off+n : off+n], nil
	}
	p := make([]byte, n)
	return p, s.readAt(p, off)
}

// checkIndex opens a lazily opened segment and verifies the index
// block's checksum, once. Every access to a sealed segment's file goes
// through it.
func (s *segment) checkIndex() error {
	if err := s.ready(); err != nil {
		return err
	}
	switch s.indexState.Load() {
	case 1:
		return nil
	case 2:
		return corruptf("segment %s: index block checksum mismatch at offset %d", s.name, s.indexOff)
	}
	b, err := s.slice(s.indexOff, int64(4*s.count))
	if err != nil {
		return fmt.Errorf("wal: segment %s: reading index block: %w", s.name, err)
	}
	if maskedCRC(b) != s.indexCRC {
		s.indexState.Store(2)
		return s.checkIndex()
	}
	s.guess.Store(s.evenlySpaced(b))
	s.indexState.Store(1)
	return nil
}

// evenlySpaced reports whether the records of a memory-mapped sealed
// segment, whose index block is idx, start close enough to where even
// spacing puts them (guessAt) for that guess to land inside the record:
// within half an average record for at least 9 of 10 of up to 1,024
// sampled entries. Logs of similar-sized entries qualify; for them a
// random read can touch the record while the index slot is still being
// fetched from memory, overlapping two cache misses that are otherwise
// paid one after the other (README, "Performance", W6). For other logs
// the guess is off and costs one atomic load per read.
func (s *segment) evenlySpaced(idx []byte) bool {
	if s.data == nil || s.count < 64 {
		return false
	}
	half := uint64(s.indexOff-segHeaderSize) / s.count / 2
	step := max(s.count/1024, 1)
	var n, near uint64
	for i := uint64(0); i < s.count; i += step {
		off, g := uint64(binary.LittleEndian.Uint32(idx[4*i:])), uint64(s.guessAt(i))
		if max(off, g)-min(off, g) <= half {
			near++
		}
		n++
	}
	return near*10 >= n*9
}

// guessAt is where entry i of a sealed segment would start if its records
// were evenly spaced. REQUIRES: i < count.
func (s *segment) guessAt(i uint64) int64 {
	return segHeaderSize + int64(uint64(s.indexOff-segHeaderSize)*i/s.count)
}

// offsets returns the record offsets of the first n entries of a sealed
// segment, copied to the heap. REQUIRES: n <= count.
func (s *segment) offsets(n uint64) ([]uint32, error) {
	if n > s.count {
		panic(fmt.Sprintf("wal: offsets(%d) of a segment with %d entries", n, s.count))
	}
	if s.heapOffs != nil {
		return append([]uint32(nil), s.heapOffs[:n]...), nil
	}
	if err := s.checkIndex(); err != nil {
		return nil, err
	}
	b, err := s.slice(s.indexOff, int64(4*n))
	if err != nil {
		return nil, err
	}
	offs := make([]uint32, n, n+1024)
	for i := range offs {
		offs[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return offs, nil
}

// recordBounds returns the byte range holding entry index of a sealed
// segment: its record starts at off, and the record ends at or before end.
func (s *segment) recordBounds(index uint64) (off, end int64, err error) {
	if err := s.checkIndex(); err != nil {
		return 0, 0, err
	}
	i := index - s.first
	if s.heapOffs != nil {
		off, end = int64(s.heapOffs[i]), s.indexOff
		if i+1 < s.count {
			end = int64(s.heapOffs[i+1])
		}
		return off, end, nil
	}
	if s.guess.Load() {
		// Start fetching the record's probable first bytes now; the
		// value is not used (evenlySpaced).
		runtime.KeepAlive(s.data[s.guessAt(i)])
	}
	n := int64(8)
	if i+1 == s.count {
		n = 4
	}
	b, err := s.slice(s.indexOff+int64(4*i), n)
	if err != nil {
		return 0, 0, fmt.Errorf("wal: segment %s: reading index: %w", s.name, err)
	}
	off, end = int64(binary.LittleEndian.Uint32(b)), s.indexOff
	if n == 8 {
		end = int64(binary.LittleEndian.Uint32(b[4:]))
	}
	if off < segHeaderSize || end > s.indexOff || end-off < record.HeaderSize {
		return 0, 0, corruptf("segment %s: index entry %d has bad bounds [%d,%d)", s.name, index, off, end)
	}
	return off, end, nil
}

// read appends the payload of entry index of a sealed segment, verified,
// to dst. With alias and a nil dst, the result may alias the memory map.
func (s *segment) read(dst []byte, index uint64, alias bool) ([]byte, error) {
	off, end, err := s.recordBounds(index)
	if err != nil {
		return nil, err
	}
	b, err := s.slice(off, end-off)
	if err != nil {
		return nil, fmt.Errorf("wal: segment %s offset %d: %w", s.name, off, err)
	}
	p, err := decodeEntry(b, index)
	if err != nil {
		return nil, corruptf("segment %s offset %d index %d: %v", s.name, off, index, err)
	}
	if dst == nil && (alias || s.data == nil) { // p aliases the map, or is a fresh copy
		return p, nil
	}
	return append(dst, p...), nil
}

// decodeEntry decodes the entry record at the start of b and checks that it
// carries index.
func decodeEntry(b []byte, index uint64) ([]byte, error) {
	h, p, err := record.Decode(b)
	if err != nil {
		return nil, err
	}
	if !h.Type.IsEntry() || h.Index != index {
		return nil, fmt.Errorf("found %v record with index %d", h.Type, h.Index)
	}
	return p, nil
}

// renamedFile is a segment file opened under a temporary name (tmp) and
// renamed to path since: the errors of its operations that name the file
// (*os.PathError, as the OS and vfs/errorfs return) name it by path, so
// that a message points at the file that exists. It forwards the optional
// interfaces the log uses.
type renamedFile struct {
	vfs.File
	tmp, path string
}

var (
	_ vfs.Mmapper          = (*renamedFile)(nil)
	_ vfs.WritebackStarter = (*renamedFile)(nil)
	_ vfs.VectorWriter     = (*renamedFile)(nil)
)

// renamed wraps f, opened as tmp and renamed (or about to be) to path.
func renamed(f vfs.File, tmp, path string) vfs.File {
	return &renamedFile{File: f, tmp: tmp, path: path}
}

func (f *renamedFile) fix(err error) error {
	if pe, ok := err.(*os.PathError); ok && pe.Path == f.tmp {
		return &os.PathError{Op: pe.Op, Path: f.path, Err: pe.Err}
	}
	return err
}

func (f *renamedFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	return n, f.fix(err)
}

func (f *renamedFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	return n, f.fix(err)
}

// WriteAtv writes with the wrapped file's vectored write, if it has one
// (vfs.WriteAtv).
func (f *renamedFile) WriteAtv(bufs [][]byte, off int64) (int, error) {
	n, err := vfs.WriteAtv(f.File, bufs, off)
	return n, f.fix(err)
}

func (f *renamedFile) Close() error                 { return f.fix(f.File.Close()) }
func (f *renamedFile) Sync() error                  { return f.fix(f.File.Sync()) }
func (f *renamedFile) Truncate(size int64) error    { return f.fix(f.File.Truncate(size)) }
func (f *renamedFile) Preallocate(size int64) error { return f.fix(f.File.Preallocate(size)) }

func (f *renamedFile) Size() (int64, error) {
	n, err := f.File.Size()
	return n, f.fix(err)
}

// Mmap maps the file if the wrapped file can; otherwise it fails with
// vfs.ErrUnsupported and the log reads with ReadAt.
func (f *renamedFile) Mmap(length int) ([]byte, func() error, error) {
	if m, ok := f.File.(vfs.Mmapper); ok {
		data, unmap, err := m.Mmap(length)
		return data, unmap, f.fix(err)
	}
	return nil, nil, vfs.ErrUnsupported
}

// StartWriteback forwards to the wrapped file if it can start write-back.
func (f *renamedFile) StartWriteback(off, n int64) {
	if w, ok := f.File.(vfs.WritebackStarter); ok {
		w.StartWriteback(off, n)
	}
}

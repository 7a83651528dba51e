package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// The raw baselines mark the physical limit: one file, entries framed by a
// 4-byte length and nothing else (no checksum, no index on disk), written
// with pwrite into space reserved ahead and made durable with fdatasync.
//
//	(a) raw-a: one pwrite (+ fdatasync) per append, under a mutex.
//	(b) raw-b: ideal group commit: appenders copy into a shared buffer and
//	    wait; one flusher goroutine writes everything that is waiting with
//	    one pwrite and one fdatasync, then wakes them.

// rawChunk is how far ahead the raw file is reserved.
const rawChunk = 64 << 20

// rawZeroFill makes the baselines reserve space by writing zeros (and
// syncing them) instead of fallocate(2): writes then land in initialized
// blocks, so fdatasync never has an extent conversion to journal. Set by
// the -raw-zerofill flag.
var rawZeroFill bool

func rawALib() *Lib {
	return &Lib{Name: "raw-a", Baseline: true, DiskReads: true, NoReopen: true,
		Note: "append + fdatasync per entry on a preallocated file, under a mutex",
		Open: func(c Config) (Log, error) { return openRawA(c, false) }}
}

func rawBLib() *Lib {
	return &Lib{Name: "raw-b", Baseline: true, DiskReads: true, NoReopen: true,
		Note: "ideal group commit: one flusher, one pwrite + fdatasync per batch of waiting appenders",
		Open: func(c Config) (Log, error) { return openRawB(c, false) }}
}

// rawFile is the file both baselines append to. It is not safe for
// concurrent use except as noted.
type rawFile struct {
	f    *os.File
	fd   int
	size int64   // bytes reserved
	offs []int64 // offset of each entry
	end  int64   // end of the last entry
	// dio, if set, writes through a second descriptor opened with
	// O_DIRECT|O_DSYNC (lib_rawdio.go); f then only reads and reserves.
	dio *dioTail
}

// put writes buf at off and, if sync, makes it durable: with pwrite and
// fdatasync, or, with direct I/O, one O_DSYNC write of whole blocks.
func (r *rawFile) put(buf []byte, off int64, sync bool) error {
	if r.dio != nil {
		return r.dio.write(buf, off)
	}
	if _, err := r.f.WriteAt(buf, off); err != nil {
		return err
	}
	if sync {
		return r.sync()
	}
	return nil
}

func openRawFile(dir string) (*rawFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "raw.log"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	r := &rawFile{f: f, fd: int(f.Fd())}
	if err := r.load(); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// load scans an existing file for its entries (a zero length ends them).
func (r *rawFile) load() error {
	st, err := r.f.Stat()
	if err != nil {
		return err
	}
	r.size = st.Size()
	br := bufio.NewReaderSize(io.NewSectionReader(r.f, 0, r.size), 1<<20)
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			break
		}
		n := int64(binary.LittleEndian.Uint32(hdr[:]))
		if n == 0 || r.end+4+n > r.size {
			break
		}
		if _, err := br.Discard(int(n)); err != nil {
			break
		}
		r.offs = append(r.offs, r.end)
		r.end += 4 + n
	}
	return nil
}

// reserve makes sure [0, end) is allocated.
func (r *rawFile) reserve(end int64) error {
	if end <= r.size {
		return nil
	}
	chunk := int64(rawChunk)
	if r.dio != nil {
		chunk = dioChunk
	}
	size := (end + chunk - 1) / chunk * chunk
	if !rawZeroFill && r.dio == nil { // direct writes into unwritten extents would journal each one
		if err := unix.Fallocate(r.fd, 0, 0, size); err != nil {
			return fmt.Errorf("fallocate: %w", err)
		}
		r.size = size
		return nil
	}
	zeros := make([]byte, 1<<20)
	for off := r.size; off < size; off += int64(len(zeros)) {
		if _, err := r.f.WriteAt(zeros, off); err != nil {
			return err
		}
	}
	r.size = size
	return unix.Fdatasync(r.fd)
}

// frame appends p's frame to dst, noting its offset.
func (r *rawFile) frame(dst []byte, p []byte) []byte {
	r.offs = append(r.offs, r.end)
	r.end += 4 + int64(len(p))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(p)))
	return append(dst, p...)
}

// readAt reads entry i (1-based); its bytes must be in the file. Safe for
// concurrent use with appends if the caller snapshot offs under a lock.
func (r *rawFile) readEntry(offs []int64, end int64, i uint64) ([]byte, error) {
	if i == 0 || i > uint64(len(offs)) {
		return nil, fmt.Errorf("raw: index %d not found", i)
	}
	off := offs[i-1]
	next := end
	if i < uint64(len(offs)) {
		next = offs[i]
	}
	b := make([]byte, next-off)
	if _, err := r.f.ReadAt(b, off); err != nil {
		return nil, err
	}
	return b[4:], nil
}

func (r *rawFile) sync() error { return unix.Fdatasync(r.fd) }

// rawA is baseline (a).
type rawA struct {
	mode Mode
	mu   sync.Mutex
	rf   *rawFile
	buf  []byte
	tick *ticking
}

func openRawA(cfg Config, dio bool) (Log, error) {
	rf, err := openRawFile(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if dio {
		if err := rf.directIO(cfg.Mode); err != nil {
			rf.close()
			return nil, err
		}
	}
	a := &rawA{mode: cfg.Mode, rf: rf}
	if err := rf.reserve(rf.end + 1); err != nil {
		rf.close()
		return nil, err
	}
	if cfg.Mode == Interval {
		a.tick = newTicking(syncOnly{a}, cfg.Interval)
	}
	return a, nil
}

// syncOnly lets a ticker call fdatasync without the append mutex.
type syncOnly struct{ a *rawA }

func (s syncOnly) Append([]byte) error         { return errUnsupported }
func (s syncOnly) AppendBatch([][]byte) error  { return errUnsupported }
func (s syncOnly) Read(uint64) ([]byte, error) { return nil, errUnsupported }
func (s syncOnly) Last() ([]byte, error)       { return nil, errUnsupported }
func (s syncOnly) Sync() error                 { return s.a.rf.sync() }
func (s syncOnly) Close() error                { return nil }

func (a *rawA) Append(p []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	off := a.rf.end
	a.buf = a.rf.frame(a.buf[:0], p)
	return a.write(off)
}

func (a *rawA) AppendBatch(ps [][]byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	off := a.rf.end
	a.buf = a.buf[:0]
	for _, p := range ps {
		a.buf = a.rf.frame(a.buf, p)
	}
	return a.write(off)
}

// write writes buf at off and syncs per the mode. REQUIRES: mu held.
func (a *rawA) write(off int64) error {
	if err := a.rf.reserve(off + int64(len(a.buf))); err != nil {
		return err
	}
	return a.rf.put(a.buf, off, a.mode == Synced)
}

func (a *rawA) Read(i uint64) ([]byte, error) {
	a.mu.Lock()
	offs, end := a.rf.offs, a.rf.end
	a.mu.Unlock()
	return a.rf.readEntry(offs, end, i)
}

func (a *rawA) Last() ([]byte, error) {
	a.mu.Lock()
	n := uint64(len(a.rf.offs))
	a.mu.Unlock()
	return a.Read(n)
}

func (a *rawA) Sync() error { return a.rf.sync() }

func (a *rawA) Close() error {
	var err error
	if a.tick != nil {
		err = a.tick.Close()
	}
	return errors.Join(err, a.rf.sync(), a.rf.close())
}

// rawMaxPending bounds the unsynced baseline's buffer: appenders wait
// while this much is queued for the flusher.
const rawMaxPending = 4 << 20

// rawB is baseline (b).
//
// mu guards every field below it. Appenders frame entries into buf and,
// when synced, wait on done until durable passes their end. The flusher
// waits on work for a non-empty buf, swaps it for spare, writes and
// (if synced) fdatasyncs without mu, then advances flushed and durable and
// broadcasts done. Invariant: durable <= flushed <= rf.end; buf holds
// [flushed+len(in flight), rf.end).
type rawB struct {
	mode Mode
	rf   *rawFile
	tick *ticking
	wg   sync.WaitGroup

	mu      sync.Mutex
	work    sync.Cond
	done    sync.Cond
	buf     []byte
	spare   []byte
	flushed int64
	durable int64
	closed  bool
	err     error
}

func openRawB(cfg Config, dio bool) (Log, error) {
	rf, err := openRawFile(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if dio {
		if err := rf.directIO(cfg.Mode); err != nil {
			rf.close()
			return nil, err
		}
	}
	if err := rf.reserve(rf.end + 1); err != nil {
		rf.close()
		return nil, err
	}
	b := &rawB{mode: cfg.Mode, rf: rf, flushed: rf.end, durable: rf.end}
	b.work.L, b.done.L = &b.mu, &b.mu
	b.wg.Add(1)
	go b.flusher()
	if cfg.Mode == Interval {
		b.tick = newTicking(syncOnlyB{b}, cfg.Interval)
	}
	return b, nil
}

type syncOnlyB struct{ b *rawB }

func (s syncOnlyB) Append([]byte) error         { return errUnsupported }
func (s syncOnlyB) AppendBatch([][]byte) error  { return errUnsupported }
func (s syncOnlyB) Read(uint64) ([]byte, error) { return nil, errUnsupported }
func (s syncOnlyB) Last() ([]byte, error)       { return nil, errUnsupported }
func (s syncOnlyB) Sync() error                 { return s.b.rf.sync() }
func (s syncOnlyB) Close() error                { return nil }

func (b *rawB) Append(p []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = b.rf.frame(b.buf, p)
	return b.commit()
}

func (b *rawB) AppendBatch(ps [][]byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range ps {
		b.buf = b.rf.frame(b.buf, p)
	}
	return b.commit()
}

// commit wakes the flusher and waits per the mode. REQUIRES: mu held.
func (b *rawB) commit() error {
	end := b.rf.end
	b.work.Signal()
	if b.mode == Synced {
		for b.durable < end && b.err == nil {
			b.done.Wait()
		}
		return b.err
	}
	for len(b.buf) > rawMaxPending && b.err == nil {
		b.done.Wait()
	}
	return b.err
}

func (b *rawB) flusher() {
	defer b.wg.Done()
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		for len(b.buf) == 0 && !b.closed {
			b.work.Wait()
		}
		if len(b.buf) == 0 {
			return
		}
		buf, off, end := b.buf, b.flushed, b.rf.end
		b.buf, b.spare = b.spare[:0], nil
		b.mu.Unlock()
		err := b.rf.reserve(end)
		if err == nil {
			err = b.rf.put(buf, off, b.mode == Synced)
		}
		b.mu.Lock()
		b.spare = buf
		if err != nil && b.err == nil {
			b.err = err
		}
		b.flushed = end
		if b.mode == Synced {
			b.durable = end
		}
		b.done.Broadcast()
	}
}

// flushedView waits until every entry appended so far is in the file and
// returns the entry offsets.
func (b *rawB) flushedView() ([]int64, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	end := b.rf.end
	for b.flushed < end && b.err == nil {
		b.work.Signal()
		b.done.Wait()
	}
	return b.rf.offs, end
}

func (b *rawB) Read(i uint64) ([]byte, error) {
	offs, end := b.flushedView()
	return b.rf.readEntry(offs, end, i)
}

func (b *rawB) Last() ([]byte, error) {
	offs, end := b.flushedView()
	return b.rf.readEntry(offs, end, uint64(len(offs)))
}

func (b *rawB) Sync() error {
	b.flushedView()
	return b.rf.sync()
}

func (b *rawB) Close() error {
	var err error
	if b.tick != nil {
		err = b.tick.Close()
	}
	b.mu.Lock()
	b.closed = true
	b.work.Signal()
	b.mu.Unlock()
	b.wg.Wait()
	return errors.Join(err, b.err, b.rf.sync(), b.rf.close())
}

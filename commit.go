package wal

import (
	"fmt"
	"time"

	"github.com/waldb/wal/record"
	"github.com/waldb/wal/vfs"
)

// maxSpareBuffer bounds the capacity of a write buffer kept for reuse, so
// one huge batch does not pin its memory forever.
const maxSpareBuffer = 16 << 20

// flush hands buf to the OS at its tail offset and, with sync, fdatasyncs
// the tail. The caller holds the flush role (flushing) while it writes,
// and only the sync role (syncing) while it fdatasyncs: other flushes may
// then hand later bytes to the OS, so writers under SyncInterval never
// wait for a background fsync unless their buffer grows past four
// times BufferSize during a write. mu is released during the syscalls. A
// failure is sticky (see fail).
// REQUIRES: mu held; !flushing; !syncing if sync; tail != nil.
func (l *Log) flush(sync bool) { l.flushWith(sync, nil) }

// flushWith is flush, writing ext (a large entry's payload, still the
// caller's slice) right after buf with one vectored write; see
// writeDirect. ext is not referenced once flushWith returns.
// REQUIRES: as flush; buf ends with ext's record header if ext != nil.
func (l *Log) flushWith(sync bool, ext []byte) {
	l.flushing = true
	buf := l.buf
	l.buf, l.spare = l.spare[:0], nil
	l.flushBuf, l.flushExt = buf, ext
	entries := l.bufEntries
	l.bufEntries = 0
	off := l.written - l.tailBase
	n := len(buf) + len(ext)
	end := l.written + int64(n)
	lastIdx := l.last
	t := l.tail
	l.mu.Unlock()

	var err error
	timed := l.ev.timed()
	if n > 0 {
		var began time.Time
		if timed {
			began = time.Now()
		}
		err = l.writeTail(t, buf, ext, off)
		if timed {
			l.ev.wrote(WriteInfo{Segment: t.name, Bytes: n, Entries: entries, Duration: time.Since(began), Err: err})
		}
	}
	if err == nil && !sync {
		startWriteback(t, off+int64(n)) // a syscall: not under mu
	}

	l.mu.Lock()
	defer func() {
		l.checkInvariants()
		l.cond.Broadcast()
		if l.syncerWanted() {
			l.wakeSyncer()
		}
	}()
	l.flushing, l.flushBuf, l.flushExt = false, nil, nil
	if cap(buf) <= maxSpareBuffer {
		l.spare = buf[:0]
	}
	l.roomCond.Broadcast()
	if err != nil {
		l.fail(fmt.Errorf("segment %s offset %d: %w", t.name, off, err))
		return
	}
	l.written = end
	if !sync {
		return
	}
	l.syncing = true // waiters for durability sleep on
	l.mu.Unlock()

	// fdatasync: the data and the file size; segment files are
	// preallocated, so usually no metadata needs writing. It covers
	// [0, end) and perhaps more, written by flushes meanwhile.
	var began time.Time
	if timed {
		began = time.Now()
		l.ev.syncStart(&t.name)
	}
	err = t.f.Sync()
	if timed {
		l.ev.synced(SyncInfo{Segment: t.name, Duration: time.Since(began), Err: err})
	}

	l.mu.Lock()
	l.syncing = false
	if l.err != nil { // a write failed meanwhile: the log is rolled back
		return
	}
	if err != nil {
		for l.flushing { // fail rewinds the buffers: no write may be in flight
			l.cond.Wait()
		}
		l.fail(fmt.Errorf("segment %s: fdatasync: %w", t.name, err))
		return
	}
	l.synced = max(l.synced, end)
	if lastIdx > l.synIdx {
		// Record that [0, end) of this segment is durable, so that
		// recovery can tell damage there from a torn tail.
		n := len(l.buf)
		l.buf = appendMarker(l.buf, t.header(), record.MarkerSynced, uint64(end-l.tailBase))
		l.lsn += int64(len(l.buf) - n)
		l.setSynIdx(lastIdx)
	}
}

// writeTail writes buf, then ext if any, to the tail at off: one write
// either way, vectored (pwritev) with ext, so that ext is written from
// where it is. REQUIRES: the flush role (it guards iov); mu not held.
func (l *Log) writeTail(t *segment, buf, ext []byte, off int64) error {
	if ext == nil {
		_, err := t.f.WriteAt(buf, off)
		return err
	}
	l.iov = [2][]byte{buf, ext}
	_, err := vfs.WriteAtv(t.f, l.iov[:], off)
	l.iov = [2][]byte{} // drop the caller's slice
	return err
}

// writebackChunk is how many bytes of complete pages a tail segment
// accumulates before the log asks for them to be written back.
const writebackChunk = 1 << 20

// startWriteback asks the kernel to start writing the tail's complete pages
// below file offset end to the device, once writebackChunk of them have
// accumulated since the last request, so that the fdatasync that comes
// later (a sync tick, Sync, or the seal of a full segment) finds little
// left to write (measured on W4-4K: without it, the writer waited for the
// whole 64 MiB segment at each seal). Whole pages only, in large pieces,
// so that a slow writer's partial last page is not written back again and
// again. sync_file_range may block while the device queue is full, so the
// flush calls it without mu. REQUIRES: the flush role (it guards
// t.wbOff); t is the tail.
func startWriteback(t *segment, end int64) {
	w, ok := t.f.(vfs.WritebackStarter)
	if !ok {
		return
	}
	if to := end &^ (4096 - 1); to-t.wbOff >= writebackChunk {
		w.StartWriteback(t.wbOff, to-t.wbOff)
		t.wbOff = to
	}
}

// fail makes err sticky and rolls the log's view back to what is durable:
// entries whose bytes a failed write or fsync may have lost are no longer
// readable and are never acknowledged (a retried fsync could succeed after
// the kernel dropped the dirty pages, PostgreSQL's "fsyncgate").
// REQUIRES: mu held; !flushing.
func (l *Log) fail(err error) {
	if l.err == nil {
		l.err = &failedError{cause: err}
		l.ev.failed(err)
	}
	if l.tail != nil && l.synIdx < l.last {
		keep := uint64(0)
		if l.synIdx >= l.tail.first {
			keep = l.synIdx - l.tail.first + 1
		}
		l.tailOffs = l.tailOffs[:keep]
		l.last = l.synIdx
	}
	l.buf, l.bufEntries = l.buf[:0], 0
	l.lsn, l.written, l.entryEnd = l.synced, l.synced, l.synced
	l.cond.Broadcast()
	l.wakeSyncer() // to fail the pending callbacks
}

// setSynIdx records that the entries up to i are durable (or, from a
// truncation, that i is the last entry and durable).
// REQUIRES: mu held.
func (l *Log) setSynIdx(i uint64) {
	l.synIdx = i
	l.durIdx.Store(i)
}

// waitDurable returns once the bytes before LSN end are durable, leading
// flushes as needed. REQUIRES: mu held.
func (l *Log) waitDurable(end int64) error {
	for l.synced < end {
		if l.err != nil {
			return l.err
		}
		if l.flushing || l.syncing {
			l.cond.Wait()
			continue
		}
		l.flush(true)
	}
	return nil
}

// syncAll makes every byte written so far durable, markers included, and
// waits for any flush in progress. Callers hold the exclusive gate, so no
// entry is added meanwhile; the loop then ends after at most one extra
// flush, for the marker the first one appends.
// REQUIRES: mu held; exclusive.
func (l *Log) syncAll() error {
	for {
		if err := l.waitDurable(l.lsn); err != nil {
			return err
		}
		for l.flushing || l.syncing {
			l.cond.Wait()
		}
		if l.synced >= l.lsn {
			return l.err
		}
	}
}

// exclusively runs fn while no writer may add entries: operations that
// seal, cut or replace the tail (rotation, truncations, Reset, Close) hold
// this gate so that syncAll has a fixed target and the bytes they seal are
// exactly the synced ones. Writers wait for the gate in makeRoom.
// REQUIRES: mu held.
func (l *Log) exclusively(fn func() error) error {
	for l.exclusive {
		l.cond.Wait()
	}
	l.exclusive = true
	defer func() {
		l.exclusive = false
		l.cond.Broadcast()
	}()
	return fn()
}

// commit finishes a write per the sync policy: under SyncAlways (or when
// forced) it waits for durability, or with async asks the syncer for it
// (requestSync) and goes on; otherwise it hands the buffer to the OS once
// it reaches BufferSize. REQUIRES: mu held.
func (l *Log) commit(force, async bool) error {
	if force || l.opts.SyncPolicy == SyncAlways {
		if !async {
			return l.waitDurable(l.entryEnd)
		}
		l.requestSync(l.entryEnd)
	}
	if len(l.buf) < l.opts.BufferSize {
		return nil
	}
	for l.flushing && len(l.buf) >= 4*l.opts.BufferSize {
		l.roomCond.Wait()
	}
	// No tail: a rotation is between segments (it releases mu for its
	// I/O) and flushed everything before it began.
	if !l.flushing && l.err == nil && l.tail != nil {
		l.flush(false)
	}
	return l.err
}

// Sync makes every entry written so far durable.
func (l *Log) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.err != nil || l.readOnly {
		return l.err
	}
	return l.waitDurable(l.entryEnd)
}

package wal

import "github.com/waldb/wal/record"

// Large entries are not copied into the write buffer. Their writer encodes
// the record header into buf, with the checksum computed over its own
// slice, and at once, without releasing mu, becomes the flusher: one
// vectored write (pwritev, vfs.WriteAtv) hands the OS what buf held, the
// header, and the payload from the caller's slice. The format is the same
// as for a copied entry; only the copy is saved.
//
// Lifetime of the caller's slice: it is referenced (as flushExt) only
// while its own writer is inside flushWith, so Append and Write are done
// with it when they return, whatever the sync policy. Readers of the entry
// meanwhile copy it out under mu (decodeBuffered), which the writer must
// reacquire before it returns. Group commit is unchanged: the write needs
// only the flush role, so it may run while a leader fdatasyncs, and under
// SyncAlways the writer then waits for durability like every other writer,
// sharing fsyncs. Batches are copied (Batch.Write copies) and never take
// this path.
//
// The price is one write system call per large entry, which buffered
// entries share: under SyncNever and SyncInterval that pays off only for
// entries large enough that copying them costs more than a system call,
// while under SyncAlways every write is flushed at once anyway.
// directThreshold holds the measured crossover points (docs/performance.md,
// "Large entries and direct I/O").

// directThreshold is the default Options.directMin for policy p.
func directThreshold(p SyncPolicy) int {
	if p == SyncAlways {
		return directMinSynced
	}
	return directMinBuffered
}

// Entry sizes from which the payload is written from the caller's slice,
// where BenchmarkAppendLarge on a tmpfs measured the process's CPU time
// per Append lower than with the copy (docs/performance.md): under
// SyncNever from 64 KiB (-12%; 16 KiB even, 4 KiB +42%), under SyncAlways,
// where concurrent writers' entries share one write when copied, from 256
// KiB (even with 1 writer, -6% with 4; 64 KiB: -15% with 1, +8% with 4).
const (
	directMinSynced   = 256 << 10
	directMinBuffered = 64 << 10
)

// direct reports whether an entry of n bytes is written from the caller's
// slice. REQUIRES: opts are validated.
func (l *Log) direct(n int) bool {
	m := l.opts.directMin
	if m == 0 {
		m = directThreshold(l.opts.SyncPolicy)
	}
	return m > 0 && n >= m
}

// writeDirect appends the entry data at the next index, writing its
// payload from data (see above), then commits it per the sync policy.
// REQUIRES: mu held; !flushing; entryRoom succeeded.
func (l *Log) writeDirect(data []byte) error {
	l.tailOffs = append(l.tailOffs, uint32(l.lsn-l.tailBase))
	l.buf = record.AppendHeader(l.buf, record.Full, l.last+1, data)
	l.last++
	l.bufEntries++
	l.lsn += int64(record.HeaderSize + len(data))
	l.entryEnd = l.lsn
	l.wake()
	l.flushWith(false, data)
	if l.err != nil {
		return l.err
	}
	return l.commit(false)
}

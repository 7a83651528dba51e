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
// entries share, and, under SyncAlways, which concurrent writers' copied
// entries share too. It pays only for entries large enough that copying
// them costs more than that; directMinDefault is the measured crossover
// (docs/performance.md, "Large entries and direct I/O").

// directMinDefault is the default Options.directMin, for every policy.
// The process's CPU time per megabyte appended under SyncNever to ext4
// (medians of 3 interleaved runs) was 38% higher with pwritev than with
// the copy at 64 KiB, 3% lower at 256 KiB, 14% lower at 512 KiB and 34%
// lower at 1 MiB; under SyncAlways (BenchmarkAppendLarge, tmpfs) 256 KiB was
// even with 1 writer and 6% lower with 4, while 64 KiB lost with 4.
const directMinDefault = 256 << 10

// direct reports whether an entry of n bytes is written from the caller's
// slice. REQUIRES: opts are validated.
func (l *Log) direct(n int) bool {
	m := l.opts.directMin
	if m == 0 {
		m = directMinDefault
	}
	return m > 0 && n >= m
}

// writeDirect appends the entry data at the next index, writing its
// payload from data (see above), then commits it per the sync policy
// (async: see commit).
// REQUIRES: mu held; !flushing; entryRoom succeeded.
func (l *Log) writeDirect(data []byte, async bool) error {
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
	return l.commit(false, async)
}

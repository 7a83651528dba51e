// Package wal is waldb's write-ahead log: an index-addressed, segmented,
// checksummed log with group commit, for databases, queues and raft nodes.
//
// # Use
//
// A Log lives in one directory. Entries carry consecutive indexes starting
// at 1; Write(index, data) requires index == LastIndex()+1 and Append
// assigns it. WriteBatch and AppendBatch write several entries as one unit:
// after a crash either all are present or none. TruncateFront drops a
// prefix (after a checkpoint), TruncateBack a suffix (a raft conflict), and
// Reset empties the log at any position (a raft snapshot install). Read is
// safe concurrently with everything else; Iter streams entries and can
// follow the tail. The API is a superset of tidwall/wal's.
//
// # Durability
//
// Under SyncAlways (the default) a write returns only after an fdatasync
// covering its bytes; concurrent writers share each fsync (group commit:
// the first writer to find no flush in progress writes and syncs everything
// buffered, while the next batch fills a second buffer). SyncInterval syncs
// in the background every Options.SyncInterval; SyncNever leaves it to the
// OS, Sync, Close and the truncations. Batch.Sync forces durability for one
// batch under any policy. A failed write or fsync is sticky: the log
// refuses further writes with ErrFailed and never acknowledges bytes the
// failure may have lost.
//
// # Asynchronous durability
//
// AppendAsync and AppendBatchAsync append without waiting for an fsync:
// they return the index (or range) once the entries are in the log's
// buffer, ordered and readable like any written entry. Durability is
// learnt later, by index:
//
//   - WaitDurable(i) blocks until entry i is durable, leading a
//     group-commit fsync if none covering it is in progress (under any
//     policy, like Sync);
//   - NotifyDurable(i, fn) is its non-blocking form for event loops: fn
//     runs once, later, on the log's syncer goroutine, never under the
//     log's mutex, in index order with the other callbacks;
//   - DurableIndex() reads, without locking or I/O, the largest index up
//     to which every entry is durable, for polling.
//
// There is one group commit, not two: a syncer goroutine, started by the
// first asynchronous request, is one more participant of the
// leader/follower protocol above. Under SyncAlways every asynchronous
// append asks it to sync at once, so a lone writer waits for no timer and
// concurrent writers, synchronous or not, share fsyncs; under SyncInterval
// and SyncNever only the policy, Batch.Sync, WaitDurable and NotifyDurable
// ask for one. The synchronous path is unchanged and allocates nothing;
// neither does AppendAsync followed by WaitDurable.
//
// The rules, each proved by a test (async_test.go, and the power-loss,
// I/O-error, metamorphic and walctl crashtest --async suites, which run
// their writes through this API too):
//
//   - An entry is reported durable (WaitDurable or fn returns nil,
//     DurableIndex reaches it) only after an fdatasync covering its bytes
//     succeeded, or because Open recovered it (Open syncs what it
//     recovers).
//   - After a failed write or fsync, every pending waiter and callback
//     whose entry was not yet durable gets the sticky error (ErrFailed
//     wrapping the cause); later calls get it at once. Entries durable
//     before the failure stay reported durable.
//   - Close syncs everything, then runs every pending callback before it
//     returns: with nil if its entry is durable, else with Close's error.
//     After Close the calls return ErrClosed.
//   - Waiters are resolved by byte position, which never moves backwards,
//     not by index. Every truncation (TruncateFront, TruncateBack, Reset)
//     first syncs every entry written before it, so each waiter registered
//     before a truncation is resolved as durable by it, even if the
//     truncation then removes its entry. A call made after a TruncateBack
//     or Reset removed index i returns ErrNotFound (i > LastIndex()); once
//     i is written again it refers to the new entry. An index below
//     FirstIndex counts as durable. DurableIndex drops with TruncateBack
//     and Reset (to the new last index), so a poller comparing indexes
//     across a truncation must account for it.
//
// # On disk
//
// FORMAT.md specifies the format byte by byte; in short:
//
//   - Segment files "<seq:016x>-<first index:020d>.wal", created under a
//     temporary name, preallocated, given a header (magic, version, flags,
//     sequence number, first index, CRC) and fsynced, then renamed into
//     place, followed by an fsync of the directory.
//   - Records (package record): a 16-byte header with a masked CRC-32C over
//     type, length, index and payload. A batch is a run of More records
//     closed by a Full record. Marker records state that the segment's bytes
//     before a given offset were durable, which lets recovery tell a torn
//     tail from damaged durable data; Close writes a clean-shutdown marker.
//   - A full segment is sealed: an index block (one 32-bit record offset
//     per entry) and a trailer are appended and the file is fsynced. Sealed
//     segments are memory-mapped for reads and never scanned by Open.
//   - META, replaced atomically, records the first index after
//     TruncateFront and the last index kept by TruncateBack, before files
//     change, so a crash part way through never resurrects removed entries.
//   - LOCK is flock'ed exclusively while a Log is open.
//
// # Recovery
//
// Open scans only the tail segment, and opens only the first and the last
// two segments: the others are opened and checked on first use, so Open
// takes the same time for any length of log (Options.EagerOpen opens them
// all). A torn tail (a partial record, an incomplete batch, preallocated
// zeros, garbage after the last good record) is truncated. Damage that a
// later sync marker proves was durable, a damaged sealed segment, or a
// missing segment is ErrCorrupt naming the file and offset (for a segment
// opened on first use, at that use); RecoveryMode selects stricter or
// point-in-time behaviour. Recovery() reports what was found and dropped. Recovery is
// idempotent, and a crash during it is harmless.
package wal

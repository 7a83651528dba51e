// Package raftlog stores hashicorp/raft's log and stable state on waldb,
// without BoltDB: Store implements raft.LogStore, raft.MonotonicLogStore
// and raft.StableStore. It is the only package of the module that imports
// hashicorp/raft.
//
//	store, err := raftlog.Open("/var/lib/node/raft", nil)
//	r, err := raft.NewRaft(conf, fsm, store, store, snapshots, transport)
//
// # Directory
//
//	DIR/log/        the raft log: a waldb log (FORMAT.md); raft index i is entry i
//	DIR/STABLE      the stable state (current term, last vote, ...)
//	DIR/STABLE.tmp  a replacement of STABLE being written; removed by Open
//
// Open creates DIR and DIR/log if needed and fsyncs each new directory's
// parent. The log's LOCK file makes a second Open of DIR fail with
// wal.ErrLocked; the stable file is touched only after the lock is held.
//
// # Log store
//
// Entry i of the log is raft index i, its payload the encoding below.
// FirstIndex and LastIndex report 0, 0 while the store is empty, as raft
// expects, whatever position the log keeps. Under SyncAlways GetLog
// serves the latest stored entries (up to 1,024 of them and 4 MiB) from
// memory, which is where raft's leader reads what it replicates, and
// older ones through the log's Read, which is safe beside writers
// (lock-free for sealed segments); it returns raft.ErrLogNotFound
// unwrapped for an index the store does not hold. StoreLogs writes a
// batch as one atomic, group-committed wal.WriteBatch: one write and,
// under SyncAlways, one fdatasync.
//
// raft's calls map to the log's crash-safe operations ([F, L] is the
// stored range, first the index of the first entry given to StoreLogs):
//
//	call                               log operation
//	StoreLogs, first = L+1             WriteBatch (the common case)
//	StoreLogs, F < first <= L          TruncateBack(first-1), WriteBatch: a later
//	                                   entry replaces the suffix from first on
//	StoreLogs, any other first         Reset(first), WriteBatch: raft after a
//	(store empty elsewhere, a gap      snapshot install; the old entries cannot
//	above L, or first <= F)            stay beside a gap, so they go
//	DeleteRange(min <= F, max >= L)    Reset(L+1): all entries (raft after
//	                                   restoring a snapshot); keeps the position
//	DeleteRange(min <= F, max < L)     TruncateFront(max+1): compaction
//	DeleteRange(min > F, max >= L)     TruncateBack(min-1): a conflicting suffix
//	DeleteRange(F < min, max < L)      ErrGap (raft never asks this)
//	DeleteRange outside [F, L]         nothing
//
// Every one of these log operations is atomic across a crash and durable
// when it returns (WriteBatch under SyncAlways, the default; FORMAT.md:
// TruncateBack records the cut in META first, Reset writes a reset segment
// first, TruncateFront records the new first index in META first), so
// after a power loss the log holds
// the state before or after each call; a StoreLogs that needed a cut or
// reset may also leave the log cut or emptied without its new entries,
// which raft had not been told were stored. Entries removed from the tail
// never reappear.
//
// # Entry encoding (version 1)
//
// A raft.Log is encoded as the payload of one log entry. Varints are
// encoding/binary's (LEB128, little-endian groups of 7 bits; signed ones
// zig-zag encoded) and must be minimal.
//
//	offset  size   field
//	0       1      version: 1
//	1       1      type: raft.LogType
//	2       1      flags: bit 0 AppendedAt present, bit 1 Extensions present;
//	               bits 2..7 zero
//	3       1..10  index, uvarint
//	.       1..10  term, uvarint
//	.       1..10  if bit 0: AppendedAt, seconds since 1970-01-01 UTC, varint
//	.       1..5   if bit 0: AppendedAt, nanoseconds within the second, uvarint < 1e9
//	.       1..10  if bit 1: length n of Extensions, uvarint, 1 <= n <= bytes left
//	.       n      if bit 1: Extensions
//	.       rest   Data (possibly empty)
//
// A zero AppendedAt is absent (bit 0 clear) and decodes as the zero time;
// a present one decodes in UTC, the same instant (location and monotonic
// reading are not kept). Empty Data and Extensions decode as nil. The
// index duplicates the log entry's index so an entry read back is checked
// to be the one asked for and decodes on its own. No checksum: the log's
// record frame carries a CRC-32C over the payload. For example, index 5,
// term 2, type LogCommand, data "hi", no extensions, no AppendedAt:
//
//	01 00 00 05 02 68 69
//
// A decoder accepts only version 1, known flags and canonical encodings,
// so re-encoding what it decodes gives the same bytes; any other input is
// ErrCorrupt. A future version gets a new version byte; this one is never
// changed.
//
// # Stable store
//
// The stable state, every key and value raft has Set, lives in memory and
// in the file STABLE, which every Set replaces whole: write STABLE.tmp,
// fsync it, rename it over STABLE, fsync DIR. Set returns only after the
// directory fsync, so an acknowledged value is durable; a crash at any
// point leaves the old file or the new one, each complete (the rename only
// exposes synced bytes). Open deletes a leftover STABLE.tmp. A failed
// rename or directory fsync may or may not have replaced the file, so it
// is sticky: later Sets fail with ErrFailed until the store is reopened.
// Get, GetUint64 and the log's readers take no lock.
//
// Get and GetUint64 of a key never set return ErrKeyNotFound, unwrapped,
// whose text is exactly "not found": raft compares err.Error() with that
// string. SetUint64 stores 8 big-endian bytes, as raft-boltdb does, so the
// key space is shared with Set and Get in the same way.
//
// STABLE (all integers little-endian):
//
//	offset  size  field
//	0       8     magic "WALDBSTB"
//	8       2     version: 1
//	10      2     zero
//	12      4     n: the number of key/value pairs
//	16      4     b: the length of the body in bytes; the file is 24+b bytes
//	20      4     masked CRC-32C (as in FORMAT.md) of bytes [0, 20) followed by the body
//	24      b     body: n pairs, keys in strictly increasing byte order, each
//	              uint32 key length, key, uint32 value length, value
//
// # Migration
//
// Package github.com/waldb/wal/raftlog/boltmigrate copies and verifies the
// entries and stable keys of a raft-boltdb store into an empty Store. It is
// a package of its own so that a program importing raftlog does not link
// BoltDB.
package raftlog

// Package txn logs transactions as records in a waldb log (package wal) and
// recovers the committed ones.
//
// A transaction is a run of records tagged with one transaction id: a
// Begin, any number of Put and Delete operations, and a final Commit or
// Abort. The package writes transactions in two ways:
//
//   - Atomic (Writer.Commit): the whole transaction is encoded at commit
//     time and appended as one wal.Batch, so after a crash either all of
//     its records are in the log or none is. Simple and fast for small
//     transactions; the operations sit in memory until commit.
//   - Streaming (Writer.Begin, Txn.Put, Txn.Delete, Txn.Commit, Txn.Abort):
//     each record is appended as it happens, interleaved with other
//     transactions, and only the final Commit record makes the transaction
//     count. For large transactions that must not sit in memory.
//
// Durability follows the log's wal.SyncPolicy: under wal.SyncAlways a
// Commit returns after the commit record is durable. A caller that opens the
// log with another policy calls (*wal.Log).Sync itself; several goroutines
// calling Sync at once share fsyncs (the log's group commit).
//
// # Record format (version 1)
//
// Every record is exactly one wal entry. The log already frames and
// checksums entries (package record), so a record carries no length prefix
// and no checksum of its own. Integers are little-endian.
//
//	offset  size  field
//	0       1     version: 1
//	1       1     kind: 1 Begin, 2 Put, 3 Delete, 4 Commit, 5 Abort
//	2       8     transaction id, uint64, never 0
//
// Begin, Commit and Abort records end there: they are exactly 10 bytes.
// A Delete record continues with the key:
//
//	10      4     key length k, uint32
//	14      k     key
//
// and a Put record with the key and the value:
//
//	10      4     key length k, uint32
//	14      k     key
//	14+k    4     value length v, uint32
//	18+k    v     value
//
// A record must end exactly where its layout ends; trailing bytes, a length
// that runs past the end, an unknown kind or id 0 are ErrCorrupt, and a
// version other than 1 is ErrVersion. Decode bounds every length by the
// bytes present before slicing and never allocates. Encoding is canonical:
// a byte string decodes to at most one Record, and Append of that Record
// gives the byte string back (pinned by testdata/golden.hex and fuzzed).
//
// # Transaction ids
//
// Ids are assigned by a Writer in increasing order, starting after the
// lastID it is created with; recovery reports the largest id in the log
// (Stats.MaxID) so that a restarted writer never reuses one. Under atomic
// logging from one goroutine, or with Commit calls ordered by the caller's
// own lock, id order equals commit order.
//
// # Recovery
//
// Recover scans the log from its first entry and calls apply for every
// operation of every committed transaction whose id is greater than after
// (the id of the last transaction reflected in the caller's checkpoint), in
// commit order (the order of the Commit records in the log), the operations
// of one transaction contiguous and in their log order. Aborted
// transactions and unfinished ones (no Commit or Abort before the end of
// the log, as after a crash mid-transaction) are skipped and counted.
// Transactions with ids at or below after are skipped without checks.
//
// Checkpoint contract: a checkpoint labelled with id X must reflect exactly
// the committed transactions with id <= X, and every transaction with
// id <= X must have finished (committed or aborted) before it was taken,
// as in the lab's recover(log_dir, max_finished_tranc_id). The log may be
// truncated in front (wal.Log.TruncateFront) only below the Begin record of
// every transaction with id > X; Writer.OldestActive reports the Begin of
// the oldest unfinished streaming transaction for that purpose. A record of
// a transaction above X whose Begin is missing is ErrCorrupt.
package txn

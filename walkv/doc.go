// Package walkv is a Redis-compatible key-value server whose every write
// is a transaction in a waldb write-ahead log (package wal, through package
// txn), with snapshots that keep the log short.
//
// Open returns a DB (the engine); Listen serves it over RESP2 and RESP3
// (HELLO 3, see reply3.go) from a few event loops
// (github.com/panjf2000/gnet), parsing requests and building replies with
// github.com/tidwall/redcon's codec (see Server). cmd/walkv is the command
// around both.
//
// # Data flow
//
// The keyspace lives in memory (keyspace: maps in 4096 shards; one per
// database, SELECT 0-15, see databases.go). A command
// that changes data runs under DB.mu held for writing: it plans its
// changes as operations (tx), applies them to memory through the same
// function recovery uses (keyspace.apply), and appends them to the log as
// one atomic transaction (txn.Writer.Commit, one wal batch: Begin, the
// operations, Commit). Holding DB.mu across apply and append makes log
// order equal apply order. EXEC runs all its queued commands under one
// hold and logs them as one transaction.
//
// # Durability (appendfsync)
//
// The log is opened with wal.SyncNever, so appending under DB.mu costs no
// fsync. Durability is walkv's decision, and the log's work: walkv asks
// the log (wal.Log.NotifyDurable, WaitDurable) and never fsyncs by itself.
//
//   - always: before the replies of a pipeline are sent, the connection
//     waits, without DB.mu, until the log entry those replies depend on
//     is durable — its own writes, and the writes of others that its
//     reads observed (so no client ever sees data a power loss could take
//     back). Each event loop queues its waiting connections (loopWait)
//     and, once it has served every client that was ready, asks the log
//     once for all of them without blocking; the log's syncer fsyncs at
//     once, shared with every other loop's clients (the log's group
//     commit), and its callback hands the loop back the queue to answer.
//     Goroutines that may block (cluster mode, SHUTDOWN) wait with
//     WaitDurable, which joins the same group commit.
//   - everysec: a background loop syncs once a second. A power loss loses
//     at most about the last second; a process crash at most what the
//     log still buffered (it hands its buffer to the OS every 10 ms).
//   - no: the OS writes back when it likes.
//
// CONFIG SET appendfsync switches at run time. A failed write or fsync is
// fail-stop: the waiting clients' connections are dropped without a reply,
// every later command gets an error, and a restart recovers what is
// durable.
//
// # Log operations (the payload of txn Put and Delete records)
//
// Operation keys start with a one-byte tag; <key> is the Redis key's bytes,
// <uvarint> an unsigned LEB128 varint (encoding/binary). Never change:
//
//	tag  record  key                          value                 effect
//	'k'  Put     'k' <key>                    kind (1 string,       create or replace the key with a
//	                                          2 hash, 3 list,       fresh value, no deadline; a hash,
//	                                          4 set, 5 sorted       list, set or sorted set starts
//	                                          set), then for a      empty
//	                                          string its bytes
//	'k'  Delete  'k' <key>                                          remove the key (any type)
//	'h'  Put     'h' <uvarint len(key)> <key> <field>  field value   set a field of the hash at key
//	'h'  Delete  'h' <uvarint len(key)> <key> <field>                remove a field
//	'x'  Put     'x' <key>                    deadline, int64 LE,   set the key's deadline
//	                                          Unix milliseconds
//	'x'  Delete  'x' <key>                                          remove the deadline (PERSIST)
//	'a'  Put     'a' <key>                    suffix                append to the string at key
//	'f'  Put     'f'                          empty                 remove every key of the current
//	                                                                database (FLUSHDB; in logs from
//	                                                                before databases, FLUSHALL)
//	'l'  Put     'l' <key>                    opcode, arguments     change the list at key (see list_ops.go:
//	                                                                push, pop k, set, insert, LREM)
//	's'  Put     's' <uvarint len(key)> <key> <member>  empty       add a member to the set at key
//	's'  Delete  's' <uvarint len(key)> <key> <member>              remove a member
//	'z'  Put     'z' <uvarint len(key)> <key> <member>  score,       set a member of the sorted set at
//	                                          float64 LE bits       key to the score (never NaN)
//	'z'  Delete  'z' <uvarint len(key)> <key> <member>               remove a member
//	'D'  Put     'D'                          uvarint db            the later operations of the
//	                                                                transaction apply to database db
//	'F'  Put     'F'                          empty                 remove every key of every
//	                                                                database (FLUSHALL)
//	'W'  Put     'W'                          uvarint a, uvarint b  exchange databases a and b (SWAPDB)
//	'M'  Put     'M' <key>                    uvarint db            move key, with its deadline, from
//	                                                                the current database to db (MOVE)
//
// Every transaction starts in database 0; the operations apply to the
// current database, which only 'D' changes (and only until the
// transaction ends). Logs written before databases hold no 'D' and
// replay into database 0. A 'D' is logged only when a command runs in
// another database than the one current in its transaction, so the
// transactions of database 0 are as before.
//
// A 'k' Put of kind 5 (sorted set) creates an empty sorted set; its value
// may carry one more byte, 1 if Redis would create the set as a skip
// list rather than a listpack (see zset.listpack: it decides whether a
// stored -0 reads back as 0, as in Redis).
//
// Operations are physical: INCR logs the new value, EXPIRE an absolute
// deadline, so replay needs no clock and reproduces the live state
// exactly. Expiry itself is not logged: a replayed key with a past
// deadline is as invisible as a removed one. Every operation on an
// existing key ('h', 'x', 'a') is logged only while the key is live, and
// a command on an expired key first recreates it with a 'k' Put, so replay
// never applies an operation to a key that the live server had dropped by
// expiry (DB.now never runs backwards, so "live" means the same to every
// later command). Recovery refuses an operation that breaks these rules
// (ErrCorruptLog).
//
// # Snapshot file format (version 3)
//
// A snapshot holds every database as of one transaction id. Files are named
// snapshot-<id, 20 decimal digits>.snap in the data directory, next to the
// log's directory wal/. All integers are little-endian.
//
//	header, 32 bytes:
//	offset  size  field
//	0       8     magic "WALKVSNP"
//	8       4     version: 3 (2 before databases, 1 before lists and
//	              sets; both still read, into database 0)
//	12      4     reserved: 0
//	16      8     id of the last transaction the snapshot reflects
//	24      8     creation time, Unix ms (informational)
//
//	then one entry per key:
//	0       1     kind: 1 string, 2 hash, 3 list, 4 set, 5 sorted set (3-5 from version 2)
//	1       8     deadline, int64 Unix ms; 0 = none
//	9       4     key length k
//	13      k     key
//	string:       4-byte length v, then v bytes of value
//	hash:         4-byte field count n, then n times: 4-byte length,
//	              field, 4-byte length, value
//	list:         4-byte element count n, then n times: 4-byte length,
//	              element (head first)
//	set:          4-byte member count n, then n times: 4-byte length, member
//	sorted set (kind 5): 4-byte member count n, then n times: 4-byte
//	              length, member, 8-byte score (float64 bits), in
//	              ascending (score, member) order
//
//	the entries belong to database 0 until a database marker (version 3):
//	0       1     0xfe
//	1       4     database index d; the entries after it, at least one,
//	              belong to database d (markers in increasing order of d,
//	              each d in 1-15)
//
//	then the trailer, 13 bytes:
//	0       1     end marker 0xff
//	1       8     number of entries
//	9       4     CRC-32C (Castagnoli, unmasked) of every byte before it
//
// Nothing may follow the trailer. The reader bounds every length by the
// bytes left in the file before allocating; any deviation, or a CRC
// mismatch, is ErrCorruptSnapshot. testdata/snapshot.hex pins the layout;
// testdata/snapshot-v1.hex and snapshot-v2.hex hold version 1 and 2
// files that must still load. Entries are in no particular order within
// a database; keys expired when the snapshot was frozen are left out.
//
// # Snapshots, truncation and crash safety
//
// A snapshot starts automatically once SnapshotLogBytes of log were
// written since the last one (and on SAVE, BGSAVE, BGREWRITEAOF,
// SHUTDOWN SAVE). Under DB.mu, briefly, the keyspace is frozen: its shard
// array is copied, and shards and items are copy-on-write from then on,
// so clients go on while a background goroutine writes the frozen copy.
// The file is written under a temporary name, fsynced, renamed into place,
// and the directory fsynced; only then are the log segments wholly covered
// by the snapshot deleted, and then older snapshots. Open loads the newest
// snapshot, deletes older ones and temporary files, and replays the
// committed transactions with larger ids from the log. At every point of
// this sequence the newest complete snapshot plus the log hold every
// acknowledged transaction: before the directory fsync the old snapshot
// and the untruncated log do; after it the new snapshot does, and the log
// keeps everything after it. A corrupt newest snapshot stops Open rather
// than silently starting from older state.
//
// # Limits and errors
//
// Bulk strings over MaxBulk (512 MiB by default, as Redis's
// proto-max-bulk-len), more than 1M arguments or an inline request over
// 64 KiB get Redis's protocol error and close that connection only; a
// malformed request gets Redis's protocol error and is closed; unknown commands, wrong
// arity, wrong types and bad arguments get Redis's error replies and the
// connection stays. A transaction whose log records would exceed 1 GiB is
// refused before it changes anything.
package walkv

// Package wal (import path github.com/waldb/wal/tidwall) is a drop-in
// replacement for github.com/tidwall/wal v1.2.1 built on waldb's log: a
// program that uses tidwall/wal switches by changing only its import path.
//
//	import "github.com/waldb/wal/tidwall" // was "github.com/tidwall/wal"
//
// The package's name is wal, as tidwall's is, so no identifier changes.
// It exposes tidwall's exported API exactly: Options and its fields,
// DefaultOptions, LogFormat (Binary, JSON), Batch (Write, Clear), Log
// (Open, Close, Write, WriteBatch, Read, FirstIndex, LastIndex,
// TruncateFront, TruncateBack, Sync, ClearCache, IsEmpty) and the sentinel
// errors, which are returned unwrapped so that tidwall's err == ErrX
// comparisons keep working (they are also the root package's sentinels, so
// errors.Is works across both).
//
// # Why a separate package
//
// The root package, github.com/waldb/wal, keeps semantics that tidwall's
// contradict and that its own users rely on: TruncateFront(LastIndex()+1)
// empties the log, WriteBatch leaves the batch to the caller, errors are
// wrapped with the segment, offset or index involved, and a log emptied at
// any position reopens without complaint. Changing those in the root would
// break raftlog, walkv and every existing caller; emulating them here, over
// the root's public API, keeps both contracts exact.
//
// # Semantics
//
// Everything tidwall documents holds, in particular AllowEmpty:
//
//   - Without AllowEmpty, at least one entry must remain after a
//     truncation: TruncateFront(LastIndex()+1) and TruncateBack(FirstIndex()-1)
//     fail with ErrOutOfRange, FirstIndex and LastIndex of a new log are
//     both 0, and Open of a log that was emptied (with AllowEmpty) fails
//     with ErrEmptyLog.
//   - With AllowEmpty, both truncations may empty the log; an empty log
//     reports FirstIndex() == LastIndex()+1, and a new log 1 and 0.
//
// WriteBatch clears the batch when it succeeds. Options.FilePerms and
// DirPerms are the modes of the files and directories created (subject to
// the umask). Read returns a copy unless NoCopy is set; with NoCopy the
// slice must not be modified and is valid until the entry is truncated
// away or the log closed.
//
// What is stronger than tidwall: every entry is CRC-checked on read and at
// recovery, a torn tail after a crash is repaired instead of failing Open,
// truncations are crash-safe, and durability is waldb's (see the root
// package). Writes are serialised, as in tidwall; for concurrent writers
// sharing fsyncs use the root package's Append.
//
// Differences that cannot be seen through the API: entries are stored in
// waldb's format whatever LogFormat says (LogFormat selects how an existing
// tidwall directory is read), SegmentCacheSize has no effect (sealed
// segments are memory-mapped, not cached), and under NoSync a process
// crash (not only a power loss) may lose the last few milliseconds of
// writes, which waldb buffers (Options.FlushInterval of the root package).
//
// # Existing tidwall directories
//
// Open converts a directory written by tidwall/wal (segment files named by
// 20 digits, in the Binary or JSON format given by Options.LogFormat,
// including the .START and .END files an interrupted truncation leaves) in
// place before opening it; Migrate does the same explicitly, and so does
// `walctl migrate-tidwall`. The conversion is crash-safe: the new log is
// built and made durable in a subdirectory, which is then renamed to mark
// the conversion done; only after that are the tidwall files deleted and
// the new files moved into place, and an Open after a crash at any point
// either starts the conversion again from the intact tidwall files or
// finishes it.
package wal

// Package crashsuite holds waldb's tests that need real processes and a
// real filesystem: SIGKILL crashes of a writer (TestKill9), the directory
// lock across processes (TestLockAcrossProcessesRepeated), and a genuinely
// full disk on a small tmpfs (TestFullDiskTmpfs). The package has no code
// besides this comment; everything is in its _test.go files. The test
// binary re-executes itself as the child process, dispatched in TestMain by
// the environment variable WAL_CRASHSUITE_CHILD.
//
// # Running
//
//	go test -race ./internal/crashsuite/                                    # CI size: 1,002 kills
//	WAL_SOAK=1 go test -run TestKill9 -timeout 0 ./internal/crashsuite/     # soak: 100,002 kills
//	WAL_KILLS=5000 go test -run TestKill9 -timeout 0 ./internal/crashsuite/ # any size
//	WAL_SEED=1234 go test -run TestKill9 ./internal/crashsuite/             # replay a seed
//	WAL_CELLS=never go test -run TestKill9 ./internal/crashsuite/           # cells whose name contains "never"
//	WAL_STRICT_NOOP=0 go test -run TestKill9 ./internal/crashsuite/         # see "No-op truncations"
//
// At CI size the kills take about a minute on an idle two-core machine
// under -race (the children are the race-enabled test binary too); 20,004
// kills took six minutes without -race; the soak size takes hours. The
// seed (printed by every run, and in every failure) fixes every choice the
// tests make: the children's operation mix, payload sizes and contents,
// truncation indexes, chain lengths and kill delays. It cannot fix the
// scheduler, so a replay explores the same choices, not the same
// interleaving. A failure names the seed, the kill, each child of the chain
// with its seed and kill delay, the violations, and two files kept for
// inspection: the log directory and, beside it, <dir>.lines, every line the
// children wrote since the last verification.
//
// # TestKill9: the child
//
// The matrix is {always, interval, never} x {8 KiB segments (a rotation
// every few entries), 64 MiB segments (the default)}: 167 kills per cell at
// CI size, 16,667 at soak size. All six cells run at once, each on its own
// directory. Under interval the log syncs every 5 ms and flushes every
// 2 ms, so background syncs happen within a child's short life. A child opens
// the log and runs four writer goroutines, each drawing a seeded mix of
// Append, Write, AppendBatch and WriteBatch (some with Batch.Sync), Sync,
// TruncateFront, TruncateBack and Reset, plus a reader that checks random
// entries. Every payload verifies itself: it carries its index, a
// generation number, the first index and length of its batch, and a CRC-32C
// of all of it.
//
// Indexes are known before a write: a writer holds the child's sequencing
// mutex from choosing the index until the log has taken the entry
// (LastIndex reaches it), then releases it while the call waits for its
// fsync, so concurrent writers still share fsyncs (group commit). The
// truncations and Reset run with the sequencing mutex held, so no entry is
// being taken meanwhile, but writers may still be waiting for their fsyncs.
// Each TruncateBack and Reset starts a new generation: entries written after
// it carry a larger generation than every entry before it, so along the log
// the generation never decreases, and a stale entry shows its age.
//
// The child writes one line per event to its stdout, a pipe to the parent,
// each with one write(2), so a kill never leaves half a line:
//
//	S                  about to call Open (the early kills are timed from here)
//	O <first> <last>   Open returned
//	A <a> <b> <gen>    entries a..b of generation gen are durable
//	f <i> <gen>        about to call TruncateFront(i) (intent)
//	F <i> <gen>        TruncateFront(i) returned nil
//	b <i> <gen>        about to call TruncateBack(i); gen is the new generation
//	B <i> <gen>        TruncateBack(i) returned nil
//	r <i> <gen>        about to call Reset(i); gen is the new generation
//	R <i> <gen>        Reset(i) returned nil
//
// An A line is written only after the call that made the entries durable
// returned nil: under SyncAlways the Append, Write or batch call itself;
// under SyncInterval and SyncNever only a later durability point, that is a
// Sync, a write of a batch with Batch.Sync, or a truncation (README,
// "Durability guarantees"). A durability point covers exactly the entries
// the log had taken when it was called, which the child knows because it
// snapshots its own state under the sequencing mutex before the call. A
// TruncateBack(i) covers the entries up to i, a TruncateFront every entry.
// The child reports only its own entries; those it found at Open are
// covered by the parent's baseline (below).
//
// # No-op truncations
//
// TruncateFront(FirstIndex()) and TruncateBack(LastIndex()) cut nothing,
// but like every truncation they make all earlier entries durable (the
// README's definition of an acknowledgement counts them). This suite found
// that they used to return at once without a sync; the child counts them as
// durability points, and WAL_STRICT_NOOP=0 stops it doing so.
//
// # TestKill9: the parent and its model
//
// The parent kills each child with SIGKILL: one kill in five 0-5 ms after
// the S line (during Open's recovery, or just after it), the others 0-40 ms
// after the O line. Children run in chains of one to three on the same
// directory, so later children recover from a crash, not from a clean
// Close; then the parent verifies. The model holds:
//
//   - the baseline: the log's exact first index and every entry with its
//     generation, as the previous verification found them (empty at first);
//   - facts: (index, generation) pairs from A lines; for each index only the
//     largest generation counts, because a larger generation at an index can
//     only have been written after a truncation removed the smaller one;
//   - operations: F, B and R lines in order, each acknowledged or pending. A
//     child is killed at most with one operation pending, its last, because
//     it holds the sequencing mutex from intent to acknowledgement.
//
// A pending operation may or may not have taken effect, so the parent
// checks every combination ("world") of pending operations effective or
// not, and the log passes if some world has no violation. In a world:
//
//  1. The first index is the baseline's, replaced in order by each
//     effective TruncateFront(i) or Reset(i) by i. FirstIndex must equal it
//     exactly (0 only for an empty log whose next index is 1).
//  2. An effective TruncateBack(k) of generation g removes every entry above
//     k of a generation below g; an effective Reset of generation g removes
//     every entry of a generation below g; an effective TruncateFront(i)
//     issued in generation g removes every entry below i of a generation up
//     to g.
//  3. Every fact (i, g) that no effective operation removed must be in the
//     log at index i with generation exactly g.
//  4. No entry in the log may be one that an effective operation removed
//     (no resurrection above an acknowledged TruncateBack, none from before
//     a Reset).
//  5. Every index in [first, last] reads back (no holes); every payload
//     decodes, its CRC matches and its index is the index read (no garbage);
//     generations never decrease along the log and none is newer than any
//     generation handed out; Read(first-1) and Read(last+1) are ErrNotFound.
//  6. Batches are all or nothing: an entry whose batch began before it
//     follows an entry of the same batch, except at the first index (a
//     TruncateFront may cut a batch, and rule 1 checks the first index); an
//     entry whose batch continues after it is followed by the next entry of
//     its batch, unless an effective TruncateBack of a newer generation cut
//     exactly there (or the previous verification accepted that cut).
//
// Then the parent closes the log, opens it again and requires a clean
// recovery that drops and removes nothing and reports the same bounds and
// the same entries; it checks that OpenReadOnly, run before the first Open,
// predicted those bounds; and it appends a few entries of a fresh
// generation and reads them back. The verified log, those appends
// included, becomes the next baseline: entries that were recovered without
// being acknowledged are known from then on, and must survive every later
// crash as any acknowledged entry must.
//
// # TestLockAcrossProcessesRepeated
//
// While the parent holds a log open, a child process calls Open on it
// 1,000 times and the parent 1,000 times: every call must fail with
// ErrLocked within 500 ms (flock with LOCK_NB never waits; the slowest is
// typically a millisecond or two under -race). Then, 20 times, a child opens a log,
// acknowledges an entry and is SIGKILLed; the parent's Open right after
// Wait must succeed and read the entry.
//
// # TestFullDiskTmpfs
//
// As root on Linux (else skipped, saying why), for SyncAlways and
// SyncNever: mount a 24 MiB tmpfs, write an 8 MiB ballast file, open a log
// with 1 MiB segments and append until a call fails. The error must match
// syscall.ENOSPC and every acknowledged entry must read back. Then a second
// file takes the last free byte, and later gives back 64 KiB (room for
// META, not for a segment); each time appends, TruncateFront, TruncateBack
// and Sync must succeed or fail with ENOSPC. Then both files are deleted,
// the log is reopened if a failure was sticky (ErrFailed), 4 MiB more are
// appended, and every acknowledged entry must survive a reopen. What was
// observed, and what the README promises: ENOSPC surfaces when the next
// segment is preallocated (fallocate of prepare-N.tmp), at the Append that
// rotates; it is not sticky; the log then has no tail and each later write
// retries the preallocation; with no byte free, truncations fail writing
// META.tmp (not sticky either); with 64 KiB free they succeed; after the
// space is freed, appends resume on the same Log without a reopen.
package crashsuite

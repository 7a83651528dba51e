package walkv

import (
	"encoding/binary"
	"fmt"
)

// Sizes that fit the log
//
// A write is refused before it is accepted if it cannot fit one log
// entry, with a definite error: a leader whose log write fails steps down
// and leaves the client with "outcome unknown". Single-node mode: a bulk
// string is at most MaxMaxBulk (512 MiB), a transaction at most
// maxTxnBytes (1 GiB), checked by tx.apply before anything is logged.
// Cluster mode: the Replicator says how large an entry may be
// (EntryLimiter); MaxBulk (proto-max-bulk-len) is capped to it less
// clusterBulkMargin, so the request parser refuses a larger bulk as soon
// as its length line arrives; it also refuses a request whose arguments
// together cannot fit (an MSET of several large values) as soon as the
// length line that breaks the limit arrives, and propose refuses an
// entry still too large (an EXEC's queue).

// EntryLimiter is implemented by a Replicator whose log bounds the size
// of one entry.
type EntryLimiter interface {
	// MaxEntryBytes is the largest entry Propose accepts.
	MaxEntryBytes() int
}

// clusterBulkMargin is the room a cluster entry keeps beside its largest
// bulk string: the entry header, the command name, a key, the lengths.
const clusterBulkMargin = 64 << 10

// capBulkToLog lowers c.MaxBulk to what one replicated entry can hold.
func capBulkToLog(c *Options) error {
	l, ok := c.Replicator.(EntryLimiter)
	if !ok {
		return nil
	}
	limit := l.MaxEntryBytes() - clusterBulkMargin
	if limit <= 0 {
		return fmt.Errorf("%w: the Replicator's entries (%d bytes) are too small", ErrInvalidOption, l.MaxEntryBytes())
	}
	c.MaxBulk = min(c.MaxBulk, limit)
	return nil
}

// maxRequestBytes is the reqScanner's maxReq: 0 in single-node mode;
// in cluster mode what one entry holds less its header, so that a
// request that cannot fit is refused before it is buffered.
func (db *DB) maxRequestBytes() int64 {
	l, ok := db.opts.Replicator.(EntryLimiter)
	if !ok {
		return 0
	}
	return int64(l.MaxEntryBytes() - entryHeaderLen - 2*binary.MaxVarintLen64)
}

// entryFits reports whether an encoded cluster entry of n bytes may be
// proposed.
func (db *DB) entryFits(n int) bool {
	l, ok := db.opts.Replicator.(EntryLimiter)
	return !ok || n <= l.MaxEntryBytes()
}

package wal

import (
	"github.com/waldb/wal/internal/invariants"
)

// checkInvariants verifies the write state against the invariants stated
// on Log, and re-verifies the newest buffered record. It runs only with the
// "invariants" build tag. REQUIRES: mu held.
func (l *Log) checkInvariants() {
	if !invariants.Enabled {
		return
	}
	invariants.Check(l.synced <= l.written, "synced %d > written %d", l.synced, l.written)
	inFlight := int64(len(l.flushBuf) + len(l.flushExt))
	invariants.Check(l.written+inFlight+int64(len(l.buf)) == l.lsn,
		"written %d + in flight %d + buffered %d != lsn %d", l.written, inFlight, len(l.buf), l.lsn)
	invariants.Check(l.entryEnd <= l.lsn, "entryEnd %d > lsn %d", l.entryEnd, l.lsn)
	invariants.Check(l.first <= l.last+1, "first %d > last+1 %d", l.first, l.last+1)
	if l.tail == nil {
		return
	}
	n := uint64(len(l.tailOffs))
	invariants.Check(l.tail.first+n == l.last+1 || l.last < l.tail.first,
		"tail first %d + %d entries != last+1 %d", l.tail.first, n, l.last+1)
	if n >= 2 {
		invariants.Check(l.tailOffs[n-2] < l.tailOffs[n-1], "tail offsets not increasing at %d", n-1)
	}
	if n > 0 {
		if b, ext := l.buffered(int64(l.tailOffs[n-1]) + l.tailBase); b != nil {
			_, err := decodeBuffered(b, ext, l.last)
			invariants.Check(err == nil, "newest buffered record of index %d does not decode: %v", l.last, err)
		}
	}
}

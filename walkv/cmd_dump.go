package walkv

import (
	"errors"
	"maps"
	"slices"

	"github.com/waldb/wal/walkv/internal/rdb"
)

// DUMP and RESTORE in Redis's serialization format (package rdb): DUMP
// writes the plain encodings, which redis-server restores; RESTORE reads
// every encoding redis-server 7.0 writes or accepts for strings, lists,
// sets, hashes and sorted sets. A restored key is logged as the
// operations that create its type (the same as COPY's), then its
// deadline: replay, snapshots and cluster mode need nothing new. The
// whole payload is decoded and checked before anything is planned.

func init() {
	register(
		&command{name: "dump", arity: 2, flags: flagReadonly, lock: lockRead, first: 1, last: 1, step: 1, run: cmdDump},
		&command{name: "restore", arity: -4, flags: flagWrite, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdRestore},
	)
}

// RESTORE's error replies (Redis 7.0's texts).
const (
	errBusyKey      = "BUSYKEY Target key name already exists."
	errDumpFooter   = "ERR DUMP payload version or checksum are wrong"
	errBadData      = "ERR Bad data format"
	errBadTTL       = "ERR Invalid TTL value, must be >= 0"
	errBadIdletime  = "ERR Invalid IDLETIME value, must be >= 0"
	errBadFrequency = "ERR Invalid FREQ value, must be >= 0 and <= 255"
)

// cmdDump: DUMP key, the value serialized, or nil for a missing key.
func cmdDump(x *exec) {
	it := x.live(x.key(1))
	if it == nil {
		x.c.WriteNull()
		return
	}
	x.c.WriteBulk(dumpPayload(it))
}

// dumpPayload serializes it's value (not its deadline: DUMP carries none).
// Set members and hash fields go in sorted order, so that an unchanged
// key DUMPs to the same bytes every time, as in Redis.
func dumpPayload(it *item) []byte {
	var e rdb.Encoder
	switch it.kind {
	case kindString:
		e.BeginString()
		e.Bytes(it.str)
	case kindList:
		e.BeginList(it.list.n)
		if it.list.n > 0 {
			it.list.each(0, it.list.n-1, func(_ int, v []byte) bool {
				e.Bytes(v)
				return true
			})
		}
	case kindSet:
		e.BeginSet(len(it.set))
		for _, m := range slices.Sorted(maps.Keys(it.set)) {
			e.Str(m)
		}
	case kindHash:
		e.BeginHash(len(it.fields))
		for _, f := range slices.Sorted(maps.Keys(it.fields)) {
			e.Str(f)
			e.Bytes(it.fields[f])
		}
	case kindZSet:
		e.BeginZSet(it.z.len())
		it.z.ascend(0, func(z *zent) bool {
			e.Str(z.member)
			e.Score(z.score)
			return true
		})
	}
	return e.Finish()
}

// restoreOpts are RESTORE's options after key ttl serialized-value.
type restoreOpts struct {
	replace, absTTL bool
	idle, freq      int64 // -1 when absent; accepted, not kept (walkv has no LRU/LFU)
}

// parseRestoreOpts parses the options as Redis does: IDLETIME and FREQ
// exclude each other (the second is a syntax error). It replies the error
// and returns false.
func parseRestoreOpts(x *exec) (restoreOpts, bool) {
	o := restoreOpts{idle: -1, freq: -1}
	for j := 4; j < len(x.args); j++ {
		more := len(x.args) - j - 1
		switch a := x.args[j]; {
		case eqFold(a, "replace"):
			o.replace = true
		case eqFold(a, "absttl"):
			o.absTTL = true
		case eqFold(a, "idletime") && more >= 1 && o.freq == -1:
			v, ok := x.argInt(j + 1)
			if !ok {
				return o, false
			}
			if v < 0 {
				x.c.WriteError(errBadIdletime)
				return o, false
			}
			o.idle, j = v, j+1
		case eqFold(a, "freq") && more >= 1 && o.idle == -1:
			v, ok := x.argInt(j + 1)
			if !ok {
				return o, false
			}
			if v < 0 || v > 255 {
				x.c.WriteError(errBadFrequency)
				return o, false
			}
			o.freq, j = v, j+1
		default:
			x.c.WriteError(errSyntax)
			return o, false
		}
	}
	return o, true
}

// cmdRestore: RESTORE key ttl serialized-value [REPLACE] [ABSTTL]
// [IDLETIME seconds] [FREQ frequency], checked in Redis's order: options,
// existing key, TTL, footer, value.
func cmdRestore(x *exec) {
	o, ok := parseRestoreOpts(x)
	if !ok {
		return
	}
	key := x.key(1)
	exists := x.live(key) != nil
	if exists && !o.replace {
		x.c.WriteError(errBusyKey)
		return
	}
	ttl, ok := x.argInt(2)
	if !ok {
		return
	}
	if ttl < 0 {
		x.c.WriteError(errBadTTL)
		return
	}
	v, err := rdb.Decode(x.args[3], maxTxnBytes)
	switch {
	case errors.Is(err, rdb.ErrFooter):
		x.c.WriteError(errDumpFooter)
		return
	case errors.Is(err, rdb.ErrTooLarge):
		x.c.WriteError(errTxnTooLarge)
		return
	case err != nil:
		x.c.WriteError(errBadData)
		return
	}
	if ttl != 0 && !o.absTTL {
		ttl += x.now // wraps like Redis's ttl+mstime(), and is then in the past
	}
	if ttl != 0 && ttl <= x.now {
		// Already expired: Redis deletes the key it would replace and
		// creates nothing.
		if exists {
			x.t.plan(opDelKey(key))
		}
	} else {
		planRestore(x.t, key, v)
		if ttl != 0 {
			x.t.plan(opSetExpire(key, ttl))
		}
	}
	if x.apply() {
		x.c.WriteString("OK")
	}
}

// planRestore plans the operations that create key holding v, replacing
// any value it has; the operations copy what they keep of v.
func planRestore(t *tx, key string, v *rdb.Value) {
	switch v.Kind {
	case rdb.String:
		t.plan(opSetKey(key, kindString, v.Str))
	case rdb.List:
		t.plan(opSetKey(key, kindList, nil))
		t.plan(opListPush(key, false, v.Elems))
	case rdb.Set:
		t.plan(opSetKey(key, kindSet, nil))
		for _, m := range v.Elems {
			t.plan(opAddMember(key, string(m)))
		}
	case rdb.Hash:
		t.plan(opSetKey(key, kindHash, nil))
		for i := 0; i < len(v.Elems); i += 2 {
			t.plan(opSetField(key, string(v.Elems[i]), v.Elems[i+1]))
		}
	case rdb.ZSet:
		t.plan(opSetKey(key, kindZSet, zsetHeader(!v.Listpack)))
		for _, e := range v.Entries {
			t.plan(opZSet(key, string(e.Member), e.Score))
		}
	}
}

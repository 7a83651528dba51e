package walkv

import (
	"fmt"
	"slices"

	"github.com/waldb/wal/txn"
)

// maxTxnBytes bounds the encoded size of one logged transaction, so that
// every record fits one log entry and every transaction one segment.
const maxTxnBytes = 1<<30 - 1<<20

// opOverhead bounds the bytes a txn record adds to an operation's key and
// value (header, lengths, tag, varint).
const opOverhead = txn.HeaderSize + 8 + 1 + 10

// tx collects the operations of one logged transaction: a single command,
// or all the commands of an EXEC.
//
// A command plans its operations first (plan), reading the keyspace but
// not changing it, then apply checks the size of the planned operations
// and applies them, in order, through keyspace.apply — the function
// recovery uses. So what is logged is exactly what was applied, and a
// command that cannot be logged changes nothing.
//
// Invariant: ops[:mark] have been applied; ops[mark:] are planned. cur
// is the database ops[:mark] leave current: the one a replay of them
// would apply the next operation to (see databases.go).
// REQUIRES: DB.mu held for writing during the whole life of a tx.
type tx struct {
	db   *DB
	ops  []txn.Op
	size int
	mark int
	cur  int
	keys []byte // arena of operation keys (see taggedKey)
}

// reset empties t for reuse, keeping a small ops array (cleared, so it
// pins no keys or values) and the key arena.
func (t *tx) reset() {
	if cap(t.ops) > maxScratchOps {
		t.ops = nil
	} else {
		clear(t.ops)
		t.ops = t.ops[:0]
	}
	if cap(t.keys) > maxScratchKeys {
		t.keys = nil
	}
	t.keys = t.keys[:0]
	t.db, t.size, t.mark, t.cur = nil, 0, 0, 0
}

// maxScratchKeys bounds the key arena a reused tx keeps.
const maxScratchKeys = 1 << 10

// taggedKey returns tag followed by key, like tagged, but carved from t's
// arena: for operation keys, which nothing keeps past the transaction
// (the log copies them; keyspace.apply copies the Redis key out). A grown
// arena leaves earlier keys in the old array, so they stay valid.
func (t *tx) taggedKey(tag byte, key string) []byte {
	n := 1 + len(key)
	if cap(t.keys)-len(t.keys) < n {
		if n > maxScratchKeys/4 {
			return tagged(tag, key)
		}
		t.keys = make([]byte, 0, maxScratchKeys)
	}
	start := len(t.keys)
	t.keys = append(append(t.keys, tag), key...)
	return t.keys[start:len(t.keys):len(t.keys)]
}

// planSetKey plans opSetKey(key, k, str) with its key from t's arena.
func (t *tx) planSetKey(key string, k kind, str []byte) {
	t.plan(setKeyOp(t.taggedKey(tagKey, key), k, str))
}

// plan adds an operation of the current command.
func (t *tx) plan(op txn.Op) { t.ops = append(t.ops, op) }

// apply applies the current command's planned operations, which are
// meant for database dbi (a MOVE or COPY may select another among them),
// and returns errTooLarge (applying nothing) if they would make the
// transaction exceed maxTxnBytes. If the operations so far left another
// database current, a select of dbi goes first.
func (t *tx) apply(dbi int) error {
	if dbi != t.cur && t.mark < len(t.ops) && !isSelect(t.ops[t.mark]) {
		t.ops = slices.Insert(t.ops, t.mark, opSelectDB(dbi))
	}
	size := t.size
	for _, op := range t.ops[t.mark:] {
		size += opOverhead + len(op.Key) + len(op.Value)
	}
	if size > maxTxnBytes {
		t.ops = t.ops[:t.mark]
		return errTooLarge
	}
	a := dbApplier{db: t.db, cur: t.cur}
	for _, op := range t.ops[t.mark:] {
		cur := a.cur
		t.db.touch(cur, op) // before: a flush touches the watched keys that exist
		if err := a.apply(op); err != nil {
			panic(fmt.Sprintf("walkv: invariant violated: live operation does not apply: %v", err))
		}
		t.db.signalReady(cur, op)
	}
	t.size, t.mark, t.cur = size, len(t.ops), a.cur
	return nil
}

// empty reports whether the transaction has nothing to log.
func (t *tx) empty() bool { return t.mark == 0 }

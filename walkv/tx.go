package walkv

import (
	"fmt"

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
// Invariant: ops[:mark] have been applied; ops[mark:] are planned.
// REQUIRES: DB.mu held for writing during the whole life of a tx.
type tx struct {
	db   *DB
	ops  []txn.Op
	size int
	mark int
}

// plan adds an operation of the current command.
func (t *tx) plan(op txn.Op) { t.ops = append(t.ops, op) }

// apply applies the current command's planned operations and returns
// errTooLarge (applying nothing) if they would make the transaction exceed
// maxTxnBytes.
func (t *tx) apply() error {
	size := t.size
	for _, op := range t.ops[t.mark:] {
		size += opOverhead + len(op.Key) + len(op.Value)
	}
	if size > maxTxnBytes {
		t.ops = t.ops[:t.mark]
		return errTooLarge
	}
	for _, op := range t.ops[t.mark:] {
		if err := t.db.ks.apply(op); err != nil {
			panic(fmt.Sprintf("walkv: invariant violated: live operation does not apply: %v", err))
		}
		t.db.touch(op)
	}
	t.size, t.mark = size, len(t.ops)
	return nil
}

// empty reports whether the transaction has nothing to log.
func (t *tx) empty() bool { return t.mark == 0 }

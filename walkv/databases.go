package walkv

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/waldb/wal/txn"
)

// Databases (SELECT, MOVE, SWAPDB, FLUSHDB, FLUSHALL, COPY ... DB)
//
// The DB holds numDBs keyspaces, one per Redis database (DB.dbs, guarded
// by DB.mu). A connection's session carries the index of its selected
// database (session.db); an exec carries the index its command runs in
// (exec.dbi) and resolves the keyspace from it at each use (exec.ks), so
// a SWAPDB, which exchanges two entries of DB.dbs, is seen at once by
// every connection and by the later commands of the same EXEC, exactly
// as Redis's clients keep their db number while SWAPDB swaps the data
// under it. Everything keyed by a Redis key outside the keyspace (the
// watch registry, the blocked clients) is keyed by dbKey, the database
// index and the key, and so stays with the db number, as in Redis.
//
// # Logging
//
// A transaction's operations apply to database 0 until a select
// operation ('D') names another; the choice lasts until the next select
// or the end of the transaction. Logs written before databases existed
// hold no select operation and replay wholly into database 0. tx.apply
// inserts a select before a command's operations when the command runs
// in another database than the transaction's operations so far (so a
// transaction on database 0, the common case, logs nothing more), and
// replay tracks the same "current database" per transaction
// (dbApplier). MOVE ('M'), SWAPDB ('W') and FLUSHALL ('F') are
// operations of their own; FLUSHDB is the flush ('f') of the current
// database. Both paths apply every operation through dbApplier.apply, so
// replay rebuilds the state the live server had.
//
// Invariant: 0 <= session.db, exec.dbi, waiter.db, dbKey.db < numDBs.

// numDBs is the number of databases (Redis's "databases 16").
const numDBs = 16

// Tags of the database operations (see the package doc). Never change
// them.
const (
	tagSelectDB = 'D' // Put 'D', value uvarint db: later ops apply to db
	tagFlushAll = 'F' // Put 'F', empty value: empty every database
	tagSwapDB   = 'W' // Put 'W', value uvarint a, uvarint b: exchange two databases
	tagMove     = 'M' // Put 'M' <key>, value uvarint db: move key from the current db to db
)

// dbKey is a key of one database.
type dbKey struct {
	db  int
	key string
}

// errSameObject is Redis's reply to a MOVE or COPY onto itself.
const errSameObject = "ERR source and destination objects are the same"

// errDBRange32 is Redis's reply to a database index outside int32.
const errDBRange32 = "ERR value is out of range, value must between -2147483648 and 2147483647"

// parseDBIndex parses a database index as Redis's getIntFromObject does
// and checks its range, replying Redis's error and returning false if it
// is not a valid database.
func (x *exec) parseDBIndex(b []byte) (int, bool) {
	n, ok := parseInt(b)
	switch {
	case !ok:
		x.c.WriteError(errNotInt)
		return 0, false
	case n < -1<<31 || n >= 1<<31:
		x.c.WriteError(errDBRange32)
		return 0, false
	case n < 0 || n >= numDBs:
		x.c.WriteError(errDBIndex)
		return 0, false
	}
	return int(n), true
}

// ks returns the keyspace of the database the command runs in.
// REQUIRES: DB.mu held (the keyspace pointer may change with SWAPDB).
func (x *exec) ks() *keyspace { return x.db.dbs[x.dbi] }

// selectDB makes database n the current one of the command and, for the
// later commands, of the connection. n must be valid.
func (x *exec) selectDB(n int) {
	x.dbi = n
	if x.s != nil {
		x.s.selectDB(n)
	}
}

// selectDB records the connection's selected database (also for CLIENT
// LIST, read by other connections).
func (s *session) selectDB(n int) {
	s.db = n
	s.info.db.Store(int32(n))
}

func opSelectDB(db int) txn.Op {
	return txn.Op{Kind: txn.KindPut, Key: []byte{tagSelectDB}, Value: binary.AppendUvarint(nil, uint64(db))}
}

func opFlushAll() txn.Op { return txn.Op{Kind: txn.KindPut, Key: []byte{tagFlushAll}, Value: []byte{}} }

func opSwapDB(a, b int) txn.Op {
	v := binary.AppendUvarint(nil, uint64(a))
	return txn.Op{Kind: txn.KindPut, Key: []byte{tagSwapDB}, Value: binary.AppendUvarint(v, uint64(b))}
}

// opMove moves key, which must be live, from the current database to db,
// where it must not be live; its deadline goes with it.
func opMove(key string, db int) txn.Op {
	return txn.Op{Kind: txn.KindPut, Key: tagged(tagMove, key), Value: binary.AppendUvarint(nil, uint64(db))}
}

// isSelect reports whether op is a select operation.
func isSelect(op txn.Op) bool { return len(op.Key) == 1 && op.Key[0] == tagSelectDB }

// dbIndexes decodes the n database indexes of a database operation's
// value.
func dbIndexes(v []byte, n int) ([2]int, error) {
	var out [2]int
	for i := range n {
		d, w := binary.Uvarint(v)
		if w <= 0 || d >= numDBs {
			return out, fmt.Errorf("%w: bad database index in %q", ErrCorruptLog, v)
		}
		out[i], v = int(d), v[w:]
	}
	if len(v) != 0 {
		return out, fmt.Errorf("%w: trailing bytes after database indexes", ErrCorruptLog)
	}
	return out, nil
}

// dbApplier applies the operations of one transaction (live: tx; replay:
// DB.replay) to the databases. cur is the database the operations apply
// to; a new transaction starts at 0. REQUIRES: DB.mu held for writing.
type dbApplier struct {
	db  *DB
	cur int
}

// apply performs one logged operation; errors wrap ErrCorruptLog (the
// live path never produces one).
func (a *dbApplier) apply(op txn.Op) error {
	if len(op.Key) == 0 || op.Kind != txn.KindPut {
		return a.db.dbs[a.cur].apply(op)
	}
	db := a.db
	switch op.Key[0] {
	case tagSelectDB:
		d, err := dbIndexes(op.Value, 1)
		if err != nil || len(op.Key) != 1 {
			return fmt.Errorf("%w: bad select operation %q", ErrCorruptLog, op.Key)
		}
		a.cur = d[0]
	case tagFlushAll:
		if len(op.Key) != 1 {
			return fmt.Errorf("%w: bad flushall operation %q", ErrCorruptLog, op.Key)
		}
		for _, ks := range db.dbs {
			ks.clear()
		}
	case tagSwapDB:
		d, err := dbIndexes(op.Value, 2)
		if err != nil || len(op.Key) != 1 {
			return fmt.Errorf("%w: bad swapdb operation %q", ErrCorruptLog, op.Key)
		}
		db.dbs[d[0]], db.dbs[d[1]] = db.dbs[d[1]], db.dbs[d[0]]
	case tagMove:
		return a.move(string(op.Key[1:]), op.Value)
	default:
		return db.dbs[a.cur].apply(op)
	}
	return nil
}

// move applies opMove: the item itself changes keyspace (O(1), as in
// Redis), adopted by the destination's generation (see keyspace.adopt).
func (a *dbApplier) move(key string, v []byte) error {
	d, err := dbIndexes(v, 1)
	src := a.db.dbs[a.cur]
	it := src.lookup(key)
	if err != nil || it == nil || d[0] == a.cur {
		return fmt.Errorf("%w: move of missing key %q or to db %q", ErrCorruptLog, key, v)
	}
	src.remove(key)
	a.db.dbs[d[0]].adopt(it, src)
	return nil
}

// adopt puts it, just removed from keyspace from, into ks. An item a
// snapshot of from may still read (gen at or below from.frozen) is
// copied; any other is referenced by nothing else and is restamped with
// ks's generation, so the copy-on-write invariant (see item) holds in ks.
func (ks *keyspace) adopt(it *item, from *keyspace) {
	if it.gen <= from.frozen {
		it = it.clone(ks.gen)
	} else {
		it.gen = ks.gen
	}
	ks.put(it)
}

// touchDBOp marks the watchers a database operation concerns (see
// Redis's touchAllWatchedKeysInDb), before it is applied, and reports
// whether op was one. REQUIRES: DB.mu held for writing.
func (db *DB) touchDBOp(cur int, op txn.Op) bool {
	switch op.Key[0] {
	case tagSelectDB:
	case tagFlush:
		db.touchEmptied(cur, -1)
	case tagFlushAll:
		for i := range numDBs {
			db.touchEmptied(i, -1)
		}
	case tagSwapDB:
		d, _ := dbIndexes(op.Value, 2)
		db.touchEmptied(d[0], d[1])
		db.touchEmptied(d[1], d[0])
	case tagMove:
		d, _ := dbIndexes(op.Value, 1)
		db.touchKey(cur, string(op.Key[1:]))
		db.touchKey(d[0], string(op.Key[1:]))
	default:
		return false
	}
	return true
}

// signalDBOp marks ready the blocked keys a database operation may have
// filled, after it was applied (Redis: dbAdd for MOVE,
// scanDatabaseForReadyKeys for SWAPDB), and reports whether op was one.
// REQUIRES: DB.mu held for writing.
func (db *DB) signalDBOp(op txn.Op) bool {
	switch op.Key[0] {
	case tagSelectDB, tagFlush, tagFlushAll:
	case tagSwapDB:
		d, _ := dbIndexes(op.Value, 2)
		db.signalExisting(d[0])
		db.signalExisting(d[1])
	case tagMove:
		d, _ := dbIndexes(op.Value, 1)
		db.markReady(dbKey{d[0], string(op.Key[1:])})
	default:
		return false
	}
	return true
}

// dbName is INFO's name of database i.
func dbName(i int) string { return "db" + strconv.Itoa(i) }

// frozenDBs is a point-in-time copy of every database (see
// keyspace.freeze), for a snapshot.
type frozenDBs [numDBs]*frozenKeys

// each calls fn for every item with its database, in increasing database
// order, until fn returns false.
func (f *frozenDBs) each(fn func(int, *item) bool) {
	for i, keys := range f {
		more := true
		keys.each(func(it *item) bool {
			more = fn(i, it)
			return more
		})
		if !more {
			return
		}
	}
}

// freezeAll freezes every database. REQUIRES: DB.mu held for writing.
func (db *DB) freezeAll() *frozenDBs {
	var f frozenDBs
	for i, ks := range db.dbs {
		f[i] = ks.freeze()
	}
	return &f
}

// loadItem puts an item read from a snapshot into database i of dbs.
func loadItem(dbs *[numDBs]*keyspace, i int, it *item) {
	ks := dbs[i]
	it.gen = ks.gen
	ks.put(it)
}

package walkv

import "github.com/waldb/wal/txn"

// The watch registry (DB.watches, guarded by DB.mu) maps each watched key
// of a database to the sessions watching it. A change to the key — a
// logged operation, a flush, a MOVE or SWAPDB, the removal of the expired
// key if the session saw it live (lazyexpire.go) — marks those sessions
// dirty, and their EXEC fails. A key that expires without being removed
// is caught at EXEC by comparing its liveness with what WATCH saw. A
// watch stays with its database number (a SWAPDB changes what it
// watches, as in Redis).

// touch marks the watchers of the key op changes in database dbi (for a
// flush, of every key that exists; see touchDBOp), before op is
// applied. REQUIRES: DB.mu held for writing.
func (db *DB) touch(dbi int, op txn.Op) {
	if len(db.watches) == 0 || db.touchDBOp(dbi, op) {
		return
	}
	if key, ok := opRedisKey(op); ok {
		db.touchKey(dbi, key)
	}
}

// touchKey marks the watchers of key in database dbi. REQUIRES: DB.mu
// held for writing.
func (db *DB) touchKey(dbi int, key string) {
	for s := range db.watches[dbKey{dbi, key}] {
		s.dirty = true
	}
}

// touchEmptied marks the watchers of database emptied whose key changes
// when its content goes away (FLUSHDB, FLUSHALL: with = -1) or is
// replaced by database with's (SWAPDB), as Redis 7.0's
// touchAllWatchedKeysInDb: a key that exists (expired or not) before is
// touched, except one that was not live at WATCH time and stays
// invisible; a key that exists only after is touched if it is live. So
// watching a missing key survives a flush. REQUIRES: DB.mu held for
// writing, before the change.
func (db *DB) touchEmptied(emptied, with int) {
	from := db.dbs[emptied]
	for k, ss := range db.watches {
		if k.db != emptied {
			continue
		}
		before := from.lookup(k.key) != nil
		var after, afterLive bool
		if with >= 0 {
			it := db.dbs[with].lookup(k.key)
			after, afterLive = it != nil, it != nil && !it.expired(db.now())
		}
		if !before && !after {
			continue
		}
		for s := range ss {
			if s.watched[k] || afterLive {
				s.dirty = true
			}
		}
	}
}

// watchKey registers s as a watcher of key in database dbi, live or not
// at now. REQUIRES: DB.mu held for writing.
func (db *DB) watchKey(s *session, dbi int, key string, now int64) {
	if s.watched == nil {
		s.watched = map[dbKey]bool{}
	}
	k := dbKey{dbi, key}
	if _, ok := s.watched[k]; ok {
		return
	}
	s.watched[k] = db.dbs[dbi].live(key, now) != nil
	ss := db.watches[k]
	if ss == nil {
		ss = map[*session]struct{}{}
		db.watches[k] = ss
	}
	ss[s] = struct{}{}
}

// watchBroken reports whether a watched key changed or expired since
// WATCH. REQUIRES: DB.mu held.
func (db *DB) watchBroken(s *session, now int64) bool {
	if s.dirty {
		return true
	}
	for k, wasLive := range s.watched {
		if wasLive && db.dbs[k.db].live(k.key, now) == nil {
			return true
		}
	}
	return false
}

// unwatchLocked forgets every key s watches. REQUIRES: DB.mu held for
// writing.
func (db *DB) unwatchLocked(s *session) {
	for k := range s.watched {
		if ss := db.watches[k]; ss != nil {
			delete(ss, s)
			if len(ss) == 0 {
				delete(db.watches, k)
			}
		}
	}
	s.watched, s.dirty = nil, false
}

// unwatch is unwatchLocked for callers without the lock.
func (db *DB) unwatch(s *session) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.unwatchLocked(s)
}

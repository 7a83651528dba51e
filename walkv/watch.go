package walkv

import "github.com/waldb/wal/txn"

// The watch registry (DB.watches, guarded by DB.mu) maps each watched key
// to the sessions watching it. A change to the key — a logged operation,
// a flush, the removal of the expired key if the session saw it live
// (lazyexpire.go) — marks those sessions dirty, and their EXEC fails. A key that expires without being removed is caught at
// EXEC by comparing its liveness with what WATCH saw.

// touch marks the watchers of the key op changes (for a flush, of every
// key that exists), before op is applied. REQUIRES: DB.mu held for
// writing.
func (db *DB) touch(op txn.Op) {
	if len(db.watches) == 0 {
		return
	}
	key, ok := opRedisKey(op)
	if !ok {
		// A flush changes only the watched keys that exist (expired or
		// not), as in Redis 7.0: watching a missing key survives it.
		for k, ss := range db.watches {
			if db.ks.lookup(k) == nil {
				continue
			}
			for s := range ss {
				s.dirty = true
			}
		}
		return
	}
	db.touchKey(key)
}

// touchKey marks the watchers of key. REQUIRES: DB.mu held for writing.
func (db *DB) touchKey(key string) {
	for s := range db.watches[key] {
		s.dirty = true
	}
}

// watchKey registers s as a watcher of key, live or not at now.
// REQUIRES: DB.mu held for writing.
func (db *DB) watchKey(s *session, key string, now int64) {
	if s.watched == nil {
		s.watched = map[string]bool{}
	}
	if _, ok := s.watched[key]; ok {
		return
	}
	s.watched[key] = db.ks.live(key, now) != nil
	ss := db.watches[key]
	if ss == nil {
		ss = map[*session]struct{}{}
		db.watches[key] = ss
	}
	ss[s] = struct{}{}
}

// watchBroken reports whether a watched key changed or expired since
// WATCH. REQUIRES: DB.mu held.
func (db *DB) watchBroken(s *session, now int64) bool {
	if s.dirty {
		return true
	}
	for key, wasLive := range s.watched {
		if wasLive && db.ks.live(key, now) == nil {
			return true
		}
	}
	return false
}

// unwatchLocked forgets every key s watches. REQUIRES: DB.mu held for
// writing.
func (db *DB) unwatchLocked(s *session) {
	for key := range s.watched {
		if ss := db.watches[key]; ss != nil {
			delete(ss, s)
			if len(ss) == 0 {
				delete(db.watches, key)
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

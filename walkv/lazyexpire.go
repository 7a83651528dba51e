package walkv

// Removal on access. As in Redis, a command that finds a key expired
// removes it: from then on no count includes it (DBSIZE, INFO keyspace),
// no SCAN or RANDOMKEY returns it, and expired_keys counts it, once.
//
// Commands holding DB.mu for writing (write commands, EXEC, entries
// applied in cluster mode, served blocked clients) remove the key at
// once. Commands holding it for reading cannot change the keyspace: they
// treat the key as absent and note it in exec.reap, and the dispatcher
// removes the noted keys under the write lock right after the command,
// before its reply is sent and before the connection's next command runs,
// so that client observes exactly what Redis shows. The write lock is
// taken only by a read that found an expired key, never by the others.
//
// A removal is the same non-logged deletion as active expiry's
// (removeExpiredLocked), and safe for the same reasons (expire.go): the
// deadline is logged, so replay rebuilds a key that is just as dead, and
// every logged operation on the key starts by recreating it.
//
// Invariant: a key is removed only if it is expired at the clock of the
// replicated state: the command's time on a single node, appliedNow in
// cluster mode (a read on a node uses its own clock, which may be ahead of
// appliedNow; such a key stays, invisible to reads, until appliedNow
// passes its deadline). No later command on any node can see a key dead
// at appliedNow, so whether a node removed it or not changes no reply to a
// replicated command.

// sawExpired handles it, which the command found expired at x.now:
// removed at once if x holds DB.mu for writing (x.t is set exactly then),
// else noted for reapNoted, unless reapLocked would refuse it (a pause,
// or in cluster mode a deadline appliedNow has not reached): a read must
// not take the write lock for nothing on every access.
func (x *exec) sawExpired(it *item) {
	if x.t != nil {
		x.db.reapLocked(x.dbi, it.key, x.now)
		return
	}
	db := x.db
	if db.clientsPaused.Load() || db.clustered() && !it.expired(db.appliedNow) {
		return // appliedNow is guarded by DB.mu, held here for reading
	}
	x.reap = append(x.reap, it.key)
}

// reapNoted removes the keys a read command noted, if still expired. They
// are in the command's database: reads look up keys of other databases
// (COPY ... DB n) without noting them.
// REQUIRES: DB.mu not held.
func (db *DB) reapNoted(x *exec) {
	if len(x.reap) == 0 {
		return
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, key := range x.reap {
		db.reapLocked(x.dbi, key, x.now)
	}
	x.reap = x.reap[:0]
}

// reapLocked removes key of database dbi if it is expired at now (at appliedNow in
// cluster mode) and reports whether it did. REQUIRES: DB.mu held for
// writing.
func (db *DB) reapLocked(dbi int, key string, now int64) bool {
	if db.failed != nil || db.clientsPaused.Load() {
		// During CLIENT PAUSE nothing is removed, as Redis 7.0's
		// expireIfNeeded: the key stays invisible until the pause ends.
		return false
	}
	if db.clustered() {
		now = min(now, db.appliedNow)
	}
	if it := db.dbs[dbi].lookup(key); it == nil || !it.expired(now) {
		return false
	}
	db.removeExpiredLocked(dbi, key)
	return true
}

// removeExpiredLocked deletes key of database dbi, which is expired, without logging it:
// it counts in expired_keys and breaks the transactions that WATCHed the
// key while it was live. As in Redis 7.0, a client that WATCHed the key
// when it had already expired is not disturbed by its removal (the key
// was absent then and is absent now). REQUIRES: DB.mu held for writing.
func (db *DB) removeExpiredLocked(dbi int, key string) {
	db.dbs[dbi].remove(key)
	k := dbKey{dbi, key}
	for s := range db.watches[k] {
		if s.watched[k] {
			s.dirty = true
		}
	}
	db.stats.expired.Add(1)
}

// dropExpiredReplayed removes the keys that replay rebuilt already
// expired (their removal was never logged), so that a restart does not
// bring them back into DBSIZE and INFO keyspace: Redis, too, skips
// expired keys when it loads a snapshot, and replays the deletions its
// log holds. They count in no statistic, as in Redis. REQUIRES: called
// by Open before the DB is shared.
func (db *DB) dropExpiredReplayed() {
	for _, ks := range db.dbs {
		for _, k := range ks.expiredKeys(db.now(), ks.expires()) {
			ks.remove(k)
		}
	}
}

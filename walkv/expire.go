package walkv

import "time"

// expireBatch bounds the keys one active-expiry pass removes, so that it
// holds DB.mu only briefly.
const expireBatch = 200

// expireLoop removes expired keys every ExpireInterval until stop is
// closed. Expired keys are already invisible to commands (they check
// deadlines on access); this frees their memory.
//
// Removals are not logged: a deadline is part of the logged state, so
// replaying the log recreates the key with its past deadline, which is
// just as invisible. Every logged operation on a key is made while the key
// is live or starts by recreating it (see tx), so replay never applies an
// operation to a key that expiry removed in the live server but not in the
// replayed one, or the reverse.
func (db *DB) expireLoop(stop <-chan struct{}) {
	t := time.NewTicker(db.opts.ExpireInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			db.expireDue(stop)
		}
	}
}

// expireDue removes expired keys of each database batch by batch,
// releasing the lock in between, until a batch comes back short or stop
// is closed.
func (db *DB) expireDue(stop <-chan struct{}) {
	for i := range numDBs {
		for db.expireSome(i) == expireBatch {
			select {
			case <-stop:
				return
			default:
			}
		}
	}
}

// expireSome removes up to expireBatch expired keys of database dbi and
// returns how many.
func (db *DB) expireSome(dbi int) int {
	db.mu.Lock()
	defer db.mu.Unlock()
	ks := db.dbs[dbi]
	if db.failed != nil || ks.expires() == 0 || db.activeExpireOff.Load() || db.clientsPaused.Load() {
		return 0 // DEBUG SET-ACTIVE-EXPIRE 0 (cmd_debug.go) and CLIENT PAUSE (client_pause.go) stop the loop
	}
	now := db.now()
	if db.clustered() {
		// Only keys dead for every later command on every node: later
		// entries never carry an earlier time (see ApplyEntry).
		now = db.appliedNow
	}
	keys := ks.expiredKeys(now, expireBatch)
	for _, k := range keys {
		db.removeExpiredLocked(dbi, k)
	}
	return len(keys)
}

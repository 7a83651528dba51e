package walkv

// The database commands: SELECT, MOVE, SWAPDB (FLUSHDB and FLUSHALL are
// in cmd_keys.go, COPY ... DB in cmd_keys2.go). See databases.go.

func init() {
	register(
		&command{name: "move", arity: 3, flags: flagWrite | flagFast, lock: lockWrite, first: 1, last: 1, step: 1, run: cmdMove},
		&command{name: "swapdb", arity: 3, flags: flagWrite | flagFast, lock: lockWrite, cats: catKeyspace, run: cmdSwapdb},
	)
}

// cmdSelect: SELECT index. It takes no lock: it changes only the
// connection (and, inside EXEC or a cluster entry, the database of the
// commands after it).
func cmdSelect(x *exec) {
	if n, ok := x.parseDBIndex(x.args[1]); ok {
		x.selectDB(n)
		x.c.WriteString("OK")
	}
}

// cmdMove: MOVE key db. The key, live in the current database and not
// live in db, goes there with its deadline, as one operation.
func cmdMove(x *exec) {
	dst, ok := x.parseDBIndex(x.args[2])
	if !ok {
		return
	}
	if dst == x.dbi {
		x.c.WriteError(errSameObject)
		return
	}
	key := x.key(1)
	if x.live(key) == nil || x.db.dbs[dst].live(key, x.now) != nil {
		x.c.WriteInt(0)
		return
	}
	x.t.plan(opMove(key, dst))
	if x.apply() {
		x.c.WriteInt(1)
	}
}

// cmdSwapdb: SWAPDB index1 index2. Connections keep their database
// numbers and see the other data at once; watchers and blocked clients
// are touched and woken as by Redis (touchEmptied, signalExisting).
func cmdSwapdb(x *exec) {
	var idx [2]int
	for i, msg := range []string{"ERR invalid first DB index", "ERR invalid second DB index"} {
		n, ok := parseInt(x.args[1+i])
		if !ok || n < -1<<31 || n >= 1<<31 {
			x.c.WriteError(msg)
			return
		}
		idx[i] = int(n)
	}
	if idx[0] < 0 || idx[0] >= numDBs || idx[1] < 0 || idx[1] >= numDBs {
		x.c.WriteError(errDBIndex)
		return
	}
	if idx[0] != idx[1] {
		x.t.plan(opSwapDB(idx[0], idx[1]))
		if !x.apply() {
			return
		}
	}
	x.c.WriteString("OK")
}

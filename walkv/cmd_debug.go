package walkv

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/waldb/wal/txn"
)

// DEBUG: the subcommands tools use
//
//   - DEBUG SLEEP seconds: holds the keyspace (DB.mu) for that long, so
//     every command that reads or writes data waits, as behind a busy
//     Redis (bounded by maxDebugSleep; the argument is read as C's
//     strtod reads it: "x" sleeps 0).
//   - DEBUG OBJECT key: Redis's one-line description. The encoding is
//     OBJECT ENCODING's; refcount OBJECT REFCOUNT's; serializedlength an
//     estimate of the RDB size (walkv does not write RDB); lru the current
//     LRU clock and lru_seconds_idle 0 (walkv does not track access
//     times, see OBJECT IDLETIME); lists add Redis's quicklist figures,
//     estimated for 8 KiB nodes.
//   - DEBUG RELOAD [MERGE|NOFLUSH|NOSAVE]: takes a snapshot (not with
//     NOSAVE), then rebuilds the keyspace from the newest snapshot and the
//     log after it, exactly as a restart does, and answers OK if that
//     equals the keyspace in memory; else an error (the server keeps what
//     it has in memory). It proves that persistence round-trips.
//   - DEBUG SET-ACTIVE-EXPIRE 0|1: stops or restarts the active expiry
//     loop. Expired keys stay invisible to commands either way.
//
// Inside EXEC, which holds the keyspace, SLEEP just sleeps and RELOAD
// (which must take a snapshot) is refused.
//
// Everything else answers Redis's unknown-subcommand error. DEBUG is
// flagged protected: as in Redis 7.0, it is refused unless
// ServerOptions.EnableDebugCommand allows it (default "no").

// maxDebugSleep bounds DEBUG SLEEP.
const maxDebugSleep = 10 * time.Second

// errDebugProtected is Redis 7.0's refusal of DEBUG when
// enable-debug-command does not allow it.
const errDebugProtected = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", " +
	"you can run it from a local connection, otherwise you need to set this option in the configuration file, " +
	"and then restart the server."

// checkEnableDebug validates ServerOptions.EnableDebugCommand.
func checkEnableDebug(v string) error {
	switch v {
	case "", "no", "yes", "local":
		return nil
	}
	return fmt.Errorf("%w: EnableDebugCommand %q: want no, yes or local", ErrInvalidOption, v)
}

// protectedAllowed reports whether a protected command (DEBUG) may run on
// the connection c: enable-debug-command yes, or local and the client is
// on the loopback interface (Redis's islocalClient: 127.0.0.1 or ::1).
func (srv *Server) protectedAllowed(c interface{ RemoteAddr() string }) bool {
	switch srv.cfg.EnableDebugCommand {
	case "yes":
		return true
	case "local":
		host, _, err := net.SplitHostPort(c.RemoteAddr())
		return err == nil && (host == "127.0.0.1" || host == "::1")
	}
	return false
}

// cmdDebug serves DEBUG (see above).
func cmdDebug(x *exec) {
	sub := x.args[1]
	switch {
	case eqFold(sub, "sleep") && len(x.args) == 3:
		debugSleep(x)
	case eqFold(sub, "object") && len(x.args) == 3:
		debugObject(x)
	case eqFold(sub, "reload"):
		debugReload(x)
	case eqFold(sub, "set-active-expire") && len(x.args) == 3:
		x.db.activeExpireOff.Store(cAtoi(x.args[2]) == 0)
		x.c.WriteString("OK")
	default:
		x.c.WriteError("ERR unknown subcommand or wrong number of arguments for '" + clip(string(sub)) + "'. Try DEBUG HELP.")
	}
}

// inExec reports whether x runs inside EXEC, which holds DB.mu for
// writing (DEBUG, a lockNone command, runs with no tx otherwise).
func (x *exec) inExec() bool { return x.t != nil }

// debugSleep holds the keyspace for the given seconds.
func debugSleep(x *exec) {
	sec := cStrtod(x.args[2])
	d := maxDebugSleep
	if sec*float64(time.Second) < float64(maxDebugSleep) {
		d = time.Duration(sec * float64(time.Second))
	}
	switch {
	case d <= 0 || math.IsNaN(sec):
	case x.inExec():
		time.Sleep(d) // EXEC holds the keyspace already
	default:
		x.db.mu.Lock()
		time.Sleep(d)
		x.db.mu.Unlock()
	}
	x.c.WriteString("OK")
}

// cStrtod reads the longest prefix of b that is a decimal float, after
// leading white space, as C's strtod does (0 if there is none).
func cStrtod(b []byte) float64 {
	s := strings.TrimLeft(string(b[:min(len(b), 64)]), " \t\n\v\f\r")
	for n := len(s); n > 0; n-- {
		if f, err := strconv.ParseFloat(s[:n], 64); err == nil || errors.Is(err, strconv.ErrRange) {
			return f
		}
	}
	return 0
}

// debugObject writes DEBUG OBJECT's status line for a key.
func debugObject(x *exec) {
	if !x.inExec() {
		x.db.mu.RLock()
		defer x.db.mu.RUnlock()
	}
	it := x.ks().live(x.key(2), x.db.now())
	if it == nil {
		x.c.WriteError("ERR no such key")
		return
	}
	refcount := 1
	if n, ok := parseInt(it.str); ok && it.kind == kindString && n >= 0 && n < 10000 {
		refcount = math.MaxInt32 // a shared integer, as OBJECT REFCOUNT says
	}
	lru := (time.Now().Unix()) & (1<<24 - 1) // Redis's LRU clock: seconds, 24 bits
	line := fmt.Sprintf("Value at:%p refcount:%d encoding:%s serializedlength:%d lru:%d lru_seconds_idle:0",
		it, refcount, objectEncoding(it), rdbSizeEstimate(it), lru)
	if it.kind == kindList {
		line += quicklistFigures(it)
	}
	x.c.WriteString(line)
}

// rdbStringLen estimates the RDB size of a string: an integer that fits
// 32 bits is stored as one, else a length and the bytes.
func rdbStringLen(b []byte) int {
	if n, ok := parseInt(b); ok {
		switch {
		case n >= math.MinInt8 && n <= math.MaxInt8:
			return 2
		case n >= math.MinInt16 && n <= math.MaxInt16:
			return 3
		case n >= math.MinInt32 && n <= math.MaxInt32:
			return 5
		}
	}
	switch l := len(b); {
	case l < 1<<6:
		return 1 + l
	case l < 1<<14:
		return 2 + l
	case l <= math.MaxUint32:
		return 5 + l
	default:
		return 9 + l
	}
}

// rdbSizeEstimate estimates the RDB size of it's value (Redis's
// rdbSavedObjectLen): its strings as RDB stores them, plus a length.
func rdbSizeEstimate(it *item) int {
	n := 0
	switch it.kind {
	case kindString:
		return rdbStringLen(it.str)
	case kindHash:
		for f, v := range it.fields {
			n += rdbStringLen([]byte(f)) + rdbStringLen(v)
		}
	case kindSet:
		for m := range it.set {
			n += rdbStringLen([]byte(m))
		}
	default:
		// Lists and sorted sets: their snapshot entry's size, less the
		// key and header, is a fair estimate.
		n = len(appendSnapEntry(nil, it)) - 1 - 8 - 4 - len(it.key)
	}
	return n + 1
}

// quicklistFigures are DEBUG OBJECT's quicklist fields of a list,
// estimated for nodes of 8 KiB (list-max-listpack-size -2).
func quicklistFigures(it *item) string {
	size := max(len(appendSnapList(nil, it)), 1)
	count := it.list.n
	nodes := max(1, (size+8191)/8192)
	return fmt.Sprintf(" ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:%d",
		nodes, float64(count)/float64(nodes), size)
}

// debugReload serves DEBUG RELOAD (see above).
func debugReload(x *exec) {
	save := true
	for _, a := range x.args[2:] {
		switch {
		case eqFold(a, "nosave"):
			save = false
		case eqFold(a, "merge"), eqFold(a, "noflush"):
			// The reloaded state replaces nothing: it is compared.
		default:
			x.c.WriteError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
			return
		}
	}
	if x.db.clustered() {
		x.c.WriteError("ERR " + ErrClusterMode.Error())
		return
	}
	if x.inExec() {
		x.c.WriteError("ERR DEBUG RELOAD cannot run inside MULTI in walkv")
		return
	}
	if save {
		if err := x.db.Snapshot(); err != nil {
			x.c.WriteError("ERR " + err.Error())
			return
		}
	}
	if err := x.db.reloadCheck(); err != nil {
		x.db.opts.Logger.Error("walkv: DEBUG RELOAD", "err", err)
		x.c.WriteError("ERR Error trying to load the RDB dump: " + err.Error())
		return
	}
	x.c.WriteString("OK")
}

// errReloadDiffers: DEBUG RELOAD rebuilt a keyspace that differs from
// the one in memory.
var errReloadDiffers = errors.New("walkv: the state reloaded from the snapshot and the log differs from memory")

// reloadCheck rebuilds the keyspace from the newest snapshot and the log,
// as Open does, and compares it with the keyspace in memory. It holds
// the snapshot lock (no snapshot replaces the files or truncates the log
// meanwhile) and DB.mu (nothing commits meanwhile).
func (db *DB) reloadCheck() error {
	db.snap.mu.Lock()
	defer db.snap.mu.Unlock()
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.failed != nil {
		return db.failed
	}
	// A scratch DB holds only keyspaces: dbApplier touches nothing else.
	scratch := &DB{dbs: newKeyspaces()}
	if id := db.snap.lastID; id > 0 {
		if err := db.readSnapInto(&scratch.dbs, id); err != nil {
			return err
		}
	}
	a, txID := dbApplier{db: scratch}, uint64(0)
	if _, err := txn.Recover(db.log, db.snap.lastID, func(id uint64, op txn.Op) error {
		if id != txID { // each transaction starts in database 0 (databases.go)
			a.cur, txID = 0, id
		}
		return a.apply(op)
	}, nil); err != nil {
		return err
	}
	now := db.now()
	for i := range db.dbs {
		if err := keyspacesEqual(db.dbs[i], scratch.dbs[i], now); err != nil {
			return fmt.Errorf("%w (database %d)", err, i)
		}
	}
	return nil
}

// keyspacesEqual compares the keys live at now of two keyspaces.
func keyspacesEqual(a, b *keyspace, now int64) error {
	n := 0
	var err error
	a.each(func(x *item) bool {
		if x.expired(now) {
			return true
		}
		n++
		if y := b.live(x.key, now); y == nil || !itemsEqual(x, y) {
			err = fmt.Errorf("%w: key %q", errReloadDiffers, clip(x.key))
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	m := 0
	b.each(func(y *item) bool {
		if !y.expired(now) {
			m++
		}
		return true
	})
	if m != n {
		return fmt.Errorf("%w: %d keys reloaded, %d in memory", errReloadDiffers, m, n)
	}
	return nil
}

// itemsEqual compares two items' type, deadline and value.
func itemsEqual(a, b *item) bool {
	if a.kind != b.kind || a.expire != b.expire {
		return false
	}
	switch a.kind {
	case kindString:
		return bytes.Equal(a.str, b.str)
	case kindHash:
		return maps.EqualFunc(a.fields, b.fields, bytes.Equal)
	case kindSet:
		return maps.Equal(a.set, b.set)
	}
	// Lists and sorted sets encode in their order.
	return bytes.Equal(appendSnapEntry(nil, a), appendSnapEntry(nil, b))
}

package walkv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/waldb/wal"
	"github.com/waldb/wal/txn"
	"github.com/waldb/wal/vfs"
)

// TestDatabaseCommands: SELECT, MOVE, SWAPDB, FLUSHDB, FLUSHALL, COPY
// ... DB and the per-database keyspace commands, on one connection.
func TestDatabaseCommands(t *testing.T) {
	e := newEnv(t, nil)
	c := clientOf(t, e.srv, redis.Options{})
	steps(t, c, []step{
		{"SET k zero", "OK"},
		{"SELECT 3", "OK"},
		{"GET k", nil},
		{"SET k three", "OK"},
		{"HSET h f v", 1},
		{"EXPIREAT h 4000000000", 1},
		{"DBSIZE", 2},
		{"KEYS h*", []any{"h"}},
		{"SCAN 0 COUNT 1000 TYPE hash", []any{"0", []any{"h"}}},
		{"SELECT 0", "OK"},
		{"GET k", "zero"},
		{"DBSIZE", 1},
		{"RANDOMKEY", "k"},
		{"SELECT 16", "ERR:ERR DB index is out of range"},
		{"SELECT -1", "ERR:ERR DB index is out of range"},
		{"SELECT x", "ERR:ERR value is not an integer or out of range"},
		{"SELECT 99999999999", "ERR:ERR value is out of range, value must between -2147483648 and 2147483647"},
		// MOVE: a live key to a database where it is not live.
		{"MOVE k 3", 0},
		{"MOVE k 0", "ERR:ERR source and destination objects are the same"},
		{"MOVE k 16", "ERR:ERR DB index is out of range"},
		{"MOVE nope 3", 0},
		{"MOVE k 4", 1},
		{"EXISTS k", 0},
		{"SELECT 4", "OK"},
		{"GET k", "zero"},
		// SWAPDB: connections keep their numbers and see the other data.
		{"SWAPDB 4 3", "OK"},
		{"GET k", "three"},
		{"EXPIRETIME h", 4000000000},
		{"SWAPDB 4 4", "OK"},
		{"SWAPDB x 1", "ERR:ERR invalid first DB index"},
		{"SWAPDB 1 x", "ERR:ERR invalid second DB index"},
		{"SWAPDB 1 16", "ERR:ERR DB index is out of range"},
		// COPY ... DB.
		{"COPY h h DB 4", "ERR:ERR source and destination objects are the same"},
		{"COPY h h DB 5", 1},
		{"COPY h h DB 5", 0},
		{"COPY k h DB 5 REPLACE", 1},
		{"COPY k k DB 16", "ERR:ERR DB index is out of range"},
		{"SELECT 5", "OK"},
		{"GET h", "three"},
		{"INFO keyspace", "# Keyspace\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n" +
			"db4:keys=2,expires=1,avg_ttl=0\r\ndb5:keys=1,expires=0,avg_ttl=0\r\n"},
		// FLUSHDB empties the current database only, FLUSHALL all.
		{"FLUSHDB ASYNC", "OK"},
		{"DBSIZE", 0},
		{"SELECT 4", "OK"},
		{"DBSIZE", 2},
		{"FLUSHDB BOGUS", "ERR:ERR syntax error"},
		{"FLUSHALL SYNC", "OK"},
		{"DBSIZE", 0},
		{"SELECT 0", "OK"},
		{"DBSIZE", 0},
		{"INFO keyspace", "# Keyspace\r\n"},
	})
}

// TestSelectPerConnection: each connection has its own database, shown
// by CLIENT INFO; RESET returns to database 0.
func TestSelectPerConnection(t *testing.T) {
	e := newEnv(t, nil)
	a, b := clientOf(t, e.srv, redis.Options{}), clientOf(t, e.srv, redis.Options{})
	steps(t, a, []step{{"SELECT 7", "OK"}, {"SET k a", "OK"}})
	steps(t, b, []step{{"SET k b", "OK"}, {"GET k", "b"}})
	steps(t, a, []step{{"GET k", "a"}})
	dbField := regexp.MustCompile(` db=(\d+) `)
	if m := dbField.FindStringSubmatch(doWith(t, a, "CLIENT", "INFO").(string)); m == nil || m[1] != "7" {
		t.Errorf("CLIENT INFO after SELECT 7: %v", m)
	}
	list := doWith(t, b, "CLIENT", "LIST").(string)
	if !strings.Contains(list, " db=7 ") || !strings.Contains(list, " db=0 ") {
		t.Errorf("CLIENT LIST does not show databases 7 and 0:\n%s", list)
	}
	steps(t, a, []step{{"RESET", "RESET"}, {"GET k", "b"}})
	if m := dbField.FindStringSubmatch(doWith(t, a, "CLIENT", "INFO").(string)); m == nil || m[1] != "0" {
		t.Errorf("CLIENT INFO after RESET: %v", m)
	}
}

// TestBlockedClientWaitsInItsDB: a push to the same key name in another
// database does not wake a waiter; SWAPDB and MOVE bring a list to it.
func TestBlockedClientWaitsInItsDB(t *testing.T) {
	e := newEnv(t, nil)
	w := dialResp(t, e.srv.Addr().String())
	p := clientOf(t, e.srv, redis.Options{})
	mustDo(t, w, "SELECT", "2")
	if err := w.send("BLPOP", "q", "0"); err != nil {
		t.Fatal(err)
	}
	waitBlockedIn(t, e.db, dbKey{2, "q"}, 1)
	steps(t, p, []step{{"RPUSH q in0", 1}, {"SELECT 3", "OK"}, {"RPUSH q in3", 1}, {"LLEN q", 1}, {"SELECT 0", "OK"}, {"LLEN q", 1}})
	steps(t, p, []step{{"SWAPDB 3 2", "OK"}}) // database 2 now holds [in3]
	if got := showReply(mustReadAny(t, w)); got != `["q" "in3"]` {
		t.Fatalf("after SWAPDB: %s", got)
	}
	if err := w.send("BLPOP", "q", "0"); err != nil {
		t.Fatal(err)
	}
	waitBlockedIn(t, e.db, dbKey{2, "q"}, 1)
	steps(t, p, []step{{"MOVE q 2", 1}})
	if got := showReply(mustReadAny(t, w)); got != `["q" "in0"]` {
		t.Fatalf("after MOVE: %s", got)
	}
}

func mustReadAny(t *testing.T, c *respClient) any {
	t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	v, err := c.read()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// waitBlockedIn waits until n clients are blocked on k.
func waitBlockedIn(t *testing.T, db *DB, k dbKey, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		db.mu.RLock()
		got := len(db.blk.keys[k])
		db.mu.RUnlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d clients blocked on %v, want %d", got, k, n)
		}
		time.Sleep(time.Millisecond) // waiting for the event, with a deadline
	}
}

// dbWorkload writes in several databases with every kind of database
// operation, a transaction spanning databases included.
var dbWorkload = []string{
	"SET a 0", "SELECT 1", "SET a 1", "HSET h f v", "PEXPIREAT h 4000000000123", "RPUSH l x y z",
	"SELECT 15", "SADD s m n", "ZADD z 1 a 2 b", "MOVE z 2", "COPY s s DB 3", "SELECT 2", "SWAPDB 2 7",
	"MULTI", "SET in2 v", "SELECT 5", "SET in5 v", "COPY in5 c DB 6", "SELECT 1", "LPOP l", "EXEC",
	"SELECT 6", "SET gone v", "FLUSHDB", "SET kept v", "SELECT 9", "SET x v", "SWAPDB 9 0", "SELECT 0",
	"MOVE x 11", "SELECT 3", "APPEND s2 abc", "EXPIRE s2 1000", "INCR n",
}

// TestDatabasesSurviveRestart: every database's data comes back after a
// replay of the log, after a snapshot plus the log after it, and from a
// snapshot alone.
func TestDatabasesSurviveRestart(t *testing.T) {
	e := newEnv(t, &Options{SnapshotLogBytes: -1})
	run := func() {
		c := clientOf(t, e.srv, redis.Options{})
		for _, cmd := range dbWorkload {
			if got := doWith(t, c, words(cmd)...); fmt.Sprint(got) == "" || strings.HasPrefix(fmt.Sprint(got), "ERR:") {
				t.Fatalf("%s: %v", cmd, got)
			}
		}
	}
	run()
	want := dumpKeyspace(e.db)
	for _, line := range []string{`db1 "a"`, `db1 "l"`, `db11 "x"`, `db2 "in2"`, `db3 "s"`, `db5 "in5"`, `db6 "kept"`, `db7 "z"`, `db9 "a"`} {
		if !strings.Contains(want, line) {
			t.Fatalf("the workload left no %s:\n%s", line, want)
		}
	}
	if strings.Contains(want, "db0") || strings.Contains(want, `"gone"`) || strings.Contains(want, `"c"`) {
		t.Fatalf("the workload left keys it moved or flushed:\n%s", want)
	}
	restart := func(stage string) {
		t.Helper()
		before := dumpKeyspace(e.db)
		e.restart()
		if got := dumpKeyspace(e.db); got != before {
			t.Fatalf("after %s:\n%s\nwant:\n%s", stage, got, before)
		}
	}
	restart("replay")
	if err := e.db.Snapshot(); err != nil {
		t.Fatal(err)
	}
	restart("snapshot")
	run() // again on the restored state, logged after the snapshot
	restart("snapshot and replay")
	if err := e.db.Snapshot(); err != nil {
		t.Fatal(err)
	}
	restart("snapshot only")
	if got := doWith(t, e.c, "INFO", "keyspace").(string); !strings.Contains(got, "db11:keys=1,") || !strings.Contains(got, "db1:keys=3,expires=1,") {
		t.Errorf("INFO keyspace after restarts:\n%s", got)
	}
}

// TestOldLogReplaysIntoDB0: a log written before databases (no select
// operations, 'f' meaning every key) replays into database 0.
func TestOldLogReplaysIntoDB0(t *testing.T) {
	fs := vfs.NewMem()
	log, err := wal.Open(filepath.Join(testDir, logDirName), &wal.Options{FS: fs, SegmentSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	w := txn.NewWriter(log, 0)
	for _, ops := range [][]txn.Op{
		{opSetKey("a", kindString, []byte("1")), opSetKey("b", kindString, []byte("2"))},
		{opFlush()},
		{opSetKey("c", kindString, []byte("3"))},
		{opAppend("c", []byte("4"))},
	} {
		if _, err := w.Commit(ops); err != nil {
			t.Fatal(err)
		}
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, &Options{FS: fs})
	if got := dumpKeyspace(e.db); got != `db0 "c" string 0 "34"` {
		t.Fatalf("old log replayed as:\n%s", got)
	}
}

// TestDBOpsOnLog: each transaction starts in database 0, whatever the
// one before it selected, and malformed database operations are
// ErrCorruptLog.
func TestDBOpsOnLog(t *testing.T) {
	fs := vfs.NewMem()
	log, err := wal.Open(filepath.Join(testDir, logDirName), &wal.Options{FS: fs, SegmentSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	w := txn.NewWriter(log, 0)
	for _, ops := range [][]txn.Op{
		{opSelectDB(4), opSetKey("a", kindString, []byte("in4"))},
		{opSetKey("a", kindString, []byte("in0"))},
		{opSelectDB(4), opMove("a", 9), opSwapDB(9, 10)},
	} {
		if _, err := w.Commit(ops); err != nil {
			t.Fatal(err)
		}
	}
	log.Close()
	e := newEnv(t, &Options{FS: fs})
	if got := dumpKeyspace(e.db); got != "db0 \"a\" string 0 \"in0\"\ndb10 \"a\" string 0 \"in4\"" {
		t.Fatalf("replayed as:\n%s", got)
	}

	db := &DB{dbs: newKeyspaces()}
	db.dbs[0].put(&item{key: "k", kind: kindString, gen: db.dbs[0].gen})
	for _, op := range []txn.Op{
		{Kind: txn.KindPut, Key: []byte{tagSelectDB}, Value: []byte{16}},
		{Kind: txn.KindPut, Key: []byte{tagSelectDB}, Value: []byte{1, 2}},
		{Kind: txn.KindPut, Key: []byte{tagSelectDB, 'x'}, Value: []byte{1}},
		{Kind: txn.KindPut, Key: []byte{tagSwapDB}, Value: []byte{1}},
		{Kind: txn.KindPut, Key: []byte{tagFlushAll, 'x'}, Value: []byte{}},
		opMove("nope", 1),
		opMove("k", 0),
		opMove("k", 16),
	} {
		a := dbApplier{db: db}
		if err := a.apply(op); !errors.Is(err, ErrCorruptLog) {
			t.Errorf("apply %q %x: %v, want ErrCorruptLog", op.Key, op.Value, err)
		}
	}
	if db.dbs[0].lookup("k") == nil {
		t.Error("a refused MOVE removed its key")
	}
}

// TestMoveAfterFreeze: an item MOVE takes from a frozen database is
// copied before the destination changes it, so the snapshot being
// written still sees the value as of its freeze.
func TestMoveAfterFreeze(t *testing.T) {
	db := &DB{dbs: newKeyspaces()}
	a := dbApplier{db: db}
	mustApply := func(op txn.Op) {
		t.Helper()
		if err := a.apply(op); err != nil {
			t.Fatal(err)
		}
	}
	mustApply(opSetKey("h", kindHash, nil))
	mustApply(opSetField("h", "f", []byte("old")))
	frozen := db.freezeAll()
	mustApply(opMove("h", 1))
	a.cur = 1
	mustApply(opSetField("h", "f", []byte("new")))
	mustApply(opMove("h", 0)) // an item the destination owns moves without a copy
	a.cur = 0
	mustApply(opSetField("h", "g", []byte("x")))
	var seen []string
	frozen.each(func(db int, it *item) bool {
		seen = append(seen, fmt.Sprintf("%d %s %s", db, it.key, itemValue(it)))
		return true
	})
	if fmt.Sprint(seen) != `[0 h {"f"="old"}]` {
		t.Errorf("frozen databases: %v", seen)
	}
	if got := itemValue(db.dbs[0].lookup("h")); got != `{"f"="new" "g"="x"}` || db.dbs[1].len() != 0 {
		t.Errorf("live: db0 h = %s, db1 has %d keys", got, db.dbs[1].len())
	}
}

// TestClusterDatabases: in cluster mode the commands of every database
// (SELECT, MOVE, SWAPDB, COPY DB, FLUSHDB, a transaction with SELECT)
// apply alike on a follower, and a raft snapshot carries every database.
func TestClusterDatabases(t *testing.T) {
	f := &twoNodeReplicator{}
	f.leader.Store(true)
	follower, err := Open(testDir, &Options{FS: vfs.NewMem(), Replicator: f})
	if err != nil {
		t.Fatal(err)
	}
	defer follower.Close()
	f.follower = follower
	e := newEnv(t, &Options{Replicator: f, ReadMode: ReadStale})
	f.db.Store(e.db)
	c := clientOf(t, e.srv, redis.Options{})
	steps(t, c, []step{
		{"SELECT 3", "OK"},
		{"SET k v3", "OK"},
		{"RPUSH l a b", 2},
		{"MOVE l 4", 1},
		{"COPY k k DB 5", 1},
		{"SWAPDB 5 6", "OK"},
		{"MULTI", "OK"},
		{"SELECT 8", "QUEUED"},
		{"SET in8 x", "QUEUED"},
		{"SELECT 16", "QUEUED"},
		{"EXEC", []any{"OK", "OK", "ERR:ERR DB index is out of range"}},
		{"SET after v", "OK"}, // the connection is in database 8 now
		{"SELECT 9", "OK"},
		{"SET gone v", "OK"},
		{"FLUSHDB", "OK"},
		{"GET k", nil},
		{"SELECT 3", "OK"},
		{"GET k", "v3"},
	})
	want := dumpKeyspace(e.db)
	if !strings.Contains(want, `db4 "l" list`) || !strings.Contains(want, `db6 "k"`) || !strings.Contains(want, `db8 "after"`) || strings.Contains(want, "db9") {
		t.Fatalf("leader state:\n%s", want)
	}
	if got := dumpKeyspace(follower); got != want {
		t.Fatalf("follower:\n%s\nleader:\n%s", got, want)
	}
	write, err := e.db.SnapshotState()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	third, err := Open(testDir, &Options{FS: vfs.NewMem(), Replicator: &fakeReplicator{}})
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if err := third.RestoreState(&buf); err != nil {
		t.Fatal(err)
	}
	if got := dumpKeyspace(third); got != want {
		t.Fatalf("restored from a raft snapshot:\n%s\nwant:\n%s", got, want)
	}
}

// twoNodeReplicator applies each proposal on the leader's DB and on a
// follower's, as raft would on every node.
type twoNodeReplicator struct {
	fakeReplicator
	follower *DB
}

func (r *twoNodeReplicator) Propose(ctx context.Context, data []byte) (any, error) {
	reply, err := r.fakeReplicator.Propose(ctx, data)
	if err == nil {
		r.follower.ApplyEntry(data)
	}
	return reply, err
}

// FuzzClusterEntry: decodeEntry never panics, and what it accepts
// encodes to an entry that decodes the same (varints may be overlong, so
// the bytes may differ).
func FuzzClusterEntry(f *testing.F) {
	f.Add(appendEntry(nil, 5, false, 0, [][][]byte{{[]byte("SET"), []byte("k"), []byte("v")}}))
	f.Add(appendEntry(nil, 6, true, 3, [][][]byte{{[]byte("SELECT"), []byte("2")}, {[]byte("GET"), []byte("k")}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			return
		}
		again := appendEntry(nil, e.now, e.multi, e.db, e.cmds)
		e2, err := decodeEntry(again)
		if err != nil || !reflect.DeepEqual(e2, e) {
			t.Fatalf("re-encoding %x of %x decodes to %+v, %v; want %+v", again, b, e2, err, e)
		}
	})
}

// TestWatchExpiredAcrossDatabases: a key already expired at WATCH time
// breaks the transaction only when a SWAPDB brings a live key in its
// place, as redis-server 7.0.15 does (checked with its active expiry
// off: DEBUG SET-ACTIVE-EXPIRE 0).
func TestWatchExpiredAcrossDatabases(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, &Options{Clock: clock.Now, ExpireInterval: time.Hour})
	c := clientOf(t, e.srv, redis.Options{})
	for _, tt := range []struct {
		name   string
		before []string // run before the 2 s pass that expire the PX 1000 keys
		after  []string // WATCH k first
		broken bool
	}{
		{"flushall", []string{"SET k v PX 1000"}, []string{"FLUSHALL"}, false},
		{"swap in live", []string{"SET k v PX 1000", "SELECT 1", "SET k live", "SELECT 0"}, []string{"SWAPDB 0 1"}, true},
		{"both expired", []string{"SET k v PX 1000", "SELECT 1", "SET k v PX 1000", "SELECT 0"}, []string{"SWAPDB 0 1"}, false},
		{"missing, swap in expired", []string{"SELECT 1", "SET k v PX 1000", "SELECT 0"}, []string{"SWAPDB 0 1"}, false},
		{"expired, swap in missing", []string{"SET k v PX 1000"}, []string{"SWAPDB 0 1"}, false},
		{"live, swap in missing", []string{"SET k v"}, []string{"SWAPDB 0 1"}, true},
		{"expired, move", []string{"SET k v PX 1000"}, []string{"MOVE k 1"}, false},
	} {
		steps(t, c, []step{{"FLUSHALL", "OK"}})
		for _, cmd := range tt.before {
			doWith(t, c, words(cmd)...)
		}
		clock.Advance(2 * time.Second)
		steps(t, c, []step{{"WATCH k", "OK"}})
		for _, cmd := range tt.after {
			doWith(t, c, words(cmd)...)
		}
		want := any([]any{"PONG"})
		if tt.broken {
			want = nil
		}
		steps(t, c, []step{{"MULTI", "OK"}, {"PING", "QUEUED"}})
		if got := doWith(t, c, "EXEC"); !matchReply(got, want) {
			t.Errorf("%s: EXEC = %#v, want %#v", tt.name, got, want)
		}
	}
}

// TestActiveExpiryPerDatabase: the expiry loop removes the expired keys
// of every database (each in batches), and touches watchers in theirs.
func TestActiveExpiryPerDatabase(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, &Options{Clock: clock.Now, ExpireInterval: time.Millisecond})
	c := clientOf(t, e.srv, redis.Options{})
	for _, db := range []int{0, 5, 15} {
		doWith(t, c, "SELECT", db)
		for i := range expireBatch + 50 { // more than one batch
			doWith(t, c, "SET", i, "v", "PX", 100)
		}
		doWith(t, c, "SET", "keep", "v")
	}
	clock.Advance(time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.db.mu.RLock()
		left := [3]int{e.db.dbs[0].len(), e.db.dbs[5].len(), e.db.dbs[15].len()}
		e.db.mu.RUnlock()
		if left == [3]int{1, 1, 1} {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("keys left in databases 0, 5, 15: %v", left)
		}
		time.Sleep(time.Millisecond) // polling the background loop
	}
	if got := e.db.stats.expired.Load(); got != 3*(expireBatch+50) {
		t.Errorf("expired_keys %d, want %d", got, 3*(expireBatch+50))
	}
}

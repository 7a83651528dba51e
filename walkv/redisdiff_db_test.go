package walkv

import (
	"math/rand"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The databases in the differential test: SELECT, MOVE, SWAPDB, FLUSHDB,
// COPY ... DB, mixed with writes and reads of every type and the
// per-database DBSIZE, KEYS, SCAN, RANDOMKEY and INFO keyspace. Most
// commands use databases 0-3, so that keys meet across databases. MULTI
// and WATCH, whose replies would nest the others', are in dbScenarios.

func init() {
	diffFamilies = append(diffFamilies, diffFamily{name: "databases", gen: genDatabases, normalize: normalizeDatabases})
	blockScenarios = append(blockScenarios, dbBlockScenarios...)
}

// dbBlockScenarios: blocked clients wait on a key of their database.
var dbBlockScenarios = []blockScenario{
	{name: "push in another db does not wake", dbs: []string{"0", "3"},
		block: [][]string{{"BLPOP", "q", "0"}, {"BLPOP", "q", "0"}},
		cmds:  [][]string{{"SELECT", "3"}, {"RPUSH", "q", "a"}, {"SELECT", "1"}, {"RPUSH", "q", "b"}, {"SELECT", "0"}, {"RPUSH", "q", "c"}, {"SELECT", "1"}, {"LLEN", "q"}}},
	{name: "swapdb wakes", dbs: []string{"0", "1", "2"},
		block: [][]string{{"BLPOP", "q", "0"}, {"BZPOPMIN", "z", "q", "0"}, {"BLPOP", "q", "0"}},
		cmds:  [][]string{{"SELECT", "5"}, {"RPUSH", "q", "a", "b"}, {"ZADD", "z", "1", "m"}, {"SWAPDB", "5", "0"}, {"SWAPDB", "1", "0"}, {"SWAPDB", "2", "2"}, {"DBSIZE"}}},
	{name: "move and copy wake", dbs: []string{"2", "4"},
		block: [][]string{{"BLMOVE", "s", "d", "LEFT", "RIGHT", "0"}, {"BZPOPMAX", "z", "0"}},
		cmds:  [][]string{{"RPUSH", "s", "x", "y"}, {"MOVE", "s", "2"}, {"ZADD", "z", "1", "a", "2", "b"}, {"COPY", "z", "z", "DB", "4"}, {"SELECT", "2"}, {"LRANGE", "d", "0", "-1"}, {"LRANGE", "s", "0", "-1"}}},
	{name: "multi with select wakes", dbs: []string{"6"},
		block: [][]string{{"BRPOP", "q", "0"}},
		cmds:  [][]string{{"MULTI"}, {"RPUSH", "q", "a"}, {"SELECT", "6"}, {"RPUSH", "q", "b", "c"}, {"EXEC"}, {"LRANGE", "q", "0", "-1"}}},
}

// diffDB returns a database index: mostly 0-3, sometimes an invalid one.
func diffDB(r *rand.Rand) string {
	if r.Intn(10) == 0 {
		return diffPick(r, "15", "16", "-1", "x", "99999999999", "", "01")
	}
	return strconv.Itoa(r.Intn(4))
}

func genDatabases(r *rand.Rand) []string {
	k, k2 := diffKey(r), diffKey(r)
	switch r.Intn(24) {
	case 0, 1, 2:
		return []string{"SELECT", diffDB(r)}
	case 3:
		return []string{"SET", k, diffValue(r)}
	case 4:
		return []string{"RPUSH", k, diffValue(r), diffValue(r)}
	case 5:
		return []string{diffPick(r, "HSET", "ZADD"), k, diffPick(r, "1", "2"), diffValue(r)}
	case 6:
		return []string{diffPick(r, "SADD", "INCR", "LPOP"), k}
	case 7:
		return []string{diffPick(r, "GET", "TYPE", "EXPIRETIME", "HGETALL"), k}
	case 8:
		return []string{diffPick(r, "EXISTS", "DEL"), k, k2}
	case 9, 10:
		return []string{"MOVE", k, diffDB(r)}
	case 11:
		return []string{"SWAPDB", diffDB(r), diffDB(r)}
	case 12:
		if r.Intn(4) == 0 {
			return append([]string{diffPick(r, "FLUSHDB", "FLUSHDB", "FLUSHALL")}, strings.Fields(diffPick(r, "", "ASYNC", "SYNC", "sync", "BOGUS", "ASYNC SYNC"))...)
		}
		return []string{"DBSIZE"}
	case 13, 14:
		c := []string{"COPY", k, k2}
		if r.Intn(3) > 0 {
			c = append(c, "DB", diffDB(r))
		}
		if r.Intn(3) == 0 {
			c = append(c, "REPLACE")
		}
		return c
	case 15:
		return []string{"DBSIZE"}
	case 16:
		return []string{"KEYS", diffPick(r, "*", "k*", "k[12]", "")}
	case 17:
		c := []string{"SCAN", "0", "COUNT", "1000"}
		if r.Intn(2) == 0 {
			c = append(c, "MATCH", diffPick(r, "k*", "*1", "x"))
		}
		if r.Intn(3) == 0 {
			c = append(c, "TYPE", diffPick(r, "string", "list", "hash", "zset", "set"))
		}
		return c
	case 18:
		return []string{"RANDOMKEY"}
	case 19:
		return []string{"EXPIREAT", k, diffPick(r, "4000000000", "4100000000")}
	case 20:
		return []string{"INFO", "keyspace"}
	case 21:
		return []string{"RENAME", k, k2}
	case 22:
		return []string{"LRANGE", k, "0", "-1"}
	}
	return []string{"SMEMBERS", k}
}

var avgTTL = regexp.MustCompile(`,avg_ttl=\d+`)

// normalizeDatabases sorts the replies whose order Redis leaves open,
// names any key RANDOMKEY returns alike, drops INFO's avg_ttl (Redis
// estimates it by sampling), and hides deadlines other families set
// relative to the clock (in the mixed family: the second an EXPIRE 100
// lands on may differ between the servers), keeping this family's own.
func normalizeDatabases(cmd []string, reply any) any {
	switch lowerASCII(cmd[0]) {
	case "expiretime":
		if n, ok := reply.(int64); ok && n > 0 && n != 4000000000 && n != 4100000000 {
			return "a deadline"
		}
	case "keys", "smembers":
		return sortedArray(cmd, reply)
	case "hgetall":
		return sortedPairs(cmd, reply)
	case "scan":
		return scanReply(reply, false)
	case "randomkey":
		if _, ok := reply.(respBulk); ok {
			return "a key"
		}
	case "info":
		switch s := reply.(type) {
		case respBulk:
			return respBulk(avgTTL.ReplaceAllString(string(s), ""))
		case respVerbatim: // RESP3
			return respVerbatim(avgTTL.ReplaceAllString(string(s), ""))
		}
	}
	return reply
}

// dbScenario is a scripted differential test of databases with
// transactions: each step is run by client 0 or 1 (a second connection,
// for WATCH broken by another client), the transcripts compared.
type dbScenario struct {
	name  string
	steps []dbStep
}

type dbStep struct {
	client int
	cmd    []string
}

func dbSteps(client int, cmds ...string) []dbStep {
	var out []dbStep
	for _, c := range cmds {
		out = append(out, dbStep{client, strings.Fields(c)})
	}
	return out
}

var dbScenarios = []dbScenario{
	{"select inside multi", dbSteps(0, "SET k a", "MULTI", "SELECT 2", "SET k b", "GET k", "SELECT 16", "GET k", "EXEC", "GET k", "SELECT 0", "GET k")},
	{"swapdb inside multi", dbSteps(0, "SET k a", "SELECT 1", "SET k b", "MULTI", "SWAPDB 0 1", "GET k", "MOVE k 0", "EXEC", "GET k", "SELECT 0", "GET k", "DBSIZE")},
	{"discard keeps db", dbSteps(0, "MULTI", "SELECT 3", "DISCARD", "SET k v", "SELECT 3", "EXISTS k")},
	{"watch other db untouched", append(dbSteps(0, "WATCH k", "SELECT 1", "SET k v"),
		dbSteps(0, "MULTI", "GET k", "EXEC")...)},
	{"watch touched by swapdb", dbSteps(0, "SELECT 1", "SET k v", "SELECT 0", "WATCH k", "SWAPDB 0 1", "MULTI", "PING", "EXEC")},
	{"watch of missing key survives swapdb of empty", dbSteps(0, "SELECT 1", "SET other v", "SELECT 0", "WATCH k", "SWAPDB 0 1", "MULTI", "PING", "EXEC")},
	{"watch touched by move in", dbSteps(0, "SELECT 2", "SET k v", "SELECT 0", "WATCH k", "SELECT 2", "MOVE k 0", "MULTI", "PING", "EXEC")},
	{"watch touched by move out", dbSteps(0, "SET k v", "WATCH k", "MOVE k 5", "MULTI", "PING", "EXEC")},
	{"watch touched by flushdb", dbSteps(0, "SET k v", "WATCH k", "FLUSHDB", "MULTI", "PING", "EXEC")},
	{"watch untouched by flushdb of other db", dbSteps(0, "SET k v", "WATCH k", "SELECT 1", "SET k x", "FLUSHDB", "MULTI", "PING", "EXEC")},
	{"watch touched by flushall", dbSteps(0, "SELECT 4", "SET k v", "WATCH k", "SELECT 0", "FLUSHALL", "MULTI", "PING", "EXEC")},
	{"watch touched by copy db", dbSteps(0, "WATCH k", "SET s v", "COPY s k DB 0", "MULTI", "PING", "EXEC")},
	{"watch by another client in db 3", append(append(dbSteps(0, "SELECT 3", "SET k v", "WATCH k"),
		dbSteps(1, "SELECT 2", "SET k x", "SWAPDB 2 3")...), dbSteps(0, "MULTI", "GET k", "EXEC")...)},
	{"reset returns to db 0", dbSteps(0, "SELECT 5", "SET k v", "RESET", "EXISTS k", "SELECT 5", "EXISTS k")},
	{"move keeps deadline and type", dbSteps(0, "RPUSH l a b", "PEXPIREAT l 4000000000123", "MOVE l 7", "SELECT 7", "PEXPIRETIME l", "LRANGE l 0 -1", "OBJECT ENCODING l", "INFO keyspace")},
	{"copy db of every type", dbSteps(0, "HSET h f v", "ZADD z 1 a -0 b", "SADD s 1 2", "COPY h h DB 9", "COPY z z2 DB 9", "COPY s s DB 9", "COPY s s DB 9", "COPY s s DB 9 REPLACE", "SELECT 9", "HGETALL h", "ZRANGE z2 0 -1 WITHSCORES", "SCARD s", "DBSIZE")},
}

// TestRedisDiffDatabases runs dbScenarios against walkv and redis-server
// and compares the transcripts.
func TestRedisDiffDatabases(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	waddr := e.srv.Addr().String()
	for _, sc := range dbScenarios {
		t.Run(sc.name, func(t *testing.T) {
			want := runDBScenario(t, raddr, sc)
			got := runDBScenario(t, waddr, sc)
			t.Logf("transcript:\n%s", want)
			if got != want {
				t.Fatalf("transcripts differ:\nwalkv:\n%s\nredis:\n%s", got, want)
			}
		})
	}
}

func runDBScenario(t *testing.T, addr string, sc dbScenario) string {
	cs := []*respClient{dialResp(t, addr), dialResp(t, addr)}
	defer func() {
		for _, c := range cs {
			c.nc.Close()
		}
	}()
	mustDo(t, cs[0], "FLUSHALL")
	var out []string
	for _, st := range sc.steps {
		out = append(out, strconv.Itoa(st.client)+": "+strings.Join(st.cmd, " ")+" -> "+showReply(mustDo(t, cs[st.client], st.cmd...)))
	}
	return avgTTL.ReplaceAllString(strings.Join(out, "\n"), "")
}

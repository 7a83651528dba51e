package walkv

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"
)

// Per-command accounting, for INFO commandstats and errorstats and for
// Stats (exported as Prometheus metrics by cmd/walkv --metrics-addr).
//
// Each command of the table has a number (command.id, given by register),
// and each DB an array of cmdStat indexed by it, so counting a command is
// a few atomic adds into memory made at Open: no allocation, no lock, and
// no more series than the table has commands. A command's time is that of
// its run in the dispatcher, as Redis's usec: it excludes the wait for the
// fsync its reply may depend on (see the log's figures for that), and
// commands queued by MULTI are counted (calls only) when EXEC runs them.

// latencyBounds are the upper bounds of the command latency histogram's
// buckets; a last bucket counts the longer ones.
var latencyBounds = [...]time.Duration{
	10 * time.Microsecond, 25 * time.Microsecond, 50 * time.Microsecond, 100 * time.Microsecond,
	250 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond,
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second,
}

// CommandLatencyBounds returns the upper bounds of the buckets of
// CommandStats.Latency (the last bucket, beyond them, has none).
func CommandLatencyBounds() []time.Duration { return latencyBounds[:] }

// cmdStat counts one command's calls on one DB.
type cmdStat struct {
	calls    atomic.Int64 // runs (including inside EXEC)
	failed   atomic.Int64 // runs that replied an error
	rejected atomic.Int64 // refused before running: arity, ACL, maxmemory
	nanos    atomic.Int64 // total run time (not counting EXEC's queued commands)
	timed    atomic.Int64 // runs timed: calls minus those inside EXEC
	hist     [len(latencyBounds) + 1]atomic.Int64
}

func (st *cmdStat) observe(d time.Duration) {
	st.calls.Add(1)
	st.timed.Add(1)
	st.nanos.Add(int64(d))
	i := 0
	for i < len(latencyBounds) && d > latencyBounds[i] {
		i++
	}
	st.hist[i].Add(1)
}

// commandList is the command table in registration order, indexed by
// command.id.
var commandList []*command

// cmdStats returns the DB's counters of cmd.
func (s *stats) cmd(cmd *command) *cmdStat { return &s.cmds[cmd.id] }

// runCounted runs cmd (see run), timing it and counting its call and,
// if it replied an error, its failure.
func (srv *Server) runCounted(s *session, c redcon.Conn, cmd *command, args [][]byte) {
	st := srv.db.stats.cmdFor(cmd, args)
	errs := s.errReplies
	start := time.Now()
	srv.run(s, c, cmd, args)
	st.observe(time.Since(start))
	if s.errReplies != errs {
		st.failed.Add(1)
	}
}

// maxErrorPrefixes bounds the error prefixes errorstats tracks (Redis
// tracks 128); errors with further prefixes are counted under
// otherErrors.
const (
	maxErrorPrefixes = 128
	otherErrors      = "OTHER"
)

// errorStats counts error replies by prefix (the error's first word, as
// "ERR" or "WRONGTYPE"), as Redis's errorstats.
type errorStats struct {
	mu sync.RWMutex
	m  map[string]*atomic.Int64
}

// count counts one error reply with message msg.
func (es *errorStats) count(msg string) {
	prefix := msg
	if i := strings.IndexByte(msg, ' '); i >= 0 {
		prefix = msg[:i]
	}
	es.mu.RLock()
	n := es.m[prefix]
	es.mu.RUnlock()
	if n == nil {
		n = es.add(prefix)
	}
	n.Add(1)
}

func (es *errorStats) add(prefix string) *atomic.Int64 {
	es.mu.Lock()
	defer es.mu.Unlock()
	if es.m == nil {
		es.m = map[string]*atomic.Int64{}
	}
	if len(es.m) >= maxErrorPrefixes {
		prefix = otherErrors
	}
	n := es.m[prefix]
	if n == nil {
		n = new(atomic.Int64)
		es.m[strings.Clone(prefix)] = n
	}
	return n
}

func (es *errorStats) snapshot() map[string]int64 {
	es.mu.RLock()
	defer es.mu.RUnlock()
	out := make(map[string]int64, len(es.m))
	for k, n := range es.m {
		out[k] = n.Load()
	}
	return out
}

// WriteError counts the error reply (errorstats; the session's count
// tells runCounted the command failed) and buffers it.
func (c *conn) WriteError(msg string) {
	c.s.errReplies++
	c.srv.db.stats.errors.count(msg)
	c.replyConn.WriteError(msg)
}

// CommandStats are one command's counters.
type CommandStats struct {
	Name     string
	Calls    int64         // runs, including inside EXEC
	Failed   int64         // runs that replied an error
	Rejected int64         // refused before running (arity, ACL, maxmemory)
	Duration time.Duration // total run time of the runs outside EXEC
	// Latency counts the runs outside EXEC by duration: Latency[i] those
	// within CommandLatencyBounds()[i] and above the bound before; the
	// last element those above every bound.
	Latency []int64
}

// Stats is a snapshot of the DB's counters (INFO's figures), for
// exporting as metrics.
type Stats struct {
	// Commands are the commands called or rejected at least once, by name.
	Commands []CommandStats
	// Errors counts the error replies sent to clients by prefix ("ERR",
	// "WRONGTYPE", ...; at most 128 prefixes, further ones as "OTHER").
	Errors                           map[string]int64
	CommandsProcessed                int64
	ConnectionsReceived              int64
	ConnectedClients, BlockedClients int64
	Keys, KeysWithExpiry             int64            // of every database
	KeysByType                       map[string]int64 // by TYPE's names: string, hash, list, set, zset
	ExpiredKeys                      int64
	KeyspaceHits, KeyspaceMisses     int64
	NetInputBytes, NetOutputBytes    int64 // bytes received from and queued to clients
	Log                              LogStats
}

// Stats returns a snapshot of the DB's counters. It takes the DB's read
// lock briefly, for the keyspace and blocked-client figures.
func (db *DB) Stats() Stats {
	s := &db.stats
	st := Stats{
		Commands: db.commandStats(), Errors: s.errors.snapshot(),
		CommandsProcessed: s.commands.Load(), ConnectionsReceived: s.connections.Load(),
		ConnectedClients: s.clients.Load(), ExpiredKeys: s.expired.Load(),
		KeyspaceHits: s.hits.Load(), KeyspaceMisses: s.misses.Load(),
		NetInputBytes: s.netIn.Load(), NetOutputBytes: s.netOut.Load(),
		Log: db.logStats.snapshot(),
	}
	db.mu.RLock()
	st.BlockedClients = int64(db.blk.n)
	st.KeysByType = make(map[string]int64, kindZSet)
	for _, ks := range db.dbs { // every database
		st.Keys, st.KeysWithExpiry = st.Keys+int64(ks.len()), st.KeysWithExpiry+int64(ks.expires())
		for k := kindString; k <= kindZSet; k++ {
			st.KeysByType[k.String()] += int64(ks.byKind[k])
		}
	}
	db.mu.RUnlock()
	return st
}

// commandStats returns the counters of the commands called or rejected
// at least once, sorted by name.
func (db *DB) commandStats() []CommandStats {
	var out []CommandStats
	for _, cmd := range commandList {
		st := db.stats.cmd(cmd)
		cs := CommandStats{Name: cmd.name, Calls: st.calls.Load(), Failed: st.failed.Load(),
			Rejected: st.rejected.Load(), Duration: time.Duration(st.nanos.Load())}
		if cs.Calls == 0 && cs.Rejected == 0 {
			continue
		}
		cs.Latency = make([]int64, len(st.hist))
		for i := range st.hist {
			cs.Latency[i] = st.hist[i].Load()
		}
		out = append(out, cs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// total is the number of error replies counted.
func (es *errorStats) total() int64 {
	es.mu.RLock()
	defer es.mu.RUnlock()
	var n int64
	for _, c := range es.m {
		n += c.Load()
	}
	return n
}

package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/tidwall/redcon"
)

// The Jepsen-style test
//
// TestJepsen runs a 3-node walkv cluster as child processes (the test
// binary re-executed, see TestMain), with raft snapshotting and truncating
// its log every few dozen entries, and drives it with concurrent clients
// doing GET and SET (unique values) on a few registers and GET and INCR on
// a few counters, while a nemesis SIGKILLs the leader, pauses nodes with
// SIGSTOP/SIGCONT, kills followers and restarts every node. Then it checks:
//
//   - linearizability of each key's history with porcupine (a register
//     model for r*, a counter model for c*); an operation whose outcome is
//     unknown (timeout, connection lost after sending, "outcome unknown")
//     has an infinite end: it may take effect at any point after its call,
//     or never; a read without an answer is dropped (it has no effect);
//   - acknowledged writes: after the nemesis stops, a final GET of every
//     key is part of the checked history, and every counter lies between
//     its acknowledged INCRs and those plus the unknown ones;
//   - convergence: every node is stopped and restarted with --stale-reads,
//     and, once each has applied a fence write, all three hold the same
//     value of every key, the one the final GETs returned.
//
// The environment sizes it (the default, about 15 s of workload, is the
// CI size):
//
//	WALKV_JEPSEN_SECONDS  workload duration in seconds (default 15)
//	WALKV_JEPSEN_CLIENTS  concurrent clients (default 8)
//	WALKV_JEPSEN_SEED     seed of the workload and the nemesis (default: random, logged)
//	WALKV_JEPSEN_DIR      where a failing run writes history.json, the
//	                      porcupine visualisation (linearizability.html)
//	                      and the nodes' logs (default: a new directory
//	                      under os.TempDir, kept and printed)
//
// -short skips it.

// jepsenConfig is the test's size, from the environment.
type jepsenConfig struct {
	duration time.Duration
	clients  int
	seed     uint64
	outDir   string
}

func jepsenConfigFromEnv(t *testing.T) jepsenConfig {
	c := jepsenConfig{duration: 15 * time.Second, clients: 8, seed: rand.Uint64(), outDir: os.Getenv("WALKV_JEPSEN_DIR")}
	envInt := func(name string, set func(uint64)) {
		if s := os.Getenv(name); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				t.Fatalf("%s=%q: %v", name, s, err)
			}
			set(v)
		}
	}
	envInt("WALKV_JEPSEN_SECONDS", func(v uint64) { c.duration = time.Duration(v) * time.Second })
	envInt("WALKV_JEPSEN_CLIENTS", func(v uint64) { c.clients = max(1, int(v)) })
	envInt("WALKV_JEPSEN_SEED", func(v uint64) { c.seed = v })
	return c
}

// The keys: registers take GET and SET, counters GET and INCR.
var (
	jepsenRegisters = []string{"r0", "r1", "r2"}
	jepsenCounters  = []string{"c0", "c1"}
)

func TestJepsen(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 3-node cluster under faults")
	}
	cfg := jepsenConfigFromEnv(t)
	t.Logf("seed %d (WALKV_JEPSEN_SEED), %s of workload, %d clients", cfg.seed, cfg.duration, cfg.clients)
	j := newJepsen(t, cfg)
	j.startCluster(nil)
	j.waitLeader(30 * time.Second)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range cfg.clients {
		cl := j.newClient(i, rand.New(rand.NewPCG(cfg.seed, uint64(i)+1)))
		wg.Go(func() { cl.run(stop) })
	}
	j.nemesis(rand.New(rand.NewPCG(cfg.seed, 0)))
	close(stop)
	wg.Wait()
	j.heal()
	j.finalReads()
	j.check()
}

// jepsen is one run: the cluster, the clients' histories, the faults.
type jepsen struct {
	t       *testing.T
	cfg     jepsenConfig
	start   time.Time
	nodes   []*clusterNode
	addrs   []string // client addresses, nodes[i].client
	ids     atomic.Int64
	mu      sync.Mutex
	ops     []porcupine.Operation
	faults  []porcupine.Annotation
	stopped []bool // SIGSTOPped
	killed  []bool
	finals  map[string]string // key -> value of the final GET
	nfaults int
}

func newJepsen(t *testing.T, cfg jepsenConfig) *jepsen {
	addrs := freeAddrs(t, 6)
	j := &jepsen{t: t, cfg: cfg, start: time.Now(), addrs: addrs[:3], stopped: make([]bool, 3), killed: make([]bool, 3),
		finals: map[string]string{}}
	var peers []string
	for i := range 3 {
		peers = append(peers, fmt.Sprintf("n%d=%s=%s", i, addrs[3+i], addrs[i]))
	}
	base := t.TempDir()
	for i := range 3 {
		// Snapshots every 64 entries (checked every 100-200 ms), 32
		// entries kept behind: the log is truncated several times a
		// second and restarted nodes catch up by snapshot.
		args := []string{"--addr", addrs[i], "--dir", filepath.Join(base, fmt.Sprint(i)), "--node-id", fmt.Sprintf("n%d", i),
			"--raft-addr", addrs[3+i], "--peers", strings.Join(peers, ","), "--raft-log-level", "INFO",
			"--trailing-logs", "32", "--snapshot-threshold", "64", "--snapshot-interval", "100ms"}
		if i == 0 {
			args = append(args, "--bootstrap")
		}
		j.nodes = append(j.nodes, &clusterNode{args: args, client: addrs[i]})
	}
	t.Cleanup(func() {
		for i, n := range j.nodes {
			if j.stopped[i] && n.srv != nil {
				n.srv.cmd.Process.Signal(syscall.SIGCONT)
			}
		}
	})
	return j
}

// now is the time since the run began, in ns: the history's clock.
func (j *jepsen) now() int64 { return int64(time.Since(j.start)) }

// startCluster starts every node, with extra arguments.
func (j *jepsen) startCluster(extra []string) {
	for i, n := range j.nodes {
		if extra != nil {
			n.args = append(slices.Clip(n.args), extra...)
		}
		n.start(j.t)
		j.killed[i] = false
	}
}

// fault records a nemesis event for the visualisation.
func (j *jepsen) fault(start int64, desc string) {
	j.t.Logf("%7.3fs nemesis: %s", float64(start)/1e9, desc)
	j.mu.Lock()
	j.faults = append(j.faults, porcupine.Annotation{Tag: "nemesis", Start: start, End: j.now(), Description: desc,
		BackgroundColor: "#ffd6d6"})
	j.mu.Unlock()
}

// leader returns the index of the node that answers a GET itself (the
// others redirect reads to it), or -1.
func (j *jepsen) leader() int {
	for i, addr := range j.addrs {
		if j.killed[i] || j.stopped[i] {
			continue
		}
		c := &respConn{addr: addr}
		reply, err := c.do(500*time.Millisecond, "GET", "r0")
		c.close()
		if err == nil && !strings.HasPrefix(reply.err, "MOVED") && !strings.HasPrefix(reply.err, "CLUSTERDOWN") &&
			!strings.HasPrefix(reply.err, "TRYAGAIN") {
			return i
		}
	}
	return -1
}

// waitLeader polls until a node leads, or fails the test.
func (j *jepsen) waitLeader(timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if l := j.leader(); l >= 0 {
			return l
		}
		time.Sleep(50 * time.Millisecond)
	}
	j.t.Fatalf("no leader within %s", timeout)
	return -1
}

// nemesis injects faults until the workload's end: each round waits
// 0.5-1.5 s, then one of: SIGKILL the leader and restart it 0.5-2 s later;
// SIGSTOP a node (the leader half the time) for 0.5-3 s; SIGKILL a
// follower and restart it; SIGKILL every node and restart them all.
func (j *jepsen) nemesis(rng *rand.Rand) {
	end := time.Now().Add(j.cfg.duration)
	pause := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo)) * time.Millisecond }
	var kinds []int
	for time.Now().Add(3 * time.Second).Before(end) {
		time.Sleep(pause(500, 1500))
		if len(kinds) == 0 {
			// Every kind of fault in every four, restarting every node
			// (which most reliably finds stale reads) never last, so
			// that the CI size, 3-5 faults, always has one.
			kinds = rng.Perm(4)
			if kinds[3] == 3 {
				i := rng.IntN(3)
				kinds[i], kinds[3] = kinds[3], kinds[i]
			}
		}
		k := kinds[0]
		kinds = kinds[1:]
		l := j.leader()
		begin := j.now()
		switch {
		case k == 0 && l >= 0:
			j.kill(l)
			time.Sleep(pause(500, 2000))
			j.restart(l)
			j.fault(begin, fmt.Sprintf("SIGKILL leader n%d, restart", l))
		case k == 1:
			victim := rng.IntN(3)
			if l >= 0 && rng.IntN(2) == 0 {
				victim = l
			}
			j.signal(victim, syscall.SIGSTOP)
			time.Sleep(pause(500, 3000))
			j.signal(victim, syscall.SIGCONT)
			role := "follower"
			if victim == l {
				role = "leader"
			}
			j.fault(begin, fmt.Sprintf("SIGSTOP %s n%d, SIGCONT", role, victim))
		case k == 2:
			victim := (max(l, 0) + 1 + rng.IntN(2)) % 3
			j.kill(victim)
			time.Sleep(pause(500, 2000))
			j.restart(victim)
			j.fault(begin, fmt.Sprintf("SIGKILL follower n%d, restart", victim))
		default:
			for i := range j.nodes {
				j.kill(i)
			}
			for i := range j.nodes {
				j.restart(i)
			}
			j.fault(begin, "SIGKILL all nodes, restart all")
		}
		j.nfaults++
	}
	time.Sleep(time.Until(end))
}

func (j *jepsen) kill(i int) {
	j.nodes[i].srv.kill()
	j.killed[i] = true
}

func (j *jepsen) restart(i int) {
	j.nodes[i].start(j.t)
	j.killed[i] = false
}

func (j *jepsen) signal(i int, sig syscall.Signal) {
	j.nodes[i].srv.cmd.Process.Signal(sig)
	j.stopped[i] = sig == syscall.SIGSTOP
}

// heal resumes paused nodes and restarts killed ones.
func (j *jepsen) heal() {
	for i := range j.nodes {
		if j.stopped[i] {
			j.signal(i, syscall.SIGCONT)
		}
		if j.killed[i] {
			j.restart(i)
		}
	}
}

// finalReads GETs every key through the leader, as part of the history:
// they must see every acknowledged write.
func (j *jepsen) finalReads() {
	j.waitLeader(30 * time.Second)
	cl := j.newClient(j.cfg.clients, rand.New(rand.NewPCG(j.cfg.seed, 1<<32)))
	for _, k := range slices.Concat(jepsenRegisters, jepsenCounters) {
		var got *jOutput
		for range 5 {
			if got = cl.op(jInput{Key: k, Op: "get"}, time.Now().Add(20*time.Second)); got != nil {
				break
			}
		}
		if got == nil {
			j.t.Fatalf("final GET %s: no answer", k)
		}
		j.finals[k] = got.Value
	}
}

// jInput and jOutput are a history's operations.
type jInput struct {
	Key string
	Op  string // get, set, incr
	Arg string // the value of a set
}

type jOutput struct {
	Value   string // what get returned ("" for nil), what incr returned
	Unknown bool   // the outcome of a set or incr is unknown
}

// jepsenModel is a register (SET, GET) or a counter (INCR, GET) per key;
// the state is the value, "" for none.
var jepsenModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(jInput).Key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		slices.Sort(keys)
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(string), input.(jInput), output.(jOutput)
		switch in.Op {
		case "get":
			return out.Value == s, s
		case "set":
			return true, in.Arg
		default: // incr
			n, _ := strconv.ParseInt(s, 10, 64)
			next := strconv.FormatInt(n+1, 10)
			return out.Unknown || out.Value == next, next
		}
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(jInput), output.(jOutput)
		res := out.Value
		if out.Unknown {
			res = "?"
		}
		switch in.Op {
		case "get":
			return fmt.Sprintf("get(%s) -> %q", in.Key, res)
		case "set":
			return fmt.Sprintf("set(%s, %s) -> %s", in.Key, in.Arg, map[bool]string{true: "?", false: "ok"}[out.Unknown])
		}
		return fmt.Sprintf("incr(%s) -> %s", in.Key, res)
	},
}

// jclient is one client process. After an operation with an unknown
// outcome it takes a new porcupine client id, as Jepsen's processes do:
// that operation stays open forever.
type jclient struct {
	j      *jepsen
	name   int
	id     int
	rng    *rand.Rand
	seq    int
	cur    int // index of the node it talks to
	misses int // definite refusals in a row
	conn   *respConn
}

func (j *jepsen) newClient(name int, rng *rand.Rand) *jclient {
	return &jclient{j: j, name: name, id: int(j.ids.Add(1) - 1), rng: rng, cur: name % 3}
}

// run issues operations until stop is closed.
func (c *jclient) run(stop <-chan struct{}) {
	defer c.drop()
	for {
		select {
		case <-stop:
			return
		default:
		}
		c.op(c.next(), time.Now().Add(10*time.Second))
	}
}

// next draws an operation: half reads, over few keys so that reads race
// with writes.
func (c *jclient) next() jInput {
	if c.rng.IntN(3) == 0 {
		k := jepsenCounters[c.rng.IntN(len(jepsenCounters))]
		if c.rng.IntN(2) == 0 {
			return jInput{Key: k, Op: "get"}
		}
		return jInput{Key: k, Op: "incr"}
	}
	k := jepsenRegisters[c.rng.IntN(len(jepsenRegisters))]
	if c.rng.IntN(2) == 0 {
		return jInput{Key: k, Op: "get"}
	}
	c.seq++
	return jInput{Key: k, Op: "set", Arg: fmt.Sprintf("%d-%d", c.name, c.seq)}
}

// op performs in until it has a definite answer, an unknown outcome or
// the deadline passes with only definite refusals. It records the
// operation in the history (a read without an answer and a write refused
// every time are left out: they had no effect) and returns its output,
// nil if none was recorded.
func (c *jclient) op(in jInput, deadline time.Time) *jOutput {
	args := []string{strings.ToUpper(in.Op), in.Key}
	if in.Op == "set" {
		args = append(args, in.Arg)
	}
	call := c.j.now()
	for time.Now().Before(deadline) {
		reply, sent, err := c.attempt(args)
		switch {
		case err != nil && !sent:
			c.refused()
			continue
		case err != nil: // sent, no reply: the node may have applied it
			c.drop()
			c.nextNode(-1)
			return c.record(in, call, jOutput{Unknown: true})
		case strings.HasPrefix(reply.err, "MOVED "):
			c.nextNode(slices.Index(c.j.addrs, strings.Fields(reply.err)[2]))
			continue
		case strings.HasPrefix(reply.err, "CLUSTERDOWN"), strings.HasPrefix(reply.err, "TRYAGAIN"):
			c.refused()
			continue
		case reply.err != "":
			// "outcome unknown" and anything unexpected.
			c.j.t.Logf("client %d: %v: %s", c.name, args, reply.err)
			return c.record(in, call, jOutput{Unknown: true})
		}
		c.misses = 0
		return c.record(in, call, jOutput{Value: reply.value})
	}
	return nil
}

// refused moves on to the next node after a definite refusal (no leader
// known, connection refused). Clients poll every node every few
// milliseconds while there is no leader, so that they reach a new leader
// as soon as it considers itself one, as real clients retrying would.
func (c *jclient) refused() {
	c.nextNode(-1)
	if c.misses++; c.misses%len(c.j.addrs) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
}

// record appends an operation to the history.
func (c *jclient) record(in jInput, call int64, out jOutput) *jOutput {
	if out.Unknown && in.Op == "get" {
		return nil
	}
	ret := c.j.now()
	if out.Unknown {
		ret = math.MaxInt64
	}
	c.j.mu.Lock()
	c.j.ops = append(c.j.ops, porcupine.Operation{ClientId: c.id, Input: in, Call: call, Output: out, Return: ret,
		Metadata: fmt.Sprintf("n%d", c.cur)})
	c.j.mu.Unlock()
	if out.Unknown {
		c.id = int(c.j.ids.Add(1) - 1)
	}
	return &out
}

// nextNode switches to node i, or to the next one if i < 0.
func (c *jclient) nextNode(i int) {
	if i < 0 {
		i = (c.cur + 1) % len(c.j.addrs)
	}
	if i != c.cur {
		c.drop()
		c.cur = i
	}
}

func (c *jclient) drop() {
	if c.conn != nil {
		c.conn.close()
		c.conn = nil
	}
}

// attempt sends args to the current node; sent reports whether the
// request may have reached it.
func (c *jclient) attempt(args []string) (reply respReply, sent bool, err error) {
	if c.conn == nil {
		c.conn = &respConn{addr: c.j.addrs[c.cur]}
	}
	reply, err = c.conn.do(2*time.Second, args...)
	if err != nil {
		sent = c.conn.sent
		c.drop()
	}
	return reply, sent, err
}

// respConn is a minimal RESP client that tells a request never sent
// (dial failed) from one sent without an answer.
type respConn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
	sent bool // the last request's bytes were handed to the socket
}

type respReply struct {
	value string // simple string, integer or bulk; "" for nil
	err   string // error reply without the '-'
}

func (r *respConn) do(timeout time.Duration, args ...string) (respReply, error) {
	r.sent = false
	if r.c == nil {
		c, err := net.DialTimeout("tcp", r.addr, 300*time.Millisecond)
		if err != nil {
			return respReply{}, err
		}
		r.c, r.br = c, bufio.NewReader(c)
	}
	r.c.SetDeadline(time.Now().Add(timeout))
	req := redcon.AppendArray(nil, len(args))
	for _, a := range args {
		req = redcon.AppendBulkString(req, a)
	}
	r.sent = true
	if _, err := r.c.Write(req); err != nil {
		return respReply{}, err
	}
	line, err := r.br.ReadString('\n')
	if err != nil {
		return respReply{}, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return respReply{}, errors.New("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return respReply{value: line[1:]}, nil
	case '-':
		return respReply{err: line[1:]}, nil
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return respReply{}, err
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r.br, b); err != nil {
			return respReply{}, err
		}
		return respReply{value: string(b[:n])}, nil
	}
	return respReply{}, fmt.Errorf("unexpected reply %q", line)
}

func (r *respConn) close() {
	if r.c != nil {
		r.c.Close()
		r.c = nil
	}
}

// check runs the checkers and, on failure, writes the evidence.
func (j *jepsen) check() {
	t := j.t
	var gets, sets, incrs, unknown int
	for _, op := range j.ops {
		switch op.Input.(jInput).Op {
		case "get":
			gets++
		case "set":
			sets++
		default:
			incrs++
		}
		if op.Output.(jOutput).Unknown {
			unknown++
		}
	}
	t.Logf("history: %d operations (%d GET, %d SET, %d INCR, %d with unknown outcome), %d faults, over %s",
		len(j.ops), gets, sets, incrs, unknown, j.nfaults, time.Since(j.start).Round(time.Millisecond))
	var problems []string
	if stale := staleReads(j.ops); len(stale) > 0 {
		problems = append(problems, fmt.Sprintf("%d reads provably stale (older than a write acknowledged before they began), e.g. %s",
			len(stale), stale[0]))
	}
	res, info := porcupine.CheckOperationsVerbose(jepsenModel, resolveUnknown(j.ops, j.finals), 5*time.Minute)
	switch res {
	case porcupine.Illegal:
		problems = append(problems, "history not linearizable")
	case porcupine.Unknown:
		problems = append(problems, "linearizability check timed out")
	}
	problems = append(problems, j.checkCounters()...)
	problems = append(problems, j.converge()...)
	if len(problems) == 0 && os.Getenv("WALKV_JEPSEN_KEEP") == "" {
		return
	}
	dir := j.writeEvidence(info)
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) == 0 {
		t.Logf("WALKV_JEPSEN_KEEP: evidence of a passing run in %s", dir)
		return
	}
	t.Errorf("seed %d; history, porcupine visualisation and node logs in %s", j.cfg.seed, dir)
}

// staleReads lists the reads that returned a value older than one
// acknowledged before the read began: a sufficient, not necessary,
// condition of non-linearizability that gives a count.
func staleReads(ops []porcupine.Operation) []string {
	type write struct {
		call, ret int64
		val       string
	}
	writes := map[string][]write{}
	for _, op := range ops {
		in, out := op.Input.(jInput), op.Output.(jOutput)
		switch {
		case in.Op == "set":
			writes[in.Key] = append(writes[in.Key], write{op.Call, op.Return, in.Arg})
		case in.Op == "incr" && !out.Unknown:
			writes[in.Key] = append(writes[in.Key], write{op.Call, op.Return, out.Value})
		}
	}
	var stale []string
	for _, op := range ops {
		in, out := op.Input.(jInput), op.Output.(jOutput)
		if in.Op != "get" {
			continue
		}
		// read value v; find the write of v (if any) and a write w
		// acknowledged before the read began that began after v's
		// write was acknowledged (so v was overwritten for good, for
		// registers; for counters a larger acknowledged value).
		var ofV *write
		for i, w := range writes[in.Key] {
			if w.val == out.Value {
				ofV = &writes[in.Key][i]
			}
		}
		for _, w := range writes[in.Key] {
			if w.ret >= op.Call || w.val == out.Value {
				continue
			}
			older := ofV == nil && out.Value == ""
			if strings.HasPrefix(in.Key, "c") {
				n, _ := strconv.Atoi(out.Value)
				m, _ := strconv.Atoi(w.val)
				older = n < m
			} else if ofV != nil {
				older = ofV.ret < w.call
			}
			if older {
				stale = append(stale, fmt.Sprintf("get(%s) at %.3fs returned %q, but %q was acknowledged at %.3fs",
					in.Key, float64(op.Call)/1e9, out.Value, w.val, float64(w.ret)/1e9))
				break
			}
		}
	}
	return stale
}

// checkCounters: every counter's final value counts every acknowledged
// INCR and no more than the unknown ones besides.
func (j *jepsen) checkCounters() []string {
	var problems []string
	for _, k := range jepsenCounters {
		var acked, unknown int64
		for _, op := range j.ops {
			if in := op.Input.(jInput); in.Key == k && in.Op == "incr" {
				if op.Output.(jOutput).Unknown {
					unknown++
				} else {
					acked++
				}
			}
		}
		final, _ := strconv.ParseInt(j.finals[k], 10, 64)
		j.t.Logf("counter %s: %d acknowledged INCRs, %d unknown, final value %d", k, acked, unknown, final)
		if final < acked || final > acked+unknown {
			problems = append(problems, fmt.Sprintf("counter %s = %d, want within [%d, %d]", k, final, acked, acked+unknown))
		}
	}
	return problems
}

// converge restarts every node with --stale-reads, writes a fence through
// the leader and, once every node has applied it, compares each node's
// value of every key with the final reads.
func (j *jepsen) converge() []string {
	for i := range j.nodes {
		j.kill(i)
	}
	j.startCluster([]string{"--stale-reads"})
	fence := fmt.Sprintf("fence-%d", j.cfg.seed)
	cl := j.newClient(j.cfg.clients+1, rand.New(rand.NewPCG(j.cfg.seed, 2<<32)))
	if cl.op(jInput{Key: "fence", Op: "set", Arg: fence}, time.Now().Add(30*time.Second)) == nil {
		return []string{"fence write refused for 30s after restarting every node"}
	}
	deadline := time.Now().Add(30 * time.Second)
	var problems []string
	for i, addr := range j.addrs {
		c := &respConn{addr: addr}
		for {
			r, err := c.do(time.Second, "GET", "fence")
			if err == nil && r.value == fence {
				break
			}
			if time.Now().After(deadline) {
				problems = append(problems, fmt.Sprintf("node n%d did not apply the fence in 30s (%q, %v)", i, r.value, err))
				break
			}
			c.close()
			time.Sleep(50 * time.Millisecond)
		}
		for _, k := range slices.Concat(jepsenRegisters, jepsenCounters) {
			r, err := c.do(time.Second, "GET", k)
			if err != nil || r.err != "" || r.value != j.finals[k] {
				problems = append(problems, fmt.Sprintf("node n%d: %s = %q (%v %s), final read %q", i, k, r.value, err, r.err, j.finals[k]))
			}
		}
		c.close()
	}
	return problems
}

// jepsenRecord is an operation in history.json.
type jepsenRecord struct {
	Client       int
	Key, Op, Arg string
	Call, Return int64
	Value        string
	Unknown      bool
	Node         any
}

// TestJepsenReplay checks a history.json written by TestJepsen again:
// WALKV_JEPSEN_REPLAY=path/history.json go test -run TestJepsenReplay.
func TestJepsenReplay(t *testing.T) {
	path := os.Getenv("WALKV_JEPSEN_REPLAY")
	if path == "" {
		t.Skip("WALKV_JEPSEN_REPLAY not set")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Finals map[string]string
		Ops    []jepsenRecord
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	var ops []porcupine.Operation
	last := map[string]jepsenRecord{} // histories without finals: the last GET of each key
	for _, r := range h.Ops {
		ops = append(ops, porcupine.Operation{ClientId: r.Client, Input: jInput{r.Key, r.Op, r.Arg}, Call: r.Call,
			Output: jOutput{r.Value, r.Unknown}, Return: r.Return})
		if l, ok := last[r.Key]; r.Op == "get" && (!ok || r.Call > l.Call) {
			last[r.Key] = r
		}
	}
	if h.Finals == nil {
		h.Finals = map[string]string{}
		for k, r := range last {
			h.Finals[k] = r.Value
		}
	}
	t.Logf("%d operations, %d provably stale reads", len(ops), len(staleReads(ops)))
	start := time.Now()
	res := porcupine.CheckOperationsTimeout(jepsenModel, resolveUnknown(ops, h.Finals), 5*time.Minute)
	t.Logf("porcupine: %s in %s", res, time.Since(start).Round(time.Millisecond))
	if res != porcupine.Ok {
		t.Errorf("history %s: %s", path, res)
	}
}

// writeEvidence writes the history, porcupine's visualisation and the
// nodes' logs, and returns the directory.
func (j *jepsen) writeEvidence(info porcupine.LinearizationInfo) string {
	t := j.t
	dir := j.cfg.outDir
	var err error
	if dir == "" {
		dir, err = os.MkdirTemp("", "walkv-jepsen-")
	} else {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		t.Errorf("evidence directory: %v", err)
		return ""
	}
	info.AddAnnotations(j.faults)
	if err := porcupine.VisualizePath(jepsenModel, info, filepath.Join(dir, "linearizability.html")); err != nil {
		t.Errorf("visualisation: %v", err)
	}
	var recs []jepsenRecord
	for _, op := range j.ops {
		in, out := op.Input.(jInput), op.Output.(jOutput)
		recs = append(recs, jepsenRecord{op.ClientId, in.Key, in.Op, in.Arg, op.Call, op.Return, out.Value, out.Unknown, op.Metadata})
	}
	slices.SortFunc(recs, func(a, b jepsenRecord) int { return cmp.Compare(a.Call, b.Call) })
	if b, err := json.MarshalIndent(map[string]any{"seed": j.cfg.seed, "start": j.start, "finals": j.finals, "faults": j.faults, "ops": recs}, "", " "); err == nil {
		os.WriteFile(filepath.Join(dir, "history.json"), b, 0o644)
	}
	for i, n := range j.nodes {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("n%d.log", i)), []byte(n.log.String()), 0o644)
	}
	return dir
}

// resolveUnknown rewrites the writes whose outcome is unknown so that
// porcupine need not guess where each takes effect (open operations make
// its search exponential: a long run's history did not finish in 5
// minutes). The rewriting is sound and complete, so the checked history
// is linearizable if and only if the original is:
//
//   - A SET's value is unique. An unknown SET whose value no GET returned
//     can be linearized after everything (its end is infinite) and
//     observed by nobody: it is dropped. One whose value a GET returned
//     took effect before that GET returned: its end becomes the earliest
//     such return.
//   - Every INCR produces a distinct value of its counter, 1 to the final
//     value F (read by the final GET); values no acknowledged INCR
//     returned were produced by unknown ones. They are assigned in
//     ascending order to the unknown INCRs in order of call (if any
//     assignment is valid this one is: exchanging the values of two
//     unknown INCRs called in the other order keeps every constraint),
//     which get those outputs; the remaining unknown INCRs took effect
//     after the final GET or never, and are dropped.
//
// If the counts do not add up (more missing values than unknown INCRs),
// the counter's operations are left as they are, for porcupine to reject.
func resolveUnknown(ops []porcupine.Operation, finals map[string]string) []porcupine.Operation {
	firstRead := map[[2]string]int64{} // key, value -> earliest return of a GET of it
	acked := map[string]map[string]bool{}
	var unknownIncr = map[string][]int{}
	for i, op := range ops {
		in, out := op.Input.(jInput), op.Output.(jOutput)
		switch {
		case in.Op == "get":
			k := [2]string{in.Key, out.Value}
			if r, ok := firstRead[k]; !ok || op.Return < r {
				firstRead[k] = op.Return
			}
		case in.Op == "incr" && out.Unknown:
			unknownIncr[in.Key] = append(unknownIncr[in.Key], i)
		case in.Op == "incr":
			if acked[in.Key] == nil {
				acked[in.Key] = map[string]bool{}
			}
			acked[in.Key][out.Value] = true
		}
	}
	rewritten := map[int]*porcupine.Operation{}
	drop := map[int]bool{}
	for key, idx := range unknownIncr {
		final, _ := strconv.Atoi(finals[key])
		var missing []string
		for v := 1; v <= final; v++ {
			if s := strconv.Itoa(v); !acked[key][s] {
				missing = append(missing, s)
			}
		}
		if len(missing) > len(idx) {
			continue
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(ops[a].Call, ops[b].Call) })
		for n, i := range idx {
			if n >= len(missing) {
				drop[i] = true
				continue
			}
			op := ops[i]
			op.Output = jOutput{Value: missing[n]}
			rewritten[i] = &op
		}
	}
	var out []porcupine.Operation
	for i, op := range ops {
		in, o := op.Input.(jInput), op.Output.(jOutput)
		switch {
		case drop[i]:
			continue
		case rewritten[i] != nil:
			op = *rewritten[i]
		case in.Op == "set" && o.Unknown:
			r, seen := firstRead[[2]string{in.Key, in.Arg}]
			if !seen {
				continue
			}
			op.Return = max(r, op.Call)
		}
		out = append(out, op)
	}
	return out
}

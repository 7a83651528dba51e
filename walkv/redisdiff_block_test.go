package walkv

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// blockScenario is a differential test of blocking commands: clients
// block in turn (each waits until the server counts it blocked), then a
// last client runs cmds, then every blocked client's reply is read (or
// "(blocked)" if none comes).
type blockScenario struct {
	name  string
	setup [][]string // run first, by the pushing client
	block [][]string // one blocking command per client
	cmds  [][]string // run after, by the pushing client
	dbs   []string   // the database each blocking client selects first ("" or none: 0)
}

var blockScenarios = []blockScenario{
	{name: "ready keys in signal order", block: [][]string{{"BLPOP", "k1", "k2", "0"}, {"BLPOP", "k2", "0"}, {"BRPOP", "k1", "0"}},
		cmds: [][]string{{"MULTI"}, {"RPUSH", "k2", "x"}, {"RPUSH", "k1", "y", "z"}, {"EXEC"}, {"LRANGE", "k1", "0", "-1"}}},
	{name: "move chain", block: [][]string{{"BLMOVE", "s", "d", "RIGHT", "LEFT", "0"}, {"BLPOP", "d", "0"}, {"BLPOP", "s", "0"}},
		cmds: [][]string{{"RPUSH", "s", "a", "b"}, {"EXISTS", "s", "d"}}},
	{name: "mpop count", block: [][]string{{"BLMPOP", "0", "2", "k1", "k2", "LEFT", "COUNT", "3"}, {"BLMPOP", "0", "1", "k2", "RIGHT"}},
		cmds: [][]string{{"RPUSH", "k2", "1", "2", "3", "4", "5"}, {"LRANGE", "k2", "0", "-1"}}},
	{name: "rotate onto itself", block: [][]string{{"BRPOPLPUSH", "s", "s", "0"}},
		cmds: [][]string{{"RPUSH", "s", "a"}, {"LRANGE", "s", "0", "-1"}}},
	{name: "wrong type destination", block: [][]string{{"BLMOVE", "s", "d", "LEFT", "LEFT", "0"}, {"BLPOP", "s", "0"}},
		cmds: [][]string{{"SET", "d", "x"}, {"RPUSH", "s", "v", "w"}, {"LRANGE", "s", "0", "-1"}}},
	{name: "push and pop in one transaction", block: [][]string{{"BLPOP", "q", "0"}},
		cmds: [][]string{{"MULTI"}, {"RPUSH", "q", "a"}, {"LPOP", "q"}, {"EXEC"}, {"RPUSH", "q", "b"}}},
	{name: "same key twice and a timeout", block: [][]string{{"BRPOP", "q", "q", "0"}, {"BLPOP", "t", "0.2"}},
		cmds: [][]string{{"LPUSH", "q", "a", "b"}, {"LLEN", "q"}}},
	{name: "sorted sets", block: [][]string{{"BZPOPMIN", "z1", "z2", "0"}, {"BZMPOP", "0", "1", "z2", "MAX", "COUNT", "2"}, {"BZPOPMAX", "t", "0.2"}},
		cmds: [][]string{{"ZADD", "z2", "1.5", "a", "2", "b", "3", "c"}, {"ZRANGE", "z2", "0", "-1", "WITHSCORES"}}},
}

// TestRedisDiffBlocking runs blockScenarios against walkv and redis-server
// and compares the transcripts.
func TestRedisDiffBlocking(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	waddr := e.srv.Addr().String()
	for _, sc := range blockScenarios {
		for _, resp3 := range []bool{false, true} { // the clients speak RESP2, then RESP3
			t.Run(fmt.Sprint(sc.name, "/resp", 2+b2i(resp3)), func(t *testing.T) {
				want := runBlockScenario(t, raddr, sc, resp3, func(n int) { waitInfoBlocked(t, raddr, n) })
				got := runBlockScenario(t, waddr, sc, resp3, func(n int) { waitInfoBlocked(t, waddr, n) })
				t.Logf("transcript:\n%s", want)
				if got != want {
					t.Fatalf("transcripts differ:\nwalkv:\n%s\nredis:\n%s", got, want)
				}
			})
		}
	}
}

func runBlockScenario(t *testing.T, addr string, sc blockScenario, resp3 bool, wait func(int)) string {
	p := dialResp(t, addr)
	if resp3 {
		hello3(t, p)
	}
	var out []string
	mustDo(t, p, "FLUSHALL")
	for _, cmd := range sc.setup {
		out = append(out, strings.Join(cmd, " ")+" -> "+showReply3(mustDo(t, p, cmd...)))
	}
	var blocked []*respClient
	for i, cmd := range sc.block {
		c := dialResp(t, addr)
		if resp3 {
			hello3(t, c)
		}
		if i < len(sc.dbs) && sc.dbs[i] != "" {
			mustDo(t, c, "SELECT", sc.dbs[i])
		}
		if err := c.send(cmd...); err != nil {
			t.Fatal(err)
		}
		wait(i + 1)
		blocked = append(blocked, c)
	}
	for _, cmd := range sc.cmds {
		out = append(out, strings.Join(cmd, " ")+" -> "+showReply3(mustDo(t, p, cmd...)))
	}
	for i, c := range blocked {
		c.nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		v, err := c.read()
		reply := showReply3(v)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			reply = "(blocked)"
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join(sc.block[i], " ")+" -> "+reply)
		c.nc.Close()
	}
	return strings.Join(out, "\n")
}

// waitInfoBlocked waits until the server at addr counts n blocked
// clients (INFO blocked_clients).
func waitInfoBlocked(t *testing.T, addr string, n int) {
	c := dialResp(t, addr)
	defer c.nc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, _ := mustDo(t, c, "INFO", "clients").(respBulk)
		if strings.Contains(string(info), fmt.Sprintf("blocked_clients:%d\r\n", n)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not %d blocked clients: %s", addr, n, info)
		}
		time.Sleep(time.Millisecond) // polling the server, with a deadline
	}
}

package walkv

import (
	"strings"
	"testing"
)

// pauseScenario is a differential transcript of CLIENT PAUSE: the admin
// client runs setup; each command of park is sent by a client of its own,
// which the test waits to see counted blocked (postponed); admin runs
// cmds; the parked clients' replies are read in order; admin runs after.
type pauseScenario struct {
	name                   string
	setup, park, cmds, end [][]string
}

var pauseScenarios = []pauseScenario{
	{name: "write pause postpones writes and publish, not reads",
		setup: [][]string{{"SET", "k", "0"}, {"CLIENT", "PAUSE", "60000", "WRITE"}},
		park:  [][]string{{"SET", "k", "1"}, {"INCR", "n"}, {"PUBLISH", "ch", "m"}, {"LPUSH", "l", "a"}},
		cmds:  [][]string{{"GET", "k"}, {"PING"}, {"EXISTS", "l"}, {"SET", "k"}, {"CLIENT", "PAUSE", "10", "WRITE"}, {"CLIENT", "UNPAUSE"}},
		end:   [][]string{{"MGET", "k", "n"}, {"LRANGE", "l", "0", "-1"}}},
	{name: "blocking command is postponed, then blocks",
		setup: [][]string{{"CLIENT", "PAUSE", "60000", "WRITE"}},
		park:  [][]string{{"BLPOP", "q", "0.3"}},
		cmds:  [][]string{{"CLIENT", "UNPAUSE"}},
		end:   [][]string{{"EXISTS", "q"}}},
	{name: "pause errors and merges",
		setup: [][]string{{"CLIENT", "PAUSE", "x"}, {"CLIENT", "PAUSE", "-5"}, {"CLIENT", "PAUSE", "10", "RW"}, {"CLIENT", "PAUSE"},
			{"CLIENT", "UNPAUSE", "x"}, {"CLIENT", "PAUSE", "0"}, {"SET", "a", "1"}, {"CLIENT", "PAUSE", "60000", "WRITE"}},
		park: [][]string{{"SET", "a", "2"}},
		cmds: [][]string{{"CLIENT", "PAUSE", "0", "WRITE"}, {"GET", "a"}, {"CLIENT", "UNPAUSE"}},
		end:  [][]string{{"GET", "a"}}},
}

// TestRedisDiffPause runs pauseScenarios against walkv and redis-server
// and compares the transcripts. Parked commands touch different keys:
// walkv resumes them in order on each event loop, not across loops.
func TestRedisDiffPause(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	waddr := e.srv.Addr().String()
	for _, sc := range pauseScenarios {
		t.Run(sc.name, func(t *testing.T) {
			want := runPauseScenario(t, raddr, sc)
			got := runPauseScenario(t, waddr, sc)
			t.Logf("transcript:\n%s", want)
			if got != want {
				t.Fatalf("transcripts differ:\nwalkv:\n%s\nredis:\n%s", got, want)
			}
		})
	}
}

func runPauseScenario(t *testing.T, addr string, sc pauseScenario) string {
	admin := dialResp(t, addr)
	var out []string
	run := func(cmds [][]string) {
		for _, cmd := range cmds {
			out = append(out, strings.Join(cmd, " ")+" -> "+showReply(mustDo(t, admin, cmd...)))
		}
	}
	mustDo(t, admin, "CLIENT", "UNPAUSE")
	mustDo(t, admin, "FLUSHALL")
	run(sc.setup)
	var parked []*respClient
	for i, cmd := range sc.park {
		c := dialResp(t, addr)
		sendOnly(t, c, cmd...)
		waitInfoBlocked(t, addr, i+1)
		parked = append(parked, c)
	}
	run(sc.cmds)
	for i, c := range parked {
		out = append(out, strings.Join(sc.park[i], " ")+" -> "+readReply(t, c))
		c.nc.Close()
	}
	run(sc.end)
	return strings.Join(out, "\n")
}

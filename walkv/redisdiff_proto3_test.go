package walkv

import (
	"fmt"
	"strings"
	"testing"
)

// The protocol scenarios of the differential test: scripted exchanges
// over several connections (HELLO, MULTI/EXEC across a protocol switch,
// RESET, Pub/Sub pushes, the reply types of the server commands) run
// against walkv and redis-server, and the transcripts compared. Values
// that differ between two servers by nature (connection ids, the
// version, addresses and timings) are masked (maskReply), or the reply
// reduced to its types (protoStep.shape).

// protoStep is one step of a scenario: conn sends cmd and reads one
// reply; a nil cmd only reads one (a push), noRead only sends.
type protoStep struct {
	conn   string
	cmd    []string
	noRead bool
	shape  bool // compare only the reply's types (and map keys)
}

type protoScenario struct {
	name  string
	steps []protoStep
}

// st builds a step of conn sending the words of line (split on spaces;
// "|" splits instead if present, for arguments with spaces).
func st(conn, line string) protoStep {
	sep := " "
	if strings.Contains(line, "|") {
		sep = "|"
	}
	return protoStep{conn: conn, cmd: strings.Split(line, sep)}
}

func shape(conn, line string) protoStep { s := st(conn, line); s.shape = true; return s }
func readPush(conn string) protoStep    { return protoStep{conn: conn} }

var protoScenarios = []protoScenario{
	{name: "hello", steps: []protoStep{
		st("a", "HELLO"), st("a", "HELLO 3"), st("a", "HELLO"), st("a", "HELLO 2"), st("a", "HELLO 4"),
		st("a", "HELLO 1"), st("a", "HELLO -1"), st("a", "HELLO x"), st("a", "HELLO 3 SETNAME"),
		st("a", "HELLO 3 FOO"), st("a", "HELLO|3|SETNAME|a b"), st("a", "HELLO 3 AUTH default"),
		st("a", "HELLO 3 AUTH default anything SETNAME me"), st("a", "CLIENT GETNAME"),
		st("a", "HELLO 2 SETNAME"), st("a", "HELLO 2 setname other auth default x"), st("a", "CLIENT GETNAME"),
		st("a", "HELLO 3 AUTH nosuchuser pw"), st("a", "HELLO"), st("a", "GET nokey"),
	}},
	{name: "multi", steps: []protoStep{
		st("a", "MULTI"), st("a", "HELLO 3"), st("a", "GET nokey"), st("a", "ZADD z 1.5 m"), st("a", "ZSCORE z m"),
		st("a", "HELLO 2"), st("a", "ZSCORE z m"), st("a", "SMEMBERS nokey"), st("a", "EXEC"),
		st("b", "HELLO 3"), st("b", "MULTI"), st("b", "HGETALL nokey"), st("b", "LPOP nokey 2"), st("b", "ZINCRBY z 1 m"),
		st("b", "SPOP nokey 3"), st("b", "EXEC"),
		st("b", "WATCH k"), st("a", "SET k 1"), st("b", "MULTI"), st("b", "GET k"), st("b", "EXEC"),
		st("b", "MULTI"), st("b", "NOSUCH"), st("b", "EXEC"), st("b", "DISCARD"),
	}},
	{name: "reset", steps: []protoStep{
		st("a", "HELLO 3"), st("a", "GET nokey"), st("a", "MULTI"), st("a", "RESET"), st("a", "GET nokey"),
		st("a", "HELLO"), st("a", "EXEC"),
	}},
	{name: "pubsub", steps: []protoStep{
		st("s", "HELLO 3"), st("s", "SUBSCRIBE c1 c2"), readPush("s"), st("s", "PSUBSCRIBE p*"),
		st("p", "PUBLISH c1 hi"), readPush("s"), st("p", "PUBLISH px there"), readPush("s"),
		st("s", "GET nokey"), st("s", "SET k v"), st("s", "GET k"), st("s", "PING"), st("s", "PING x"),
		st("s", "HGETALL nokey"), st("s", "PUBSUB NUMSUB c1 c3"),
		st("s", "UNSUBSCRIBE c1 c2"), readPush("s"), st("s", "PUNSUBSCRIBE"), st("s", "UNSUBSCRIBE"),
		st("s", "SUBSCRIBE c3"), st("p", "PUBLISH c3 m"), readPush("s"),
		st("s", "HELLO 2"), st("p", "PUBLISH c3 m2"), readPush("s"), st("s", "GET k"), st("s", "RESET"), st("p", "PUBLISH c3 m"),
		st("s", "SUBSCRIBE c4"), st("s", "HELLO 2"), st("p", "PUBLISH c4 after"), readPush("s"), st("s", "GET k"),
		st("s", "PING"), st("s", "HELLO 3"),
	}},
	{name: "server replies", steps: []protoStep{
		st("a", "HELLO 3"), shape("a", "CONFIG GET proto-max-bulk-len"), st("a", "CONFIG GET nosuchparam"),
		shape("a", "INFO keyspace"), shape("a", "CLIENT INFO"), shape("a", "CLIENT LIST"), shape("a", "TIME"),
		st("a", "CLIENT GETNAME"), st("a", "OBJECT ENCODING nokey"), st("a", "SET a ohmytext"), st("a", "SET b mynewtext"),
		st("a", "LCS a b IDX"), st("a", "LCS a b IDX MINMATCHLEN 2 WITHMATCHLEN"), st("a", "ACL GETUSER default"),
		st("a", "ACL GETUSER nosuch"), st("a", "AUTH nosuch pw"), shape("a", "ACL LOG 1"), st("a", "ACL LOG RESET"),
		st("a", "COMMAND DOCS nosuchcommand"), st("a", "ZADD z 1 a 2 b"), st("a", "ZPOPMIN z"), st("a", "ZPOPMAX z 1"),
		st("a", "ZPOPMIN nokey"), st("a", "SADD s x y"), st("a", "SPOP s 0"), shape("a", "SRANDMEMBER s 5"),
		st("a", "BITFIELD bf OVERFLOW FAIL INCRBY u2 0 10"),
	}},
}

// TestRedisDiffProtocol runs protoScenarios against walkv and
// redis-server and compares the transcripts.
func TestRedisDiffProtocol(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	waddr := e.srv.Addr().String()
	for _, sc := range protoScenarios {
		t.Run(sc.name, func(t *testing.T) {
			want := runProtoScenario(t, raddr, sc)
			got := runProtoScenario(t, waddr, sc)
			t.Logf("transcript:\n%s", strings.Join(want, "\n"))
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("step %d differs:\n  walkv: %s\n  redis: %s\ntranscript so far:\n%s",
						i, got[i], want[i], strings.Join(want[:i], "\n"))
				}
			}
		})
	}
}

func runProtoScenario(t *testing.T, addr string, sc protoScenario) []string {
	conns := map[string]*respClient{}
	conn := func(name string) *respClient {
		if conns[name] == nil {
			conns[name] = dialResp(t, addr)
		}
		return conns[name]
	}
	mustDo(t, conn("flush"), "FLUSHALL")
	mustDo(t, conn("flush"), "ACL", "LOG", "RESET")
	var out []string
	for _, s := range sc.steps {
		c := conn(s.conn)
		line := s.conn + ": " + strings.Join(s.cmd, " ")
		if s.cmd == nil {
			line = s.conn + ": (read)"
		} else if err := c.send(s.cmd...); err != nil {
			t.Fatal(err)
		}
		if s.noRead {
			out = append(out, line)
			continue
		}
		v, err := c.read()
		if err != nil {
			t.Fatalf("%s %s: %v\ntranscript so far:\n%s", addr, line, err, strings.Join(out, "\n"))
		}
		v = maskReply(v)
		if s.shape {
			v = replyShape(v)
		}
		out = append(out, line+" -> "+showReply3(v))
	}
	return out
}

// maskReply hides the values of HELLO's id and version.
func maskReply(v any) any {
	mask := func(a []any) []any {
		a = append([]any(nil), a...)
		for i := 0; i+1 < len(a); i += 2 {
			if a[i] == respBulk("id") || a[i] == respBulk("version") {
				a[i+1] = "<masked>"
			}
		}
		return a
	}
	switch v := v.(type) {
	case respMap:
		return respMap(mask(v))
	case []any:
		if len(v) == 14 && v[0] == respBulk("server") {
			return mask(v)
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = maskReply(e)
		}
		return out
	}
	return v
}

// replyShape reduces a reply to its types, keeping the keys of maps.
func replyShape(v any) any {
	all := func(a []any, keys bool) []any {
		out := make([]any, len(a))
		for i, e := range a {
			if keys && i%2 == 0 {
				out[i] = e
			} else {
				out[i] = replyShape(e)
			}
		}
		return out
	}
	switch v := v.(type) {
	case respMap:
		return respMap(all(v, true))
	case respSet:
		return respSet(all(v, false))
	case respPush:
		return respPush(all(v, false))
	case []any:
		return all(v, false)
	case respVerbatim:
		return "verbatim " + string(v[:4])
	}
	return fmt.Sprintf("%T", v)
}

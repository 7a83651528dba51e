package walkv

// The differential test over RESP3: every family's random sequences run
// again on connections that said HELLO 3, and the replies are compared
// type by type (a map is not an array, a double not a bulk string, a
// null not a null bulk). Unordered replies are normalized as over RESP2:
// a map or set reply is unwrapped, given to the family's normalizer as an
// array, and compared with its RESP3 type kept.

import (
	"fmt"
	"io"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// RESP3 reply types of the raw client (the RESP2 ones are in
// redisdiff_test.go).
type (
	respNull     struct{} // _
	respDouble   string   // ,1.5 (the text as sent)
	respBool     bool     // #t / #f
	respBigNum   string   // (123...
	respVerbatim string   // =n txt:... (format included)
	respMap      []any    // %n: keys and values, flat
	respSet      []any    // ~n
	respPush     []any    // >n
	respTagged   struct { // a normalized map or set reply
		kind  string
		reply any
	}
)

// read3 reads the RESP3 replies whose type byte RESP2 lacks.
func (c *respClient) read3(kind byte, body string) (any, error) {
	switch kind {
	case '_':
		if body != "" {
			return nil, fmt.Errorf("bad null %q", body)
		}
		return respNull{}, nil
	case ',':
		return respDouble(body), nil
	case '#':
		if body != "t" && body != "f" {
			return nil, fmt.Errorf("bad boolean %q", body)
		}
		return respBool(body == "t"), nil
	case '(':
		return respBigNum(body), nil
	case '=':
		n, err := strconv.Atoi(body)
		if err != nil || n < 4 {
			return nil, fmt.Errorf("bad verbatim length %q", body)
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, b); err != nil {
			return nil, err
		}
		if b[3] != ':' || string(b[n:]) != "\r\n" {
			return nil, fmt.Errorf("bad verbatim string %q", b)
		}
		return respVerbatim(b[:n]), nil
	case '%', '~', '>':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad aggregate length %q", body)
		}
		m := n
		if kind == '%' {
			m = 2 * n
		}
		a := make([]any, m)
		for i := range a {
			if a[i], err = c.read(); err != nil {
				return nil, err
			}
		}
		switch kind {
		case '%':
			return respMap(a), nil
		case '~':
			return respSet(a), nil
		}
		return respPush(a), nil
	}
	return nil, fmt.Errorf("unknown reply type %q", string(kind)+body)
}

// hello3 switches c to RESP3 and returns HELLO's reply.
func hello3(t *testing.T, c *respClient) respMap {
	t.Helper()
	v, err := c.do("HELLO", "3")
	m, ok := v.(respMap)
	if err != nil || !ok {
		t.Fatalf("HELLO 3: %v %v", showReply3(v), err)
	}
	return m
}

// helloFields returns HELLO's map without the values that differ between
// servers: the connection id, and the version (walkv reports the Redis
// version whose semantics it follows, not a patch release).
func helloFields(m respMap) string {
	var parts []string
	for i := 0; i+1 < len(m); i += 2 {
		v := showReply3(m[i+1])
		if _, ok := m[i+1].(int64); ok && m[i] == respBulk("id") {
			v = "<id>"
		}
		if _, ok := m[i+1].(respBulk); ok && m[i] == respBulk("version") {
			v = "<version>"
		}
		parts = append(parts, showReply3(m[i])+"="+v)
	}
	return strings.Join(parts, " ")
}

// TestRedisDiffResp3 runs every family's random sequences, then all
// families mixed, over RESP3 connections to walkv and redis-server and
// compares every reply with its type.
func TestRedisDiffResp3(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	runDiff3(t, e.srv.Addr().String(), raddr, diffOps(), true, nil)
}

// TestRedisDiffResp3Cluster is TestRedisDiffResp3 in cluster mode (on a
// replicator applying at once), with a quarter of the commands: every
// write's reply is made by ApplyEntry and converted for the client
// (entryreply.go).
func TestRedisDiffResp3Cluster(t *testing.T) {
	raddr := startRedis(t)
	e, _ := newClusterEnv(t, ReadLinearizable)
	runDiff3(t, e.srv.Addr().String(), raddr, max(diffOps()/4, 1), true, blocking)
}

// TestRedisDiffCluster is the same over RESP2: ApplyEntry's replies
// converted for a RESP2 client are Redis's RESP2 replies.
func TestRedisDiffCluster(t *testing.T) {
	raddr := startRedis(t)
	e, _ := newClusterEnv(t, ReadLinearizable)
	runDiff3(t, e.srv.Addr().String(), raddr, max(diffOps()/4, 1), false, blocking)
}

// blocking reports whether cmd is a blocking command: in cluster mode
// they never block, and reply as Redis does inside MULTI, not as on a
// timeout (the null bulk of BLMOVE, not the null array), so the cluster
// runs skip them.
func blocking(cmd []string) bool {
	c := lookup([]byte(cmd[0]))
	return c != nil && c.categories()&catBlocking != 0
}

// runDiff3 runs every family's sequences of ops commands on connections
// to walkv at waddr and redis-server at raddr, RESP3 ones if resp3; the
// commands skip (if not nil) selects are drawn but not sent.
func runDiff3(t *testing.T, waddr, raddr string, ops int, resp3 bool, skip func([]string) bool) {
	w := dialResp(t, waddr)
	rd := dialResp(t, raddr)
	if !resp3 {
	} else if got, want := helloFields(hello3(t, w)), helloFields(hello3(t, rd)); got != want {
		t.Fatalf("HELLO 3:\n  walkv: %s\n  redis: %s", got, want)
	}
	seed := diffSeed()
	t.Logf("REDISDIFF_SEED=%d REDISDIFF_OPS=%d (%d here)", seed, diffOps(), ops)
	fams := slices.Clone(diffFamilies)
	fams = append(fams, diffFamily{name: "mixed"})
	total, seqs := 0, 0
	for fi, f := range fams {
		t.Run(f.name, func(t *testing.T) {
			r := rand.New(rand.NewSource(seed + int64(fi)))
			for n := 0; n < ops; n += diffSeqLen {
				seqs++
				flushBoth(t, w, rd)
				for i := 0; i < diffSeqLen && n+i < ops; i++ {
					g := f
					if f.name == "mixed" {
						g = diffFamilies[r.Intn(len(diffFamilies))]
					}
					cmd := g.gen(r)
					if skip != nil && skip(cmd) {
						continue
					}
					total++
					if !compareOne3(t, w, rd, g, cmd) {
						t.Fatalf("seed %d, family %s, sequence command %d: difference (see above)", seed+int64(fi), f.name, i)
					}
				}
			}
		})
	}
	t.Logf("%d sequences, %d commands compared (RESP3: %v)", seqs, total, resp3)
}

// compareOne3 is compareOne for RESP3 connections.
func compareOne3(t *testing.T, w, rd *respClient, f diffFamily, cmd []string) bool {
	t.Helper()
	want, err := rd.do(cmd...)
	if err != nil {
		t.Fatalf("redis-server %q: %v", cmd, err)
	}
	got, err := w.do(cmd...)
	if err != nil {
		t.Fatalf("walkv %q: %v", cmd, err)
	}
	want, got = normalize3(f, cmd, want), normalize3(f, cmd, got)
	ok := sameReply(got, want)
	if !ok {
		t.Errorf("%s %q:\n  walkv: %s\n  redis: %s", f.name, cmd, showReply3(got), showReply3(want))
	}
	if diffResync[strings.ToLower(cmd[0])] && len(cmd) > 1 {
		for _, c := range []*respClient{w, rd} {
			if _, err := c.do("DEL", cmd[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ok
}

// normalize3 applies the family's normalizer to a RESP3 reply: a map or
// set is unwrapped into an array for it (so its sorting applies), and the
// result tagged with the type.
func normalize3(f diffFamily, cmd []string, reply any) any {
	kind := ""
	switch v := reply.(type) {
	case respMap:
		kind, reply = "map", []any(v)
	case respSet:
		kind, reply = "set", []any(v)
	}
	if f.normalize != nil {
		reply = f.normalize(cmd, reply)
	}
	if kind != "" {
		return respTagged{kind, reply}
	}
	return reply
}

// sameReply reports whether two (normalized) replies are equal, type and
// value: showReply3 writes every type differently, nested ones too (%#v
// would not: it prints a status, a bulk string and a double alike inside
// an array).
func sameReply(a, b any) bool { return showReply3(a) == showReply3(b) }

// showReply3 formats a reply, RESP3 types included.
func showReply3(v any) string {
	list := func(prefix string, a []any) string {
		parts := make([]string, len(a))
		for i, e := range a {
			parts[i] = showReply3(e)
		}
		return prefix + "[" + strings.Join(parts, " ") + "]"
	}
	switch v := v.(type) {
	case respNull:
		return "_"
	case respDouble:
		return "," + string(v)
	case respBool:
		return fmt.Sprint("#", bool(v))
	case respBigNum:
		return "(" + string(v)
	case respVerbatim:
		return "=" + strconv.Quote(string(v))
	case respMap:
		return list("%", v)
	case respSet:
		return list("~", v)
	case respPush:
		return list(">", v)
	case respTagged:
		return v.kind + ":" + showReply3(v.reply)
	case []any:
		return list("", v)
	case int64:
		return ":" + strconv.FormatInt(v, 10)
	}
	return showReply(v)
}

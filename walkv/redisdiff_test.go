package walkv

// The differential test: the same seeded random command sequences are sent
// to walkv and to a real redis-server, and every reply is compared, type
// and value, through a raw RESP2 client (so a null bulk and a null array,
// or a status and a bulk string, are told apart).
//
// Families of commands register in init() of their own
// redisdiff_<family>_test.go files by appending to diffFamilies. A
// family's gen returns one random command; its normalize (nil: compare as
// is) turns replies whose order Redis leaves unspecified into a canonical
// form. Commands whose effect is random (SPOP) are named in diffResync:
// after one, the key is deleted on both servers so their states agree
// again.
//
// Environment:
//
//	REDISDIFF_REQUIRE=1  fail (instead of skip) if /usr/bin/redis-server is missing
//	REDISDIFF_OPS=n      commands per family (default 400: seconds under -race)
//	REDISDIFF_SEED=n     seed of the first sequence (default: from the clock; printed)

import (
	"bufio"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const redisServerPath = "/usr/bin/redis-server"

// diffFamily is one family of commands of the differential test.
type diffFamily struct {
	name      string
	gen       func(r *rand.Rand) []string       // one random command (name + args), keys drawn via diffKey(r)
	normalize func(cmd []string, reply any) any // nil: compare as is
}

// diffFamilies are the registered families; families append in init() of
// their own walkv/redisdiff_<family>_test.go.
var diffFamilies []diffFamily

// diffResync names (lower case) commands whose effect is random: after
// one, the harness deletes its first key on both servers.
var diffResync = map[string]bool{}

// diffKeys is the small key space commands draw from, so that they
// collide, on types too.
var diffKeys = []string{"k0", "k1", "k2", "k3", "k4", ""}

// diffKey returns a random key of the small key space.
func diffKey(r *rand.Rand) string { return diffKeys[r.Intn(len(diffKeys))] }

// Reply types of the raw RESP client.
type (
	respStatus    string // +OK
	respError     string // -ERR ...
	respBulk      string // $n
	respNullBulk  struct{}
	respNullArray struct{}
)

// respClient is a minimal RESP2 client.
type respClient struct {
	nc net.Conn
	r  *bufio.Reader
}

func dialResp(t testing.TB, addr string) *respClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { nc.Close() })
	return &respClient{nc: nc, r: bufio.NewReader(nc)}
}

// do sends one command and reads its reply.
func (c *respClient) do(args ...string) (any, error) {
	if err := c.send(args...); err != nil {
		return nil, err
	}
	return c.read()
}

func (c *respClient) send(args ...string) error {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	c.nc.SetDeadline(time.Now().Add(30 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

func (c *respClient) read() (any, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return nil, fmt.Errorf("bad reply line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return respStatus(body), nil
	case '-':
		return respError(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return nil, fmt.Errorf("bad bulk length %q", body)
		}
		if n == -1 {
			return respNullBulk{}, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, b); err != nil {
			return nil, err
		}
		return respBulk(b[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return nil, fmt.Errorf("bad array length %q", body)
		}
		if n == -1 {
			return respNullArray{}, nil
		}
		a := make([]any, n)
		for i := range a {
			if a[i], err = c.read(); err != nil {
				return nil, err
			}
		}
		return a, nil
	}
	return c.read3(line[0], body)
}

// startRedis starts redis-server on a free loopback port with no
// persistence (and the extra command-line options) and returns its
// address, or skips the test if it is not installed (fails if
// REDISDIFF_REQUIRE=1).
func startRedis(t testing.TB, extra ...string) string {
	t.Helper()
	if _, err := os.Stat(redisServerPath); err != nil {
		if os.Getenv("REDISDIFF_REQUIRE") == "1" {
			t.Fatalf("REDISDIFF_REQUIRE=1 but %s is missing: %v", redisServerPath, err)
		}
		t.Skipf("%s is not installed (set REDISDIFF_REQUIRE=1 to make this a failure)", redisServerPath)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no",
		"--logfile", filepath.Join(dir, "redis.log")}, extra...)
	cmd := osexec.Command(redisServerPath, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(20 * time.Second)
	for {
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c := &respClient{nc: nc, r: bufio.NewReader(nc)}
			v, err := c.do("PING")
			nc.Close()
			if err == nil && v == respStatus("PONG") {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server at %s did not answer PING: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond) // polling an external process
	}
}

// diffOps returns the number of commands per family.
func diffOps() int {
	if n, err := strconv.Atoi(os.Getenv("REDISDIFF_OPS")); err == nil && n > 0 {
		return n
	}
	return 400
}

// diffSeed returns the seed of the run.
func diffSeed() int64 {
	if n, err := strconv.ParseInt(os.Getenv("REDISDIFF_SEED"), 10, 64); err == nil {
		return n
	}
	return time.Now().UnixNano()
}

// diffSeqLen is the number of commands of one sequence (each starts from
// an empty database).
const diffSeqLen = 100

// TestRedisDiff runs every family's random sequences against walkv and
// redis-server, then all families mixed, and compares every reply.
func TestRedisDiff(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	w := dialResp(t, e.srv.Addr().String())
	rd := dialResp(t, raddr)
	seed := diffSeed()
	t.Logf("REDISDIFF_SEED=%d REDISDIFF_OPS=%d", seed, diffOps())
	fams := slices.Clone(diffFamilies)
	fams = append(fams, diffFamily{name: "mixed"})
	total, seqs := 0, 0
	for fi, f := range fams {
		t.Run(f.name, func(t *testing.T) {
			r := rand.New(rand.NewSource(seed + int64(fi)))
			for n := 0; n < diffOps(); n += diffSeqLen {
				seqs++
				flushBoth(t, w, rd)
				for i := 0; i < diffSeqLen && n+i < diffOps(); i++ {
					g := f
					if f.name == "mixed" {
						g = diffFamilies[r.Intn(len(diffFamilies))]
					}
					cmd := g.gen(r)
					total++
					if !compareOne(t, w, rd, g, cmd) {
						t.Fatalf("seed %d, family %s, sequence command %d: difference (see above)", seed+int64(fi), f.name, i)
					}
				}
			}
		})
	}
	t.Logf("%d sequences, %d commands compared", seqs, total)
}

func flushBoth(t *testing.T, w, rd *respClient) {
	t.Helper()
	for _, c := range []*respClient{w, rd} {
		if v, err := c.do("FLUSHALL"); err != nil || v != respStatus("OK") {
			t.Fatalf("FLUSHALL: %v %v", v, err)
		}
	}
}

// compareOne sends cmd to both servers and reports whether the replies
// agree.
func compareOne(t *testing.T, w, rd *respClient, f diffFamily, cmd []string) bool {
	t.Helper()
	want, err := rd.do(cmd...)
	if err != nil {
		t.Fatalf("redis-server %q: %v", cmd, err)
	}
	got, err := w.do(cmd...)
	if err != nil {
		t.Fatalf("walkv %q: %v", cmd, err)
	}
	if f.normalize != nil {
		want, got = f.normalize(cmd, want), f.normalize(cmd, got)
	}
	ok := sameReply(got, want) // redisdiff_resp3_test.go
	if !ok {
		t.Errorf("%s %q:\n  walkv: %s\n  redis: %s", f.name, cmd, showReply(got), showReply(want))
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

// showReply formats a reply for a difference report.
func showReply(v any) string {
	switch v := v.(type) {
	case respStatus:
		return "+" + string(v)
	case respError:
		return "-" + string(v)
	case respBulk:
		return strconv.Quote(string(v))
	case respNullBulk:
		return "$-1"
	case respNullArray:
		return "*-1"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = showReply(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return fmt.Sprintf("%#v", v)
}

// Normalizers shared by families.

// sortedArray sorts an array reply's elements (a set's members).
func sortedArray(_ []string, reply any) any {
	a, ok := reply.([]any)
	if !ok {
		return reply
	}
	s := slices.Clone(a)
	slices.SortFunc(s, func(x, y any) int { return strings.Compare(showReply(x), showReply(y)) })
	return s
}

// sortedPairs sorts an array reply of field-value pairs by pair.
func sortedPairs(_ []string, reply any) any {
	a, ok := reply.([]any)
	if !ok || len(a)%2 != 0 {
		return reply
	}
	pairs := make([]any, 0, len(a)/2)
	for i := 0; i < len(a); i += 2 {
		pairs = append(pairs, []any{a[i], a[i+1]})
	}
	return sortedArray(nil, pairs)
}

// scanReply sorts the elements of a SCAN-like reply [cursor, elements]
// (pairs if paired).
func scanReply(reply any, paired bool) any {
	a, ok := reply.([]any)
	if !ok || len(a) != 2 {
		return reply
	}
	if paired {
		return []any{a[0], sortedPairs(nil, a[1])}
	}
	return []any{a[0], sortedArray(nil, a[1])}
}

// Argument generators shared by families.

// diffPick returns one of choices.
func diffPick(r *rand.Rand, choices ...string) string { return choices[r.Intn(len(choices))] }

// diffValue returns a small value: short strings (empty included), so
// that values repeat.
func diffValue(r *rand.Rand) string { return diffPick(r, "a", "b", "c", "d", "", "x y", "1", "-1") }

// diffInt returns an integer argument with edge cases: small values,
// negatives, huge values, and sometimes not an integer at all.
func diffInt(r *rand.Rand) string {
	switch r.Intn(12) {
	case 0:
		return diffPick(r, "9223372036854775807", "-9223372036854775808", "99999999999", "-99999999999")
	case 1:
		return diffPick(r, "x", "1.5", "", "+1", "01", " 1")
	case 2, 3:
		return strconv.Itoa(-r.Intn(6))
	}
	return strconv.Itoa(r.Intn(6))
}

// diffFloat returns a float argument with edge cases.
func diffFloat(r *rand.Rand) string {
	return diffPick(r, "1.5", "-2.25", "0", "1e3", "inf", "-inf", "+inf", "nan", "abc", "5", "-0", "1e308", "3.0e-2", ".5", "", "0.1", "0.2", "-0.3", "1.1", "1e-5", "123456789.123456789", "0x1p-2", "5.", "1e4000", " 1")
}

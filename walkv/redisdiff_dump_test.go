package walkv

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// The DUMP/RESTORE differential test: random values of every type and
// encoding size class (small ones that redis-server keeps as listpacks
// and intsets, large ones it keeps as quicklists, hash tables and skip
// lists, integer strings, long compressible strings) are created in
// redis-server, DUMPed there and RESTOREd into walkv; created in walkv,
// DUMPed there and RESTOREd into redis-server and into walkv; and every
// copy is read back (value and OBJECT ENCODING) and compared. The
// options and error cases of RESTORE are a family of the reply-by-reply
// test (redisdiff_restore_test.go).
//
// REDISDIFF_OPS/8 values (at least 24) per run; REDISDIFF_SEED as for
// TestRedisDiff.

// dumpClass is a kind of value the test creates.
type dumpClass struct {
	name string
	gen  func(r *rand.Rand, key string) [][]string // commands that create key
}

var dumpClasses = []dumpClass{
	{"str-small", func(r *rand.Rand, k string) [][]string { return [][]string{{"SET", k, randText(r, r.Intn(21))}} }},
	{"str-int", func(r *rand.Rand, k string) [][]string { return [][]string{{"SET", k, randIntText(r)}} }},
	{"str-compressible", func(r *rand.Rand, k string) [][]string {
		n := 21 + r.Intn(20000)
		return [][]string{{"SET", k, strings.Repeat(randText(r, 1+r.Intn(8)), n)[:n]}}
	}},
	{"str-random", func(r *rand.Rand, k string) [][]string { return [][]string{{"SET", k, randBytes(r, 21+r.Intn(3000))}} }},
	{"list-small", func(r *rand.Rand, k string) [][]string { return bulkCmds("RPUSH", k, randElems(r, 1+r.Intn(20), 12)) }},
	{"list-large", func(r *rand.Rand, k string) [][]string {
		return bulkCmds("RPUSH", k, randElems(r, 200+r.Intn(1300), 300))
	}},
	{"list-bigelem", func(r *rand.Rand, k string) [][]string {
		return bulkCmds("RPUSH", k, append(randElems(r, 3, 10), randBytes(r, 9000+r.Intn(5000)), "x"))
	}},
	{"set-intset", func(r *rand.Rand, k string) [][]string { return bulkCmds("SADD", k, randInts(r, 1+r.Intn(60))) }},
	{"set-intset-large", func(r *rand.Rand, k string) [][]string { return bulkCmds("SADD", k, randInts(r, 513+r.Intn(300))) }},
	{"set-strings", func(r *rand.Rand, k string) [][]string { return bulkCmds("SADD", k, randElems(r, 1+r.Intn(60), 30)) }},
	{"hash-small", func(r *rand.Rand, k string) [][]string { return bulkCmds("HSET", k, randPairs(r, 1+r.Intn(40), 20)) }},
	{"hash-large", func(r *rand.Rand, k string) [][]string { return bulkCmds("HSET", k, randPairs(r, 513+r.Intn(300), 20)) }},
	{"hash-medium", func(r *rand.Rand, k string) [][]string { return bulkCmds("HSET", k, randPairs(r, 129+r.Intn(380), 20)) }},
	{"hash-longvalue", func(r *rand.Rand, k string) [][]string { return bulkCmds("HSET", k, randPairs(r, 1+r.Intn(5), 200)) }},
	{"zset-small", func(r *rand.Rand, k string) [][]string { return bulkCmds("ZADD", k, randScored(r, 1+r.Intn(40), 20)) }},
	{"zset-large", func(r *rand.Rand, k string) [][]string {
		return bulkCmds("ZADD", k, randScored(r, 129+r.Intn(300), 20))
	}},
	{"zset-longmember", func(r *rand.Rand, k string) [][]string { return bulkCmds("ZADD", k, randScored(r, 1+r.Intn(5), 120)) }},
}

func randText(r *rand.Rand, n int) string {
	const alphabet = "abcdefghij0123456789 -_"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.Intn(len(alphabet))]
	}
	return string(b)
}

func randBytes(r *rand.Rand, n int) string {
	b := make([]byte, n)
	r.Read(b)
	return string(b)
}

// randIntText returns integers at every width boundary of Redis's integer
// encodings, and texts that look like integers but are not canonical.
func randIntText(r *rand.Rand) string {
	switch r.Intn(3) {
	case 0:
		return diffPick(r, "0", "-1", "127", "-128", "128", "-129", "32767", "-32768", "32768", "-32769",
			"2147483647", "-2147483648", "2147483648", "-2147483649", "9223372036854775807",
			"-9223372036854775808", "007", "+5", "-0", " 1", "12345678901234567890")
	case 1:
		return strconv.FormatInt(r.Int63()>>uint(r.Intn(63)), 10)
	}
	return strconv.FormatInt(-r.Int63()>>uint(r.Intn(63)), 10)
}

// randElems returns n elements: short texts, integers and longer texts.
func randElems(r *rand.Rand, n, maxLen int) []string {
	out := make([]string, n)
	for i := range out {
		switch r.Intn(4) {
		case 0:
			out[i] = randIntText(r)
		case 1:
			out[i] = randText(r, r.Intn(4))
		default:
			out[i] = randText(r, r.Intn(maxLen+1))
		}
	}
	return out
}

func randInts(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		switch r.Intn(3) {
		case 0:
			out[i] = strconv.Itoa(r.Intn(1000) - 500)
		default:
			out[i] = randIntText(r)
		}
	}
	return out
}

// randPairs returns n field-value pairs (fields may repeat: the later
// value wins, on both servers).
func randPairs(r *rand.Rand, n, maxLen int) []string {
	out := make([]string, 0, 2*n)
	for range n {
		out = append(out, randText(r, 1+r.Intn(10)), randElems(r, 1, maxLen)[0])
	}
	return out
}

// randScored returns n score-member pairs with edge-case scores.
func randScored(r *rand.Rand, n, maxLen int) []string {
	out := make([]string, 0, 2*n)
	for range n {
		var s string
		switch r.Intn(5) {
		case 0:
			s = diffPick(r, "-0", "0", "inf", "-inf", "1e300", "-1e-300", "1.5", "0.1", "9007199254740993", "123456789012345678")
		case 1:
			s = strconv.FormatFloat(r.NormFloat64()*1e6, 'g', -1, 64)
		default:
			s = strconv.Itoa(r.Intn(100) - 50)
		}
		out = append(out, s, randText(r, 1+r.Intn(maxLen)))
	}
	return out
}

// bulkCmds splits one variadic command over args into commands of at
// most 100 arguments (an even number, for pairs).
func bulkCmds(name, key string, args []string) [][]string {
	var out [][]string
	for len(args) > 0 {
		k := min(len(args), 100)
		out = append(out, append([]string{name, key}, args[:k]...))
		args = args[k:]
	}
	return out
}

// readValue returns key's type, encoding and value in a canonical form.
func readValue(t *testing.T, c *respClient, key string) string {
	t.Helper()
	do := func(args ...string) any {
		v, err := c.do(args...)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		return v
	}
	typ := do("TYPE", key)
	var v any
	switch typ {
	case respStatus("string"):
		v = do("GET", key)
	case respStatus("list"):
		v = do("LRANGE", key, "0", "-1")
	case respStatus("set"):
		v = sortedArray(nil, do("SMEMBERS", key))
	case respStatus("hash"):
		v = sortedPairs(nil, do("HGETALL", key))
	case respStatus("zset"):
		v = do("ZRANGE", key, "0", "-1", "WITHSCORES")
	}
	return fmt.Sprintf("%s %s %s", showReply(typ), showReply(do("OBJECT", "ENCODING", key)), showReply(v))
}

// respMust runs a command that must not fail.
func respMust(t *testing.T, c *respClient, args ...string) any {
	t.Helper()
	v, err := c.do(args...)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	if e, ok := v.(respError); ok {
		t.Fatalf("%.80q: %s", args, e)
	}
	return v
}

func TestRedisDiffDumpRestore(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	w := dialResp(t, e.srv.Addr().String())
	rd := dialResp(t, raddr)
	seed := diffSeed()
	rounds := max(24, diffOps()/8)
	t.Logf("REDISDIFF_SEED=%d REDISDIFF_OPS=%d: %d values", seed, diffOps(), rounds)
	// Payloads in the encodings older versions wrote, which 7.0 reads.
	for i, p := range vectorPayloads(t, "old-encodings.txt") {
		flushBoth(t, w, rd)
		respMust(t, rd, "RESTORE", "k", "0", p)
		respMust(t, w, "RESTORE", "k", "0", p)
		if got, want := readValue(t, w, "k"), readValue(t, rd, "k"); got != want {
			t.Fatalf("old-encodings.txt line %d:\n  walkv: %.500s\n  redis: %.500s", i+1, got, want)
		}
	}
	r := rand.New(rand.NewSource(seed))
	for i := range rounds {
		class := dumpClasses[i%len(dumpClasses)]
		if i >= len(dumpClasses) {
			class = dumpClasses[r.Intn(len(dumpClasses))]
		}
		flushBoth(t, w, rd)
		cmds := class.gen(r, "src")
		for _, c := range cmds {
			respMust(t, rd, c...)
			respMust(t, w, c...)
		}
		// redis-server → walkv.
		payload := respMust(t, rd, "DUMP", "src").(respBulk)
		respMust(t, w, "RESTORE", "fromredis", "0", string(payload))
		want := readValue(t, rd, "src")
		if got := readValue(t, w, "fromredis"); got != want {
			t.Fatalf("seed %d, value %d (%s): redis DUMP restored into walkv:\n  walkv: %.500s\n  redis: %.500s", seed, i, class.name, got, want)
		}
		// walkv → redis-server and walkv.
		payload = respMust(t, w, "DUMP", "src").(respBulk)
		respMust(t, rd, "RESTORE", "fromwalkv", "0", string(payload))
		respMust(t, w, "RESTORE", "fromwalkv", "0", string(payload))
		want = readValue(t, rd, "fromwalkv")
		if got := readValue(t, w, "fromwalkv"); got != want {
			t.Fatalf("seed %d, value %d (%s): walkv DUMP restored:\n  walkv: %.500s\n  redis: %.500s", seed, i, class.name, got, want)
		}
		if a, b := valueOnly(readValue(t, w, "src")), valueOnly(want); a != b {
			t.Fatalf("seed %d, value %d (%s): walkv DUMP restored into redis differs from the original:\n  walkv: %.500s\n  redis: %.500s", seed, i, class.name, a, b)
		}
	}
}

// valueOnly drops the encoding from readValue's form: a restored value
// may be encoded differently from the one created by commands.
func valueOnly(s string) string {
	typ, rest, _ := strings.Cut(s, " ")
	_, v, _ := strings.Cut(rest, " ")
	return typ + " " + v
}

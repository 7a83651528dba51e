package walkv

import (
	"bufio"
	"encoding/hex"
	"math/rand"
	"os"
	"strings"
	"testing"
)

// TestRedisDiffCorruptPayloads mutates real redis-server 7.0 payloads
// (a few random bytes of the object changed, dropped or inserted, the
// checksum fixed) and RESTOREs each into walkv and into a redis-server
// running with sanitize-dump-payload yes (Redis's deep checks): both must
// accept or refuse it alike, and hold the same value after.
// REDISDIFF_OPS/2 payloads (at least 100).
func TestRedisDiffCorruptPayloads(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	w := dialResp(t, e.srv.Addr().String())
	rd := dialResp(t, raddr)
	respMust(t, rd, "CONFIG", "SET", "sanitize-dump-payload", "yes")
	seeds := redis70Payloads(t)
	seed := diffSeed()
	n := max(100, diffOps()/2)
	t.Logf("REDISDIFF_SEED=%d: %d payloads", seed, n)
	r := rand.New(rand.NewSource(seed))
	accepted := 0
	for i := range n {
		p := []byte(seeds[r.Intn(len(seeds))])
		obj := mutate(r, p[:len(p)-10])
		payload := withFooter(string(obj), 10)
		flushBoth(t, w, rd)
		want, _ := rd.do("RESTORE", "k", "0", payload)
		got, _ := w.do("RESTORE", "k", "0", payload)
		if showReply(got) != showReply(want) {
			t.Fatalf("seed %d, payload %d %x:\n  walkv: %s\n  redis: %s", seed, i, payload, showReply(got), showReply(want))
		}
		if want == respStatus("OK") {
			accepted++
			if a, b := unorderedValue(t, w, "k"), unorderedValue(t, rd, "k"); a != b {
				t.Fatalf("seed %d, payload %d %x:\n  walkv: %.300s\n  redis: %.300s", seed, i, payload, a, b)
			}
		}
	}
	t.Logf("%d of %d mutated payloads accepted by both", accepted, n)
}

// unorderedValue is readValue's value, a sorted set's pairs compared in
// any order: redis-server keeps a listpack whose scores a mutation has
// put out of order as it is (its deep checks do not look at the order),
// and ranges over it in that order.
func unorderedValue(t *testing.T, c *respClient, key string) string {
	v := valueOnly(readValue(t, c, key))
	if strings.HasPrefix(v, "+zset ") {
		z, _ := c.do("ZRANGE", key, "0", "-1", "WITHSCORES")
		return showReply(sortedPairs(nil, z))
	}
	return v
}

// mutate changes, drops or inserts 1-3 bytes of obj (never its type).
func mutate(r *rand.Rand, obj []byte) []byte {
	out := append([]byte(nil), obj...)
	for range 1 + r.Intn(3) {
		if len(out) < 2 {
			break
		}
		i := 1 + r.Intn(len(out)-1)
		switch r.Intn(4) {
		case 0:
			out = append(out[:i], out[i+1:]...)
		case 1:
			out = append(out[:i], append([]byte{byte(r.Intn(256))}, out[i:]...)...)
		default:
			out[i] = byte(r.Intn(256))
		}
	}
	return out
}

// redis70Payloads reads the payloads kept as test vectors by package rdb:
// redis-server 7.0's, and the objects of RDB files older versions wrote.
func redis70Payloads(t *testing.T) []string {
	return append(vectorPayloads(t, "redis70-dumps.txt"), vectorPayloads(t, "old-encodings.txt")...)
}

// vectorPayloads reads a file of package rdb's testdata whose lines are
// "<name> <hex payload> ...".
func vectorPayloads(t *testing.T, name string) []string {
	f, err := os.Open("internal/rdb/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ps []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		b, err := hex.DecodeString(strings.Fields(sc.Text())[1])
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, string(b))
	}
	return ps
}

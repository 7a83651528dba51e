package walkv

import (
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The differential test of CONFIG: walkv and redis-server must know the
// same parameters, with the same values except for the documented list
// below, and answer the same random CONFIG GET patterns and CONFIG SET
// pairs (valid and invalid values, aliases, duplicates, unknown names)
// reply by reply. Its own servers: CONFIG SET changes them.

// configValueDiffs are the parameters whose values may differ between
// walkv and the redis-server the test starts, with the reason; the same
// list is in docs/walkv.md.
var configValueDiffs = map[string]string{
	"port":                       "each server listens on its own port",
	"bind":                       "redis-server is started with --bind 127.0.0.1; walkv reports the address it listens on",
	"dir":                        "each server has its own directory",
	"logfile":                    "redis-server is started with --logfile; walkv logs to its standard error",
	"appendonly":                 "walkv logs every write: always yes (redis-server is started with --appendonly no)",
	"appendfsync":                "walkv's default is always, Redis's everysec",
	"client-output-buffer-limit": "walkv's default normal class has a 1gb hard limit, Redis's none",
	"requirepass":                "walkv keeps only the password's digest and reports it as #<sha256 hex>",
}

// configMasked are the parameters whose values the random part does not
// compare: those of configValueDiffs that it cannot make equal.
var configMasked = []string{"port", "bind", "dir", "logfile", "requirepass"}

// configNoValidSet are the parameters the random part never sets to a
// valid value other than the one given ("-": none), because the change
// would disrupt the servers under test or walkv deliberately refuses it
// (see docs/walkv.md); invalid values are still sent.
var configNoValidSet = map[string]string{
	"port": "-", "bind": "127.0.0.1", "requirepass": "", "maxmemory-policy": "noeviction",
	"appendonly": "yes", "proto-max-bulk-len": "512mb", "tls-port": "0", "tls-cluster": "no",
	"tls-replication": "no", "watchdog-period": "0", "maxmemory-clients": "0", "timeout": "0",
	"activedefrag": "no", "oom-score-adj": "no", // setting the process's oom_score_adj may fail in a sandbox
}

// TestRedisDiffConfig compares CONFIG on both servers.
func TestRedisDiffConfig(t *testing.T) {
	raddr := startRedis(t)
	e := newEnv(t, nil)
	w := dialResp(t, e.srv.Addr().String())
	rd := dialResp(t, raddr)

	t.Run("names", func(t *testing.T) { compareConfigNames(t, w, rd) })

	// Make the settable documented differences equal, so that the random
	// part compares their values too.
	for _, kv := range [][2]string{{"appendfsync", "always"}, {"appendonly", "yes"}, {"client-output-buffer-limit", "normal 0 0 0"}} {
		for _, c := range []*respClient{w, rd} {
			if v, err := c.do("CONFIG", "SET", kv[0], kv[1]); err != nil || v != respStatus("OK") {
				t.Fatalf("CONFIG SET %s %s: %v %v", kv[0], kv[1], v, err)
			}
		}
	}
	seed := diffSeed()
	r := rand.New(rand.NewSource(seed))
	ops := diffOps()
	t.Logf("REDISDIFF_SEED=%d REDISDIFF_OPS=%d", seed, ops)
	f := diffFamily{name: "config", normalize: normalizeConfig}
	diffs := 0
	for i := 0; i < ops; i++ {
		cmd := genConfig(r)
		if !compareConfig(t, w, rd, f, cmd) {
			diffs++
			if diffs > 10 {
				t.Fatalf("seed %d: too many differences", seed)
			}
		}
	}
	// Every value the random sets left must agree.
	if !compareConfig(t, w, rd, f, []string{"CONFIG", "GET", "*"}) {
		t.Errorf("seed %d: CONFIG GET * differs at the end", seed)
	}
	t.Logf("%d CONFIG commands compared, %d differences", ops+1, diffs)
}

// compareConfig is compareOne for CONFIG, reporting only the pairs that
// differ in a CONFIG GET reply.
func compareConfig(t *testing.T, w, rd *respClient, f diffFamily, cmd []string) bool {
	t.Helper()
	want, err := rd.do(cmd...)
	if err != nil {
		t.Fatalf("redis-server %q: %v", cmd, err)
	}
	got, err := w.do(cmd...)
	if err != nil {
		t.Fatalf("walkv %q: %v", cmd, err)
	}
	want, got = f.normalize(cmd, want), f.normalize(cmd, got)
	if fmt.Sprintf("%#v", got) == fmt.Sprintf("%#v", want) {
		return true
	}
	ga, gok := got.([]any)
	wa, wok := want.([]any)
	if !gok || !wok {
		t.Errorf("%q:\n  walkv: %s\n  redis: %s", cmd, showReply(got), showReply(want))
		return false
	}
	only := func(a, b []any) []string {
		var out []string
		for _, x := range a {
			if !slices.ContainsFunc(b, func(y any) bool { return showReply(x) == showReply(y) }) {
				out = append(out, showReply(x))
			}
		}
		return out
	}
	t.Errorf("%q:\n  only walkv: %v\n  only redis: %v", cmd, only(ga, wa), only(wa, ga))
	return false
}

// compareConfigNames checks that CONFIG GET * names the same parameters
// (walkv's own walkv-* aside) and that values differ only as documented.
func compareConfigNames(t *testing.T, w, rd *respClient) {
	get := func(c *respClient) map[string]string {
		v, err := c.do("CONFIG", "GET", "*")
		a, ok := v.([]any)
		if err != nil || !ok || len(a)%2 != 0 {
			t.Fatalf("CONFIG GET *: %v %v", v, err)
		}
		m := map[string]string{}
		for i := 0; i < len(a); i += 2 {
			m[string(a[i].(respBulk))] = string(a[i+1].(respBulk))
		}
		return m
	}
	wm, rm := get(w), get(rd)
	for k := range wm {
		if strings.HasPrefix(k, "walkv-") {
			delete(wm, k)
		}
	}
	if len(rm) < 150 {
		t.Fatalf("redis-server lists only %d parameters", len(rm))
	}
	for k, rv := range rm {
		wv, ok := wm[k]
		switch {
		case !ok:
			t.Errorf("walkv lacks parameter %q (redis: %q)", k, rv)
		case wv != rv && configValueDiffs[k] == "":
			t.Errorf("parameter %q: walkv %q, redis %q, and not in the documented differences", k, wv, rv)
		}
	}
	for k := range wm {
		if _, ok := rm[k]; !ok {
			t.Errorf("walkv has parameter %q that redis-server has not", k)
		}
	}
}

// normalizeConfig sorts CONFIG GET's pairs and masks the values of
// configMasked.
func normalizeConfig(cmd []string, reply any) any {
	a, ok := reply.([]any)
	if !ok || !strings.EqualFold(cmd[1], "get") {
		return reply
	}
	var m []any
	for i := 0; i+1 < len(a); i += 2 {
		k, _ := a[i].(respBulk)
		switch low := strings.ToLower(string(k)); {
		case strings.HasPrefix(low, "walkv-"):
		case slices.Contains(configMasked, low):
			m = append(m, k, respBulk("<masked>"))
		default:
			m = append(m, a[i], a[i+1])
		}
	}
	return sortedPairs(cmd, m)
}

// genConfig returns a random CONFIG command.
func genConfig(r *rand.Rand) []string {
	switch r.Intn(10) {
	case 0, 1, 2:
		n := 1 + r.Intn(3)
		cmd := []string{"CONFIG", "GET"}
		for range n {
			cmd = append(cmd, genConfigPattern(r))
		}
		return cmd
	case 3:
		return []string{"CONFIG", diffPick(r, "REWRITE", "HELP", "RESETSTAT", "GET", "SET", "set", "resetstat x")}
	}
	n := 1 + r.Intn(3)
	cmd := []string{"CONFIG", "SET"}
	for range n {
		p := randomParam(r)
		name := p.name
		switch r.Intn(8) {
		case 0:
			if p.alias != "" {
				name = p.alias
			}
		case 1:
			name = strings.ToUpper(name)
		case 2:
			if r.Intn(4) == 0 {
				name = "no-such-param"
			}
		}
		cmd = append(cmd, name, genConfigValue(r, p))
	}
	if r.Intn(20) == 0 {
		cmd = cmd[:len(cmd)-1] // odd count
	}
	return cmd
}

// randomParam returns one of Redis's parameters.
func randomParam(r *rand.Rand) *param { return &redisParams[r.Intn(len(redisParams))] }

func genConfigPattern(r *rand.Rand) string {
	switch r.Intn(4) {
	case 0:
		p := randomParam(r)
		name := p.name
		if p.alias != "" && r.Intn(2) == 0 {
			name = p.alias
		}
		if r.Intn(4) == 0 {
			name = strings.ToUpper(name)
		}
		return name
	case 1:
		return diffPick(r, "watchdog-period", "key-load-delay", "rdb-key-save-delay", "use-exit-on-panic",
			"loading-process-events-interval-bytes", "no-such-param", "")
	}
	return diffPick(r, "*", "*max*", "maxmemory*", "?ort", "[a-c]*", "hash-max-*", "*-ziplist-*", "WATCHDOG*",
		"*LISTPACK*", "tls-*", "*[0-9]*", "repl-*-size", "slave*", "[^a-s]*", "client-*-limit", "*\\-*", "x*")
}

// genConfigValue returns a valid or invalid value for p.
func genConfigValue(r *rand.Rand, p *param) string {
	if safe, ok := configNoValidSet[p.name]; ok && safe != "-" && r.Intn(2) == 0 {
		return safe
	} else if ok {
		// An "invalid" value may be valid for such a parameter (5G for
		// proto-max-bulk-len): the safe one replaces it.
		v := genInvalidValue(r, p)
		if _, why := parseParam(p, v, ""); why == "" {
			return safe
		}
		return v
	}
	if r.Intn(3) == 0 {
		return genInvalidValue(r, p)
	}
	switch p.kind {
	case pBool:
		return diffPick(r, "yes", "no", "YES", "No")
	case pEnum:
		e := p.enum[r.Intn(len(p.enum))].name
		if p.has(fMulti) && r.Intn(2) == 0 {
			e += " " + p.enum[r.Intn(len(p.enum))].name
		}
		if r.Intn(3) == 0 {
			e = strings.ToUpper(e)
		}
		return e
	case pInt:
		return genNumber(r, p)
	case pString:
		if p.name == "proc-title-template" {
			return diffPick(r, "{title}", "{title} {port}", "{nosuch}", "x {{", "{", "redis {listen-addr}", " ", "{server-mode}", "{{}")
		}
		return diffPick(r, "foo", "", "a b", "host-1.example", "bad_host!", "x")
	}
	switch p.name {
	case "save":
		return diffPick(r, "3600 1", "", "7200 1 3600 100", "3600 ", "100000 5")
	case "client-output-buffer-limit":
		return diffPick(r, "normal 0 0 0", "pubsub 32mb 8mb 60", "replica 256mb 64mb 60", "slave 1gb 2gb 100 pubsub 1mb 1mb 1",
			"normal 128mb 64mb 60", "PUBSUB 99999999999999999999 0 0")
	case "oom-score-adj-values":
		return diffPick(r, "0 200 800", "-2000 0 2000", "10 20 30", "0  800")
	case "notify-keyspace-events":
		return diffPick(r, "KEA", "Ex", "gx", "", "AKm", "$lsh", "KEg$lshzxetd", "nK")
	case "latency-tracking-info-percentiles":
		return diffPick(r, "50 99 99.9", "", "0 100", "50.5 99.99", "1e1", "99.123456789")
	}
	return "x"
}

// genNumber returns a valid value of a numeric parameter: a bound, a
// number near the low bound, in units for memory parameters, or a
// percentage.
func genNumber(r *rand.Rand, p *param) string {
	lo, hi := p.lo, p.hi
	if p.has(fUnsigned) && hi == -1 {
		hi = 1<<63 - 1
	}
	switch r.Intn(6) {
	case 0:
		return strconv.FormatInt(lo, 10)
	case 1:
		if p.name != "maxclients" && p.name != "hz" { // fds; a 500 Hz cron
			return strconv.FormatInt(hi, 10)
		}
	case 2:
		if p.has(fMemory) {
			return fmt.Sprintf("%d%s", 1+r.Intn(3), diffPick(r, "k", "kb", "mb", "MB", "gb", "G", "b"))
		}
	case 3:
		if p.has(fPercent) {
			return fmt.Sprintf("%d%%", r.Intn(101))
		}
	}
	span := hi - lo
	if span < 0 || span > 10000 { // overflowed, or large
		span = 10000
	}
	return strconv.FormatInt(lo+r.Int63n(span+1), 10)
}

// genInvalidValue returns a value that is usually invalid for p (and
// sometimes a quirky valid one: Redis's parsers have edge cases).
func genInvalidValue(r *rand.Rand, p *param) string {
	switch p.kind {
	case pBool:
		return diffPick(r, "maybe", "", "1", "y", "yes ")
	case pEnum:
		return diffPick(r, "bogus", "", "save nosave", "default  now", "NOW FORCE", "no yes")
	case pInt:
		lo := p.lo
		vals := []string{"x", "1.5", "", "-0", "+1", " 1", "01", "-1", "1k", "1kb", "1KB", "5G", "10%", "101%",
			"-5%", "99999999999999999999999", "18446744073709551616", "9223372036854775808", "1mb ", "%", "0x10",
			strconv.FormatInt(lo-1, 10)}
		if p.hi != -1 && p.hi < 1<<62 {
			vals = append(vals, strconv.FormatInt(p.hi+1, 10))
		}
		return vals[r.Intn(len(vals))]
	case pString:
		return diffPick(r, "bad_host!", strings.Repeat("h", 300), "{bad", "")
	}
	switch p.name {
	case "save":
		return diffPick(r, "10 5 60", "0 1", "3600 -1", "3600 1 7200 x", "3600  1", "x", "-1 -1", "+5 05")
	case "client-output-buffer-limit":
		return diffPick(r, "master 0 0 0", "normal 0 0", "normal 1mb 0 x", "slave 1gb 2gb -1", "bogus 1 1 1", "pubsub -1 0 0",
			"pubsub 1mb 1mb 1 normal")
	case "oom-score-adj-values":
		return diffPick(r, "1 2", "0 0 3000", "a b c", "", "0 0 0 0", "+1 -1 02")
	case "notify-keyspace-events":
		return diffPick(r, "Q", "K E", "AKE!", "l s")
	case "latency-tracking-info-percentiles":
		return diffPick(r, "101", "abc", "-1", "50  99", " 50", "nan", "inf")
	case "bind":
		return strings.Repeat("127.0.0.1 ", 17)
	}
	return "x"
}

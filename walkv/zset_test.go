package walkv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/waldb/wal/txn"
)

// TestZSetCommands pins sorted-set replies and error texts (checked
// against redis-server 7.0) without needing one.
func TestZSetCommands(t *testing.T) {
	e := newEnv(t, nil)
	e.runSteps([]step{
		{"ZADD z 1 a 2 b 3 c", 3},
		{"ZADD z NX 5 a 4 d", 1},
		{"ZADD z XX CH 5 a 9 nope", 1},
		{"ZADD z GT 1 a", 0},
		{"ZADD z LT CH 0.5 a", 1},
		{"ZADD z INCR 0.1 a", "0.59999999999999998"},
		{"ZADD z XX INCR 1 nope", nil},
		{"ZADD z GT INCR -1 a", nil},
		{"ZADD z NX XX 1 a", "ERR:ERR XX and NX options at the same time are not compatible"},
		{"ZADD z GT LT 1 a", "ERR:ERR GT, LT, and/or NX options at the same time are not compatible"},
		{"ZADD z INCR 1 a 2 b", "ERR:ERR INCR option supports a single increment-element pair"},
		{"ZADD z 1 a 2", "ERR:ERR syntax error"},
		{"ZADD z nan a", "ERR:ERR value is not a valid float"},
		{"ZADD z 1e400 a", "ERR:ERR value is not a valid float"},
		{"ZADD z 0x10 hex", 1},
		{"ZSCORE z hex", "16"},
		{"ZADD inf inf a", 1},
		{"ZINCRBY inf -inf a", "ERR:ERR resulting score is not a number (NaN)"},
		{"ZINCRBY inf 1 a", "inf"},
		{"ZRANGE z 0 -1 WITHSCORES", []any{"a", "0.59999999999999998", "b", "2", "c", "3", "d", "4", "hex", "16"}},
		{"ZRANGE z (2 +inf BYSCORE REV LIMIT 1 2", []any{}},
		{"ZRANGE z +inf (2 BYSCORE REV LIMIT 1 2", []any{"d", "c"}},
		{"ZRANGE z 0 1 LIMIT 0 1", "ERR:ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"},
		{"ZRANGE z - + BYLEX WITHSCORES", "ERR:ERR syntax error, WITHSCORES not supported in combination with BYLEX"},
		{"ZRANGEBYSCORE z x 1", "ERR:ERR min or max is not a float"},
		{"ZRANGEBYLEX z a b", "ERR:ERR min or max not valid string range item"},
		{"ZREVRANGEBYSCORE z 3 (1 WITHSCORES", []any{"c", "3", "b", "2"}},
		{"ZRANK z c", 2},
		{"ZREVRANK z c", 2},
		{"ZRANK z nope", nil},
		{"ZCOUNT z (1 3", 2},
		{"ZMSCORE z a nope", []any{"0.59999999999999998", nil}},
		{"ZCARD z", 5},
		{"ZREM z a a nope", 1},
		{"ZPOPMIN z", []any{"b", "2"}},
		{"ZPOPMAX z 2", []any{"hex", "16", "d", "4"}},
		{"ZPOPMIN z -1", "ERR:ERR value is out of range, must be positive"},
		{"ZMPOP 2 none z MIN COUNT 5", []any{"z", []any{[]any{"c", "3"}}}},
		{"EXISTS z", 0},
		{"ZMPOP 1 z MAX", nil},
		{"ZMPOP 0 z MAX", "ERR:ERR numkeys should be greater than 0"},
		{"ZADD l 0 a 0 b 0 c 0 d", 4},
		{"ZRANGEBYLEX l (a [c", []any{"b", "c"}},
		{"ZREVRANGEBYLEX l + - LIMIT 1 1", []any{"c"}},
		{"ZLEXCOUNT l - +", 4},
		{"ZREMRANGEBYLEX l [c +", 2},
		{"ZADD s1 1 a 2 b", 2},
		{"ZADD s2 10 b 20 c", 2},
		{"ZUNION 2 s1 s2 WEIGHTS 1 2 WITHSCORES", []any{"a", "1", "b", "22", "c", "40"}},
		{"ZINTER 2 s1 s2 AGGREGATE MIN WITHSCORES", []any{"b", "2"}},
		{"ZDIFF 2 s1 s2", []any{"a"}},
		{"ZUNIONSTORE dst 2 s1 s2 AGGREGATE MAX", 3},
		{"ZRANGE dst 0 -1 WITHSCORES", []any{"a", "1", "b", "10", "c", "20"}},
		{"ZINTERSTORE dst 2 s1 nope", 0},
		{"EXISTS dst", 0},
		{"ZINTERCARD 2 s1 s2 LIMIT -1", "ERR:ERR LIMIT can't be negative"},
		{"ZINTERCARD 0 s1", "ERR:ERR at least 1 input key is needed for 'zintercard' command"},
		{"ZUNION 3 s1 s2", "ERR:ERR syntax error"},
		{"ZRANGESTORE dst s2 0 0", 1},
		{"ZRANGE dst 0 -1 WITHSCORES", []any{"b", "10"}},
		{"ZREMRANGEBYSCORE s2 -inf (20", 1},
		{"ZREMRANGEBYRANK s2 0 -1", 1},
		{"TYPE s1", "zset"},
		{"SET str x", "OK"},
		{"ZADD str 1 a", "ERR:WRONGTYPE"},
		{"ZUNION 1 str", "ERR:WRONGTYPE"},
		{"ZSCAN s1 0", []any{"0", []any{"a", "1", "b", "2"}}},
		{"ZRANDMEMBER nope", nil},
		{"ZRANDMEMBER s1 -5 WITHSCORES", "~"},
		{"ZRANDMEMBER s1 x", "ERR:ERR value is not an integer or out of range"},
	})
	if n := len(e.do("ZRANDMEMBER s1 -5").([]any)); n != 5 {
		t.Fatalf("ZRANDMEMBER s1 -5 returned %d members", n)
	}
	if got := e.do("ZRANDMEMBER s1 5").([]any); len(got) != 2 {
		t.Fatalf("ZRANDMEMBER s1 5 = %v", got)
	}
}

// TestZSetNegativeZero: as in Redis 7.0, a small set (a listpack there)
// stores -0 as 0 while a big one (a skip list) keeps it, replies of
// computed scores keep it, and a restart keeps what was stored.
func TestZSetNegativeZero(t *testing.T) {
	e := newEnv(t, nil)
	e.do("ZADD small -0 a")
	big := "ZADD big"
	for i := range 130 {
		big += fmt.Sprint(" 1 m", i)
	}
	e.do(big)
	e.do("ZADD big -0 z")
	e.runSteps([]step{
		{"ZSCORE small a", "0"},
		{"ZSCORE big z", "-0"},
		{"ZINCRBY small -0 a", "0"},
		{"ZADD small INCR -0 b", "-0"},
		{"ZSCORE small b", "0"},
		{"ZUNION 1 small WEIGHTS -1 WITHSCORES", []any{"a", "-0", "b", "-0"}},
	})
	e.restart()
	e.runSteps([]step{{"ZSCORE small b", "0"}, {"ZSCORE big z", "-0"}})
	if err := e.db.Snapshot(); err != nil {
		t.Fatal(err)
	}
	e.do("ZREMRANGEBYRANK big 1 100") // 31 left: small again once reloaded
	e.restart()
	e.runSteps([]step{{"ZSCORE big z", "-0"}})
	if err := e.db.Snapshot(); err != nil {
		t.Fatal(err)
	}
	e.restart()
	e.runSteps([]step{{"ZSCORE big z", "0"}}) // as Redis loading its RDB file
}

// zdump returns every sorted set's members and scores.
func (e *env) zdump() map[string]any {
	e.t.Helper()
	out := map[string]any{}
	for _, k := range e.do("KEYS *").([]any) {
		out[k.(string)] = e.do(fmt.Sprint("ZRANGE ", k, " 0 -1 WITHSCORES"))
	}
	return out
}

// TestZSetDurable: a random sorted-set workload reads back the same after
// a replay of the log, after a snapshot, and after both.
func TestZSetDurable(t *testing.T) {
	e := newEnv(t, nil)
	r := rand.New(rand.NewPCG(1, 2))
	work := func(n int) {
		for range n {
			k := fmt.Sprint("z", r.IntN(5))
			switch r.IntN(6) {
			case 0, 1, 2:
				e.do(fmt.Sprint("ZADD ", k, " ", r.IntN(20)-10, " m", r.IntN(200)))
			case 3:
				e.do(fmt.Sprint("ZINCRBY ", k, " 0.25 m", r.IntN(200)))
			case 4:
				e.do(fmt.Sprint("ZREM ", k, " m", r.IntN(200)))
			case 5:
				e.do(fmt.Sprint("ZUNIONSTORE ", k, " 2 z", r.IntN(5), " z", r.IntN(5), " WEIGHTS 1 -0.5"))
			}
		}
	}
	work(2000)
	want := e.zdump()
	e.restart()
	if got := e.zdump(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after replay:\n got %v\nwant %v", got, want)
	}
	if err := e.db.Snapshot(); err != nil {
		t.Fatal(err)
	}
	work(500)
	want = e.zdump()
	e.restart()
	if got := e.zdump(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after snapshot and replay:\n got %v\nwant %v", got, want)
	}
}

// TestZSetCopyOnWrite: a frozen sorted set keeps its content while the
// live one changes.
func TestZSetCopyOnWrite(t *testing.T) {
	ks := newKeyspace()
	apply := func(op txn.Op) {
		t.Helper()
		if err := ks.apply(op); err != nil {
			t.Fatal(err)
		}
	}
	apply(opSetKey("z", kindZSet, nil))
	for i := range 1000 {
		apply(opZSet("z", fmt.Sprint("m", i), float64(i)))
	}
	frozen := ks.freeze()
	for i := range 500 {
		apply(opZDel("z", fmt.Sprint("m", i)))
		apply(opZSet("z", fmt.Sprint("n", i), -float64(i)))
	}
	var old *item
	frozen.each(func(it *item) bool { old = it; return false })
	if old.z.len() != 1000 || old.z.at(0).member != "m0" || old.z.at(999).member != "m999" {
		t.Fatalf("frozen set changed: len %d", old.z.len())
	}
	if s, ok := old.z.score("m10"); !ok || s != 10 {
		t.Fatalf("frozen score of m10 = %v %v", s, ok)
	}
	live := ks.lookup("z")
	if live == old || live.z.len() != 1000 || live.z.at(0).member != "n499" {
		t.Fatalf("live set wrong: first %q", live.z.at(0).member)
	}
}

// TestZSetRank checks rank, score-range and lex-range searches against a
// sorted slice.
func TestZSetRank(t *testing.T) {
	z := newZSet(false)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		z.set(fmt.Sprint("m", i), float64(r.IntN(100)))
	}
	var all []*zent
	z.ascend(0, func(e *zent) bool { all = append(all, e); return true })
	for i, e := range all {
		if rk, ok := z.rank(e.member); !ok || rk != i {
			t.Fatalf("rank(%s) = %d, want %d", e.member, rk, i)
		}
	}
	for range 200 {
		sr := scoreRange{min: float64(r.IntN(110) - 5), max: float64(r.IntN(110) - 5), minEx: r.IntN(2) == 0, maxEx: r.IntN(2) == 0}
		lo, hi := z.scoreRanks(sr)
		n := 0
		for _, e := range all {
			if sr.aboveMin(e.score) && sr.belowMax(e.score) {
				n++
			}
		}
		if hi-lo != n {
			t.Fatalf("%+v: %d entries, want %d", sr, hi-lo, n)
		}
	}
}

func TestScoreParseFormat(t *testing.T) {
	for in, want := range map[string]string{
		"1": "1", "-0": "-0", "0.1": "0.10000000000000001", "1e20": "1e+20", "1.5e-7": "1.4999999999999999e-07",
		"inf": "inf", "-Infinity": "-inf", "+inf": "inf", "0x1p-2": "0.25", "0X10": "16", ".5": "0.5", "5.": "5",
		"4.9e-324": "4.9406564584124654e-324", "123456789012345678": "1.2345678901234568e+17",
	} {
		v, ok := parseScore([]byte(in))
		if got := formatScore(v); !ok || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", " 1", "1 ", "nan", "-nan", "1e400", "-1e400", "1e-400", "abc", "0x", "1e", "1_0", "0x1p", "infx", "(1"} {
		if v, ok := parseScore([]byte(bad)); ok {
			t.Errorf("%q parsed as %v", bad, v)
		}
	}
	for in, want := range map[string]float64{"": 0, " 2": 2, "1e400": math.Inf(1), "1e-400": 0, "-inf": math.Inf(-1)} {
		if v, ok := parseRangeScore(in); !ok || v != want {
			t.Errorf("range %q = %v %v, want %v", in, v, ok, want)
		}
	}
	for _, bad := range []string{" ", "x", "nan", "1 ", "1x"} {
		if v, ok := parseRangeScore(bad); ok {
			t.Errorf("range %q parsed as %v", bad, v)
		}
	}
}

// BenchmarkZRank measures ZRANK's O(log² n) search (binary search over
// the B-tree's counted GetAt) and ZRANGE's by-rank start (one GetAt) on
// sets of 1K, 64K and 1M members.
func BenchmarkZRank(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 16, 1 << 20} {
		z := newZSet(false)
		for i := range n {
			z.set(strconv.Itoa(i), float64(i*7%n))
		}
		b.Run(fmt.Sprint("rank-", n), func(b *testing.B) {
			for i := range b.N {
				if _, ok := z.rank(strconv.Itoa(i % n)); !ok {
					b.Fatal("missing")
				}
			}
		})
		b.Run(fmt.Sprint("at-", n), func(b *testing.B) {
			for i := range b.N {
				if z.at(i%n) == nil {
					b.Fatal("missing")
				}
			}
		})
	}
}

// TestZSetSetInputs: ZUNION, ZINTER and ZDIFF take sets, their members
// scoring 1, as Redis does.
func TestZSetSetInputs(t *testing.T) {
	e := newEnv(t, nil)
	e.db.mu.Lock()
	for _, op := range []txn.Op{opSetKey("s", kindSet, nil), opAddMember("s", "a"), opAddMember("s", "b")} {
		if err := e.db.dbs[0].apply(op); err != nil {
			t.Fatal(err)
		}
	}
	e.db.mu.Unlock()
	e.runSteps([]step{
		{"ZADD z 5 a 7 c", 2},
		{"ZUNION 2 s z WITHSCORES", []any{"b", "1", "a", "6", "c", "7"}},
		{"ZINTER 2 s z WEIGHTS 10 1 WITHSCORES", []any{"a", "15"}},
		{"ZDIFF 2 s z", []any{"b"}},
		{"ZINTERCARD 2 s z", 1},
	})
}

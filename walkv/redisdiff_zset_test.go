package walkv

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
)

// Sorted-set commands for the differential test against redis-server
// (see redisdiff_test.go): ZADD and friends with edge-case scores, ranges
// and counts, on keys shared with the other families (so WRONGTYPE
// comes up), small sets and big ones (listpack and skip list in Redis),
// plus "zlex", a key whose members all have score 0, for the
// lexicographic commands (whose result Redis leaves unspecified when
// scores differ: a skip list's depends on its random levels).

func init() {
	diffFamilies = append(diffFamilies, diffFamily{name: "zset", gen: genZset, normalize: normZset})
}

const zlexKey = "zlex"

// zScore returns a score argument: mostly valid, sometimes not.
func zScore(r *rand.Rand) string {
	if r.Intn(12) == 0 {
		return diffPick(r, "nan", "abc", "", "1e400", " 1", "0x10", "1e-400", "(1", "1 ", "+inf", "-0", "4.9e-324", "1e-310", "0x1p-2", "1.", ".5", "+2", "inf", "-inf", "Infinity")
	}
	return diffPick(r, "0", "1", "2", "3", "-1", "-2", "1.5", "2.5", "-0.5", "10", "100", "0.1", "0.2", "1e3", "inf", "-inf", "3.0")
}

func zMember(r *rand.Rand) string { return diffPick(r, "a", "b", "c", "d", "e", "f", "g", "h", "") }

func zRangeScore(r *rand.Rand) string {
	if r.Intn(10) == 0 {
		return diffPick(r, "x", "(x", "", "(", " 2", "nan", "(nan", "1e400", "[1", "2 ")
	}
	return diffPick(r, "-inf", "+inf", "inf", "(-inf", "(+inf", "0", "(0", "1", "(1", "1.5", "(1.5", "2", "(2", "3", "(3", "-1", "10", "(100")
}

func zLex(r *rand.Rand) string {
	if r.Intn(10) == 0 {
		return diffPick(r, "a", "", "+x", "-x", "[", "(")
	}
	return diffPick(r, "-", "+", "[a", "(a", "[b", "(b", "[c", "(c", "[d", "(e", "[f", "(g", "[h", "[", "(")
}

func zIndex(r *rand.Rand) string {
	if r.Intn(15) == 0 {
		return diffPick(r, "x", "1.5", "", "9223372036854775807", "-9223372036854775808", "99999999999999999999")
	}
	return diffPick(r, "0", "1", "2", "3", "-1", "-2", "-3", "5", "-5", "10", "-10", "100", "-100")
}

func zCount(r *rand.Rand) string {
	if r.Intn(10) == 0 {
		return diffPick(r, "x", "-1", "-5", "9223372036854775807", "-9223372036854775808", "")
	}
	return diffPick(r, "0", "1", "2", "3", "5", "10", "100")
}

// zKeys returns "numkeys key ..." with 1 to 3 keys (sometimes a bad
// numkeys).
func zKeys(r *rand.Rand) []string {
	n := 1 + r.Intn(3)
	ks := []string{strconv.Itoa(n)}
	if r.Intn(15) == 0 {
		ks[0] = diffPick(r, "0", "-1", "x", "10")
	}
	for range n {
		ks = append(ks, diffKey(r))
	}
	return ks
}

func genZset(r *rand.Rand) []string {
	k := diffKey(r)
	switch r.Intn(41) {
	case 0, 1, 2, 3, 4:
		c := []string{"ZADD", k}
		for _, f := range []string{"NX", "XX", "GT", "LT", "CH", "INCR"} {
			if r.Intn(8) == 0 {
				c = append(c, diffPick(r, f, lowerASCII(f)))
			}
		}
		for range 1 + r.Intn(4) {
			c = append(c, zScore(r), zMember(r))
		}
		if r.Intn(20) == 0 {
			c = c[:len(c)-1]
		}
		return c
	case 5:
		c := []string{"ZADD", zlexKey}
		for range 1 + r.Intn(4) {
			c = append(c, "0", zMember(r))
		}
		switch r.Intn(10) {
		case 0: // a skip list in Redis
			for i := range 130 {
				c = append(c, "0", fmt.Sprint("m", i))
			}
		case 1:
			c = append(c, "0", strings.Repeat("long", 17)+zMember(r))
		}
		return c
	case 6:
		return []string{"ZINCRBY", k, zScore(r), zMember(r)}
	case 7:
		c := []string{"ZREM", k}
		for range 1 + r.Intn(3) {
			c = append(c, zMember(r))
		}
		return c
	case 8:
		return []string{"ZCARD", k}
	case 9:
		return []string{"ZSCORE", k, zMember(r)}
	case 10:
		return []string{"ZMSCORE", k, zMember(r), zMember(r)}
	case 11:
		return []string{diffPick(r, "ZRANK", "ZREVRANK"), k, zMember(r)}
	case 12:
		return []string{"ZCOUNT", k, zRangeScore(r), zRangeScore(r)}
	case 13:
		return []string{"ZLEXCOUNT", zlexKey, zLex(r), zLex(r)}
	case 14, 15, 16:
		// ZRANGE with every option combination.
		c := []string{"ZRANGE", k}
		by := r.Intn(3)
		switch by {
		case 0:
			c = append(c, zIndex(r), zIndex(r))
		case 1:
			c = append(c, zRangeScore(r), zRangeScore(r), "BYSCORE")
		case 2:
			c[1] = zlexKey
			c = append(c, zLex(r), zLex(r), "BYLEX")
		}
		if r.Intn(3) == 0 {
			c = append(c, "REV")
		}
		if r.Intn(3) == 0 {
			c = append(c, "LIMIT", zIndex(r), zIndex(r))
		}
		if r.Intn(3) == 0 {
			c = append(c, "WITHSCORES")
		}
		if r.Intn(6) == 0 {
			i := 4 + r.Intn(len(c)-3)
			c = append(c[:i], append([]string{diffPick(r, "BYSCORE", "REV", "WITHSCORES", "LIMIT", "bogus")}, c[i:]...)...)
		}
		return c
	case 17:
		c := []string{diffPick(r, "ZRANGEBYSCORE", "ZREVRANGEBYSCORE"), k, zRangeScore(r), zRangeScore(r)}
		if r.Intn(2) == 0 {
			c = append(c, "WITHSCORES")
		}
		if r.Intn(2) == 0 {
			c = append(c, "LIMIT", zIndex(r), zIndex(r))
		}
		if r.Intn(10) == 0 {
			c = append(c, diffPick(r, "REV", "BYLEX", "LIMIT"))
		}
		return c
	case 18:
		c := []string{diffPick(r, "ZRANGEBYLEX", "ZREVRANGEBYLEX"), zlexKey, zLex(r), zLex(r)}
		if r.Intn(2) == 0 {
			c = append(c, "LIMIT", zIndex(r), zIndex(r))
		}
		if r.Intn(10) == 0 {
			c = append(c, "WITHSCORES")
		}
		return c
	case 19:
		c := []string{"ZREVRANGE", k, zIndex(r), zIndex(r)}
		if r.Intn(2) == 0 {
			c = append(c, "WITHSCORES")
		}
		return c
	case 20, 21:
		c := []string{"ZRANGESTORE", diffKey(r), k}
		switch r.Intn(3) {
		case 0:
			c = append(c, zIndex(r), zIndex(r))
		case 1:
			c = append(c, zRangeScore(r), zRangeScore(r), "BYSCORE")
		case 2:
			c[2] = zlexKey
			c = append(c, zLex(r), zLex(r), "BYLEX")
		}
		if r.Intn(3) == 0 {
			c = append(c, "REV")
		}
		if r.Intn(3) == 0 {
			c = append(c, "LIMIT", zIndex(r), zIndex(r))
		}
		if r.Intn(10) == 0 {
			c = append(c, "WITHSCORES")
		}
		return c
	case 22:
		return []string{"ZREMRANGEBYRANK", k, zIndex(r), zIndex(r)}
	case 23:
		return []string{"ZREMRANGEBYSCORE", k, zRangeScore(r), zRangeScore(r)}
	case 24:
		return []string{"ZREMRANGEBYLEX", zlexKey, zLex(r), zLex(r)}
	case 25, 26:
		c := []string{diffPick(r, "ZPOPMIN", "ZPOPMAX"), k}
		if r.Intn(2) == 0 {
			c = append(c, zCount(r))
		}
		if r.Intn(20) == 0 {
			c = append(c, "1")
		}
		return c
	case 27:
		c := append([]string{"ZMPOP"}, zKeys(r)...)
		c = append(c, diffPick(r, "MIN", "MAX", "min", "max", "LEFT"))
		if r.Intn(2) == 0 {
			c = append(c, "COUNT", zCount(r))
		}
		if r.Intn(15) == 0 {
			c = append(c, "COUNT", "1")
		}
		return c
	case 28:
		c := []string{"ZRANDMEMBER", k}
		if r.Intn(3) > 0 {
			c = append(c, diffPick(r, "0", "1", "2", "5", "100", "-1", "-3", "-10", "x", "-9223372036854775808", "9223372036854775807"))
			if r.Intn(2) == 0 {
				c = append(c, diffPick(r, "WITHSCORES", "WITHSCORES", "bogus"))
			}
		}
		return c
	case 29, 30, 31, 32:
		name := diffPick(r, "ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZINTERCARD")
		c := []string{name}
		store := name[len(name)-5:] == "STORE"
		if store {
			c = append(c, diffKey(r))
		}
		ks := zKeys(r)
		c = append(c, ks...)
		n := len(ks) - 1
		if r.Intn(3) == 0 {
			c = append(c, "WEIGHTS")
			for range n {
				c = append(c, diffPick(r, "1", "2", "0", "-1", "0.5", "inf", "-inf", "x"))
			}
		}
		if r.Intn(3) == 0 {
			c = append(c, "AGGREGATE", diffPick(r, "SUM", "MIN", "MAX", "min", "avg"))
		}
		if r.Intn(3) == 0 {
			c = append(c, "WITHSCORES")
		}
		if r.Intn(3) == 0 {
			c = append(c, "LIMIT", zCount(r))
		}
		return c
	case 33:
		c := []string{"ZSCAN", k, diffPick(r, "0", "0", "x", "0")}
		if r.Intn(2) == 0 {
			c = append(c, "MATCH", diffPick(r, "*", "a*", "[a-c]", "?", "z*"))
		}
		c = append(c, "COUNT", diffPick(r, "1000", "1000", "0", "x"))
		return c
	case 34:
		if r.Intn(2) == 0 { // sets are ZUNION/ZINTER/ZDIFF inputs too
			return []string{"SADD", k, zMember(r), zMember(r)}
		}
		return []string{"SET", k, "str"}
	case 35:
		return []string{"DEL", k}
	case 36:
		return []string{"TYPE", k}
	case 37:
		return []string{"ZRANGE", k, "0", "-1", "WITHSCORES"}
	case 38:
		return []string{"ZRANGE", zlexKey, "0", "-1", "WITHSCORES"}
	case 39, 40:
		// A big set (a skip list in Redis), or a member too long for a
		// listpack.
		if r.Intn(2) == 0 {
			c := []string{"ZADD", k}
			for i := range 120 + r.Intn(20) {
				c = append(c, diffPick(r, "0", "-0", "1", "2", "1.5", "-1"), fmt.Sprint("m", i))
			}
			return c
		}
		return []string{"ZADD", k, zScore(r), strings.Repeat("long", 17) + zMember(r)}
	}
	return []string{"ZADD", k, strconv.Itoa(r.Intn(10)), fmt.Sprint("m", r.Intn(10))}
}

// normZset hides what is random (ZRANDMEMBER's choice: only the reply's
// shape and size are compared) or in hash order (a big set's ZSCAN).
func normZset(cmd []string, reply any) any {
	switch lowerASCII(cmd[0]) {
	case "zscan":
		return scanReply(reply, true)
	case "zrandmember":
		switch v := reply.(type) {
		case []any:
			return fmt.Sprintf("array of %d", len(v))
		case respBulk:
			return "a member"
		}
	}
	return reply
}

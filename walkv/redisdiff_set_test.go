package walkv

import (
	"math/rand"
	"strconv"
	"strings"
)

// The set family of the differential test. SPOP and SRANDMEMBER choose
// at random: their replies are compared by shape (see normalizeSets) and
// SPOP's key is then deleted on both servers (diffResync).

func init() {
	diffFamilies = append(diffFamilies, diffFamily{name: "sets", gen: genSets, normalize: normalizeSets})
	diffResync["spop"] = true
}

func genSets(r *rand.Rand) []string {
	k := diffKey(r)
	keys := func() []string {
		out := []string{k}
		for range r.Intn(3) {
			out = append(out, diffKey(r))
		}
		return out
	}
	switch r.Intn(24) {
	case 22:
		cmd := []string{"SADD", k}
		for range 100 + r.Intn(200) {
			cmd = append(cmd, strconv.Itoa(r.Intn(400)))
		}
		return cmd
	case 23:
		return []string{"SADD", k, strconv.Itoa(r.Intn(400)), diffValue(r)}
	case 0, 1, 2:
		return append([]string{"SADD", k}, diffElems(r)...)
	case 3:
		return append([]string{"SREM", k}, diffElems(r)...)
	case 4:
		return []string{"SMEMBERS", k}
	case 5:
		return []string{"SISMEMBER", k, diffValue(r)}
	case 6:
		return append([]string{"SMISMEMBER", k}, diffElems(r)...)
	case 7:
		return []string{"SCARD", k}
	case 8:
		return []string{"SPOP", k}
	case 9:
		return []string{"SPOP", k, diffInt(r)}
	case 10:
		return []string{"SRANDMEMBER", k}
	case 11:
		return []string{"SRANDMEMBER", k, diffSmallInt(r)}
	case 12:
		return []string{"SMOVE", k, diffKey(r), diffValue(r)}
	case 13:
		return append([]string{diffPick(r, "SINTER", "SUNION", "SDIFF")}, keys()...)
	case 14:
		return append([]string{diffPick(r, "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"), diffKey(r)}, keys()...)
	case 15:
		ks := keys()
		n := diffPick(r, "1", "2", "3", "0", "-1", "x", "9")
		cmd := append([]string{"SINTERCARD", n}, ks...)
		if r.Intn(2) == 0 {
			cmd = append(cmd, diffPick(r, "LIMIT", "limit", "MAX"), diffInt(r))
		}
		return cmd
	case 16:
		cmd := []string{"SSCAN", k, diffPick(r, "0", "0", "0", "x", "", "-")}
		if r.Intn(2) == 0 {
			cmd = append(cmd, strings.Fields(diffPick(r, "MATCH *", "MATCH a*", "MATCH [a-c]", "MATCH 1*", "COUNT 100", "COUNT 0", "COUNT x", "BOGUS 1", "MATCH"))...)
		}
		// A large COUNT: both servers then return a whole set in one call
		// (which elements a partial call returns is theirs to choose).
		return append(cmd, "COUNT", "1000")
	case 17:
		return []string{"SPOP", k, "1", "2"}
	case 18:
		return []string{diffPick(r, "SET", "LPUSH"), k, diffValue(r)}
	case 19:
		return []string{diffPick(r, "TYPE", "EXISTS", "DEL"), k}
	}
	return append([]string{"SADD", k}, diffElems(r)...)
}

// normalizeSets sorts the replies whose order Redis leaves unspecified
// and reduces random choices to their shape.
func normalizeSets(cmd []string, reply any) any {
	name := strings.ToLower(cmd[0])
	a, isArray := reply.([]any)
	switch {
	case name == "spop" || name == "srandmember":
		if isArray {
			return len(a)
		}
		if _, ok := reply.(respBulk); ok {
			return "member"
		}
	case name == "sscan":
		return scanReply(reply, false)
	case name == "smembers" || name == "sinter" || name == "sunion" || name == "sdiff":
		return sortedArray(cmd, reply)
	}
	return reply
}

// diffSmallInt is diffInt without the huge values (a reply of that many
// elements would be huge).
func diffSmallInt(r *rand.Rand) string {
	for {
		if v := diffInt(r); len(v) < 4 {
			return v
		}
	}
}

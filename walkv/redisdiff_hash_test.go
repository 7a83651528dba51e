package walkv

import (
	"math/rand"
	"strings"
)

// The hash family of the differential test.

func init() {
	diffFamilies = append(diffFamilies, diffFamily{name: "hashes", gen: genHashes, normalize: normalizeHashes})
}

func diffField(r *rand.Rand) string { return diffPick(r, "f1", "f2", "f3", "f4", "") }

func genHashes(r *rand.Rand) []string {
	k := diffKey(r)
	switch r.Intn(22) {
	case 12:
		return append([]string{"HMSET", k}, diffField(r), diffValue(r), diffField(r), diffValue(r))[:3+r.Intn(4)]
	case 13:
		return []string{"HSETNX", k, diffField(r), diffValue(r)}
	case 14:
		return []string{"HINCRBY", k, diffField(r), diffInt(r)}
	case 15, 16:
		return []string{"HINCRBYFLOAT", k, diffField(r), diffFloat(r)}
	case 17:
		return []string{"HSTRLEN", k, diffField(r)}
	case 18:
		return []string{"HRANDFIELD", k}
	case 19:
		return append([]string{"HRANDFIELD", k, diffSmallInt(r)}, strings.Fields(diffPick(r, "", "WITHVALUES", "withvalues", "BOGUS", "WITHVALUES x"))...)
	case 20:
		cmd := []string{"HSCAN", k, diffPick(r, "0", "0", "0", "x", "")}
		if r.Intn(2) == 0 {
			cmd = append(cmd, strings.Fields(diffPick(r, "MATCH *", "MATCH f[12]", "COUNT 100", "COUNT 0", "COUNT x", "BOGUS 1", "MATCH"))...)
		}
		return append(cmd, "COUNT", "1000") // see genSets
	case 21:
		return []string{"HSET", k, diffField(r), diffPick(r, "10", "1.5", "-3", "abc", "9223372036854775807", "1e10", "inf", " 1", "0x10")}
	case 0, 1:
		return []string{"HSET", k, diffField(r), diffValue(r), diffField(r), diffValue(r)}
	case 2:
		return []string{"HGET", k, diffField(r)}
	case 3:
		return []string{"HDEL", k, diffField(r), diffField(r)}
	case 4:
		return []string{"HGETALL", k}
	case 5:
		return []string{"HLEN", k}
	case 6:
		return []string{"HEXISTS", k, diffField(r)}
	case 7:
		return []string{"HMGET", k, diffField(r), diffField(r)}
	case 8:
		return []string{diffPick(r, "HKEYS", "HVALS"), k}
	case 9:
		return []string{"HSET", k, diffField(r)}
	case 10:
		return []string{"SET", k, diffValue(r)}
	}
	return []string{"DEL", k}
}

func normalizeHashes(cmd []string, reply any) any {
	switch {
	case eqFold([]byte(cmd[0]), "hrandfield"):
		if a, ok := reply.([]any); ok {
			return len(a)
		}
		if _, ok := reply.(respBulk); ok {
			return "field"
		}
	case eqFold([]byte(cmd[0]), "hscan"):
		return scanReply(reply, true)
	case eqFold([]byte(cmd[0]), "hgetall"):
		return sortedPairs(cmd, reply)
	case eqFold([]byte(cmd[0]), "hkeys"), eqFold([]byte(cmd[0]), "hvals"):
		return sortedArray(cmd, reply)
	}
	return reply
}

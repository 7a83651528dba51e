package walkv

import "math/rand"

// The hash family of the differential test.

func init() {
	diffFamilies = append(diffFamilies, diffFamily{name: "hashes", gen: genHashes, normalize: normalizeHashes})
	diffResync["hrandfield"] = false // read-only: compared by shape
}

func diffField(r *rand.Rand) string { return diffPick(r, "f1", "f2", "f3", "f4", "") }

func genHashes(r *rand.Rand) []string {
	k := diffKey(r)
	switch r.Intn(12) {
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
	case eqFold([]byte(cmd[0]), "hgetall"):
		return sortedPairs(cmd, reply)
	case eqFold([]byte(cmd[0]), "hkeys"), eqFold([]byte(cmd[0]), "hvals"):
		return sortedArray(cmd, reply)
	}
	return reply
}

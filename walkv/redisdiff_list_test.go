package walkv

import (
	"math/rand"
	"strings"
)

// The list family of the differential test.

func init() {
	diffFamilies = append(diffFamilies, diffFamily{name: "lists", gen: genLists})
}

func diffElems(r *rand.Rand) []string {
	n := 1 + r.Intn(4)
	out := make([]string, n)
	for i := range out {
		out[i] = diffValue(r)
	}
	return out
}

func genLists(r *rand.Rand) []string {
	k := diffKey(r)
	switch r.Intn(22) {
	case 0, 1, 2:
		return append([]string{diffPick(r, "LPUSH", "RPUSH")}, append([]string{k}, diffElems(r)...)...)
	case 3:
		return append([]string{diffPick(r, "LPUSHX", "RPUSHX")}, append([]string{k}, diffElems(r)...)...)
	case 4:
		return []string{diffPick(r, "LPOP", "RPOP"), k}
	case 5:
		return []string{diffPick(r, "LPOP", "RPOP"), k, diffInt(r)}
	case 6:
		return []string{"LLEN", k}
	case 7, 8:
		return []string{"LRANGE", k, diffInt(r), diffInt(r)}
	case 9:
		return []string{"LINDEX", k, diffInt(r)}
	case 10:
		return []string{"LSET", k, diffInt(r), diffValue(r)}
	case 11:
		return []string{"LINSERT", k, diffPick(r, "BEFORE", "AFTER", "after", "middle"), diffValue(r), diffValue(r)}
	case 12:
		return []string{"LREM", k, diffInt(r), diffValue(r)}
	case 13:
		return []string{"LTRIM", k, diffInt(r), diffInt(r)}
	case 14:
		cmd := []string{"LPOS", k, diffValue(r)}
		for range r.Intn(3) {
			cmd = append(cmd, diffPick(r, "RANK", "COUNT", "MAXLEN", "rank", "BOGUS"), diffInt(r))
		}
		return cmd
	case 15:
		return []string{"LMOVE", k, diffKey(r), diffPick(r, "LEFT", "RIGHT", "left", "UP"), diffPick(r, "LEFT", "RIGHT", "right")}
	case 16:
		return []string{"RPOPLPUSH", k, diffKey(r)}
	case 17:
		cmd := append([]string{"LMPOP"}, strings.Fields(diffPick(r, "1 "+k, "2 "+k+" "+diffKey(r), "0", "-1 "+k, "x "+k, "3 "+k))...)
		cmd = append(cmd, diffPick(r, "LEFT", "RIGHT", "NONE"))
		if r.Intn(2) == 0 {
			cmd = append(cmd, diffPick(r, "COUNT", "count", "LIMIT"), diffInt(r))
		}
		return cmd
	case 18:
		return []string{"LPUSH", k}
	case 19:
		return []string{diffPick(r, "SET", "HSET"), k, diffValue(r), diffValue(r)}[:3+r.Intn(2)]
	case 20:
		return []string{diffPick(r, "TYPE", "EXISTS", "DEL"), k}
	}
	return []string{"LPOP", k, "1", "2"}
}

package walkv

import (
	"math/rand"
	"strconv"
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
	switch r.Intn(30) {
	case 24:
		// Long lists, so that commands cross the chunks of walkv's lists.
		n := 100 + r.Intn(300)
		cmd := []string{diffPick(r, "LPUSH", "RPUSH"), k}
		for i := range n {
			cmd = append(cmd, diffPick(r, diffValue(r), strconv.Itoa(i)))
		}
		return cmd
	case 25:
		return []string{"LRANGE", k, diffIndex(r), diffIndex(r)}
	case 26:
		return []string{diffPick(r, "LINDEX", "LSET"), k, diffIndex(r), diffValue(r)}[:3+r.Intn(2)]
	case 27:
		return []string{"LTRIM", k, diffIndex(r), diffIndex(r)}
	case 28:
		return []string{diffPick(r, "LPOP", "RPOP"), k, strconv.Itoa(r.Intn(300))}
	case 29:
		return []string{"LINSERT", k, diffPick(r, "BEFORE", "AFTER"), strconv.Itoa(r.Intn(400)), diffValue(r)}
	case 22:
		// Blocking forms with a short timeout: on an empty list both
		// servers time out (*-1); otherwise they pop at once.
		t := diffPick(r, "0.01", "0.01", "0.01", "-1", "x", "1e20", "nan")
		switch r.Intn(5) {
		case 0:
			return []string{diffPick(r, "BLPOP", "BRPOP"), k, diffKey(r), t}
		case 1:
			return []string{"BRPOPLPUSH", k, diffKey(r), t}
		case 2:
			return []string{"BLMOVE", k, diffKey(r), diffPick(r, "LEFT", "RIGHT", "UP"), diffPick(r, "LEFT", "RIGHT"), t}
		}
		return append([]string{"BLMPOP", t}, strings.Fields(diffPick(r, "1 "+k+" LEFT", "2 "+k+" "+diffKey(r)+" RIGHT COUNT 2", "0 LEFT", "1 "+k+" LEFT COUNT 0"))...)
	case 23:
		return []string{diffPick(r, "LPUSH", "RPUSH"), k, diffValue(r)}
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

// diffIndex is a list index up to a few hundred either way.
func diffIndex(r *rand.Rand) string { return strconv.Itoa(r.Intn(1400) - 700) }

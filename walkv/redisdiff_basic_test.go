package walkv

import (
	"math/rand"
	"strconv"
	"strings"
)

// The string, counter, expiry and keyspace basics of the differential
// test.

func init() {
	diffFamilies = append(diffFamilies,
		diffFamily{name: "strings", gen: genStrings},
		diffFamily{name: "counters", gen: genCounters},
		diffFamily{name: "expiry", gen: genExpiry, normalize: normalizeTTL},
	)
}

func genStrings(r *rand.Rand) []string {
	k := diffKey(r)
	switch r.Intn(10) {
	case 0:
		return []string{"SET", k, diffValue(r)}
	case 1:
		return append([]string{"SET", k, diffValue(r)}, strings.Fields(diffPick(r, "NX", "XX", "GET", "NX GET", "XX GET", "KEEPTTL"))...)
	case 2:
		return []string{"GET", k}
	case 3:
		return []string{"GETSET", k, diffValue(r)}
	case 4:
		return []string{"APPEND", k, diffValue(r)}
	case 5:
		return []string{"STRLEN", k}
	case 6:
		return []string{"MSET", k, diffValue(r), diffKey(r), diffValue(r)}
	case 7:
		return []string{"MGET", k, diffKey(r), diffKey(r)}
	case 8:
		return []string{"DEL", k, diffKey(r)}
	}
	return []string{diffPick(r, "EXISTS", "TYPE"), k}
}

func genCounters(r *rand.Rand) []string {
	k := diffKey(r)
	switch r.Intn(6) {
	case 0:
		return []string{"INCR", k}
	case 1:
		return []string{"DECR", k}
	case 2:
		return []string{"INCRBY", k, diffInt(r)}
	case 3:
		return []string{"DECRBY", k, diffInt(r)}
	case 4:
		return []string{"SET", k, diffPick(r, "9223372036854775806", "-9223372036854775807", "10", "0", "abc", "1.5")}
	}
	return []string{"GET", k}
}

// genExpiry sets deadlines far in the future or in the past, never close
// to now, so that both servers agree whatever their timing.
func genExpiry(r *rand.Rand) []string {
	k := diffKey(r)
	far := strconv.Itoa(1000 + r.Intn(100000))
	switch r.Intn(9) {
	case 0:
		return []string{diffPick(r, "EXPIRE", "PEXPIRE"), k, diffPick(r, far, "-5", "0", "x")}
	case 1:
		return []string{"EXPIRE", k, far, diffPick(r, "NX", "XX", "GT", "LT")}
	case 2:
		return []string{diffPick(r, "EXPIREAT", "PEXPIREAT"), k, diffPick(r, "1", "4102444800000", "100")}
	case 3:
		return []string{diffPick(r, "TTL", "PTTL"), k}
	case 4:
		return []string{"PERSIST", k}
	case 5:
		return []string{"SET", k, diffValue(r), diffPick(r, "EX", "PX"), diffPick(r, far, "0", "-1")}
	case 6:
		return []string{"SET", k, diffValue(r)}
	case 7:
		return []string{"EXISTS", k}
	}
	return []string{"GET", k}
}

// normalizeTTL keeps only the sign of a positive TTL: the servers'
// clocks run apart by the test's own delays.
func normalizeTTL(cmd []string, reply any) any {
	if n, ok := reply.(int64); ok && n > 0 && (eqFold([]byte(cmd[0]), "ttl") || eqFold([]byte(cmd[0]), "pttl")) {
		return "positive"
	}
	return reply
}

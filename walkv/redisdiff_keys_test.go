package walkv

import "math/rand"

// The keyspace commands of the differential test: RENAME, RENAMENX, COPY,
// TOUCH, UNLINK, EXPIREAT, PEXPIREAT, EXPIRETIME, PEXPIRETIME, OBJECT, on
// keys of every type with absolute deadlines (so replies do not depend on
// the clock). OBJECT REFCOUNT is left out: Redis's answer depends on
// whether a small integer value happens to be its shared object.

func init() {
	diffFamilies = append(diffFamilies, diffFamily{name: "keyspace2", gen: genKeys2, normalize: normalizeKeys2})
}

func genKeys2(r *rand.Rand) []string {
	k, k2 := diffKey(r), diffKey(r)
	switch r.Intn(20) {
	case 0:
		return []string{"SET", k, diffPick(r, "v", "10", "x y", "-5", "99999")}
	case 1:
		return []string{"HSET", k, "f", diffValue(r)}
	case 2:
		return []string{"RPUSH", k, diffValue(r), diffValue(r)}
	case 3:
		return []string{"ZADD", k, diffPick(r, "1", "-0", "2.5"), diffValue(r)}
	case 4, 5:
		return []string{diffPick(r, "RENAME", "RENAMENX"), k, k2}
	case 6, 7:
		c := []string{"COPY", k, k2}
		switch r.Intn(6) {
		case 0:
			c = append(c, "REPLACE")
		case 1:
			c = append(c, "DB", "0")
		case 2:
			c = append(c, "DB", diffPick(r, "x", "0", "REPLACE"))
		case 3:
			c = append(c, "BOGUS")
		}
		return c
	case 8:
		return []string{diffPick(r, "TOUCH", "UNLINK"), k, k2}
	case 9, 10:
		return []string{diffPick(r, "EXPIREAT", "PEXPIREAT"), k, diffPick(r, "4000000000", "4000000000123", "1", "x"), diffPick(r, "", "NX", "XX", "GT", "LT")}
	case 11, 12:
		return []string{diffPick(r, "EXPIRETIME", "PEXPIRETIME"), k}
	case 13:
		return []string{"OBJECT", diffPick(r, "ENCODING", "FREQ", "encoding", "NOPE"), k}
	case 14:
		return []string{"OBJECT", diffPick(r, "ENCODING", "HELP", "IDLETIME")}
	case 15:
		return []string{"TYPE", k}
	case 16:
		name := diffPick(r, "GET", "LRANGE", "HGETALL", "ZRANGE")
		if name == "LRANGE" || name == "ZRANGE" {
			return []string{name, k, "0", "-1"}
		}
		return []string{name, k}
	case 17:
		return []string{"PERSIST", k}
	case 18:
		return []string{"EXISTS", k, k2}
	}
	return []string{"DEL", k}
}

// normalizeKeys2 sorts HGETALL's pairs; hides deadlines that other
// families set relative to the clock (EXPIRE 100: the second it lands
// on may differ); and compares string and set encodings by type only,
// since Redis's depend on the value's history (APPEND makes "raw", a set
// that once held a non-integer stays a hashtable) and walkv's on its
// content.
func normalizeKeys2(cmd []string, reply any) any {
	switch lowerASCII(cmd[0]) {
	case "hgetall":
		return sortedPairs(cmd, reply)
	case "expiretime", "pexpiretime":
		if n, ok := reply.(int64); ok && n > 0 && n != 4000000000 && n != 4000000000123 {
			return "a deadline"
		}
	case "object":
		switch reply {
		case respBulk("int"), respBulk("embstr"), respBulk("raw"):
			return "a string encoding"
		case respBulk("intset"), respBulk("hashtable"):
			return "a set or hash encoding"
		}
	}
	return reply
}

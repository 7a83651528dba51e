package walkv

import (
	"encoding/hex"
	"math"
	"math/rand"
	"strconv"

	"github.com/waldb/wal/walkv/internal/rdb"
)

// The DUMP/RESTORE family of the differential test: RESTORE with every
// option, TTLs relative, absolute, past, negative, overflowing and not
// integers, on existing and missing keys, with payloads of every type
// (redis-server 7.0's own and walkv's encoder's) and broken ones (bad
// checksum, newer RDB version, too short, unknown or unsupported type,
// truncated object, empty collection, duplicate member, NaN score, each
// with a valid checksum where it matters), then reads of the result.
// DUMP replies of collections and long strings are compared by kind
// only: the two servers encode them differently (both restore either).

func init() {
	diffFamilies = append(diffFamilies, diffFamily{name: "restore", gen: genRestore, normalize: normalizeRestore})
}

// restorePayloads are the payloads RESTORE draws from.
var restorePayloads = func() []string {
	var ps []string
	for _, h := range []string{
		// redis-server 7.0.15: listpack hash, LZF-compressed intset,
		// listpack zset with -inf and inf, LZF string, hashtable set,
		// skiplist zset, hashtable hash, quicklist.
		"10222200000008008266310382763103826632030c0182663303dff902826634038001ff0a0080c040092ab9d444",
		"0bc3293004080000000520030390eefeff40000001200b400000024004200000032003600002f2052a201b00000a0004df17720ff757df",
		"1130300000000c00816502842d696e6605816202dffe02816602000181610283312e3504816302030181640283696e6604ff0a0009fd01c186f7e3ba",
		"00c30f416b0361626361e0ff02e153070278797a0a00fe64ad62e1cfb39d",
		"020401620161c00101630a003d5592321d9a0282",
		"050301639c7500883ce4377ec3094064016d6de05700016d6d000000000000f83f016200000000000002c00a000a6946bae6ecf1b4",
		"0402026632027632026631c3094064016868e057000168680a00d59ceb948b025f26",
		redis70Payload,
	} {
		b, err := hex.DecodeString(h)
		if err != nil {
			panic(err)
		}
		ps = append(ps, string(b))
	}
	var e rdb.Encoder
	e.BeginString()
	e.Str("12")
	ps = append(ps, string(e.Finish()))
	e.BeginZSet(2)
	e.Str("neg0")
	e.Score(math.Copysign(0, -1))
	e.Str("x")
	e.Score(2)
	ps = append(ps, string(e.Finish()))
	e.BeginHash(1)
	e.Str("f")
	e.Str("v")
	ps = append(ps, string(e.Finish()))
	e.BeginSet(2)
	e.Str("7")
	e.Str("-8")
	ps = append(ps, string(e.Finish()))
	return ps
}()

// withFooter wraps an object (type byte first) in a footer of RDB
// version v with a valid checksum.
func withFooter(obj string, v uint16) string {
	b := append([]byte(obj), byte(v), byte(v>>8))
	c := rdb.CRC64(b)
	for range 8 {
		b = append(b, byte(c))
		c >>= 8
	}
	return string(b)
}

// brokenPayloads fail on both servers, each for its own reason.
var brokenPayloads = []string{
	"", "short", "\x00\x01a\x0a\x00", // too short for a footer
	restorePayloads[8][:len(restorePayloads[8])-1] + "\x00",         // checksum
	withFooter("\x00\x01a", 11),                                     // RDB version newer than 7.0's
	withFooter("\xc8\x00", 10),                                      // unknown type
	withFooter("\x08\x00", 10),                                      // type 8 (no such type)
	withFooter("\x00\x20ab", 10),                                    // truncated string
	withFooter("\x00\x05ab", 10),                                    // a string that runs into the footer: fine, on both
	withFooter("\x01\x00", 10),                                      // empty list
	withFooter("\x02\x02\x01a\x01a", 10),                            // duplicate set member
	withFooter("\x05\x01\x01a\x00\x00\x00\x00\x00\x00\xf8\x7f", 10), // NaN score
	withFooter("\x00\xc4", 10),                                      // unknown string encoding
	withFooter("", 10),                                              // no type byte
	withFooter("\x00\x01abc", 9),                                    // trailing bytes: fine, on both
}

func genRestore(r *rand.Rand) []string {
	k := diffKey(r)
	switch r.Intn(12) {
	case 0:
		return []string{"SET", k, diffValue(r)}
	case 1:
		return []string{"RPUSH", k, diffValue(r)}
	case 2:
		return []string{"DUMP", k}
	case 3, 4:
		return []string{"TYPE", k}
	case 5:
		return []string{diffPick(r, "PTTL", "PEXPIRETIME", "OBJECT"), k}
	case 6:
		return []string{"OBJECT", "ENCODING", k}
	case 7:
		return []string{diffPick(r, "LRANGE", "ZRANGE"), k, "0", "-1"}
	}
	payload := restorePayloads[r.Intn(len(restorePayloads))]
	if r.Intn(4) == 0 {
		payload = brokenPayloads[r.Intn(len(brokenPayloads))]
	}
	ttl := diffPick(r, "0", "0", "0", "100000", "-1", "x", "1.5", "9223372036854775807", "")
	cmd := []string{"RESTORE", k, ttl, payload}
	for range r.Intn(4) {
		switch r.Intn(8) {
		case 0, 1:
			cmd = append(cmd, diffPick(r, "REPLACE", "replace"))
		case 2:
			cmd = append(cmd, "ABSTTL")
			if cmd[2] != "0" && r.Intn(2) == 0 {
				cmd[2] = diffPick(r, "1", "4000000000000")
			}
		case 3:
			cmd = append(cmd, "IDLETIME", diffPick(r, "10", "-1", "x", "0"))
		case 4:
			cmd = append(cmd, "FREQ", diffPick(r, "5", "255", "256", "-1", "x"))
		case 5:
			cmd = append(cmd, diffPick(r, "IDLETIME", "FREQ"))
		default:
			cmd = append(cmd, diffPick(r, "BOGUS", "REPLACE", strconv.Itoa(r.Intn(3))))
		}
	}
	return cmd
}

// normalizeRestore compares DUMP replies by kind, a relative deadline by
// sign, and string and set encodings by type (as keyspace2 does: Redis's
// depend on a value's history, walkv's on its content).
func normalizeRestore(cmd []string, reply any) any {
	switch lowerASCII(cmd[0]) {
	case "dump":
		// A short string's payload is the same on both (walkv compresses
		// nothing, redis-server nothing of 20 bytes or less).
		if b, ok := reply.(respBulk); ok && !(len(b) > 2 && b[0] == 0 && (b[1] <= 20 || b[1] >= 0xc0 && b[1] <= 0xc2)) {
			return "a payload"
		}
	case "pttl", "pexpiretime":
		if n, ok := reply.(int64); ok && n > 0 && n != 4000000000000 {
			return "a deadline"
		}
	case "object":
		return normalizeKeys2(cmd, reply)
	}
	return reply
}

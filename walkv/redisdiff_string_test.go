package walkv

import (
	"math/rand"
	"strings"
)

// The rest of the string group in the differential test: GETEX, GETDEL,
// SETEX, PSETEX, SETNX, MSETNX, SETRANGE, GETRANGE, SUBSTR, INCRBYFLOAT,
// LCS, SET's options, and the bit commands, with edge-case offsets,
// ranges and floats.

func init() {
	diffFamilies = append(diffFamilies,
		diffFamily{name: "strings2", gen: genStrings2},
		diffFamily{name: "bits", gen: genBits},
	)
}

// diffStr returns a string value, sometimes binary or numeric.
func diffStr(r *rand.Rand) string {
	return diffPick(r, "", "a", "hello", "ohmytext", "mynewtext", "\xff\x00\x0f", "foobar", "10", "-3.5", "1e3", "0x10", "abc def", "inf", " 1", "5.0e3")
}

func diffTTLOpt(r *rand.Rand) []string {
	return strings.Fields(diffPick(r, "EX 100", "PX 100000", "EXAT 4000000000", "PXAT 4000000000000", "EXAT 1", "PXAT 1",
		"EX 0", "EX -1", "PX x", "EX 9223372036854775807", "KEEPTTL", "PERSIST", "EX", "EX 10 EX 20", "EX 10 PX 10", "KEEPTTL EX 10"))
}

func genStrings2(r *rand.Rand) []string {
	k := diffKey(r)
	switch r.Intn(22) {
	case 0:
		return []string{"GETDEL", k}
	case 1, 2:
		return append([]string{"GETEX", k}, diffTTLOpt(r)...)
	case 3:
		return []string{"SETEX", k, diffPick(r, "10", "0", "-1", "x", "9223372036854775807"), diffStr(r)}
	case 4:
		return []string{"PSETEX", k, diffPick(r, "10000", "0", "-5", "x"), diffStr(r)}
	case 5:
		return []string{"SETNX", k, diffStr(r)}
	case 6:
		c := []string{"MSETNX", k, diffStr(r), diffKey(r), diffStr(r)}
		if r.Intn(8) == 0 {
			c = c[:4]
		}
		return c
	case 7, 8:
		return []string{"SETRANGE", k, diffPick(r, "0", "1", "3", "10", "-1", "x", "536870912", "100000"), diffPick(r, "", "X", "abc", "\x00")}
	case 9, 10:
		return []string{diffPick(r, "GETRANGE", "SUBSTR"), k, diffInt(r), diffInt(r)}
	case 11, 12, 13:
		return []string{"INCRBYFLOAT", k, diffPick(r, "0.1", "0.2", "-0.3", "1.5", "1e3", "3.0e3", "10.5", "-5", "1e400", "inf", "nan", "x", "", " 1", "0x10", "5.0e-3", "1.23456789012345678", "1e-20", "-1e-20", "1e30")}
	case 14:
		return []string{"SET", k, diffPick(r, "0.1", "10", "1.5", "1e400", "inf", "1e-320", "-0", "x")}
	case 15, 16:
		return append([]string{"SET", k, diffStr(r)}, append(strings.Fields(diffPick(r, "", "NX", "XX", "GET", "NX GET", "XX GET", "NX NX", "GET GET")), diffTTLOpt(r)...)...)
	case 17, 18:
		c := []string{"LCS", k, diffKey(r)}
		c = append(c, strings.Fields(diffPick(r, "", "LEN", "IDX", "IDX WITHMATCHLEN", "IDX MINMATCHLEN 2", "IDX MINMATCHLEN x", "LEN IDX", "BOGUS", "IDX MINMATCHLEN -1 WITHMATCHLEN", "MINMATCHLEN"))...)
		return c
	case 19:
		return []string{"GET", k}
	case 20:
		return []string{"HSET", k, "f", "v"}
	}
	return []string{"DEL", k}
}

func genBits(r *rand.Rand) []string {
	k := diffKey(r)
	off := func() string {
		return diffPick(r, "0", "1", "7", "8", "15", "23", "100", "-1", "x", "4294967296", "800000")
	}
	rng := func() []string {
		c := []string{diffInt(r), diffInt(r)}
		switch r.Intn(4) {
		case 0:
			c = append(c, "BIT")
		case 1:
			c = append(c, diffPick(r, "BYTE", "byte", "bits"))
		}
		return c
	}
	switch r.Intn(16) {
	case 14, 15:
		c := []string{diffPick(r, "BITFIELD", "BITFIELD", "BITFIELD_RO"), k}
		for range 1 + r.Intn(3) {
			typ := diffPick(r, "u1", "u4", "u8", "i5", "i8", "u63", "i64", "i16", "u0", "u64", "i65", "x8")
			boff := diffPick(r, "0", "1", "3", "7", "13", "#1", "#2", "-1", "x", "100")
			v := diffPick(r, "0", "1", "-1", "15", "100", "-100", "127", "128", "9223372036854775807", "-9223372036854775808", "x")
			switch r.Intn(5) {
			case 0:
				c = append(c, "GET", typ, boff)
			case 1:
				c = append(c, "SET", typ, boff, v)
			case 2:
				c = append(c, "INCRBY", typ, boff, v)
			case 3:
				c = append(c, "OVERFLOW", diffPick(r, "WRAP", "SAT", "FAIL", "fail", "bogus"))
			case 4:
				c = append(c, diffPick(r, "GET", "SET", "OVERFLOW", "NOPE"))
			}
		}
		return c
	case 0, 1, 2:
		return []string{"SETBIT", k, off(), diffPick(r, "1", "1", "0", "2", "-1", "x")}
	case 3:
		return []string{"GETBIT", k, off()}
	case 4, 5:
		c := []string{"BITCOUNT", k}
		switch r.Intn(3) {
		case 0:
			c = append(c, rng()...)
		case 1:
			c = append(c, diffInt(r))
		}
		return c
	case 6, 7:
		c := []string{"BITPOS", k, diffPick(r, "0", "1", "1", "0", "2", "x")}
		switch r.Intn(4) {
		case 0:
			c = append(c, diffInt(r))
		case 1:
			c = append(c, rng()...)
		case 2:
			c = append(c, diffInt(r), diffInt(r))
		}
		return c
	case 8, 9:
		op := diffPick(r, "AND", "OR", "XOR", "NOT", "not", "NAND")
		c := []string{"BITOP", op, diffKey(r), k}
		if op != "NOT" || r.Intn(5) == 0 {
			c = append(c, diffKey(r))
		}
		return c
	case 10:
		return []string{"SET", k, diffStr(r)}
	case 11:
		return []string{"GET", k}
	case 12:
		return []string{"LPUSH", k, "x"}
	}
	return []string{"DEL", k}
}

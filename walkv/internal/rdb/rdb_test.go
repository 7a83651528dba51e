package rdb

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// canon formats a decoded value the way the test vectors print values:
// strings as is; list elements in order, set members sorted, hash pairs
// f=v sorted, sorted set pairs m=score in (score, member) order, each
// followed by a space.
func canon(v *Value) string {
	var parts []string
	switch v.Kind {
	case String:
		return string(v.Str) + " "
	case List, Set:
		for _, e := range v.Elems {
			parts = append(parts, string(e))
		}
		if v.Kind == Set {
			slices.Sort(parts)
		}
	case Hash:
		for i := 0; i < len(v.Elems); i += 2 {
			parts = append(parts, string(v.Elems[i])+"="+string(v.Elems[i+1]))
		}
		slices.Sort(parts)
	case ZSet:
		es := slices.Clone(v.Entries)
		slices.SortFunc(es, func(a, b ZEntry) int {
			if a.Score != b.Score {
				return cmpFloat(a.Score, b.Score)
			}
			return bytes.Compare(a.Member, b.Member)
		})
		for _, e := range es {
			parts = append(parts, string(e.Member)+"="+strconv.FormatFloat(e.Score, 'g', 17, 64))
		}
	}
	return strings.Join(parts, " ") + " "
}

func cmpFloat(a, b float64) int {
	if a < b {
		return -1
	}
	return 1
}

// redisCanon rewrites the scores of a redis-cli zset line (Redis's %.17g
// with "inf") in canon's format.
func redisCanon(typ, val string) string {
	if typ != "zset" {
		return val
	}
	var parts []string
	for _, p := range strings.Fields(val) {
		i := strings.LastIndexByte(p, '=')
		f, err := strconv.ParseFloat(p[i+1:], 64)
		if err != nil {
			panic(err)
		}
		parts = append(parts, p[:i+1]+strconv.FormatFloat(f, 'g', 17, 64))
	}
	return strings.Join(parts, " ") + " "
}

type vector struct {
	name, typ, val string
	payload        []byte
}

// redis70Vectors reads testdata/redis70-dumps.txt.
func redis70Vectors(t testing.TB) []vector {
	f, err := os.Open("testdata/redis70-dumps.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fs := strings.SplitN(sc.Text(), " ", 4)
		p, err := hex.DecodeString(fs[1])
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, vector{name: fs[0], payload: p, typ: fs[2], val: fs[3]})
	}
	return vs
}

var kindNames = map[Kind]string{String: "string", List: "list", Set: "set", Hash: "hash", ZSet: "zset"}

// TestDecodeRedis70 decodes payloads redis-server 7.0 wrote and checks
// each against the value redis-server printed.
func TestDecodeRedis70(t *testing.T) {
	for _, v := range redis70Vectors(t) {
		got, err := Decode(v.payload, 1<<30)
		if err != nil {
			t.Errorf("%s: %v", v.name, err)
			continue
		}
		if kindNames[got.Kind] != v.typ || canon(got) != redisCanon(v.typ, v.val) {
			t.Errorf("%s: got %s %.200q, want %s %.200q", v.name, kindNames[got.Kind], canon(got), v.typ, v.val)
		}
	}
}

// TestEncodeStringsAsRedis70 checks that short strings encode byte for
// byte as redis-server 7.0 encodes them (integers included).
func TestEncodeStringsAsRedis70(t *testing.T) {
	n := 0
	for _, v := range redis70Vectors(t) {
		if v.typ != "string" || len(v.val) > 21 {
			continue
		}
		var e Encoder
		e.BeginString()
		e.Str(strings.TrimSuffix(v.val, " "))
		if got := e.Finish(); !bytes.Equal(got, v.payload) {
			t.Errorf("%s: got %x, want %x", v.name, got, v.payload)
		}
		n++
	}
	if n < 6 {
		t.Fatalf("only %d string vectors", n)
	}
}

func TestCRC64(t *testing.T) {
	// The check value of Redis's crc64.c test.
	if got := CRC64([]byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("CRC64 = %x", got)
	}
}

// rdbObjects cuts the objects out of an RDB file: their keys, types and
// encoded bytes (without type).
func rdbObjects(t testing.TB, file string) (keys []string, types []byte, objs [][]byte) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("REDIS")) {
		t.Fatalf("%s: not an RDB file", file)
	}
	r := &reader{b: b, off: 9, budget: 1 << 30}
	must := func(err error) {
		if err != nil {
			t.Fatalf("%s at %d: %v", file, r.off, err)
		}
	}
	for {
		op, err := r.byte()
		must(err)
		switch op {
		case 0xff: // EOF
			return keys, types, objs
		case 0xfa: // AUX field: key and value
			_, err = r.str()
			must(err)
			_, err = r.str()
		case 0xfe: // SELECTDB
			_, _, err = r.length()
		case 0xfb: // RESIZEDB
			_, _, err = r.length()
			must(err)
			_, _, err = r.length()
		case 0xfd: // EXPIRETIME (s)
			_, err = r.take(4)
		case 0xfc: // EXPIRETIME_MS
			_, err = r.take(8)
		default:
			key, err := r.str()
			must(err)
			start := r.off
			_, err = r.object(op)
			must(err)
			keys, types, objs = append(keys, string(key)), append(types, op), append(objs, b[start:r.off])
		}
		must(err)
	}
}

// payloadOf wraps an object in a DUMP payload's type byte and footer.
func payloadOf(typ byte, obj []byte, version uint16) []byte {
	p := append([]byte{typ}, obj...)
	p = append(p, byte(version), byte(version>>8))
	c := CRC64(p)
	for range 8 {
		p = append(p, byte(c))
		c >>= 8
	}
	return p
}

// footerOnly is a payload of a footer alone (valid CRC, no object).
func footerOnly() []byte {
	p := []byte{Version, 0}
	c := CRC64(p)
	for range 8 {
		p = append(p, byte(c))
		c >>= 8
	}
	return p
}

// TestDecodeOldEncodings decodes the objects of RDB files older Redis
// versions wrote (from Redis's test suite), as DUMP payloads, and checks
// them against the values Redis's own tests expect.
func TestDecodeOldEncodings(t *testing.T) {
	want := map[string]string{
		"compressible": strings.Repeat("a", 137) + " ",
		"hash":         "a=1 aa=10 aaa=100 b=2 bb=20 bbb=200 c=3 cc=30 ccc=300 ddd=400 eee=5000000000 ",
		"hash_zipped":  "a=1 b=2 c=3 ",
		"list":         strings.Repeat("1 2 3 a b c 100000 6000000000 ", 3),
		"list_zipped":  "1 2 3 a b c 100000 6000000000 ",
		"number":       "10 ",
		"set":          "1 100000 2 3 6000000000 a b c ",
		"set_zipped_1": "1 2 3 4 ",
		"set_zipped_2": "100000 200000 300000 400000 ",
		"set_zipped_3": "1000000000 2000000000 3000000000 4000000000 5000000000 6000000000 ",
		"string":       "Hello World ",
		"zset":         "a=1 b=2 c=3 aa=10 bb=20 cc=30 aaa=100 bbb=200 ccc=300 aaaa=1000 cccc=123456789 bbbb=5000000000 ",
		"zset_zipped":  "a=1 b=2 c=3 ",
	}
	keys, types, objs := rdbObjects(t, "testdata/encodings.rdb")
	seen := map[byte]bool{}
	for i, k := range keys {
		v, err := Decode(payloadOf(types[i], objs[i], Version), 1<<30)
		if err != nil {
			t.Fatalf("%s (type %d): %v", k, types[i], err)
		}
		got := canon(v)
		if v.Kind == ZSet {
			got = strings.ReplaceAll(got, "e+09", "000000") // 5000000000 as %.17g
		}
		if w, ok := want[k]; !ok || got != redisCanon(kindNames[v.Kind], w) {
			t.Errorf("%s (type %d): got %q, want %q", k, types[i], got, w)
		}
		seen[types[i]] = true
	}
	// The other files: one key each, whose values Redis's tests give.
	for file, w := range map[string]string{
		"hash-zipmap":    "f1=v1 f2=v2 ",
		"hash-ziplist":   "f1=v1 f2=v2 ",
		"list-quicklist": "7 ",
		"zset-ziplist":   "one=1 two=2 ",
	} {
		keys, types, objs := rdbObjects(t, "testdata/"+file+".rdb")
		for i := range keys {
			v, err := Decode(payloadOf(types[i], objs[i], Version), 1<<30)
			if err != nil {
				t.Fatalf("%s %s (type %d): %v", file, keys[i], types[i], err)
			}
			seen[types[i]] = true
			if v.Kind == String || (keys[i] == "list" && v.Kind == List) {
				continue // list-quicklist.rdb's x; its list's value is not given
			}
			if got := canon(v); got != redisCanon(kindNames[v.Kind], w) {
				t.Errorf("%s %s: got %q, want %q", file, keys[i], got, w)
			}
		}
	}
	for _, typ := range []byte{typeString, typeList, typeSet, typeZSet, typeHash, typeHashZipmap, typeListZiplist,
		typeSetIntset, typeZSetZiplist, typeHashZiplist, typeListQuicklist} {
		if !seen[typ] {
			t.Errorf("no vector of RDB type %d", typ)
		}
	}
}

// TestRoundTrip encodes values of every kind and decodes them.
func TestRoundTrip(t *testing.T) {
	big := strings.Repeat("x", 70000)
	for _, v := range []*Value{
		{Kind: String, Str: []byte("")},
		{Kind: String, Str: []byte("-2147483648")},
		{Kind: String, Str: []byte(big)},
		{Kind: List, Elems: [][]byte{[]byte("a"), []byte("1"), []byte(""), []byte(big)}},
		{Kind: Set, Elems: [][]byte{[]byte("a"), []byte("1"), []byte("")}},
		{Kind: Hash, Elems: [][]byte{[]byte("f"), []byte("1"), []byte(""), []byte(big)}},
		{Kind: ZSet, Entries: []ZEntry{{[]byte("a"), math.Inf(-1)}, {[]byte("b"), math.Copysign(0, -1)}, {[]byte(big), 1e300}}},
	} {
		p := encodeValue(v)
		got, err := Decode(p, 1<<30)
		if err != nil {
			t.Fatalf("%s: %v", canon(v)[:min(40, len(canon(v)))], err)
		}
		if canon(got) != canon(v) {
			t.Fatalf("round trip: got %.100q, want %.100q", canon(got), canon(v))
		}
		if v.Kind == ZSet && math.Signbit(got.Entries[1].Score) != true {
			t.Fatalf("-0 lost")
		}
	}
}

// encodeValue encodes v with an Encoder.
func encodeValue(v *Value) []byte {
	var e Encoder
	switch v.Kind {
	case String:
		e.BeginString()
		e.Bytes(v.Str)
	case List, Set:
		if v.Kind == List {
			e.BeginList(len(v.Elems))
		} else {
			e.BeginSet(len(v.Elems))
		}
		for _, x := range v.Elems {
			e.Bytes(x)
		}
	case Hash:
		e.BeginHash(len(v.Elems) / 2)
		for _, x := range v.Elems {
			e.Bytes(x)
		}
	case ZSet:
		e.BeginZSet(len(v.Entries))
		for _, x := range v.Entries {
			e.Bytes(x.Member)
			e.Score(x.Score)
		}
	}
	return e.Finish()
}

func TestDecodeErrors(t *testing.T) {
	good := payloadOf(typeString, []byte{3, 'a', 'b', 'c'}, Version)
	badCRC := slices.Clone(good)
	badCRC[len(badCRC)-1] ^= 1
	lp := func(entries ...byte) []byte { // a listpack string object around raw entries
		n := 6 + len(entries) + 1
		b := []byte{byte(n), 0, 0, 0, 0xff, 0xff}
		b = append(append(b, entries...), 0xff)
		return append([]byte{byte(len(b))}, b...)
	}
	for _, c := range []struct {
		name    string
		payload []byte
		err     error
	}{
		{"short", good[:9], ErrFooter},
		{"crc", badCRC, ErrFooter},
		{"version 11", payloadOf(typeString, []byte{0}, 11), ErrFooter},
		{"version 9 is fine", payloadOf(typeString, []byte{0}, 9), nil},
		{"trailing bytes are ignored", payloadOf(typeString, []byte{1, 'a', 'z', 'z'}, Version), nil},
		{"footer's bytes as the type", footerOnly(), ErrBadFormat}, // type 10 (a list ziplist) of an empty string

		{"type 8", payloadOf(8, []byte{0}, Version), ErrBadFormat},
		{"type 200", payloadOf(200, []byte{0}, Version), ErrBadFormat},
		{"stream", payloadOf(typeStreamListpacks, []byte{0}, Version), ErrUnsupported},
		{"truncated string", payloadOf(typeString, []byte{12, 'a'}, Version), ErrBadFormat},
		{"string into the footer", payloadOf(typeString, []byte{5, 'a'}, Version), nil},
		{"bad length prefix", payloadOf(typeString, []byte{0x82}, Version), ErrBadFormat},
		{"bad string encoding", payloadOf(typeString, []byte{0xc4}, Version), ErrBadFormat},
		{"empty list", payloadOf(typeList, []byte{0}, Version), ErrBadFormat},
		{"huge count", payloadOf(typeList, []byte{0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, Version), ErrBadFormat},
		{"huge 32-bit count", payloadOf(typeSet, []byte{0x80, 0x7f, 0xff, 0xff, 0xff, 1, 'a'}, Version), ErrBadFormat},
		{"duplicate set member", payloadOf(typeSet, []byte{2, 1, 'a', 1, 'a'}, Version), ErrBadFormat},
		{"duplicate hash field", payloadOf(typeHash, []byte{2, 1, 'a', 0, 1, 'a', 0}, Version), ErrBadFormat},
		{"NaN score", payloadOf(typeZSet2, []byte{1, 1, 'a', 0, 0, 0, 0, 0, 0, 0xf8, 0x7f}, Version), ErrBadFormat},
		{"NaN text score", payloadOf(typeZSet, []byte{1, 1, 'a', 253}, Version), ErrBadFormat},
		{"text score", payloadOf(typeZSet, []byte{1, 1, 'a', 4, '2', '.', '5', 'x'}, Version), nil},
		{"not a score", payloadOf(typeZSet, []byte{1, 1, 'a', 1, 'x'}, Version), ErrBadFormat},
		{"LZF bomb", payloadOf(typeString, []byte{0xc3, 1, 0x80, 0xff, 0xff, 0xff, 0xff, 0}, Version), ErrBadFormat},
		{"LZF short", payloadOf(typeString, []byte{0xc3, 2, 3, 1, 'a', 'b'}, Version), ErrBadFormat},
		{"LZF reference before start", payloadOf(typeString, []byte{0xc3, 2, 5, 0x20, 0x00}, Version), ErrBadFormat},
		{"LZF to nothing", payloadOf(typeString, []byte{0xc3, 1, 0, 7}, Version), nil},
		{"listpack", payloadOf(typeListQuicklist2, append([]byte{1, 2}, lp(0x81, 'a', 2, 5, 1)...), Version), nil},
		{"listpack back-length", payloadOf(typeListQuicklist2, append([]byte{1, 2}, lp(0x81, 'a', 3)...), Version), ErrBadFormat},
		{"listpack string past end", payloadOf(typeListQuicklist2, append([]byte{1, 2}, lp(0x85, 'a', 2)...), Version), ErrBadFormat},
		{"listpack encoding", payloadOf(typeListQuicklist2, append([]byte{1, 2}, lp(0xf5, 1)...), Version), ErrBadFormat},
		{"empty listpack only", payloadOf(typeListQuicklist2, append([]byte{1, 2}, lp()...), Version), ErrBadFormat},
		{"plain quicklist node", payloadOf(typeListQuicklist2, []byte{2, 1, 3, 'a', 'b', 'c', 2, 1, 'x'}, Version), ErrBadFormat}, // "x" is no listpack
		{"plain quicklist nodes", payloadOf(typeListQuicklist2, []byte{2, 1, 3, 'a', 'b', 'c', 1, 1, 'x'}, Version), nil},
		{"quicklist container", payloadOf(typeListQuicklist2, append([]byte{1, 3}, lp(5, 1)...), Version), ErrBadFormat},
		{"odd pairs", payloadOf(typeHashListpack, lp(5, 1), Version), ErrBadFormat},
		{"intset unsorted", payloadOf(typeSetIntset, []byte{12, 2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 4, 0}, Version), ErrBadFormat},
		{"intset size", payloadOf(typeSetIntset, []byte{12, 2, 0, 0, 0, 3, 0, 0, 0, 5, 0, 4, 0}, Version), ErrBadFormat},
		{"intset width", payloadOf(typeSetIntset, []byte{12, 3, 0, 0, 0, 1, 0, 0, 0, 5, 0, 4, 0}, Version), ErrBadFormat},
	} {
		_, err := Decode(c.payload, 1<<30)
		if (c.err == nil) != (err == nil) || (c.err != nil && !errors.Is(err, c.err)) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.err)
		}
	}
}

func TestDecodeLimit(t *testing.T) {
	var e Encoder
	e.BeginList(3)
	for range 3 {
		e.Str(strings.Repeat("y", 100))
	}
	p := e.Finish()
	if _, err := Decode(p, 300); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if _, err := Decode(p, 299); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
}

func ExampleDecode() {
	// DUMP of the string "hello", as redis-server 7.0 writes it.
	p, _ := hex.DecodeString("000568656c6c6f0a006372df766534200a")
	v, err := Decode(p, 1<<20)
	fmt.Println(v.Kind == String, string(v.Str), err)
	// Output: true hello <nil>
}

var update = flag.Bool("update", false, "rewrite testdata/old-encodings.txt")

// TestOldEncodingsFile keeps testdata/old-encodings.txt, the objects of
// the old-encoding RDB files as DUMP payloads ("<file>:<key> <hex>"), in
// step with those files, for walkv's differential tests (go test -run
// TestOldEncodingsFile -update rewrites it).
func TestOldEncodingsFile(t *testing.T) {
	var b strings.Builder
	for _, file := range []string{"encodings", "hash-zipmap", "hash-ziplist", "list-quicklist", "zset-ziplist"} {
		keys, types, objs := rdbObjects(t, "testdata/"+file+".rdb")
		for i, k := range keys {
			fmt.Fprintf(&b, "%s:%s %x\n", file, k, payloadOf(types[i], objs[i], Version))
		}
	}
	const path = "testdata/old-encodings.txt"
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != b.String() {
		t.Fatalf("%s is out of date (go test -run TestOldEncodingsFile -update): %v", path, err)
	}
}

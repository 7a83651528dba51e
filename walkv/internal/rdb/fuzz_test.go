package rdb

import (
	"math"
	"testing"
)

// FuzzDecode feeds objects to Decode with a valid footer around them (so
// the fuzzer explores the decoders, not the checksum), seeded with the
// payloads of real Redis servers (testdata). A decoded value must hold
// what the package promises (a known kind, no empty collection, distinct
// members, no NaN, within the byte limit), and must survive Encode and
// Decode unchanged.
func FuzzDecode(f *testing.F) {
	for _, v := range redis70Vectors(f) {
		f.Add(v.payload[:len(v.payload)-10])
	}
	for _, file := range []string{"encodings", "hash-zipmap", "hash-ziplist", "list-quicklist", "zset-ziplist"} {
		_, types, objs := rdbObjects(f, "testdata/"+file+".rdb")
		for i := range objs {
			f.Add(append([]byte{types[i]}, objs[i]...))
		}
	}
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, obj []byte) {
		v, err := Decode(payloadOf(0, nil, 0)[:0:0], limit) // an empty payload never decodes
		if err == nil || v != nil {
			t.Fatal("empty payload decoded")
		}
		if len(obj) == 0 {
			return
		}
		v, err = Decode(payloadOf(obj[0], obj[1:], Version), limit)
		if err != nil {
			return
		}
		checkValue(t, v, limit)
		again, err := Decode(encodeValue(v), limit)
		if err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		if canon(again) != canon(v) {
			t.Fatalf("re-encoded value differs: %q vs %q", canon(again), canon(v))
		}
	})
}

// checkValue checks the promises of Decode about v.
func checkValue(t *testing.T, v *Value, limit int) {
	size := len(v.Str)
	seen := map[string]bool{}
	step := 1
	if v.Kind == Hash {
		step = 2
	}
	for i, e := range v.Elems {
		size += len(e)
		if v.Kind != List && i%step == 0 {
			if seen[string(e)] {
				t.Fatalf("duplicate %q", e)
			}
			seen[string(e)] = true
		}
	}
	for _, e := range v.Entries {
		size += len(e.Member)
		if math.IsNaN(e.Score) || seen[string(e.Member)] {
			t.Fatalf("NaN or duplicate member %q", e.Member)
		}
		seen[string(e.Member)] = true
	}
	switch {
	case v.Kind < String || v.Kind > ZSet:
		t.Fatalf("kind %d", v.Kind)
	case v.Kind != String && len(v.Elems) == 0 && len(v.Entries) == 0:
		t.Fatal("empty collection")
	case v.Kind == Hash && len(v.Elems)%2 != 0:
		t.Fatal("odd hash")
	case size > limit:
		t.Fatalf("decoded %d bytes, over the limit %d", size, limit)
	}
}

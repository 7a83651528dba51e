package walkv

import (
	"errors"
	"testing"

	"github.com/waldb/wal/txn"
)

// TestApplyRejectsCorruptOps: recovery refuses operations the live server
// never logs, instead of inventing state.
func TestApplyRejectsCorruptOps(t *testing.T) {
	put := func(k string, v []byte) txn.Op { return txn.Op{Kind: txn.KindPut, Key: []byte(k), Value: v} }
	del := func(k string) txn.Op { return txn.Op{Kind: txn.KindDelete, Key: []byte(k)} }
	tests := []struct {
		name string
		op   txn.Op
	}{
		{"empty key", put("", nil)},
		{"unknown tag", put("zkey", []byte{1})},
		{"bad kind", put("kkey", []byte{9})},
		{"no kind", put("kkey", nil)},
		{"field of missing key", opSetField("nokey", "f", []byte("v"))},
		{"field of a string", opSetField("s", "f", []byte("v"))},
		{"field delete of missing key", opDelField("nokey", "f")},
		{"bad field key", put("h\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", nil)},
		{"deadline of missing key", opSetExpire("nokey", 5)},
		{"short deadline", put("xs", []byte{1, 2})},
		{"append to missing key", opAppend("nokey", []byte("x"))},
		{"append to a hash", opAppend("h", []byte("x"))},
		{"flush delete", del("f")},
		{"flush with suffix", put("fx", nil)},
		{"append delete", del("as")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks := newKeyspace()
			for _, op := range []txn.Op{opSetKey("s", kindString, []byte("v")), opSetKey("h", kindHash, nil)} {
				if err := ks.apply(op); err != nil {
					t.Fatal(err)
				}
			}
			if err := ks.apply(tt.op); !errors.Is(err, ErrCorruptLog) {
				t.Fatalf("apply(%q) = %v, want ErrCorruptLog", tt.op.Key, err)
			}
		})
	}
}

func TestOpRedisKey(t *testing.T) {
	tests := []struct {
		op   txn.Op
		key  string
		some bool
	}{
		{opSetKey("a", kindString, nil), "a", true},
		{opDelKey("b"), "b", true},
		{opSetField("c", "f", nil), "c", true},
		{opDelField("d", "f"), "d", true},
		{opSetExpire("e", 1), "e", true},
		{opPersist("f"), "f", true},
		{opAppend("g", nil), "g", true},
		{opFlush(), "", false},
	}
	for _, tt := range tests {
		if key, ok := opRedisKey(tt.op); key != tt.key || ok != tt.some {
			t.Errorf("opRedisKey(%q) = %q, %v", tt.op.Key, key, ok)
		}
	}
}

// TestCopyOnWrite: mutations after a freeze never show through the frozen
// tree a snapshot writer reads.
func TestCopyOnWrite(t *testing.T) {
	ks := newKeyspace()
	apply := func(ops ...txn.Op) {
		for _, op := range ops {
			if err := ks.apply(op); err != nil {
				t.Fatal(err)
			}
		}
	}
	apply(opSetKey("h", kindHash, nil), opSetField("h", "f", []byte("1")), opSetKey("s", kindString, []byte("abc")))
	frozen := ks.freeze()
	apply(opSetField("h", "f", []byte("2")), opSetField("h", "g", []byte("3")), opAppend("s", []byte("def")),
		opSetExpire("s", 99), opDelKey("gone"), opSetKey("new", kindString, []byte("x")))
	get := func(key string) *item { return frozen[ks.shardOf(key)].m[key] }
	if h := get("h"); len(h.fields) != 1 || string(h.fields["f"]) != "1" {
		t.Fatalf("frozen hash changed: %v", h.fields)
	}
	if s := get("s"); string(s.str) != "abc" || s.expire != 0 {
		t.Fatalf("frozen string changed: %q, deadline %d", s.str, s.expire)
	}
	n := 0
	frozen.each(func(*item) bool { n++; return true })
	if n != 2 {
		t.Fatalf("frozen keyspace has %d items", n)
	}
	if s := ks.lookup("s"); string(s.str) != "abcdef" || s.expire != 99 {
		t.Fatalf("live string %q, deadline %d", s.str, s.expire)
	}
}

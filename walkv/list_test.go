package walkv

import (
	"bytes"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/waldb/wal/txn"
)

// TestListOpsModel applies random list operations through the log's
// apply path and checks the list against a slice model after each; every
// few operations the keyspace is frozen, and every frozen copy must keep
// the elements it had (copy on write at chunk granularity).
func TestListOpsModel(t *testing.T) {
	seed := diffSeed()
	r := rand.New(rand.NewSource(seed))
	ks := newKeyspace()
	mustApply(t, ks, opSetKey("l", kindList, nil))
	var model [][]byte
	type frozenCopy struct {
		f    *frozenKeys
		want [][]byte
	}
	var frozen []frozenCopy
	val := func() []byte { return fmt.Appendf(nil, "v%d", r.Intn(50)) }
	for step := range 4000 {
		var op txn.Op
		switch k := r.Intn(9); {
		case k < 2 || len(model) == 0:
			n := 1 + r.Intn(150)
			elems := make([][]byte, n)
			for i := range elems {
				elems[i] = val()
			}
			left := r.Intn(2) == 0
			op = opListPush("l", left, elems)
			for _, e := range elems {
				if left {
					model = slices.Insert(model, 0, e)
				} else {
					model = append(model, e)
				}
			}
		case k == 2:
			n := r.Intn(len(model) + 1)
			op = opListPop("l", true, n)
			model = model[n:]
		case k == 3:
			n := r.Intn(len(model) + 1)
			op = opListPop("l", false, n)
			model = model[:len(model)-n]
		case k == 4:
			i, v := r.Intn(len(model)), val()
			op = opListIndexed("l", listSet, i, v)
			model = slices.Clone(model)
			model[i] = v
		case k == 5 || k == 6:
			i, v := r.Intn(len(model)+1), val()
			op = opListIndexed("l", listInsert, i, v)
			model = slices.Insert(slices.Clone(model), i, v)
		default:
			count, v := int64(r.Intn(7)-3), val()
			op = opListRem("l", count, v)
			model = modelRem(model, count, v)
		}
		mustApply(t, ks, op)
		if got := ks.lookup("l").list; got.n != len(model) || !slices.EqualFunc(got.elems(), model, bytes.Equal) {
			t.Fatalf("seed %d step %d: list %q, model %q", seed, step, got.elems(), model)
		}
		if r.Intn(200) == 0 {
			frozen = append(frozen, frozenCopy{ks.freeze(), slices.Clone(model)})
		}
	}
	for i, fc := range frozen {
		it := fc.f[ks.shardOf("l")].m["l"]
		if !slices.EqualFunc(it.list.elems(), fc.want, bytes.Equal) {
			t.Fatalf("seed %d: frozen copy %d changed", seed, i)
		}
	}
	t.Logf("seed %d, %d freezes", seed, len(frozen))
}

func modelRem(m [][]byte, count int64, v []byte) [][]byte {
	limit := remLimit(count)
	idx := []int{}
	for i := range m {
		j := i
		if count < 0 {
			j = len(m) - 1 - i
		}
		if string(m[j]) == string(v) && (limit == 0 || int64(len(idx)) < limit) {
			idx = append(idx, j)
		}
	}
	out := [][]byte{}
	for i, e := range m {
		if !slices.Contains(idx, i) {
			out = append(out, e)
		}
	}
	return out
}

func mustApply(t *testing.T, ks *keyspace, ops ...txn.Op) {
	t.Helper()
	for _, op := range ops {
		if err := ks.apply(op); err != nil {
			t.Fatal(err)
		}
	}
}

// TestListOpsRejectCorrupt: replay refuses list operations the live
// server never logs.
func TestListOpsRejectCorrupt(t *testing.T) {
	tests := []struct {
		name string
		op   txn.Op
	}{
		{"push to missing key", opListPush("none", true, [][]byte{[]byte("a")})},
		{"push to a string", opListPush("s", true, [][]byte{[]byte("a")})},
		{"pop too many", opListPop("l", true, 3)},
		{"set past the end", opListIndexed("l", listSet, 2, []byte("x"))},
		{"insert past the end", opListIndexed("l", listInsert, 3, []byte("x"))},
		{"bad element length", listOp("l", []byte{listPushHead, 9, 'a'})},
		{"unknown opcode", listOp("l", []byte{'?'})},
		{"empty value", listOp("l", nil)},
		{"pop with trailing bytes", listOp("l", []byte{listPopHead, 1, 0})},
		{"member of a list", opAddMember("l", "m")},
		{"member with a value", txn.Op{Kind: txn.KindPut, Key: memberKey("set", "m"), Value: []byte("v")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks := newKeyspace()
			mustApply(t, ks, opSetKey("s", kindString, []byte("v")), opSetKey("l", kindList, nil),
				opListPush("l", false, [][]byte{[]byte("a"), []byte("b")}), opSetKey("set", kindSet, nil))
			if err := ks.apply(tt.op); err == nil {
				t.Fatalf("apply(%q %q) succeeded", tt.op.Key, tt.op.Value)
			}
		})
	}
}

// BenchmarkListPushAfterFreeze measures the copy-on-write cost a
// snapshot adds to a list: the first push after each freeze clones the
// item (the chunk pointers) and copies the one chunk it changes.
func BenchmarkListPushAfterFreeze(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ks := newKeyspace()
			elems := make([][]byte, n)
			for i := range elems {
				elems[i] = []byte("element")
			}
			if err := ks.apply(opSetKey("l", kindList, nil)); err != nil {
				b.Fatal(err)
			}
			if err := ks.apply(opListPush("l", false, elems)); err != nil {
				b.Fatal(err)
			}
			push := opListPush("l", false, [][]byte{[]byte("x")})
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				ks.freeze()
				b.StartTimer()
				if err := ks.apply(push); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestListSetOpRedisKey: list and set operations name their Redis key
// (WATCH and blocked clients rely on it).
func TestListSetOpRedisKey(t *testing.T) {
	for _, tt := range []struct {
		op  txn.Op
		key string
	}{
		{opListPush("l1", true, [][]byte{[]byte("x")}), "l1"},
		{opListPop("l2", false, 1), "l2"},
		{opListRem("l3", 0, []byte("x")), "l3"},
		{opAddMember("s1", "m"), "s1"},
		{opDelMember("s\x002", "m"), "s\x002"},
	} {
		if key, ok := opRedisKey(tt.op); !ok || key != tt.key {
			t.Fatalf("opRedisKey(%q) = %q, %v; want %q", tt.op.Key, key, ok, tt.key)
		}
	}
}

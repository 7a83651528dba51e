package walkv

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
)

// scanAll runs a full SCAN iteration with the given options, calling
// between after every call.
func (e *env) scanAll(opts string, between func()) []string {
	e.t.Helper()
	var keys []string
	cursor := "0"
	for range 10000 {
		reply := e.do("SCAN " + cursor + " " + opts).([]any)
		cursor = reply[0].(string)
		for _, k := range reply[1].([]any) {
			keys = append(keys, k.(string))
		}
		if cursor == "0" {
			return keys
		}
		if between != nil {
			between()
		}
	}
	e.t.Fatal("SCAN did not finish")
	return nil
}

// TestScan: a full iteration returns every key present throughout exactly
// once, even while keys are added and removed, and honours MATCH, COUNT
// and TYPE.
func TestScan(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 300 {
		e.do(fmt.Sprint("SET k", i, " v"))
	}
	e.do("HSET h f v")
	added := 0
	keys := e.scanAll("COUNT 7", func() {
		e.do(fmt.Sprint("SET new", added, " v"))
		e.do(fmt.Sprint("DEL k", 299-added))
		added++
	})
	seen := map[string]int{}
	for _, k := range keys {
		seen[k]++
		if seen[k] > 1 {
			t.Fatalf("SCAN returned %s twice", k)
		}
	}
	for i := range 300 - added {
		if seen[fmt.Sprint("k", i)] != 1 {
			t.Fatalf("SCAN missed k%d, present throughout", i)
		}
	}
	got := e.scanAll("MATCH k1? COUNT 1000", nil)
	slices.Sort(got)
	want := []string{}
	for i := 10; i < 20; i++ {
		want = append(want, "k"+strconv.Itoa(i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("SCAN MATCH k1? = %v", got)
	}
	if got := e.scanAll("TYPE hash", nil); !slices.Equal(got, []string{"h"}) {
		t.Fatalf("SCAN TYPE hash = %v", got)
	}
	kk := e.do("KEYS k2?").([]any)
	if len(kk) != 10 {
		t.Fatalf("KEYS k2? = %v", kk)
	}
}

package walkv

import (
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/waldb/wal/vfs"
)

// dumpKeyspace returns the live keyspace of every database in a
// canonical text form: one line per key with its database, type,
// deadline and value (hash fields and set members sorted, list elements
// in order).
func dumpKeyspace(db *DB) string {
	db.mu.RLock()
	defer db.mu.RUnlock()
	now := db.now()
	var lines []string
	for i, ks := range db.dbs {
		ks.each(func(it *item) bool {
			if !it.expired(now) {
				lines = append(lines, fmt.Sprintf("db%d %q %s %d %s", i, it.key, it.kind, it.expire, itemValue(it)))
			}
			return true
		})
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// itemValue formats an item's value canonically.
func itemValue(it *item) string {
	var parts []string
	switch it.kind {
	case kindString:
		return fmt.Sprintf("%q", it.str)
	case kindHash:
		for f, v := range it.fields {
			parts = append(parts, fmt.Sprintf("%q=%q", f, v))
		}
		sort.Strings(parts)
	case kindList:
		for _, e := range it.list.elems() {
			parts = append(parts, fmt.Sprintf("%q", e))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case kindSet:
		for m := range it.set {
			parts = append(parts, fmt.Sprintf("%q", m))
		}
		sort.Strings(parts)
	case kindZSet: // a -0 may read back as 0 from a snapshot, as in Redis: compare 0s alike
		it.z.ascend(0, func(e *zent) bool {
			parts = append(parts, fmt.Sprintf("%q=%s", e.member, formatScore(e.score+0)))
			return true
		})
		return "[" + strings.Join(parts, " ") + "]"
	default:
		return fmt.Sprintf("kind %d", it.kind) // another family's type: compared by TYPE only
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// TestFamiliesSurviveRestart runs each differential family's random
// workload, restarts (replaying the log) and compares the keyspace with
// what it was; then snapshots, runs more, restarts (loading the snapshot
// and replaying the log after it) and compares again.
func TestFamiliesSurviveRestart(t *testing.T) {
	seed := diffSeed()
	t.Logf("REDISDIFF_SEED=%d", seed)
	for fi, f := range slices.Clone(diffFamilies) {
		t.Run(f.name, func(t *testing.T) {
			r := rand.New(rand.NewSource(seed + int64(fi)))
			e := newEnv(t, nil)
			workload := func() {
				c := dialResp(t, e.srv.Addr().String())
				for range 300 {
					mustDo(t, c, f.gen(r)...)
				}
			}
			restartSame := func(stage string) {
				before := dumpKeyspace(e.db)
				e.restart()
				if after := dumpKeyspace(e.db); after != before {
					t.Fatalf("seed %d: keyspace differs after %s:\nbefore:\n%s\nafter:\n%s", seed, stage, before, after)
				}
			}
			workload()
			restartSame("replay")
			if err := e.db.Snapshot(); err != nil {
				t.Fatal(err)
			}
			workload()
			restartSame("snapshot and replay")
			if err := e.db.Snapshot(); err != nil {
				t.Fatal(err)
			}
			restartSame("snapshot only")
		})
	}
}

// TestListsSnapshotWhileWriting: lists pushed and popped while snapshots
// are written come back exactly after a power loss (the snapshot sees each
// list as of its freeze, the log the rest).
func TestListsSnapshotWhileWriting(t *testing.T) {
	fs := vfs.NewMem()
	e := newEnv(t, &Options{FS: fs, SegmentSize: 4 << 10, SnapshotLogBytes: 8 << 10, AppendFsync: FsyncAlways})
	var acked atomic.Int64
	var wg sync.WaitGroup
	const writers, pushes = 3, 300
	for w := range writers {
		c := e.client()
		wg.Go(func() {
			key := fmt.Sprint("L", w)
			for i := range pushes {
				if err := c.RPush(t.Context(), key, i, "pad-"+strings.Repeat("x", i%40)).Err(); err != nil {
					t.Error(err)
					return
				}
				if i%3 == 2 { // pop the padding pushed three pushes ago
					if err := c.LRem(t.Context(), key, 1, "pad-"+strings.Repeat("x", (i-2)%40)).Err(); err != nil {
						t.Error(err)
						return
					}
				}
				acked.Add(1)
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if err := e.db.Snapshot(); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	want := dumpKeyspace(e.db)
	img := fs.CrashClone(vfs.CrashOptions{})
	e.stop()
	e2 := newEnv(t, &Options{FS: img, SegmentSize: 4 << 10})
	if got := dumpKeyspace(e2.db); got != want {
		t.Fatalf("after power loss:\n%s\nwant:\n%s", got, want)
	}
	if len(e2.snapshots()) == 0 {
		t.Fatal("no snapshot was written")
	}
}

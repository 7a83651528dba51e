package boltmigrate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"github.com/waldb/wal/raftlog"
)

// boltEntry is an entry with every field set; entries 100, 200, ..., 900
// carry 512 KiB, so the migration's byte limit (4 MiB) ends a batch
// before its entry limit (1024) does.
func boltEntry(i uint64) *raft.Log {
	l := entry(i, 1+i/100)
	if i%100 == 0 && i < 1000 {
		l.Data = bytes.Repeat([]byte{byte(i / 100)}, 512<<10)
	}
	return l
}

// writeBolt writes entries [from, to] to a raft-boltdb store in chunks.
func writeBolt(t *testing.T, b *raftboltdb.BoltStore, from, to uint64) {
	t.Helper()
	for i := from; i <= to; i += 500 {
		var ls []*raft.Log
		for j := i; j <= min(i+499, to); j++ {
			ls = append(ls, boltEntry(j))
		}
		must(t, b.StoreLogs(ls))
	}
}

// TestMigrateFromBolt migrates a raft-boltdb store that was compacted
// (first index 51), crossing both batch limits, with raft's stable keys
// and an application key, and checks the copy against the Bolt file read
// again by raft-boltdb, before and after a reopen.
func TestMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	b, err := raftboltdb.NewBoltStore(path)
	must(t, err)
	writeBolt(t, b, 1, 2600)
	must(t, b.DeleteRange(1, 50))
	must(t, b.SetUint64(keyCurrentTerm, 27))
	must(t, b.SetUint64(keyLastVoteTerm, 26))
	must(t, b.Set(keyLastVoteCand, []byte("node-3")))
	must(t, b.Set([]byte("app/config"), []byte{0, 1, 2}))
	must(t, b.Close())

	dir := filepath.Join(t.TempDir(), "store")
	dst := mustOpen(t, dir, nil)
	rep, err := MigrateReport(path, dst)
	must(t, err)
	if want := (MigrationReport{First: 51, Last: 2600, Keys: 4}); rep != want {
		t.Fatalf("report %+v, want %+v", rep, want)
	}
	mustClose(t, dst)
	dst = mustOpen(t, dir, nil)
	defer mustClose(t, dst)
	src, err := raftboltdb.NewBoltStore(path)
	must(t, err)
	defer src.Close()
	sameAsBolt(t, dst, src, []string{"CurrentTerm", "LastVoteTerm", "LastVoteCand", "app/config"})
	if term, err := dst.GetUint64(keyCurrentTerm); err != nil || term != 27 {
		t.Fatalf("GetUint64(CurrentTerm) = %d, %v", term, err)
	}
}

// sameAsBolt compares dst with the raft-boltdb store src entry by entry
// and key by key.
func sameAsBolt(t *testing.T, dst *raftlog.Store, src *raftboltdb.BoltStore, keys []string) {
	t.Helper()
	f, _ := dst.FirstIndex()
	l, _ := dst.LastIndex()
	sf, _ := src.FirstIndex()
	sl, _ := src.LastIndex()
	if f != sf || l != sl {
		t.Fatalf("range [%d, %d], raft-boltdb [%d, %d]", f, l, sf, sl)
	}
	var a, b raft.Log
	for i := f; i <= l && f != 0; i++ {
		must(t, dst.GetLog(i, &a))
		must(t, src.GetLog(i, &b))
		if why := diffLog(&b, &a); why != "" {
			t.Fatalf("entry %d: %s", i, why)
		}
	}
	for _, k := range keys {
		want, err := src.Get([]byte(k))
		must(t, err)
		got, err := dst.Get([]byte(k))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("key %q: %x, %v; raft-boltdb has %x", k, got, err, want)
		}
	}
}

// TestMigrateGap: raft-boltdb may hold old entries below a gap left by a
// snapshot install; only the run above the gap is copied.
func TestMigrateGap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	b, err := raftboltdb.NewBoltStore(path)
	must(t, err)
	writeBolt(t, b, 1, 20)
	writeBolt(t, b, 100, 120)
	must(t, b.Close())
	dst := mustOpen(t, t.TempDir(), nil)
	defer mustClose(t, dst)
	rep, err := MigrateReport(path, dst)
	must(t, err)
	if want := (MigrationReport{First: 100, Last: 120, Skipped: 20}); rep != want {
		t.Fatalf("report %+v, want %+v", rep, want)
	}
	if f, _ := dst.FirstIndex(); f != 100 {
		t.Fatalf("first index %d, want 100", f)
	}
	if l, _ := dst.LastIndex(); l != 120 {
		t.Fatalf("last index %d, want 120", l)
	}
	var got raft.Log
	for i := uint64(100); i <= 120; i++ {
		must(t, dst.GetLog(i, &got))
		if why := diffLog(boltEntry(i), &got); why != "" {
			t.Fatalf("entry %d: %s", i, why)
		}
	}
}

func TestMigrateRefusals(t *testing.T) {
	tmp := t.TempDir()
	empty := filepath.Join(tmp, "empty.db")
	b, err := raftboltdb.NewBoltStore(empty)
	must(t, err)
	must(t, b.Close())
	// An empty raft-boltdb store migrates to nothing.
	dst := mustOpen(t, filepath.Join(tmp, "a"), nil)
	rep, err := MigrateReport(empty, dst)
	if err != nil || rep != (MigrationReport{}) {
		t.Fatalf("empty source: %+v, %v", rep, err)
	}
	// A destination with entries or stable keys is refused.
	must(t, dst.StoreLog(entry(1, 1)))
	if err := Migrate(empty, dst); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("destination with entries: %v, want ErrNotEmpty", err)
	}
	mustClose(t, dst)
	dst = mustOpen(t, filepath.Join(tmp, "b"), nil)
	defer mustClose(t, dst)
	must(t, dst.SetUint64(keyCurrentTerm, 1))
	if err := Migrate(empty, dst); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("destination with a key: %v, want ErrNotEmpty", err)
	}
	dst2 := mustOpen(t, filepath.Join(tmp, "c"), nil)
	defer mustClose(t, dst2)
	// A missing file is an error and is not created.
	missing := filepath.Join(tmp, "missing.db")
	if err := Migrate(missing, dst2); err == nil {
		t.Fatal("missing source: no error")
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing source was created: %v", err)
	}
	// A Bolt file without raft-boltdb's buckets is not a raft store.
	other := filepath.Join(tmp, "other.db")
	db, err := bbolt.Open(other, 0o600, nil)
	must(t, err)
	must(t, db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("logs")); return err }))
	must(t, db.Close())
	if err := Migrate(other, dst2); !errors.Is(err, ErrNotBolt) {
		t.Fatalf("bolt file without conf bucket: %v, want ErrNotBolt", err)
	}
}

// TestMigrateRaftNode runs a single raft node on raft-boltdb, migrates its
// store, and restarts the node on raftlog: the node must come back with
// its term, configuration and every command.
func TestMigrateRaftNode(t *testing.T) {
	tmp := t.TempDir()
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: &syncBuffer{}})
	conf := raft.DefaultConfig()
	conf.LocalID = "solo"
	conf.HeartbeatTimeout = 50 * time.Millisecond
	conf.ElectionTimeout = 50 * time.Millisecond
	conf.LeaderLeaseTimeout = 50 * time.Millisecond
	conf.CommitTimeout = 5 * time.Millisecond
	conf.Logger = logger
	snaps, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(tmp, "snaps"), 1, logger)
	must(t, err)
	run := func(logs raft.LogStore, stable raft.StableStore, bootstrap bool, cmds []string) (*raft.MockFSM, uint64) {
		addr, trans := raft.NewInmemTransport("solo")
		if bootstrap {
			cfg := raft.Configuration{Servers: []raft.Server{{ID: conf.LocalID, Address: addr}}}
			must(t, raft.BootstrapCluster(conf, logs, stable, snaps, trans, cfg))
		}
		fsm := &raft.MockFSM{}
		r, err := raft.NewRaft(conf, fsm, logs, stable, snaps, trans)
		must(t, err)
		defer func() { must(t, r.Shutdown().Error()) }()
		for r.State() != raft.Leader {
			time.Sleep(5 * time.Millisecond)
		}
		for _, c := range cmds {
			must(t, r.Apply([]byte(c), time.Second).Error())
		}
		must(t, r.Barrier(time.Second).Error())
		term, _ := stable.GetUint64(keyCurrentTerm)
		return fsm, term
	}
	var cmds []string
	for i := 0; i < 40; i++ {
		cmds = append(cmds, fmt.Sprintf("cmd-%d", i))
	}
	boltPath := filepath.Join(tmp, "raft.db")
	bolt, err := raftboltdb.NewBoltStore(boltPath)
	must(t, err)
	_, term := run(bolt, bolt, true, cmds)
	must(t, bolt.Close())

	store := mustOpen(t, filepath.Join(tmp, "raftlog"), nil)
	defer mustClose(t, store)
	must(t, Migrate(boltPath, store))
	fsm, term2 := run(store, store, false, []string{"after"})
	if got, want := fsm.Logs(), append(slices.Clone(cmds), "after"); !slices.EqualFunc(got, want, func(a []byte, b string) bool { return string(a) == b }) {
		t.Fatalf("after migration the FSM applied %q, want %q", got, want)
	}
	if term2 <= term {
		t.Fatalf("term after the restart %d, before %d", term2, term)
	}
}

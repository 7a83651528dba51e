// Package boltmigrate copies a hashicorp/raft node's raft-boltdb store
// into a raftlog store, verifying everything it writes. It is a package of
// its own so that importing raftlog does not link BoltDB into a program.
package boltmigrate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"github.com/waldb/wal/raftlog"
)

// Sentinel errors, for errors.Is. Errors of the destination store are
// passed on wrapped, so errors.Is(err, raftlog.ErrCorrupt) and the like
// work too.
var (
	// ErrNotEmpty: the destination already holds entries or stable keys.
	ErrNotEmpty = errors.New("boltmigrate: destination not empty")
	// ErrNotBolt: the source is not a raft-boltdb store (it lacks the
	// "logs" or "conf" bucket).
	ErrNotBolt = errors.New("boltmigrate: not a raft-boltdb store")
	// ErrMismatch: an entry or key read back from the destination differs
	// from the source.
	ErrMismatch = errors.New("boltmigrate: migrated data differs from the source")
)

// raft-boltdb's bucket names.
var (
	boltLogs = []byte("logs")
	boltConf = []byte("conf")
)

// Migration batch limits: a batch is stored (one log write) and verified
// when it reaches either.
const (
	migrateBatchEntries = 1024
	migrateBatchBytes   = 4 << 20
)

// MigrationReport says what MigrateReport copied.
type MigrationReport struct {
	// First and Last are the range of entries copied; both 0 if none.
	First, Last uint64
	// Skipped counts the source's entries below a gap, which were not
	// copied (see Migrate).
	Skipped uint64
	// Keys is the number of stable keys copied.
	Keys int
}

// Migrate copies the raft log and stable state of a raft-boltdb
// store (the Bolt file at boltPath, written by raft-boltdb v1 or v2) into
// dst, verifying every entry and key it writes. dst must be empty: no
// entries and no stable keys (ErrNotEmpty otherwise). Stop the raft node
// that uses the Bolt file first: the file is opened read-only, and the
// call gives up after a second if another process holds it open for
// writing.
//
//   - Entries: the contiguous run of entries ending at the source's last
//     index, read with raft-boltdb's own decoder and stored in batches of
//     StoreLogs, each read back with GetLog and compared field by field
//     (index, term, type, data, extensions, appended-at) with the source.
//     raft-boltdb is not a MonotonicLogStore, so after installing a
//     snapshot raft may have left older entries below a gap in the index
//     sequence; those precede the snapshot and are not copied (raft itself
//     deletes them on a monotonic store). MigrationReport.Skipped counts
//     them.
//   - Stable state: every key of the "conf" bucket (current term, last
//     vote and anything else the application stored), byte for byte;
//     SetUint64 values are 8 big-endian bytes in both stores. They are
//     written in one replacement of the stable file, after the entries,
//     and read back with Get.
//
// Any difference is ErrMismatch; a source that is not a raft-boltdb store
// is ErrNotBolt. If MigrateFromBolt fails, dst may hold part of the data:
// remove its directory and migrate again. On success everything copied is
// durable, whatever dst's SyncPolicy.
func Migrate(boltPath string, dst *raftlog.Store) error {
	_, err := MigrateReport(boltPath, dst)
	return err
}

// MigrateReport is Migrate, also reporting what it copied.
func MigrateReport(boltPath string, dst *raftlog.Store) (MigrationReport, error) {
	var rep MigrationReport
	if err := checkEmpty(dst); err != nil {
		return rep, err
	}
	// bbolt opens with O_CREATE even when read-only: check first, so a
	// mistyped path is reported rather than created.
	if fi, err := os.Stat(boltPath); err != nil {
		return rep, fmt.Errorf("boltmigrate: %w", err)
	} else if !fi.Mode().IsRegular() {
		return rep, fmt.Errorf("%w: %s is not a regular file", ErrNotBolt, boltPath)
	}
	ro := &bbolt.Options{ReadOnly: true, Timeout: time.Second}
	db, err := bbolt.Open(boltPath, 0o600, ro)
	if err != nil {
		return rep, fmt.Errorf("boltmigrate: opening %s: %w", boltPath, err)
	}
	defer db.Close()
	// A second read-only handle for raft-boltdb's decoder: shared locks
	// coexist, and both see the same immutable file.
	src, err := raftboltdb.New(raftboltdb.Options{Path: boltPath, BoltOptions: ro})
	if err != nil {
		return rep, fmt.Errorf("boltmigrate: opening %s with raft-boltdb: %w", boltPath, err)
	}
	defer src.Close()
	m := &migration{db: db, src: src, dst: dst, rep: &rep}
	err = m.run()
	return rep, err
}

// checkEmpty refuses a destination holding entries or stable keys.
func checkEmpty(dst *raftlog.Store) error {
	last, err := dst.LastIndex()
	if err != nil {
		return err
	}
	kv, err := dst.StableKeys()
	if err != nil {
		return err
	}
	if last != 0 || len(kv) != 0 {
		return fmt.Errorf("%w: %s holds entries up to %d and %d stable keys", ErrNotEmpty, dst.Dir(), last, len(kv))
	}
	return nil
}

// migration is one run of MigrateReport.
type migration struct {
	db  *bbolt.DB
	src *raftboltdb.BoltStore
	dst *raftlog.Store
	rep *MigrationReport
}

// run is the pipeline: find the entries, copy them, copy the stable
// state, make it all durable.
func (m *migration) run() error {
	kv, err := m.scan()
	if err != nil {
		return err
	}
	if err := m.copyLogs(); err != nil {
		return err
	}
	if err := m.copyStable(kv); err != nil {
		return err
	}
	return m.dst.Sync()
}

// scan checks the buckets, finds the contiguous run of entries ending at
// the last one, and returns the stable keys and values.
func (m *migration) scan() (map[string][]byte, error) {
	kv := map[string][]byte{}
	err := m.db.View(func(tx *bbolt.Tx) error {
		logs, conf := tx.Bucket(boltLogs), tx.Bucket(boltConf)
		if logs == nil || conf == nil {
			return fmt.Errorf("%w: no %q or %q bucket", ErrNotBolt, boltLogs, boltConf)
		}
		if err := m.findRun(logs.Cursor()); err != nil {
			return err
		}
		return conf.ForEach(func(k, v []byte) error {
			kv[string(k)] = bytes.Clone(v)
			return nil
		})
	})
	return kv, err
}

// findRun walks the log keys down from the last while they are
// consecutive, and counts the keys below the first gap.
func (m *migration) findRun(c *bbolt.Cursor) error {
	k, _ := c.Last()
	if k == nil {
		return nil
	}
	var err error
	if m.rep.Last, err = boltIndex(k); err != nil {
		return err
	}
	m.rep.First = m.rep.Last
	for k, _ = c.Prev(); k != nil; k, _ = c.Prev() {
		i, err := boltIndex(k)
		if err != nil {
			return err
		}
		if m.rep.Skipped == 0 && i == m.rep.First-1 {
			m.rep.First = i
			continue
		}
		m.rep.Skipped++
	}
	return nil
}

func boltIndex(k []byte) (uint64, error) {
	if len(k) != 8 {
		return 0, fmt.Errorf("%w: log key %x is not 8 bytes", ErrNotBolt, k)
	}
	return binary.BigEndian.Uint64(k), nil
}

// copyLogs stores and verifies the run in batches.
func (m *migration) copyLogs() error {
	if m.rep.Last == 0 {
		return nil
	}
	var batch []*raft.Log
	size := 0
	for i := m.rep.First; ; i++ {
		l := new(raft.Log)
		if err := m.src.GetLog(i, l); err != nil {
			return fmt.Errorf("boltmigrate: reading entry %d from the source: %w", i, err)
		}
		batch = append(batch, l)
		size += raftlog.EncodedLen(l)
		if i == m.rep.Last || len(batch) == migrateBatchEntries || size >= migrateBatchBytes {
			if err := m.storeVerified(batch); err != nil {
				return err
			}
			batch, size = batch[:0], 0
		}
		if i == m.rep.Last {
			return nil
		}
	}
}

// storeVerified stores batch in dst and reads every entry back.
func (m *migration) storeVerified(batch []*raft.Log) error {
	if err := m.dst.StoreLogs(batch); err != nil {
		return err
	}
	var got raft.Log
	for _, want := range batch {
		if err := m.dst.GetLog(want.Index, &got); err != nil {
			return fmt.Errorf("boltmigrate: reading back entry %d: %w", want.Index, err)
		}
		if why := diffLog(want, &got); why != "" {
			return fmt.Errorf("%w: entry %d: %s", ErrMismatch, want.Index, why)
		}
	}
	return nil
}

// diffLog names the first field in which got differs from want, or "".
func diffLog(want, got *raft.Log) string {
	switch {
	case got.Index != want.Index:
		return fmt.Sprintf("index %d, want %d", got.Index, want.Index)
	case got.Term != want.Term:
		return fmt.Sprintf("term %d, want %d", got.Term, want.Term)
	case got.Type != want.Type:
		return fmt.Sprintf("type %v, want %v", got.Type, want.Type)
	case !bytes.Equal(got.Data, want.Data):
		return fmt.Sprintf("data %q, want %q", got.Data, want.Data)
	case !bytes.Equal(got.Extensions, want.Extensions):
		return fmt.Sprintf("extensions %q, want %q", got.Extensions, want.Extensions)
	case !got.AppendedAt.Equal(want.AppendedAt):
		return fmt.Sprintf("appended-at %v, want %v", got.AppendedAt, want.AppendedAt)
	}
	return ""
}

// copyStable writes all keys in one replacement and reads them back.
func (m *migration) copyStable(kv map[string][]byte) error {
	m.rep.Keys = len(kv)
	if len(kv) == 0 {
		return nil
	}
	if err := m.dst.SetAll(kv); err != nil {
		return err
	}
	for k, want := range kv {
		got, err := m.dst.Get([]byte(k))
		if err != nil {
			return fmt.Errorf("boltmigrate: reading back stable key %q: %w", k, err)
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("%w: stable key %q holds %x, want %x", ErrMismatch, k, got, want)
		}
	}
	return nil
}

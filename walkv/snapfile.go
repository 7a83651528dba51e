package walkv

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/waldb/wal/vfs"
)

// Snapshot file names: "snapshot-<txn id, 20 digits>.snap", written first
// under the same name plus ".tmp".
const (
	snapPrefix = "snapshot-"
	snapSuffix = ".snap"
	tmpSuffix  = vfs.TempSuffix
)

func snapName(id uint64) string { return fmt.Sprintf("%s%020d%s", snapPrefix, id, snapSuffix) }

// parseSnapName returns the id of a snapshot file name.
func parseSnapName(name string) (uint64, bool) {
	s, ok := strings.CutPrefix(name, snapPrefix)
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, snapSuffix)
	if !ok || len(s) != 20 {
		return 0, false
	}
	id, err := strconv.ParseUint(s, 10, 64)
	return id, err == nil
}

// snapFiles lists the data directory: snapshot ids in increasing order,
// and leftover temporary files.
func (db *DB) snapFiles() (ids []uint64, temps []string, err error) {
	names, err := db.opts.FS.List(db.dir)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range names { // List sorts; zero-padded ids sort numerically
		if id, ok := parseSnapName(n); ok {
			ids = append(ids, id)
		} else if strings.HasPrefix(n, snapPrefix) && strings.HasSuffix(n, tmpSuffix) {
			temps = append(temps, n)
		}
	}
	return ids, temps, nil
}

// writeSnapFile writes tree durably as the snapshot of transaction id with
// vfs.WriteFileAtomicFunc: header, entries and trailer to the temporary
// file, fsync, rename to the final name (the name shows the old file or the
// complete new one, never a partial one), fsync of the directory. Only
// after it returns nil may the log be truncated. A crash before that leaves
// at most a temporary file, which Open deletes; an error after the rename
// (vfs.ErrOutcomeUnknown) may leave the new snapshot in place, which is
// harmless: it is complete and its log entries are still in the log.
func (db *DB) writeSnapFile(keys *frozenDBs, h snapHeader, now int64) (entries uint64, err error) {
	err = vfs.WriteFileAtomicFunc(db.opts.FS, db.dir, snapName(h.id), func(w io.Writer) error {
		var werr error
		entries, werr = writeSnapshot(w, h, keys.each, now)
		return werr
	})
	if err != nil {
		return 0, fmt.Errorf("writing snapshot %d: %w", h.id, err)
	}
	return entries, nil
}

// removeSnapshots deletes the snapshot files older than keep and any
// temporary files, then fsyncs the directory. A crash part way leaves
// extra files that the next Open or snapshot removes; the newest snapshot
// is never touched. REQUIRES: no snapshot is being written (snap.mu held,
// or Open).
func (db *DB) removeSnapshots(keep uint64) error {
	ids, temps, err := db.snapFiles()
	if err != nil {
		return err
	}
	var dead []string
	for _, id := range ids {
		if id < keep {
			dead = append(dead, snapName(id))
		}
	}
	dead = append(dead, temps...)
	if len(dead) == 0 {
		return nil
	}
	var errs []error
	for _, name := range dead {
		errs = append(errs, db.opts.FS.Remove(filepath.Join(db.dir, name)))
	}
	errs = append(errs, db.opts.FS.SyncDir(db.dir))
	return errors.Join(errs...)
}

// loadSnapshot loads the newest snapshot into the keyspace, removes older
// ones and temporary files, and returns its transaction id (0 if none).
func (db *DB) loadSnapshot() (uint64, error) {
	ids, _, err := db.snapFiles()
	if err != nil || len(ids) == 0 {
		if err == nil {
			err = db.removeSnapshots(0)
		}
		return 0, err
	}
	id := ids[len(ids)-1]
	if err := db.readSnapFile(id); err != nil {
		return 0, err
	}
	return id, db.removeSnapshots(id)
}

// readSnapFile reads snapshot id into the databases.
func (db *DB) readSnapFile(id uint64) error { return db.readSnapInto(&db.dbs, id) }

// readSnapInto reads snapshot id into dbs (the DB's own, or DEBUG
// RELOAD's scratch copy).
func (db *DB) readSnapInto(dbs *[numDBs]*keyspace, id uint64) error {
	name := filepath.Join(db.dir, snapName(id))
	f, err := db.opts.FS.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return err
	}
	h, err := readSnapshot(&fileReader{f: f}, size, func(i int, it *item) { loadItem(dbs, i, it) })
	if err == nil && h.id != id {
		err = corruptSnap("file names transaction %d, header %d", id, h.id)
	}
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", name, err)
	}
	return nil
}

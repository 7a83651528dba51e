package vfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrOutcomeUnknown is wrapped by the errors of WriteFileAtomic, Replace and
// MkdirAllSynced that happen at or after the step that may change the
// directory on disk: the rename, the directory fsync. The change may have
// reached the disk or not (a rename can take effect and still report an
// error), so a caller that keeps state derived from the file must treat
// such an error as fail-stop: it cannot know which version a restart finds.
// An error that does not wrap it left the durable state untouched.
var ErrOutcomeUnknown = errors.New("vfs: outcome unknown")

// TempSuffix is appended to a name to form the temporary file that
// WriteFileAtomic writes before renaming it into place. A crash can leave
// such a file behind; callers delete name+TempSuffix when they open.
const TempSuffix = ".tmp"

// WriteFileAtomic makes data the durable content of dir/name, replacing any
// previous file atomically. See WriteFileAtomicFunc for the protocol and
// what each failure leaves.
func WriteFileAtomic(fs FS, dir, name string, data []byte) error {
	return WriteFileAtomicFunc(fs, dir, name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFileAtomicFunc makes what write writes the durable content of
// dir/name, replacing any previous file atomically. It is the one
// implementation of the replace protocol in waldb:
//
//  1. create dir/name+TempSuffix (truncating a leftover), call write with a
//     sequential writer on it, fsync it and close it, so the file a rename
//     exposes is complete (a rename may reach the disk before unsynced data);
//  2. rename the temporary file over dir/name;
//  3. fsync dir, making the rename durable.
//
// When it returns nil, dir/name holds exactly the bytes written, durably:
// a crash at any later point finds them (and no temporary file).
//
// A crash or error at each step leaves:
//   - during or after step 1, before step 2: dir/name unchanged (the old
//     content, or no file); maybe a partial or complete temporary file,
//     which the caller removes when it next opens dir. An error here is
//     returned without ErrOutcomeUnknown, after a best-effort removal of the
//     temporary file.
//   - after step 2, before step 3 completes: dir/name is either the old
//     file or the complete new one, never a mix; which one a restart finds
//     is unknown. An error from step 2 or 3 wraps ErrOutcomeUnknown.
//
// Errors name the path and the step. dir must exist; name must be a plain
// file name.
func WriteFileAtomicFunc(fs FS, dir, name string, write func(io.Writer) error) error {
	final := filepath.Join(dir, name)
	tmp := final + TempSuffix
	f, err := fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("vfs: creating %s: %w", tmp, err)
	}
	err = write(&seqWriter{f: f})
	if err != nil {
		err = fmt.Errorf("vfs: writing %s: %w", tmp, err)
	} else if err = f.Sync(); err != nil {
		err = fmt.Errorf("vfs: syncing %s: %w", tmp, err)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("vfs: closing %s: %w", tmp, cerr)
	}
	if err != nil {
		_ = fs.Remove(tmp) // best effort; the caller removes leftovers at open
		return err
	}
	return Replace(fs, dir, tmp, final)
}

// Replace renames the complete, synced file tmp over final, both in dir,
// and fsyncs dir: steps 2 and 3 of WriteFileAtomicFunc, for callers that
// write and sync the temporary file themselves (and may keep it open, as
// the log does with a re-cut segment). On nil the rename is durable; every
// error wraps ErrOutcomeUnknown (final may be the old or the new file).
func Replace(fs FS, dir, tmp, final string) error {
	if err := fs.Rename(tmp, final); err != nil {
		return fmt.Errorf("vfs: renaming %s to %s: %w: %w", tmp, final, ErrOutcomeUnknown, err)
	}
	if err := fs.SyncDir(dir); err != nil {
		return fmt.Errorf("vfs: syncing directory %s after renaming to %s: %w: %w", dir, final, ErrOutcomeUnknown, err)
	}
	return nil
}

// seqWriter writes sequentially to a File through WriteAt.
type seqWriter struct {
	f   File
	off int64
}

func (w *seqWriter) Write(p []byte) (int, error) {
	n, err := w.f.WriteAt(p, w.off)
	w.off += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}

// MkdirAllSynced creates dir and any missing parents with mode perm, and
// fsyncs the parent of each directory it created, outermost first, so that
// when it returns nil every directory it created has a durable entry: a
// file made durable inside dir later cannot vanish with its directory in a
// crash. A directory that already existed is left as it is (its creator
// owns its durability). It is the one mkdir-and-fsync-parent of waldb.
//
// A crash before it returns may leave some of the new directories, empty;
// an error from a directory fsync wraps ErrOutcomeUnknown (the directory
// exists now but may not after a crash).
func MkdirAllSynced(fs FS, dir string, perm os.FileMode) error {
	var missing []string // outermost last
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := fs.Stat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		missing = append(missing, d)
	}
	if len(missing) == 0 {
		return nil
	}
	if err := fs.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("vfs: creating directory %s: %w", dir, err)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := fs.SyncDir(filepath.Dir(missing[i])); err != nil {
			return fmt.Errorf("vfs: syncing the parent of new directory %s: %w: %w", missing[i], ErrOutcomeUnknown, err)
		}
	}
	return nil
}

package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/waldb/wal/vfs"
)

// The functions of this file read and change a log directory's files
// without opening the log, for tools (walctl's stat and repair) that must
// look at a log that may not open. They are the supported way to learn the
// META fields and the segment list: a tool that parses FORMAT.md itself
// breaks silently when the format changes.

// SegmentHeaderSize is the size of a segment file's header: its first
// record starts at this offset (FORMAT.md, "Segment files"; format
// versions 1 and 2).
const SegmentHeaderSize = segHeaderSize

// MetaInfo is the content of a log directory's META file (FORMAT.md,
// "META"): the truncations recorded since the segments were written.
type MetaInfo struct {
	// Front is the log's first index, and FrontSeq the largest segment
	// sequence number when META was written.
	Front, FrontSeq uint64
	// Back is the last index kept by the latest TruncateBack, and BackSeq
	// the largest segment sequence number at that TruncateBack (0: none).
	// Entries above Back in segments with Seq <= BackSeq are void.
	Back, BackSeq uint64
}

// ReadMeta reads the META file of the log in dir through fs (vfs.Default if
// nil). It returns nil, nil if there is none (no truncation was ever
// recorded), and an error wrapping ErrCorrupt if META is damaged.
func ReadMeta(fs vfs.FS, dir string) (*MetaInfo, error) {
	if fs == nil {
		fs = vfs.Default
	}
	m, ok, err := readMetaFile(fs, dir)
	if err != nil || !ok {
		return nil, err
	}
	return &MetaInfo{Front: m.front, FrontSeq: m.frontSeq, Back: m.back, BackSeq: m.backSeq}, nil
}

// readMetaFile reads and decodes dir's META: ok is false if there is none.
func readMetaFile(fs vfs.FS, dir string) (m metaRecord, ok bool, err error) {
	name := joinPath(dir, metaName)
	f, err := fs.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return metaRecord{}, false, nil
	}
	if err != nil {
		return metaRecord{}, false, fmt.Errorf("wal: opening META: %w", err)
	}
	defer f.Close()
	b := make([]byte, metaSize+1)
	n, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return metaRecord{}, false, fmt.Errorf("wal: reading META: %w", err)
	}
	if m, err = decodeMeta(b[:n]); err != nil {
		return metaRecord{}, false, corruptf("%s: %v", name, err)
	}
	return m, true, nil
}

// SegmentFile is a segment file of a log directory, as its name describes
// it.
type SegmentFile struct {
	Name  string // the file name, not a path
	Seq   uint64 // its sequence number
	First uint64 // the index of its first entry
	Size  int64  // its size in bytes
}

// ParseSegmentName reports whether name is a segment file name
// ("<seq as 16 hex digits>-<first index as 20 digits>.wal") and returns
// the sequence number and first index it holds.
func ParseSegmentName(name string) (seq, first uint64, ok bool) {
	return parseSegmentName(name)
}

// ListSegments returns the segment files of the log in dir through fs
// (vfs.Default if nil), in sequence-number order, from their names alone:
// it reads no file, so it works on a log too damaged to open. Entries that
// are not regular files are skipped.
func ListSegments(fs vfs.FS, dir string) ([]SegmentFile, error) {
	if fs == nil {
		fs = vfs.Default
	}
	names, err := fs.List(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: listing %s: %w", dir, err)
	}
	var segs []SegmentFile
	for _, n := range names {
		seq, first, ok := parseSegmentName(n)
		if !ok {
			continue
		}
		fi, err := fs.Stat(joinPath(dir, n))
		if err != nil {
			return nil, fmt.Errorf("wal: %w", err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		segs = append(segs, SegmentFile{Name: n, Seq: seq, First: first, Size: fi.Size()})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].Seq < segs[j].Seq })
	return segs, nil
}

// ErrNotSegment is returned (wrapped) by RemoveSegmentFiles for a name that
// is not a segment file name.
var ErrNotSegment = errors.New("wal: not a segment file name")

// RemoveSegmentFiles deletes the named segment files (names, not paths) of
// the log in dir through fs (vfs.Default if nil), then fsyncs dir so the
// removal is durable when it returns nil. It is for repair tools that
// quarantine segments a log cannot open with; the caller decides which
// files go and must have copied them first.
//
// It takes the log's lock for the call (an error wrapping ErrLocked if the
// log is open elsewhere; a caller that holds the lock itself passes an FS
// whose Lock of it succeeds). It refuses, before removing anything, any
// name that is not a segment file name (ErrNotSegment). It tries every
// name and joins the errors; a crash part way leaves some files removed.
func RemoveSegmentFiles(fs vfs.FS, dir string, names []string) error {
	if fs == nil {
		fs = vfs.Default
	}
	for _, n := range names {
		if _, _, ok := parseSegmentName(n); !ok {
			return fmt.Errorf("%w: %q", ErrNotSegment, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	lk, err := fs.Lock(joinPath(dir, lockName))
	if errors.Is(err, vfs.ErrLocked) {
		return fmt.Errorf("wal: %s: %w", dir, ErrLocked)
	}
	if err != nil {
		return fmt.Errorf("wal: locking %s: %w", dir, err)
	}
	defer lk.Close()
	var errs []error
	for _, n := range names {
		if err := fs.Remove(joinPath(dir, n)); err != nil {
			errs = append(errs, fmt.Errorf("wal: removing %s: %w", n, err))
		}
	}
	if err := fs.SyncDir(dir); err != nil {
		errs = append(errs, fmt.Errorf("wal: syncing %s after removing segments: %w", dir, err))
	}
	return errors.Join(errs...)
}

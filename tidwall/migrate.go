package wal

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	root "github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
)

// Names used by the in-place conversion of a tidwall directory.
const (
	lockName = "LOCK" // the root package's lock file
	// buildDir holds the new log while it is written; its presence means
	// an unfinished conversion, which starts again from the tidwall files.
	buildDir = "tidwall-migrate.tmp"
	// doneDir is buildDir renamed once the new log is durable: the commit
	// point. Its presence means the tidwall files are obsolete.
	doneDir = "tidwall-migrate.done"
	// migrateBatch is the number of entries copied per WriteBatch.
	migrateBatch = 1024
)

// Migrate converts the tidwall/wal directory path, whose segment files are
// in format, to waldb's format in place, as Open does (see the package
// doc). It returns the number of entries converted; a directory with no
// tidwall segment files is left alone (0, nil). It takes the directory's
// lock, so it fails while a Log has the directory open.
func Migrate(path string, format LogFormat) (int, error) {
	o := withDefaults(&Options{LogFormat: format})
	fs := vfs.OSWithPerms(o.FilePerms, o.DirPerms)
	m := &migration{fs: fs, dir: path, opts: &o}
	err := m.locked(m.run)
	return m.n, err
}

// prepare runs before the root package opens path: it converts a tidwall
// directory, finishes a conversion a crash interrupted, and gives a
// directory holding only foreign files (which tidwall/wal ignores) a lock
// file so that the root package accepts it.
func prepare(fs vfs.FS, path string, o *Options) error {
	m := &migration{fs: fs, dir: path, opts: o}
	return m.locked(m.run)
}

// migration is one conversion of a directory.
type migration struct {
	fs   vfs.FS
	dir  string
	opts *Options
	n    int // entries converted
}

// locked runs fn holding the directory's lock.
func (m *migration) locked(fn func() error) error {
	lk, err := m.fs.Lock(filepath.Join(m.dir, lockName))
	if errors.Is(err, vfs.ErrLocked) {
		return fmt.Errorf("%w: %s", root.ErrLocked, m.dir)
	}
	if err != nil {
		return err
	}
	err = fn()
	if cerr := lk.Close(); err == nil {
		err = cerr
	}
	return err
}

// run is the conversion's pipeline; see the package doc for why each step
// is crash-safe.
func (m *migration) run() error {
	names, err := m.fs.List(m.dir)
	if err != nil {
		return err
	}
	if contains(names, doneDir) {
		return m.finish()
	}
	if contains(names, buildDir) {
		if err := m.removeDir(filepath.Join(m.dir, buildDir)); err != nil {
			return err
		}
	}
	src, err := loadTidwall(m.dir, names, m.opts.LogFormat)
	if err != nil || src == nil {
		return err
	}
	for _, n := range names {
		if strings.HasSuffix(n, ".wal") || n == "META" {
			return fmt.Errorf("wal: %s holds both a waldb log (%s) and tidwall segment files", m.dir, n)
		}
	}
	if err := m.build(src); err != nil {
		return err
	}
	if err := m.fs.Rename(filepath.Join(m.dir, buildDir), filepath.Join(m.dir, doneDir)); err != nil {
		return err
	}
	if err := m.fs.SyncDir(m.dir); err != nil {
		return err
	}
	return m.finish()
}

// build writes src's entries into a new log in buildDir and closes it,
// which makes it durable.
func (m *migration) build(src *tidwallLog) error {
	o := m.opts.rootOptions()
	o.SyncPolicy = root.SyncNever
	nl, err := root.Open(filepath.Join(m.dir, buildDir), o)
	if err != nil {
		return err
	}
	err = m.copyInto(nl, src)
	if cerr := nl.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyInto copies the entries segment by segment, so that only one
// segment is in memory at a time.
func (m *migration) copyInto(nl *root.Log, src *tidwallLog) error {
	if src.first > 1 {
		if err := nl.Reset(src.first); err != nil {
			return err
		}
	}
	var b root.Batch
	next := src.first
	for i, seg := range src.segs {
		entries, err := seg.entries(m.opts.LogFormat)
		if err != nil {
			return err
		}
		if seg.index != next || (i < len(src.segs)-1 && len(entries) == 0) {
			return fmt.Errorf("%w: tidwall segment %s starts at %d, want %d", ErrCorrupt, seg.path, seg.index, next)
		}
		for _, e := range entries {
			b.Write(next, e)
			next++
			if b.Len() == migrateBatch {
				if err := nl.WriteBatch(&b); err != nil {
					return err
				}
				b.Clear()
			}
		}
	}
	if b.Len() > 0 {
		if err := nl.WriteBatch(&b); err != nil {
			return err
		}
	}
	m.n = int(next - src.first)
	return nil
}

// finish completes a committed conversion: it deletes the tidwall files,
// moves the new log's files into the directory and removes doneDir. Every
// step may be repeated after a crash.
func (m *migration) finish() error {
	names, err := m.fs.List(m.dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, ok := tidwallFile(n); ok {
			if err := m.fs.Remove(filepath.Join(m.dir, n)); err != nil {
				return err
			}
		}
	}
	if err := m.fs.SyncDir(m.dir); err != nil {
		return err
	}
	done := filepath.Join(m.dir, doneDir)
	moved, err := m.fs.List(done)
	if err != nil {
		return err
	}
	for _, n := range moved {
		if n == lockName {
			continue
		}
		if err := m.fs.Rename(filepath.Join(done, n), filepath.Join(m.dir, n)); err != nil {
			return err
		}
	}
	if err := m.fs.SyncDir(m.dir); err != nil {
		return err
	}
	return m.removeDir(done)
}

// removeDir removes a directory of files and makes that durable.
func (m *migration) removeDir(dir string) error {
	names, err := m.fs.List(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := m.fs.Remove(filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	if err := m.fs.Remove(dir); err != nil {
		return err
	}
	return m.fs.SyncDir(filepath.Dir(dir))
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// tidwallLog is a tidwall directory as tidwall's Open would see it, read
// without changing anything.
type tidwallLog struct {
	first uint64
	segs  []tidwallSeg
}

type tidwallSeg struct {
	path  string
	index uint64 // the segment's first index
}

// tidwallFile parses a tidwall file name: 20 digits (a segment's first
// index, not 0), optionally followed by .START or .END (the segment an
// interrupted truncation left) or .TEMP after either (a file it was
// writing). kind is "", ".START", ".END" or ".TEMP".
func tidwallFile(name string) (kind string, ok bool) {
	if len(name) < 20 {
		return "", false
	}
	if i, err := strconv.ParseUint(name[:20], 10, 64); err != nil || i == 0 {
		return "", false
	}
	switch rest := name[20:]; rest {
	case "", ".START", ".END":
		return rest, true
	case ".START.TEMP", ".END.TEMP":
		return ".TEMP", true
	}
	return "", false
}

// loadTidwall finds the segments of a tidwall directory, resolving .START
// and .END files as tidwall's Open does (but without renaming or deleting
// anything). It returns nil if there are none.
func loadTidwall(dir string, names []string, format LogFormat) (*tidwallLog, error) {
	var segs []tidwallSeg
	start, end := -1, -1
	for _, n := range names { // sorted, as tidwall's listing
		kind, ok := tidwallFile(n)
		if !ok || kind == ".TEMP" {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, n)); err != nil || fi.IsDir() {
			continue
		}
		switch {
		case kind == ".START":
			start = len(segs)
		case kind == ".END" && end == -1:
			end = len(segs)
		}
		index, _ := strconv.ParseUint(n[:20], 10, 64)
		segs = append(segs, tidwallSeg{path: filepath.Join(dir, n), index: index})
	}
	if len(segs) == 0 {
		return nil, nil
	}
	if start != -1 && end != -1 {
		return nil, fmt.Errorf("%w: %s holds both a .START and an .END tidwall segment", ErrCorrupt, dir)
	}
	if start != -1 {
		segs = segs[start:]
	}
	if end != -1 {
		segs = segs[:end+1]
		if n := len(segs); n > 1 && segs[n-2].index == segs[n-1].index {
			segs = append(segs[:n-2], segs[n-1])
		}
	}
	return &tidwallLog{first: segs[0].index, segs: segs}, nil
}

// entries reads and decodes every entry of the segment.
func (s tidwallSeg) entries(format LogFormat) ([][]byte, error) {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for index := s.index; len(data) > 0; index++ {
		var e []byte
		var n int
		if format == JSON {
			e, n, err = decodeJSON(data, index)
		} else {
			e, n, err = decodeBinary(data)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: tidwall segment %s, entry %d: %v", ErrCorrupt, s.path, index, err)
		}
		out = append(out, e)
		data = data[n:]
	}
	return out, nil
}

// decodeBinary decodes a uvarint length and that many bytes.
func decodeBinary(data []byte) (entry []byte, n int, err error) {
	size, n := binary.Uvarint(data)
	if n <= 0 || uint64(len(data)-n) < size {
		return nil, 0, io.ErrUnexpectedEOF
	}
	return data[n : n+int(size)], n + int(size), nil
}

// decodeJSON decodes one line {"index":"N","data":"+text"} or
// {"index":"N","data":"$base64url"}.
func decodeJSON(data []byte, index uint64) (entry []byte, n int, err error) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		return nil, 0, errors.New("no newline")
	}
	var line struct {
		Index json.RawMessage `json:"index"`
		Data  *string         `json:"data"`
	}
	if err := json.Unmarshal(data[:i], &line); err != nil {
		return nil, 0, err
	}
	if line.Data == nil {
		return nil, 0, errors.New("no data")
	}
	var idx string
	if json.Unmarshal(line.Index, &idx) == nil && idx != strconv.FormatUint(index, 10) {
		return nil, 0, fmt.Errorf("index %q", idx)
	}
	switch d := *line.Data; {
	case strings.HasPrefix(d, "+"):
		return []byte(d[1:]), i + 1, nil
	case strings.HasPrefix(d, "$"):
		b, err := base64.URLEncoding.DecodeString(d[1:])
		return b, i + 1, err
	}
	return nil, 0, errors.New("data is neither +text nor $base64")
}

package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/waldb/wal"
	"github.com/waldb/wal/record"
)

// Salvage: repair saves every readable entry record found in the bytes it
// takes out of the log, so that an operator can recover data the log can
// no longer serve. The scan is raw: at each offset it tries to decode a
// record (record.Decode checks the CRC-32C over type, length, index and
// payload); a valid entry record is taken whole, anything else advances one
// byte. So it finds records after damage that stops the log's own scan, at
// a cost of one record decode per damaged byte.
//
// What it finds is evidence, not a log: records of an incomplete batch,
// records voided by a truncation or superseded by a reset may be among
// them. salvaged.jsonl says where each was found.

// salvagedEntry is one line of salvaged.jsonl; the fields shared with
// dump --json have the same names.
type salvagedEntry struct {
	Index    uint64 `json:"index"`
	Size     int    `json:"size"`
	Encoding string `json:"encoding"`
	Data     string `json:"data"`
	Type     string `json:"type"` // full, or more: a batch continues
	Segment  string `json:"segment"`
	Offset   int64  `json:"offset"`
}

// scanRegion is a byte range of a segment file to salvage from.
type scanRegion struct {
	name     string // segment file name
	from, to int64  // to < 0: the end of the file
	minIndex uint64 // only entries with a larger index (still in the log otherwise)
}

// scanRecords calls fn for every valid entry record in region r of the file
// at path. The region is read whole: memory up to one segment.
func scanRecords(path string, r scanRegion, fn func(salvagedEntry) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	to := r.to
	if to < 0 || to > fi.Size() {
		to = fi.Size()
	}
	from := max(r.from, segHeaderLen)
	if from >= to {
		return nil
	}
	b := make([]byte, to-from)
	if _, err := f.ReadAt(b, from); err != nil && err != io.EOF {
		return err
	}
	for pos := 0; pos+record.HeaderSize <= len(b); {
		h, p, err := record.Decode(b[pos:])
		if err != nil {
			pos++
			continue
		}
		if h.Type.IsEntry() && h.Index > r.minIndex {
			e := salvagedEntry{Index: h.Index, Size: len(p), Encoding: "base64",
				Data: base64.StdEncoding.EncodeToString(p), Type: h.Type.String(), Segment: r.name, Offset: from + int64(pos)}
			if err := fn(e); err != nil {
				return err
			}
		}
		pos += h.Size()
	}
	return nil
}

// salvage scans regions of the files in dir, writing each entry found as a
// JSON line to w (if not nil), and returns how many it found.
func salvage(dir string, regions []scanRegion, w io.Writer) (int, error) {
	n := 0
	for _, r := range regions {
		err := scanRecords(filepath.Join(dir, r.name), r, func(e salvagedEntry) error {
			n++
			if w == nil {
				return nil
			}
			b, err := json.Marshal(e)
			if err == nil {
				_, err = fmt.Fprintf(w, "%s\n", b)
			}
			return err
		})
		if err != nil {
			return n, fmt.Errorf("salvaging %s: %w", r.name, err)
		}
	}
	return n, nil
}

// viewDir is a temporary directory of symbolic links to some of a log's
// files, so that wal.OpenReadOnly can judge a subset of them: repair uses
// it to find the longest prefix of segments that forms a valid log, and to
// read the segments after a break. Read-only opens never write, so the
// links never lead to a change of the originals.
type viewDir struct {
	path string
}

// newView links files (names in src) into a new temporary directory.
func newView(src string, files []string) (*viewDir, error) {
	tmp, err := os.MkdirTemp("", "walctl-view-")
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	for _, name := range files {
		if err := os.Symlink(filepath.Join(abs, name), filepath.Join(tmp, name)); err != nil {
			os.RemoveAll(tmp)
			return nil, err
		}
	}
	return &viewDir{path: tmp}, nil
}

// open opens the view read-only, trying each recovery mode in turn.
func (v *viewDir) open(modes ...wal.RecoveryMode) (*wal.Log, wal.RecoveryMode, error) {
	var err error
	for _, m := range modes {
		var l *wal.Log
		if l, err = wal.OpenReadOnly(v.path, inspectOptions(m)); err == nil {
			return l, m, nil
		}
	}
	return nil, 0, err
}

func (v *viewDir) remove() { os.RemoveAll(v.path) }

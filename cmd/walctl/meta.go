package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/waldb/wal"
	"github.com/waldb/wal/record"
)

// The few facts of FORMAT.md that walctl reads itself, because the log's
// API does not expose them: META's truncation fields (stat shows them,
// repair must respect them) and the segment file names (repair lists
// segments of a log that cannot be opened). Everything else goes through
// package wal.
const (
	metaName     = "META"
	metaSize     = 56
	metaMagic    = "WALDBMET"
	segSuffix    = ".wal"
	segHeaderLen = 40 // records start here (format versions 1 and 2)
)

// metaInfo is the content of META (FORMAT.md, "META").
type metaInfo struct {
	Front    uint64 `json:"front"`
	FrontSeq uint64 `json:"front_seq"`
	Back     uint64 `json:"back"`
	BackSeq  uint64 `json:"back_seq"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// readMeta reads dir's META file: nil if there is none, an error wrapping
// wal.ErrCorrupt if it is damaged.
func readMeta(dir string) (*metaInfo, error) {
	b, err := os.ReadFile(filepath.Join(dir, metaName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	switch {
	case len(b) != metaSize:
		return nil, fmt.Errorf("%w: META is %d bytes, want %d", wal.ErrCorrupt, len(b), metaSize)
	case !bytes.Equal(b[:8], []byte(metaMagic)) || le.Uint16(b[8:]) != 1: // META stays version 1 in format version 2
		return nil, fmt.Errorf("%w: META has a bad magic number or version", wal.ErrCorrupt)
	case le.Uint32(b[48:]) != record.Mask(crc32.Checksum(b[:48], castagnoli)):
		return nil, fmt.Errorf("%w: META checksum mismatch", wal.ErrCorrupt)
	}
	return &metaInfo{Front: le.Uint64(b[16:]), FrontSeq: le.Uint64(b[24:]), Back: le.Uint64(b[32:]), BackSeq: le.Uint64(b[40:])}, nil
}

// segFile is a segment file found by name: "<seq:016x>-<first:020d>.wal".
type segFile struct {
	Name       string
	Seq, First uint64
	Size       int64
}

// parseSegName parses a segment file name.
func parseSegName(name string) (seq, first uint64, ok bool) {
	if len(name) != 16+1+20+len(segSuffix) || name[16] != '-' || filepath.Ext(name) != segSuffix {
		return 0, 0, false
	}
	seq, err1 := strconv.ParseUint(name[:16], 16, 64)
	first, err2 := strconv.ParseUint(name[17:37], 10, 64)
	return seq, first, err1 == nil && err2 == nil
}

// listSegments returns dir's segment files in seq order.
func listSegments(dir string) ([]segFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var segs []segFile
	for _, e := range ents {
		seq, first, ok := parseSegName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		segs = append(segs, segFile{Name: e.Name(), Seq: seq, First: first, Size: fi.Size()})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].Seq < segs[j].Seq })
	return segs, nil
}

package main

import (
	"github.com/waldb/wal"
)

// walctl learns the log's on-disk facts (META's truncation fields, the
// segment files of a log that may not open) through package wal's
// inspection API (wal.ReadMeta, wal.ListSegments, wal.RemoveSegmentFiles),
// never by parsing FORMAT.md itself.
const (
	metaName     = "META"
	segHeaderLen = wal.SegmentHeaderSize // records start here
)

// metaInfo is the content of META as stat shows it.
type metaInfo struct {
	Front    uint64 `json:"front"`
	FrontSeq uint64 `json:"front_seq"`
	Back     uint64 `json:"back"`
	BackSeq  uint64 `json:"back_seq"`
}

// readMeta reads dir's META file: nil if there is none, an error wrapping
// wal.ErrCorrupt if it is damaged.
func readMeta(dir string) (*metaInfo, error) {
	m, err := wal.ReadMeta(nil, dir)
	if m == nil || err != nil {
		return nil, err
	}
	return &metaInfo{Front: m.Front, FrontSeq: m.FrontSeq, Back: m.Back, BackSeq: m.BackSeq}, nil
}

// segFile is a segment file found by name.
type segFile = wal.SegmentFile

// parseSegName parses a segment file name.
func parseSegName(name string) (seq, first uint64, ok bool) { return wal.ParseSegmentName(name) }

// listSegments returns dir's segment files in seq order.
func listSegments(dir string) ([]segFile, error) { return wal.ListSegments(nil, dir) }

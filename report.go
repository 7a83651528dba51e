package wal

import "fmt"

// RecoveryState says what Open found at the end of the log.
type RecoveryState int

const (
	// RecoveryNew: the directory held no log; a new one was created.
	RecoveryNew RecoveryState = iota
	// RecoveryClean: the log had been closed cleanly; nothing was dropped.
	RecoveryClean
	// RecoveryZeroedTail: the log was not closed cleanly, but it ended at a
	// complete record followed by nothing or by zeros (never-written,
	// preallocated space), or at a sealed segment (a crash during
	// rotation). No entry was dropped.
	RecoveryZeroedTail
	// RecoveryTornTail: bytes after the last complete record or batch (a
	// partial record, an incomplete batch, garbage) were dropped; Dropped
	// says which.
	RecoveryTornTail
	// RecoveryPointInTime: under RecoveryMode PointInTime, damaged bytes
	// that a sync marker proved durable were dropped with everything after.
	RecoveryPointInTime
)

// String returns the state's name.
func (s RecoveryState) String() string {
	switch s {
	case RecoveryNew:
		return "new"
	case RecoveryClean:
		return "clean"
	case RecoveryZeroedTail:
		return "zeroed-tail"
	case RecoveryTornTail:
		return "torn-tail"
	case RecoveryPointInTime:
		return "point-in-time"
	}
	return fmt.Sprintf("RecoveryState(%d)", int(s))
}

// Dropped describes a byte range that recovery cut from a segment.
type Dropped struct {
	Segment string `json:"segment"` // file name
	From    int64  `json:"from"`    // first byte dropped
	To      int64  `json:"to"`      // end of the file before the cut
	// FirstIndex..LastIndex are the complete entries dropped (an incomplete
	// batch, or entries voided by an interrupted TruncateBack); zero when
	// no complete entry was dropped.
	FirstIndex uint64 `json:"firstIndex"`
	LastIndex  uint64 `json:"lastIndex"`
	Reason     string `json:"reason"`
}

// Removal is a file recovery deleted.
type Removal struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Report is what Open found and repaired. It is computed once, by Open.
type Report struct {
	State      RecoveryState `json:"state"`
	FirstIndex uint64        `json:"firstIndex"` // as FirstIndex() reported right after Open
	LastIndex  uint64        `json:"lastIndex"`
	Segments   int           `json:"segments"` // segment files after recovery
	Dropped    []Dropped     `json:"dropped"`  // byte ranges cut from segments
	Removed    []Removal     `json:"removed"`  // files deleted
	Ignored    []string      `json:"ignored"`  // files in the directory that are not the log's
	// DryRun: the log was opened with OpenReadOnly; Dropped and Removed
	// say what Open would do, and nothing was changed.
	DryRun bool `json:"dryRun"`
}

// String summarises the report on one line.
func (r Report) String() string {
	s := fmt.Sprintf("%s: entries [%d, %d] in %d segments", r.State, r.FirstIndex, r.LastIndex, r.Segments)
	if r.DryRun {
		s += " (read-only: nothing changed)"
	}
	for _, d := range r.Dropped {
		s += fmt.Sprintf("; dropped %s bytes [%d,%d)", d.Segment, d.From, d.To)
		if d.LastIndex >= d.FirstIndex && d.FirstIndex > 0 {
			s += fmt.Sprintf(" entries [%d,%d]", d.FirstIndex, d.LastIndex)
		}
		s += " (" + d.Reason + ")"
	}
	for _, r := range r.Removed {
		s += fmt.Sprintf("; removed %s (%s)", r.Name, r.Reason)
	}
	return s
}

// MarshalText encodes the state by name (for JSON reports).
func (s RecoveryState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

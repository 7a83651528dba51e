package wal

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/waldb/wal/record"
	"github.com/waldb/wal/vfs"
)

// A tableCase is one combination of what TestRecoveryTable builds: the
// inputs of the recovery table, with the marker dimension finer than the
// table's proof column (a marker inside the stopped record, or one of
// another segment, must count as no proof).
type tableCase struct {
	header  hdrState
	last    bool
	sealed  bool
	stop    stopKind
	batch   bool
	marker  plantedMarker
	closed  bool
	version uint16
	mode    RecoveryMode
}

type plantedMarker uint8

const (
	markNone    plantedMarker = iota
	markWalk                  // a valid marker of the segment, S > cut, at a record boundary after the stopped record
	markInside                // the same marker bytes, inside the payload of the stopped record
	markForeign               // a marker of another segment (v2: another salt; v1: a bound marker) where markWalk puts it
)

func (m plantedMarker) String() string {
	return [...]string{"none", "walk", "inside", "foreign"}[m]
}

func (c tableCase) String() string {
	return fmt.Sprintf("header=%d last=%v sealed=%v stop=%d batch=%v marker=%v closed=%v v%d mode=%v",
		c.header, c.last, c.sealed, c.stop, c.batch, c.marker, c.closed, c.version, c.mode)
}

// input is the table input the case should present to recovery.
func (c tableCase) input() tailInput {
	in := tailInput{header: c.header, last: c.last, sealed: c.sealed, stop: c.stop, batch: c.batch,
		proof: c.marker == markWalk, closed: c.closed, mode: c.mode}
	if c.sealed {
		// A sealed segment is not scanned: closed is whether its records
		// end with a closed marker.
		in.closed = c.closed && c.stop == stopEnd && !c.batch
	}
	return in
}

// impossible says why no bytes can present the case, or "".
func (c tableCase) impossible() string {
	switch {
	case c.closed && c.batch:
		return "a closed marker cannot precede the scan point inside a batch"
	case c.stop == stopEnd && c.marker != markNone:
		return "nothing follows the end of the file"
	case c.stop == stopZeros && c.marker != markNone:
		return "only zeros follow the scan point"
	case c.stop == stopShort && (c.marker == markWalk || c.marker == markForeign):
		return "the short record runs to the end of the file"
	}
	return ""
}

const (
	tFirst = 4 // the first index of the segment under test
	tSeq   = 2
	tSalt  = 0x1234abcd
)

// sealImage appends an index block and trailer to records (a whole
// segment image from offset 0) listing offs.
func sealImage(img []byte, first uint64, offs []uint32) []byte {
	blk := appendIndexBlock(nil, offs)
	t := segTrailer{first: first, count: uint64(len(offs)), indexOff: uint64(len(img)), indexCRC: maskedCRC(blk)}
	return append(append(img, blk...), t.encode()...)
}

// tableImage builds the directory of a case: a sealed segment P (seq 1,
// entries 1..3), the segment under test T (seq 2, first 4) and, unless T
// is last, a segment N after it. It returns the files and what T holds.
type tableImage struct {
	files    map[string][]byte
	tName    string
	lastKept uint64 // T's last complete entry
	cut      int64  // end of T's last complete batch or marker
	tSize    int64
	openLo   uint64 // the incomplete batch, if any
	openHi   uint64
}

func buildTable(c tableCase) tableImage {
	h := segHeader{version: c.version, seq: tSeq, first: tFirst}
	if c.version >= 2 {
		h.salt = tSalt
	}
	img := h.encode()
	var offs []uint32
	entry := func(t record.Type, i uint64) {
		offs = append(offs, uint32(len(img)))
		img = record.Append(img, t, i, payload(i, 0))
	}
	entry(record.Full, tFirst)
	img = appendMarker(img, h, record.MarkerSynced, uint64(len(img)))
	entry(record.Full, tFirst+1)
	if c.closed {
		img = appendMarker(img, h, record.MarkerClosed, uint64(len(img)))
	}
	ti := tableImage{files: map[string][]byte{}, tName: segmentName(tSeq, tFirst), lastKept: tFirst + 1, cut: int64(len(img))}
	next := uint64(tFirst + 2)
	if c.batch {
		ti.openLo, ti.openHi = next, next+1
		img = record.Append(img, record.More, next, payload(next, 0))
		img = record.Append(img, record.More, next+1, payload(next+1, 0))
		next += 2
	}
	proof := func() []byte { // a proof of cut, wherever it is placed after it
		return appendMarker(nil, h, record.MarkerSynced, uint64(ti.cut+1))
	}
	foreign := func() []byte {
		o := h
		if o.version >= 2 {
			o.salt ^= 1
		} else {
			o.version, o.salt = 2, tSalt
		}
		return appendMarker(nil, o, record.MarkerSynced, uint64(ti.cut+1))
	}
	body := make([]byte, 0, 300)
	for i := 0; i < 24; i++ {
		body = append(body, byte(0x40+i))
	}
	if c.marker == markInside {
		body = append(body, proof()...)
	}
	for len(body) < 200 {
		body = append(body, 0x5a)
	}
	switch c.stop {
	case stopZeros:
		img = append(img, make([]byte, 100)...)
	case stopShort:
		rec := record.Append(nil, record.Full, next, body)
		img = append(img, rec[:record.HeaderSize+len(body)-100]...)
	case stopBad:
		rec := record.Append(nil, record.Full, next, body)
		rec[len(rec)-1] ^= 0xff // a CRC mismatch; the header's length is intact
		img = append(img, rec...)
		switch c.marker {
		case markWalk:
			img = append(img, proof()...)
		case markForeign:
			img = append(img, foreign()...)
		}
	}
	if c.sealed {
		img = sealImage(img, tFirst, offs[:2])
	}
	ti.tSize = int64(len(img))
	switch c.header {
	case hdrBlank:
		img = make([]byte, len(img))
	case hdrDamaged:
		img[20] ^= 1 // in seq: a CRC mismatch
	}
	ti.files[ti.tName] = img

	p := segHeader{seq: 1, first: 1, salt: 7}.encode()
	var pOffs []uint32
	for i := uint64(1); i <= 3; i++ {
		pOffs = append(pOffs, uint32(len(p)))
		p = record.Append(p, record.Full, i, payload(i, 0))
	}
	ti.files[segmentName(1, 1)] = sealImage(p, 1, pOffs)
	if !c.last {
		nFirst := uint64(tFirst + 2)
		n := segHeader{seq: 3, first: nFirst, salt: 9}.encode()
		n = record.Append(n, record.Full, nFirst, payload(nFirst, 0))
		ti.files[segmentName(3, nFirst)] = n
	}
	return ti
}

// allTableCases is the cross product of every dimension.
func allTableCases() []tableCase {
	var out []tableCase
	for _, header := range []hdrState{hdrValid, hdrBlank, hdrDamaged} {
		for _, last := range []bool{true, false} {
			for _, sealed := range []bool{false, true} {
				for _, stop := range []stopKind{stopEnd, stopZeros, stopShort, stopBad} {
					for _, batch := range []bool{false, true} {
						for _, marker := range []plantedMarker{markNone, markWalk, markInside, markForeign} {
							for _, closed := range []bool{false, true} {
								for _, version := range []uint16{1, 2} {
									for _, mode := range []RecoveryMode{TolerateTornTail, AbsoluteConsistency, PointInTime} {
										out = append(out, tableCase{header, last, sealed, stop, batch, marker, closed, version, mode})
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}

// TestRecoveryTable builds every combination of the recovery table's
// inputs as segment bytes in a MemFS (beside a sealed segment before it
// and, for a segment that is not the last, one after it), opens the log,
// and checks that Open did what the table's row for those inputs says,
// with the report to match: the state, the byte range dropped, the
// entries dropped, the files removed, and the entries served.
func TestRecoveryTable(t *testing.T) {
	rowsHit := map[string]int{}
	built, skipped := 0, 0
	for _, c := range allTableCases() {
		if c.impossible() != "" {
			skipped++
			continue
		}
		built++
		rule := decide(c.input())
		rowsHit[rule.why]++
		if spec := specVerdict(c); rule.v != spec {
			t.Fatalf("%v: the table says %v (%q), FORMAT.md's prose %v", c, rule.v, rule.why, spec)
		}
		checkTableCase(t, c, rule.v)
	}
	for _, r := range recoveryTable {
		if rowsHit[r.why] == 0 {
			t.Errorf("no case reaches row %q", r.why)
		}
	}
	t.Logf("%d cases built and opened, %d combinations impossible; rows hit: %v", built, skipped, rowsHit)
}

// specVerdict is FORMAT.md's Recovery prose (steps 2, 4 and 5) written
// as code independently of the table, so that a wrong row fails the test.
func specVerdict(c tableCase) verdict {
	switch {
	case c.header == hdrBlank && c.last:
		return vRemove
	case c.header != hdrValid:
		return vCorrupt
	case !c.last && c.sealed:
		return vSealed
	case !c.last:
		return vCorrupt
	case c.sealed && c.closed && c.stop == stopEnd && !c.batch:
		return vClean
	case c.sealed:
		return vZeroed
	case c.stop == stopEnd && !c.batch && c.closed:
		return vClean
	case c.stop == stopEnd && !c.batch:
		return vZeroed
	case c.marker == markWalk && c.mode == PointInTime:
		return vPointInTime
	case c.marker == markWalk:
		return vCorrupt
	case c.stop == stopZeros && !c.batch:
		return vZeroed
	case c.mode == AbsoluteConsistency:
		return vCorrupt
	}
	return vTorn
}

func checkTableCase(t *testing.T, c tableCase, want verdict) {
	t.Helper()
	ti := buildTable(c)
	fs := vfs.NewMem()
	if err := fs.MkdirAll(memDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range ti.files {
		writeFile(t, fs, memDir+"/"+name, b)
	}
	l, err := Open(memDir, &Options{FS: fs, SegmentSize: 1 << 20, NoPreallocate: true, RecoveryMode: c.mode})
	if want == vCorrupt {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%v: Open = %v, want ErrCorrupt (table: %v)", c, err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("%v: Open: %v, want %v", c, err, want)
	}
	defer l.Close()
	rep := l.Recovery()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%v (table: %v): %s; report %v", c, want, fmt.Sprintf(format, args...), rep)
	}
	wantLast := ti.lastKept
	var wantState RecoveryState
	switch want {
	case vRemove:
		if len(rep.Removed) != 1 || rep.Removed[0].Name != ti.tName {
			fail("removed %v, want %s", rep.Removed, ti.tName)
		}
		wantState, wantLast = RecoveryZeroedTail, 3
	case vSealed:
		wantState, wantLast = RecoveryZeroedTail, tFirst+2
	case vClean:
		wantState = RecoveryClean
	case vZeroed:
		wantState = RecoveryZeroedTail
	case vTorn:
		wantState = RecoveryTornTail
	case vPointInTime:
		wantState = RecoveryPointInTime
	default:
		fail("unexpected verdict")
	}
	if rep.State != wantState {
		fail("state %v, want %v", rep.State, wantState)
	}
	if want == vTorn || want == vPointInTime {
		if len(rep.Dropped) != 1 {
			fail("dropped %+v, want one range", rep.Dropped)
		}
		d := rep.Dropped[0]
		if d.Segment != ti.tName || d.From != ti.cut || d.To != ti.tSize || d.FirstIndex != ti.openLo || d.LastIndex != ti.openHi {
			fail("dropped %+v, want %s [%d,%d) entries [%d,%d]", d, ti.tName, ti.cut, ti.tSize, ti.openLo, ti.openHi)
		}
	} else if len(rep.Dropped) != 0 {
		fail("dropped %+v, want nothing", rep.Dropped)
	}
	if want != vRemove && len(rep.Removed) != 0 {
		fail("removed %v", rep.Removed)
	}
	checkRange(t, l, 1, wantLast)
	// The log goes on in T if it is the last segment of the current
	// version, else in a new segment.
	segs := l.Segments()
	tail := segs[len(segs)-1].Name
	if stays := c.last && want != vRemove && c.version == formatVersion; stays != (tail == ti.tName) {
		fail("the log goes on in %s", tail)
	}
	if err := l.Write(wantLast+1, payload(wantLast+1, 1)); err != nil {
		fail("Write after recovery: %v", err)
	}
}

// TestRecoveryTableComplete: decide has a row for every combination of
// the table's inputs, possible or not.
func TestRecoveryTableComplete(t *testing.T) {
	n := 0
	for _, h := range []hdrState{hdrValid, hdrBlank, hdrDamaged} {
		for _, stop := range []stopKind{stopEnd, stopZeros, stopShort, stopBad} {
			for bits := 0; bits < 1<<5; bits++ {
				for _, mode := range []RecoveryMode{TolerateTornTail, AbsoluteConsistency, PointInTime} {
					in := tailInput{header: h, stop: stop, last: bits&1 != 0, sealed: bits&2 != 0, batch: bits&4 != 0,
						proof: bits&8 != 0, closed: bits&16 != 0, mode: mode}
					_ = decide(in) // panics if no row matches
					n++
				}
			}
		}
	}
	t.Logf("%d input combinations decided", n)
}

// renderTable writes recoveryTable as the Markdown table FORMAT.md shows.
func renderTable() string {
	set := func(bits uint8, names ...string) string {
		if bits == 0 {
			return "any"
		}
		var out []string
		for i, n := range names {
			if bits&(1<<i) != 0 {
				out = append(out, n)
			}
		}
		return strings.Join(out, ", ")
	}
	tr := func(t tri) string { return [...]string{"any", "yes", "no"}[t] }
	var b strings.Builder
	b.WriteString("| # | header | last | sealed | scan point | batch | proof | closed | mode | decision | why |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for i, r := range recoveryTable {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", i+1,
			set(uint8(r.header), "valid", "blank", "damaged"), tr(r.last), tr(r.sealed),
			set(uint8(r.stop), "end", "zeros", "short", "bad"), tr(r.batch), tr(r.proof), tr(r.closed),
			set(r.modes, "tolerate", "absolute", "point-in-time"), r.v, r.why)
	}
	return b.String()
}

// TestRecoveryTableDoc: FORMAT.md shows the table the code consults.
func TestRecoveryTableDoc(t *testing.T) {
	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	want := renderTable()
	if !strings.Contains(string(doc), want) {
		t.Fatalf("FORMAT.md lacks the recovery table as rtable.go has it:\n%s", want)
	}
}

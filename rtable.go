package wal

import "fmt"

// Recovery's decisions about one segment, as one table (FORMAT.md,
// "Recovery table"; TigerBeetle's recovery table is the model). Open
// computes the inputs it knows at each decision point (openSegment:
// header and last; checkSegment: sealed; classifyTail: the scan's
// findings), and decide returns the verdict of the first row that matches.
// TestRecoveryTable builds every combination of the inputs as bytes, opens
// it, and checks the verdict and the report against this table.
//
// Segments that an interrupted TruncateBack left (seq <= META's backSeq)
// are cut at META's back before this table applies (FORMAT.md, Recovery
// step 3); what follows the kept entry there is void, whatever it holds.

// hdrState is what a segment's header is.
type hdrState uint8

const (
	hdrValid   hdrState = 1 << iota // magic, CRC and version check
	hdrBlank                        // every byte of the file is zero (or it is empty)
	hdrDamaged                      // anything else
)

// stopKind is what the scan of an unsealed segment found at the scan
// point, the offset where it stopped.
type stopKind uint8

const (
	stopEnd   stopKind = 1 << iota // the end of the file, at a record boundary
	stopZeros                      // an all-zero record header, and only zeros from there to the end of the file
	stopShort                      // a record header whose record runs past the end of the file (torn)
	stopBad                        // anything else: a CRC mismatch, an invalid type or length, a zero header followed by non-zero bytes, an entry out of sequence, a bad marker or a marker inside a batch
)

// verdict is recovery's decision for a segment.
type verdict uint8

const (
	vRemove      verdict = iota + 1 // delete the file: an unfinished creation
	vCorrupt                        // ErrCorrupt: Open fails
	vSealed                         // a sealed segment before the last: kept, not scanned
	vClean                          // nothing lost, the log was closed cleanly
	vZeroed                         // nothing lost (zeros after the scan point are cut)
	vTorn                           // truncate at the cut and report what was dropped
	vPointInTime                    // truncate at the cut although the bytes were durable (PointInTime)
)

func (v verdict) String() string {
	return [...]string{"?", "remove", "ErrCorrupt", "sealed", "clean", "zeroed-tail", "torn-tail", "point-in-time"}[v]
}

// tailInput is everything recovery looks at to decide about a segment.
type tailInput struct {
	header hdrState
	last   bool // the last segment of the log
	sealed bool // a valid trailer (and, for the last segment, index block)
	// The scan of an unsealed segment (for a sealed last segment only
	// closed is known: whether its records end with a closed marker).
	stop   stopKind
	batch  bool // complete More records of an incomplete batch precede the scan point
	proof  bool // a valid marker of this segment, value S > cut, at a record boundary the proof walk reaches
	closed bool // the last record before the scan point is a clean-close marker
	mode   RecoveryMode
}

// tri is a boolean column: tAny, tYes or tNo.
type tri uint8

const (
	tAny tri = iota
	tYes
	tNo
)

func (t tri) match(b bool) bool { return t == tAny || (t == tYes) == b }

// tailRule is one row: a column that is zero (or tAny) matches anything;
// header and stop are sets of values; modes a set of 1<<RecoveryMode.
type tailRule struct {
	header hdrState
	last   tri
	sealed tri
	stop   stopKind
	batch  tri
	proof  tri
	closed tri
	modes  uint8
	v      verdict
	why    string
}

const (
	mTolerate = 1 << TolerateTornTail
	mAbsolute = 1 << AbsoluteConsistency
	mPIT      = 1 << PointInTime
)

// recoveryTable: the first matching row decides.
var recoveryTable = []tailRule{
	{header: hdrBlank, last: tYes, v: vRemove, why: "an unfinished creation: the header is written and synced before the segment is named, so no entry was ever acknowledged here"},
	{header: hdrBlank, last: tNo, v: vCorrupt, why: "a later segment exists, so this one was complete once"},
	{header: hdrDamaged, v: vCorrupt, why: "a named segment never has a torn header"},
	{header: hdrValid, last: tNo, sealed: tYes, v: vSealed, why: "sealed: its records are checked when read"},
	{header: hdrValid, last: tNo, sealed: tNo, v: vCorrupt, why: "only the last segment may be unsealed"},
	{header: hdrValid, last: tYes, sealed: tYes, closed: tYes, v: vClean, why: "sealed by Close"},
	{header: hdrValid, last: tYes, sealed: tYes, closed: tNo, v: vZeroed, why: "sealed by a rotation the crash interrupted before the next segment existed"},
	{header: hdrValid, last: tYes, sealed: tNo, stop: stopEnd, batch: tNo, closed: tYes, v: vClean, why: "the scan ends at the end of the file after a closed marker"},
	{header: hdrValid, last: tYes, sealed: tNo, stop: stopEnd, batch: tNo, closed: tNo, v: vZeroed, why: "the scan ends at the end of the file"},
	{header: hdrValid, last: tYes, sealed: tNo, proof: tYes, modes: mTolerate | mAbsolute, v: vCorrupt, why: "a marker proves the damaged bytes were durable"},
	{header: hdrValid, last: tYes, sealed: tNo, proof: tYes, modes: mPIT, v: vPointInTime, why: "a marker proves the damaged bytes were durable; PointInTime keeps the prefix"},
	{header: hdrValid, last: tYes, sealed: tNo, stop: stopZeros, batch: tNo, proof: tNo, v: vZeroed, why: "only preallocated zeros follow the last complete record"},
	{header: hdrValid, last: tYes, sealed: tNo, proof: tNo, modes: mAbsolute, v: vCorrupt, why: "an incomplete tail under AbsoluteConsistency"},
	{header: hdrValid, last: tYes, sealed: tNo, batch: tYes, proof: tNo, modes: mTolerate | mPIT, v: vTorn, why: "an incomplete batch: never acknowledged"},
	{header: hdrValid, last: tYes, sealed: tNo, batch: tNo, proof: tNo, modes: mTolerate | mPIT, v: vTorn, why: "a torn or garbage record after the last durable proof"},
}

func (r tailRule) match(in tailInput) bool {
	return (r.header == 0 || r.header&in.header != 0) && r.last.match(in.last) && r.sealed.match(in.sealed) &&
		(r.stop == 0 || r.stop&in.stop != 0) && r.batch.match(in.batch) && r.proof.match(in.proof) &&
		r.closed.match(in.closed) && (r.modes == 0 || r.modes&(1<<in.mode) != 0)
}

// decide returns the first row of recoveryTable that matches in. The
// table covers every input (TestRecoveryTable checks it), so a miss is a
// bug; it panics.
func decide(in tailInput) tailRule {
	for _, r := range recoveryTable {
		if r.match(in) {
			return r
		}
	}
	panic(fmt.Sprintf("wal: recovery table has no row for %+v", in))
}

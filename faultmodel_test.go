package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/waldb/wal/record"
	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// The fault model tests run the log against a hostile disk (vfs.MemFS with
// CrashOptions' torn and garbled pages, and its latent faults): recovery
// must never serve a wrong payload, must classify a damaged unsynced tail
// as torn and damage to synced data as ErrCorrupt (FORMAT.md, "Recovery"),
// and must report what it dropped.
//
// Sizes: CI by default; WAL_FAULTMODEL_SEEDS=n sets the number of seeds of
// each test (soak: WAL_FAULTMODEL_SEEDS=2000 go test -run FaultModel
// -timeout 0 .).

func faultModelSeeds(def int) int { return envInt("WAL_FAULTMODEL_SEEDS", def) }

// hostileOptions draws the crash options of one crash image.
func hostileOptions(rng *rand.Rand, seed uint64) vfs.CrashOptions {
	return vfs.CrashOptions{
		KeepUnsyncedBlocks: []float64{0, 0.3, 0.7}[rng.IntN(3)],
		KeepUnsyncedDirOps: []float64{0, 0.5, 1}[rng.IntN(3)],
		TearPages:          0.5,
		GarbleUnsynced:     []float64{0.3, 1}[rng.IntN(2)],
		LoseNeverSynced:    rng.IntN(2) == 0,
		Rand:               newRand(seed),
	}
}

// hostilePoint is one crash image with what the crash did.
type hostilePoint struct {
	fs            *vfs.MemFS
	rep           vfs.CrashReport
	before, after state
	at            string
}

// hostileRecorder takes a hostile crash image at random filesystem
// operations of a workload.
type hostileRecorder struct {
	mu            sync.Mutex
	mem           *vfs.MemFS
	rng           *rand.Rand
	every         int // about one image per every operations
	n             int64
	before, after state
	desc          string
	points        []hostilePoint
}

func (r *hostileRecorder) MaybeError(o errorfs.Op, p string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.rng.IntN(r.every) == 0 {
		img, rep := r.mem.CrashCloneReport(hostileOptions(r.rng, uint64(r.n)))
		r.points = append(r.points, hostilePoint{img, rep, r.before, r.after, fmt.Sprintf("fs op %d (%v %s) during %s", r.n, o, p, r.desc)})
	}
	return nil
}

// TestFaultModelCrashes crashes seeded random workloads (rotations, both
// truncations, resets) at random filesystem operations, tearing, garbling
// and dropping unsynced pages and sectors, losing unsynced truncates and
// the entries of never-synced files. Since only unsynced state is damaged,
// Open must succeed, recover a state the model allows with every payload
// right, report a torn tail whenever garbage follows the recovered records
// of the last segment, and report every drop.
func TestFaultModelCrashes(t *testing.T) {
	seeds := faultModelSeeds(8)
	var points, faults, garbled, torn, tailGarbage int
	for seed := range uint64(seeds) {
		rng := newRand(seed + 7000)
		ops := randomOps(rng, 80)
		p := []SyncPolicy{SyncAlways, SyncNever}[seed%2]
		mem := vfs.NewMem()
		o := Options{SyncPolicy: p, SegmentSize: 1 << 10, FlushInterval: 1 << 40, SyncInterval: 1 << 40, NoPreallocate: seed%3 == 0,
			directMin: directFor(seed%4 >= 2)}
		s := state{first: 1, gen: map[uint64]uint64{}, ends: map[uint64]bool{}}
		rec := &hostileRecorder{mem: mem, rng: newRand(seed), every: 4, before: s, after: s}
		o.FS = errorfs.Wrap(mem, rec)
		l := mustOpen(t, memDir, &o)
		for _, op := range ops {
			after := s.clone()
			op.apply(&after, p)
			rec.pending(s, after, op.desc)
			if err := op.call(l); err != nil {
				t.Fatalf("seed %d: %s: %v", seed, op.desc, err)
			}
			s = after
			rec.pending(s, s, "between operations")
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		for _, cp := range rec.points {
			faults += cp.rep.Faults()
			garbled += cp.rep.GarbledPages + cp.rep.GarbledSectors
			why, hit := checkHostilePoint(cp, o)
			if hit {
				tailGarbage++
			}
			if why != "" {
				t.Errorf("seed %d, %s: %s\ncrash: %+v", seed, cp.at, why, cp.rep)
			} else if cp.rep.GarbledPages+cp.rep.GarbledSectors > 0 {
				torn++
			}
		}
		points += len(rec.points)
	}
	t.Logf("%d seeds: %d crash states (%d with garbage, %d with garbage after the recovered tail), %d faults (%d pages/sectors garbled), %.1f faults per crash state",
		seeds, points, torn, tailGarbage, faults, garbled, float64(faults)/float64(max(points, 1)))
}

func (r *hostileRecorder) pending(before, after state, desc string) {
	r.mu.Lock()
	r.before, r.after, r.desc = before, after, desc
	r.mu.Unlock()
}

// checkHostilePoint opens a crash image and returns why it violates the
// model, or "", and whether garbage followed the recovered tail.
func checkHostilePoint(cp hostilePoint, o Options) (string, bool) {
	// Where the garbage is non-zero, read before Open cuts it.
	nonZero := map[string]int64{} // file name -> lowest non-zero garbage offset
	for _, g := range cp.rep.Garbled {
		if lo, ok := firstNonZero(cp.fs, g); ok {
			name := path.Base(g.Path)
			if cur, seen := nonZero[name]; !seen || lo < cur {
				nonZero[name] = lo
			}
		}
	}
	o.FS = cp.fs
	l, err := Open(memDir, &o)
	if err != nil {
		return fmt.Sprintf("Open after a crash that damaged only unsynced state: %v", err), false
	}
	defer l.Close()
	rep := l.Recovery()
	why1 := cp.before.consistent(l)
	if why1 != "" {
		if why2 := cp.after.consistent(l); why2 != "" {
			return fmt.Sprintf("recovered log matches neither model: before the call: %s; after it: %s; report %v", why1, why2, rep), false
		}
	}
	if rep.State == RecoveryTornTail && len(rep.Dropped) == 0 {
		return fmt.Sprintf("torn tail reported without saying what was dropped: %v", rep), false
	}
	for _, d := range rep.Dropped {
		if d.FirstIndex > 0 && d.FirstIndex <= rep.LastIndex {
			return fmt.Sprintf("dropped entries [%d, %d] but serves up to %d: %v", d.FirstIndex, d.LastIndex, rep.LastIndex, rep), false
		}
		if d.Reason != "above an interrupted TruncateBack" && rep.State != RecoveryTornTail {
			return fmt.Sprintf("dropped %+v but reports %v", d, rep.State), false
		}
	}
	segs := l.Segments()
	tail := segs[len(segs)-1]
	lo, hit := nonZero[tail.Name]
	hit = hit && !tail.Sealed
	if hit {
		switch {
		case lo < tail.Size:
			return fmt.Sprintf("garbage at offset %d of %s lies inside the %d bytes of recovered records: %v", lo, tail.Name, tail.Size, rep), false
		case rep.State != RecoveryTornTail:
			return fmt.Sprintf("garbage at offset %d after the records of %s (end %d) not reported as a torn tail: %v", lo, tail.Name, tail.Size, rep), false
		}
	}
	return "", hit
}

// firstNonZero returns the lowest offset of a non-zero byte in g.
func firstNonZero(fs vfs.FS, g vfs.GarbledRange) (int64, bool) {
	f, err := fs.Open(g.Path)
	if err != nil {
		return 0, false // the entry did not survive
	}
	defer f.Close()
	b := make([]byte, g.End-g.Off)
	n, _ := f.ReadAt(b, g.Off)
	for i, c := range b[:n] {
		if c != 0 {
			return g.Off + int64(i), true
		}
	}
	return 0, false
}

// latentRun is a log on a MemFS holding entries [1, n] of generation 1,
// all acknowledged durable (SyncAlways), written as batches of 1 to 4.
type latentRun struct {
	outcomes map[string]int // of crashAndCheck, shared across runs
	mem      *vfs.MemFS
	o        Options
	l        *Log
	last     uint64
}

func newLatentRun(t *testing.T, rng *rand.Rand, n uint64, outcomes map[string]int) *latentRun {
	r := &latentRun{mem: vfs.NewMem(), outcomes: outcomes}
	r.o = Options{FS: r.mem, SegmentSize: 1 << 10, EagerOpen: rng.IntN(2) == 0, NoPreallocate: rng.IntN(2) == 0}
	r.l = mustOpen(t, memDir, &r.o)
	r.write(t, rng, n)
	return r
}

// write appends up to n more entries; it stops at the first error (a
// latent fault may make the log detect damage while writing).
func (r *latentRun) write(t *testing.T, rng *rand.Rand, n uint64) error {
	for end := r.last + n; r.last < end; {
		var b Batch
		k := min(uint64(1+rng.IntN(4)), end-r.last)
		for i := r.last + 1; i <= r.last+k; i++ {
			b.Write(i, payload(i, 1))
		}
		if err := r.l.WriteBatch(&b); err != nil {
			return err
		}
		r.last += k
	}
	return nil
}

// check reads every entry the model holds and verifies the log: every
// payload served must be right; damage must be ErrCorrupt. It returns
// whether damage was detected, and a violation or "".
func (r *latentRun) check(l *Log, what string) (detected bool, why string) {
	first, last, err := l.Bounds()
	if err != nil {
		return false, fmt.Sprintf("%s: Bounds: %v", what, err)
	}
	if first > 1 {
		return false, fmt.Sprintf("%s: first index %d, want 1", what, first)
	}
	for i := uint64(1); i <= max(last, r.last); i++ {
		b, err := l.Read(i)
		switch {
		case err == nil:
			if g, err := checkPayload(i, b); err != nil || g != 1 {
				return detected, fmt.Sprintf("%s: WRONG PAYLOAD at %d: %v (generation %d)", what, i, err, g)
			}
		case errors.Is(err, ErrCorrupt):
			detected = true
		case errors.Is(err, ErrNotFound) && i > last:
		default:
			return detected, fmt.Sprintf("%s: Read(%d): %v", what, i, err)
		}
	}
	switch err := l.Verify(nil); {
	case err == nil:
	case errors.Is(err, ErrCorrupt):
		detected = true
	default:
		return detected, fmt.Sprintf("%s: Verify: %v", what, err)
	}
	return detected, ""
}

// crashAndCheck crashes r's MemFS with a hostile image, reopens it and
// checks it: Open fails with ErrCorrupt, or serves only right payloads and
// drops acknowledged entries only with a report naming the damaged
// offset (dropped) of segment name.
func (r *latentRun) crashAndCheck(rng *rand.Rand, seed uint64, damaged string, off int64) (detected bool, why string) {
	detected, outcome, why := r.crashAndCheckOutcome(rng, seed, damaged, off)
	if why == "" {
		r.outcomes[outcome]++
	}
	return detected, why
}

// crashAndCheckOutcome is crashAndCheck, also naming the outcome.
func (r *latentRun) crashAndCheckOutcome(rng *rand.Rand, seed uint64, damaged string, off int64) (detected bool, outcome, why string) {
	img := r.mem.CrashClone(hostileOptions(rng, seed))
	v := durableDamage(img, DefaultMaxEntrySize)
	o := r.o
	o.FS = img
	l, err := Open(memDir, &o)
	if err != nil {
		if errors.Is(err, ErrCorrupt) && v.proof != "" {
			return true, "ErrCorrupt at Open (the proof walk reaches a marker)", ""
		}
		if errors.Is(err, ErrCorrupt) {
			return true, "ErrCorrupt at Open", ""
		}
		return false, "", fmt.Sprintf("reopen: %v", err)
	}
	defer l.Close()
	rep := l.Recovery()
	if v.proof != "" {
		return false, "", fmt.Sprintf("reopen succeeded although %s (FORMAT.md: ErrCorrupt): %v", v.proof, rep)
	}
	if v.limit != "" {
		// FORMAT.md's documented limit: the damage must be reported as a
		// torn tail dropping exactly [cut, end of file).
		reported := rep.State == RecoveryTornTail && slices.ContainsFunc(rep.Dropped, func(d Dropped) bool {
			return d.Segment == v.name && d.From == v.cut && d.To == v.size
		})
		if !reported {
			return false, "", fmt.Sprintf("reopen succeeded although %s, without reporting a torn tail dropping [%d, %d): %v", v.limit, v.cut, v.size, rep)
		}
		if rep.LastIndex < r.last {
			return true, "torn tail reported (a damaged length hid the marker: FORMAT.md's limit)", ""
		}
	}
	if rep.LastIndex < r.last {
		reported := false
		for _, d := range rep.Dropped {
			reported = reported || (d.Segment == damaged && d.From <= off && off < d.To)
		}
		if !reported {
			return false, "", fmt.Sprintf("reopen dropped acknowledged entries [%d, %d] without reporting the damage at %s offset %d: %v",
				rep.LastIndex+1, r.last, damaged, off, rep)
		}
		return true, "torn tail reported (no marker proved it durable)", ""
	}
	detected, why = r.check(l, "after reopen")
	if detected {
		return true, "opened; reads or Verify report ErrCorrupt", why
	}
	return false, "opened; nothing damaged", why
}

// tailVerdict is what FORMAT.md's recovery step 5 says about the last
// segment of a crash image, read by durableDamage independently of the
// log's scanner.
type tailVerdict struct {
	name string
	cut  int64 // end of the last complete batch or marker
	size int64
	// proof, if not "": the proof walk reaches a marker valid in the
	// segment with S > cut, so Open must fail with ErrCorrupt.
	proof string
	// limit, if not "": a valid marker with S > cut lies after cut, but
	// the proof walk does not reach it (a damaged length stepped over it:
	// FORMAT.md, "Limits, by design"). Open may then succeed only by
	// reporting a torn tail that drops [cut, size).
	limit string
}

// durableDamage reads the last segment file of img as FORMAT.md's recovery
// step 5 and its proof walk say, independently of the log's scanner: if it
// is not sealed and its scan stops at damage before the end of the file, it
// returns what a marker after cut proves.
func durableDamage(img vfs.FS, maxLen int64) tailVerdict {
	names, _ := img.List(memDir)
	names = slices.DeleteFunc(names, func(n string) bool { return !strings.HasSuffix(n, ".wal") })
	if len(names) == 0 {
		return tailVerdict{}
	}
	name := names[len(names)-1]
	f, err := img.Open(path.Join(memDir, name))
	if err != nil {
		return tailVerdict{}
	}
	defer f.Close()
	size, _ := f.Size()
	data := make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) || size < segHeaderSize {
		return tailVerdict{}
	}
	// The header fields FORMAT.md binds markers to: version at 8, salt at
	// 12, seq at 16, first at 24.
	version := binary.LittleEndian.Uint16(data[8:])
	salt := binary.LittleEndian.Uint32(data[12:])
	seq := binary.LittleEndian.Uint64(data[16:])
	first := binary.LittleEndian.Uint64(data[24:])
	if t, ok := decodeSegTrailer(data[max(0, size-segTrailerSize):], size); ok && size >= segHeaderSize+segTrailerSize && t.first == first {
		return tailVerdict{} // sealed: not scanned
	}
	// valid reports whether a marker valid in this segment starts at p, and
	// its value S.
	valid := func(p int64) (int64, bool) {
		h, pl, err := record.Decode(data[p:])
		if err != nil || h.Type != record.Marker || len(pl) == 0 || !record.MarkerKind(pl[0]).Valid() || int64(h.Index) > p {
			return 0, false
		}
		if version >= 2 {
			return int64(h.Index), len(pl) == 13 && binary.LittleEndian.Uint64(pl[1:]) == seq && binary.LittleEndian.Uint32(pl[9:]) == salt
		}
		return int64(h.Index), len(pl) == 1
	}
	// Step 5's scan: stop at the first record that is short, zero, fails its
	// CRC, is out of index sequence, an invalid marker or a marker inside a
	// batch.
	cut, stop, expect, inBatch := int64(segHeaderSize), int64(segHeaderSize), first, false
	for stop < size {
		h, _, err := record.Decode(data[stop:])
		if err != nil || int64(h.Length) > maxLen {
			break
		}
		if h.Type == record.Marker {
			if _, ok := valid(stop); !ok || inBatch {
				break
			}
		} else if h.Index != expect {
			break
		} else {
			expect++
			inBatch = h.Type == record.More
		}
		stop += int64(h.Size())
		if !inBatch {
			cut = stop
		}
	}
	v := tailVerdict{name: name, cut: cut, size: size}
	if stop == size || !slices.ContainsFunc(data[cut:], func(b byte) bool { return b != 0 }) {
		return v
	}
	// The proof walk, from the scan point.
	for p := stop; p+record.HeaderSize <= size; {
		tl := binary.LittleEndian.Uint32(data[p+4:])
		typ, n := tl>>30, int64(tl&(1<<30-1))
		if typ == 0 || n > maxLen {
			q := p + 1
			for ; q+record.HeaderSize <= size; q++ {
				if _, ok := valid(q); ok {
					break
				}
			}
			p = q
			continue
		}
		e := p + record.HeaderSize + n
		if e > size {
			break
		}
		if s, ok := valid(p); ok && s > cut {
			v.proof = fmt.Sprintf("%s is damaged after offset %d and a marker at %d (reached by the proof walk) proves bytes up to %d durable", name, cut, p, s)
			return v
		}
		p = e
	}
	for p := cut; p+record.HeaderSize <= size; p++ {
		if s, ok := valid(p); ok && s > cut {
			v.limit = fmt.Sprintf("%s is damaged after offset %d; a marker at %d proves bytes up to %d durable but the proof walk does not reach it", name, cut, p, s)
			break
		}
	}
	return v
}

// TestFaultModelBitRot flips a bit in synced data: anywhere in a sealed
// segment file (header, records, index block, trailer) or in the records of
// the tail. Reads and Verify must never serve a wrong payload and must
// report ErrCorrupt; after a hostile crash, Open must report ErrCorrupt, or
// serve only right payloads and never drop the damage silently; and the
// damage must be detected somewhere.
func TestFaultModelBitRot(t *testing.T) {
	seeds := faultModelSeeds(40)
	var sealed, tailHits int
	outcomes := map[string]int{}
	for seed := range uint64(seeds) {
		rng := newRand(seed + 9000)
		r := newLatentRun(t, rng, 120, outcomes)
		segs := r.l.Segments()
		var name string
		var off int64
		if seed%3 == 0 { // the tail's synced records
			tl := segs[len(segs)-1]
			// Segments counts the last sync marker, which may still be in
			// the write buffer, over preallocated zeros: flip only bytes of
			// records in the file.
			end := recordsInFile(t, r.mem, tl.Name)
			if end <= segHeaderSize {
				continue
			}
			name, off = tl.Name, segHeaderSize+rng.Int64N(end-segHeaderSize)
			tailHits++
		} else {
			sg := segs[rng.IntN(len(segs)-1)]
			fi, err := r.mem.Stat(path.Join(memDir, sg.Name))
			if err != nil {
				t.Fatal(err)
			}
			name, off = sg.Name, rng.Int64N(fi.Size())
			sealed++
		}
		// The tail's last bytes (a sync marker) may still be buffered.
		for r.mem.FlipBit(path.Join(memDir, name), off, uint(rng.IntN(8))) != nil {
			if off <= segHeaderSize {
				t.Fatalf("seed %d: no synced byte in %s", seed, name)
			}
			off = segHeaderSize + rng.Int64N(off-segHeaderSize)
		}
		detected, why := r.check(r.l, "live log")
		if why != "" {
			t.Fatalf("seed %d: bit rot in %s at %d: %s", seed, name, off, why)
		}
		// Power loss with the log still open: the tail is scanned.
		d2, why := r.crashAndCheck(rng, seed, name, off)
		r.l.Close()
		if why != "" {
			t.Fatalf("seed %d: bit rot in %s at %d: %s", seed, name, off, why)
		}
		if !detected && !d2 {
			t.Errorf("seed %d: bit rot in %s at %d was never detected", seed, name, off)
		}
	}
	t.Logf("%d seeds: %d bit flips in sealed segments, %d in the tail's synced records; after a crash: %v", seeds, sealed, tailHits, outcomes)
}

// recordsInFile returns the end of the run of valid records from the
// header of segment file name.
func recordsInFile(t *testing.T, mem *vfs.MemFS, name string) int64 {
	f, err := mem.Open(path.Join(memDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		t.Fatal(err)
	}
	end := int64(segHeaderSize)
	rd := record.NewReader(io.NewSectionReader(f, segHeaderSize, size-segHeaderSize), 1<<16, DefaultMaxEntrySize)
	for {
		off, h, _, err := rd.Next()
		if err != nil {
			return end
		}
		end = segHeaderSize + off + int64(h.Size())
	}
}

// TestFaultModelMisdirectedWrites sends one write of the log to the wrong
// offset of its file or into another segment file, then keeps writing.
// Reads and Verify must never serve a wrong payload, the live log or the
// reopened one must detect the damage (ErrCorrupt), and a reopen drops
// acknowledged entries only with a report.
func TestFaultModelMisdirectedWrites(t *testing.T) {
	seeds := faultModelSeeds(40)
	fired := 0
	outcomes := map[string]int{}
	for seed := range uint64(seeds) {
		rng := newRand(seed + 11000)
		r := newLatentRun(t, rng, 60, outcomes)
		segs := r.l.Segments()
		// A sealed segment: the tail's handle may still carry its prepare
		// name, so a write "into" the tail by its final name is no fault.
		other := path.Join(memDir, segs[rng.IntN(len(segs)-1)].Name)
		shift := int64(rng.IntN(5)-2) * vfs.CrashSectorSize
		if shift == 0 {
			shift = int64(1 + rng.IntN(64))
		}
		intoOther := rng.IntN(2) == 0
		r.mem.MisdirectWrite(vfs.Misdirection{
			Match: func(name string) bool {
				return strings.HasSuffix(name, ".wal") || strings.Contains(name, "prepare-")
			},
			Redirect: func(name string, off int64) (string, int64) {
				if intoOther && other != name {
					return other, off
				}
				return name, max(0, off+shift)
			},
		})
		werr := r.write(t, rng, 60)
		lf := r.mem.LatentFaults()
		if len(lf) == 0 {
			continue
		}
		fired++
		f := lf[0]
		detected, why := r.check(r.l, "live log")
		if why != "" {
			t.Fatalf("seed %d: %v: %s", seed, f, why)
		}
		d2, why := r.crashAndCheck(rng, seed, path.Base(f.IntendedPath), f.IntendedOff)
		r.l.Close()
		if why != "" {
			t.Fatalf("seed %d: %v: %s", seed, f, why)
		}
		if !detected && !d2 && werr == nil {
			t.Errorf("seed %d: %v was never detected", seed, f)
		}
	}
	t.Logf("%d seeds: %d misdirected writes; after a crash: %v", seeds, fired, outcomes)
}

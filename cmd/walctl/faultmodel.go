package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math/rand/v2"
	"path"
	"sync"
	"text/tabwriter"

	"github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// The --fault-model mode of crashtest runs the library against a simulated
// hostile disk, in memory (vfs.MemFS), in this process: no file is written.
// Each round runs a workload (batches, both truncations, syncs) on a fresh
// in-memory log and takes crash images at random filesystem operations,
// tearing each unsynced 4 KiB page into 512 B sectors, keeping, dropping or
// garbling them, losing unsynced truncates and the entries of never-synced
// files. Every image is opened as after a power loss and checked: Open
// succeeds (only unsynced state was damaged), every entry is intact, at its
// index, of a generation the model allows (no stale or resurrected entry),
// nothing acknowledged is lost, and the recovery report names what it
// dropped. Every fourth round also rots a bit of a sealed segment: reads
// must then fail with ErrCorrupt or return the right entry, never another.

const fmDir = "/log"

// fmModel is what the log holds between operations: its range and each
// entry's generation. Every write is acknowledged durable (SyncAlways).
type fmModel struct {
	first, last uint64
	gen         map[uint64]uint64
}

func (m fmModel) clone() fmModel { return fmModel{m.first, m.last, maps.Clone(m.gen)} }

// fmPayload is a self-verifying entry: index, generation, filler, CRC.
func fmPayload(index, gen uint64, filler int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, index)
	b = binary.LittleEndian.AppendUint64(b, gen)
	for i := range filler {
		b = append(b, byte(index)+byte(i))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// fmCheck returns the generation of a payload read at index.
func fmCheck(index uint64, b []byte) (uint64, error) {
	if len(b) < 20 || crc32.ChecksumIEEE(b[:len(b)-4]) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return 0, fmt.Errorf("entry %d: damaged payload served (%d bytes)", index, len(b))
	}
	if got := binary.LittleEndian.Uint64(b); got != index {
		return 0, fmt.Errorf("entry %d: payload of entry %d served", index, got)
	}
	return binary.LittleEndian.Uint64(b[8:]), nil
}

// fmImage is one crash image and the models before and after the call in
// flight.
type fmImage struct {
	fs            *vfs.MemFS
	rep           vfs.CrashReport
	before, after fmModel
	at            string
}

// fmRecorder takes crash images at random filesystem operations.
type fmRecorder struct {
	mu            sync.Mutex
	mem           *vfs.MemFS
	rng           *rand.Rand
	n             int
	before, after fmModel
	desc          string
	images        []fmImage
}

func (r *fmRecorder) MaybeError(op errorfs.Op, p string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.rng.IntN(6) == 0 {
		opts := vfs.CrashOptions{
			KeepUnsyncedBlocks: []float64{0, 0.3, 0.7}[r.rng.IntN(3)],
			KeepUnsyncedDirOps: []float64{0, 0.5, 1}[r.rng.IntN(3)],
			TearPages:          0.5,
			GarbleUnsynced:     []float64{0.3, 1}[r.rng.IntN(2)],
			LoseNeverSynced:    r.rng.IntN(2) == 0,
			Rand:               rand.New(rand.NewPCG(r.rng.Uint64(), 1)),
		}
		img, rep := r.mem.CrashCloneReport(opts)
		r.images = append(r.images, fmImage{img, rep, r.before, r.after, fmt.Sprintf("fs op %d (%v %s) during %s", r.n, op, path.Base(p), r.desc)})
	}
	return nil
}

func (r *fmRecorder) pending(before, after fmModel, desc string) {
	r.mu.Lock()
	r.before, r.after, r.desc = before, after, desc
	r.mu.Unlock()
}

// fmStats summarises a fault-model run.
type fmStats struct {
	rounds, images, faults, garbled, bitFlips, corruptReads int
	recoveries                                              map[string]int
}

// runFaultModel runs o.kills rounds of the fault model.
func runFaultModel(ctx context.Context, o crashOptions, out io.Writer, prog progress) error {
	fmt.Fprintf(out, "crashtest --fault-model: %d rounds on an in-memory hostile disk, segment size %d, seed %d (rerun with --seed %d)\n",
		o.kills, o.segmentSize, o.seed, o.seed)
	st := fmStats{recoveries: map[string]int{}}
	var violations []string
	rng := rand.New(rand.NewPCG(o.seed, 0xfa17))
	for round := 1; round <= o.kills && len(violations) == 0; round++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := fmRound(o, rng, round, &st)
		if err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		violations = append(violations, v...)
		st.rounds++
		prog.set(int64(round), int64(o.kills), "")
	}
	prog.finish()
	fmSummary(out, st, violations)
	if len(violations) > 0 {
		return fmt.Errorf("%w: %d violations under the fault model", errCheckFailed, len(violations))
	}
	return nil
}

// fmRound runs one workload with crash images, checks every image, and
// every fourth round a bit flip. An error means the workload itself failed.
func fmRound(o crashOptions, rng *rand.Rand, round int, st *fmStats) ([]string, error) {
	mem := vfs.NewMem()
	m := fmModel{first: 1, gen: map[uint64]uint64{}}
	rec := &fmRecorder{mem: mem, rng: rand.New(rand.NewPCG(rng.Uint64(), 2)), before: m, after: m, desc: "Open"}
	opts := wal.Options{SegmentSize: o.segmentSize, NoPreallocate: rng.IntN(2) == 0}
	opts.FS = errorfs.Wrap(mem, rec)
	l, err := wal.Open(fmDir, &opts)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	gen := uint64(1)
	for step := 0; step < 150; step++ {
		after := m.clone()
		desc, call := fmStep(rng, &after, &gen, o.maxFiller)
		rec.pending(m, after, desc)
		if err := call(l); err != nil {
			return nil, fmt.Errorf("%s: %w", desc, err)
		}
		m = after
		rec.pending(m, m, "between operations")
	}
	var v []string
	for _, img := range rec.images {
		st.images++
		st.faults += img.rep.Faults()
		st.garbled += img.rep.GarbledPages + img.rep.GarbledSectors
		if why := fmCheckImage(img, opts, st); why != "" {
			v = append(v, fmt.Sprintf("round %d, crash at %s: %s", round, img.at, why))
		}
	}
	if round%4 == 0 {
		if why := fmBitRot(l, mem, m, rng, st); why != "" {
			v = append(v, fmt.Sprintf("round %d: %s", round, why))
		}
	}
	return v, nil
}

// fmStep draws one operation, applies it to m and returns it.
func fmStep(rng *rand.Rand, m *fmModel, gen *uint64, maxFiller int) (string, func(*wal.Log) error) {
	switch r := rng.IntN(20); {
	case r < 14 || m.last < m.first:
		n := 1 + rng.IntN(4)
		var b wal.Batch
		for i := m.last + 1; i <= m.last+uint64(n); i++ {
			b.Write(i, fmPayload(i, *gen, rng.IntN(maxFiller+1)))
			m.gen[i] = *gen
		}
		m.last += uint64(n)
		return fmt.Sprintf("batch of %d", n), func(l *wal.Log) error { return l.WriteBatch(&b) }
	case r < 16:
		k := min(m.first+uint64(rng.IntN(20)), m.last+1)
		m.first = k
		return fmt.Sprintf("TruncateFront(%d)", k), func(l *wal.Log) error { return l.TruncateFront(k) }
	case r < 19:
		k := max(m.first, m.last-min(m.last, uint64(rng.IntN(20))))
		m.last = k
		*gen++
		return fmt.Sprintf("TruncateBack(%d)", k), func(l *wal.Log) error { return l.TruncateBack(k) }
	}
	return "Sync", func(l *wal.Log) error { return l.Sync() }
}

// fmCheckImage opens a crash image and returns why it violates the model.
func fmCheckImage(img fmImage, opts wal.Options, st *fmStats) string {
	opts.FS = img.fs
	l, err := wal.Open(fmDir, &opts)
	if err != nil {
		return fmt.Sprintf("Open failed although only unsynced state was damaged: %v", err)
	}
	defer l.Close()
	rep := l.Recovery()
	st.recoveries[rep.State.String()]++
	if rep.State == wal.RecoveryTornTail && len(rep.Dropped) == 0 {
		return fmt.Sprintf("torn tail reported without what was dropped: %v", rep)
	}
	for _, d := range rep.Dropped {
		if d.FirstIndex > 0 && d.FirstIndex <= rep.LastIndex {
			return fmt.Sprintf("reports entries [%d, %d] dropped but serves up to %d", d.FirstIndex, d.LastIndex, rep.LastIndex)
		}
	}
	why1 := fmMatches(l, img.before)
	if why1 == "" {
		return ""
	}
	if why2 := fmMatches(l, img.after); why2 != "" {
		return fmt.Sprintf("recovered log matches neither the state before the call (%s) nor after it (%s); report: %v", why1, why2, rep)
	}
	return ""
}

// fmMatches reports why l is not m (every entry acknowledged durable), or "".
func fmMatches(l *wal.Log, m fmModel) string {
	first, err1 := l.FirstIndex()
	last, err2 := l.LastIndex()
	if err := errors.Join(err1, err2); err != nil {
		return err.Error()
	}
	wantFirst := m.first
	if m.first == 1 && m.last == 0 {
		wantFirst = 0 // FirstIndex of a log never written
	}
	if first != wantFirst || last != m.last {
		return fmt.Sprintf("bounds [%d, %d], model [%d, %d]", first, last, m.first, m.last)
	}
	for i := m.first; i <= m.last; i++ {
		b, err := l.Read(i)
		if err != nil {
			return fmt.Sprintf("Read(%d): %v", i, err)
		}
		g, err := fmCheck(i, b)
		if err != nil {
			return err.Error()
		}
		if g != m.gen[i] {
			return fmt.Sprintf("entry %d of generation %d, model %d (stale or resurrected)", i, g, m.gen[i])
		}
	}
	return ""
}

// fmBitRot flips a bit in the records of a sealed segment of the live log
// l: every read must return the right entry or ErrCorrupt, and Verify must
// report ErrCorrupt.
func fmBitRot(l *wal.Log, mem *vfs.MemFS, m fmModel, rng *rand.Rand, st *fmStats) string {
	if err := l.Sync(); err != nil {
		return fmt.Sprintf("Sync: %v", err)
	}
	segs := l.Segments()
	if len(segs) < 2 || segs[0].Size <= 40 || !segs[0].Sealed {
		return ""
	}
	s := segs[rng.IntN(len(segs)-1)]
	if s.Size <= 40 {
		return ""
	}
	off := 40 + rng.Int64N(s.Size-40) // the records, after the 40-byte header
	if err := mem.FlipBit(path.Join(fmDir, s.Name), off, uint(rng.IntN(8))); err != nil {
		return fmt.Sprintf("FlipBit: %v", err)
	}
	st.bitFlips++
	for i := max(m.first, s.FirstIndex); i <= min(m.last, s.LastIndex); i++ {
		b, err := l.Read(i)
		switch {
		case errors.Is(err, wal.ErrCorrupt):
			st.corruptReads++
		case err != nil:
			return fmt.Sprintf("bit rot in %s at %d: Read(%d): %v", s.Name, off, i, err)
		default:
			if g, err := fmCheck(i, b); err != nil || g != m.gen[i] {
				return fmt.Sprintf("bit rot in %s at %d: Read(%d) served a wrong entry: %v", s.Name, off, i, err)
			}
		}
	}
	if err := l.Verify(nil); !errors.Is(err, wal.ErrCorrupt) {
		return fmt.Sprintf("bit rot in %s at %d: Verify = %v, want ErrCorrupt", s.Name, off, err)
	}
	return ""
}

func fmSummary(out io.Writer, s fmStats, violations []string) {
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "rounds\t%d\n", s.rounds)
	fmt.Fprintf(tw, "crash states\t%d\n", s.images)
	fmt.Fprintf(tw, "crash faults\t%d (%d pages or sectors garbled; the rest dropped pages and sectors, lost truncates and directory entries)\n", s.faults, s.garbled)
	fmt.Fprintf(tw, "bit flips\t%d (%d reads reported ErrCorrupt)\n", s.bitFlips, s.corruptReads)
	var recs []string
	for _, name := range []string{"new", "clean", "zeroed-tail", "torn-tail", "point-in-time"} {
		if n := s.recoveries[name]; n > 0 {
			recs = append(recs, fmt.Sprintf("%s %d", name, n))
		}
	}
	fmt.Fprintf(tw, "recoveries\t%v\n", recs)
	fmt.Fprintf(tw, "violations\t%d\n", len(violations))
	result := "ok: no wrong entry served, nothing acknowledged lost, every drop reported"
	if len(violations) > 0 {
		result = "FAILED"
	}
	fmt.Fprintf(tw, "result\t%s\n", result)
	tw.Flush()
	for i, x := range violations {
		if i == maxViolations {
			fmt.Fprintf(out, "  ... and %d more\n", len(violations)-maxViolations)
			break
		}
		fmt.Fprintf(out, "  violation: %s\n", x)
	}
}

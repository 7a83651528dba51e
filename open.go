package wal

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/waldb/wal/vfs"
)

// Open opens the log in dir, creating the directory and an empty log if
// needed, and recovers it (see Report and FORMAT.md). A nil opts means
// defaults. Open takes an exclusive lock on the directory: a second Open,
// in this process or another, fails with ErrLocked until Close.
//
// Open proceeds as a pipeline: lock, list, load META, load segments, apply
// resets and truncations, recover the tail, apply the front, start writing.
func Open(dir string, opts *Options) (*Log, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, opts: o, fs: o.FS, ev: newEvents(&o)}
	l.cond.L, l.roomCond.L = &l.mu, &l.mu
	r := &opener{l: l, rep: &l.report}
	if err := r.run(); err != nil {
		r.abort()
		l.ev.close()
		return nil, err
	}
	l.publish()
	l.startBackground()
	l.ev.recovered(dir, l.report)
	return l, nil
}

// OpenReadOnly opens the log in dir for inspection. It takes no lock and
// changes nothing on disk, so it works beside a writer in another process
// and on a damaged log. It serves entries as Open's recovery would leave
// them (what a torn tail would lose is not served), and Recovery() reports
// what Open would do, with Report.DryRun set. Writes and truncations return
// ErrReadOnly; Refresh picks up what a writer appended since.
//
// A read-only log reads with pread, never a memory map: a writer in
// another process may shorten segment files, and touching a mapped page
// past the end of a file kills the process (SIGBUS). A read racing such a
// change may fail with ErrCorrupt; Refresh and read again.
func OpenReadOnly(dir string, opts *Options) (*Log, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	o.NoMmap = true
	l := &Log{dir: dir, opts: o, fs: o.FS, readOnly: true}
	l.cond.L, l.roomCond.L = &l.mu, &l.mu
	l.report.DryRun = true
	r := &opener{l: l, rep: &l.report}
	if err := r.run(); err != nil {
		r.abort()
		return nil, err
	}
	l.publish()
	return l, nil
}

// Refresh re-reads a read-only log's directory, picking up entries another
// process appended and truncations it made. Iterators keep working. On a
// log opened with Open it does nothing and returns nil (ErrClosed once
// closed): that log holds the directory's lock, so no other process
// changes it, and it always shows its own writes.
func (l *Log) Refresh() error {
	if !l.readOnly {
		if l.isClosed() {
			return ErrClosed
		}
		return nil
	}
	n, err := OpenReadOnly(l.dir, &l.opts)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		n.Close()
		return ErrClosed
	}
	old := l.sealed
	if n.meta.back != l.meta.back || n.meta.backSeq != l.meta.backSeq {
		l.noteBack(n.meta.back) // the writer cut the log: rewind iterators
	}
	if len(n.sealed) > 0 && n.sealed[0].flags&flagReset != 0 && (len(old) == 0 || old[0].seq != n.sealed[0].seq) {
		l.noteBack(n.first - 1) // the writer reset the log
	}
	l.sealed, l.first, l.last, l.meta, l.report = n.sealed, n.first, n.last, n.meta, n.report
	l.wake()
	l.publish()
	for _, s := range old {
		s.retire()
	}
	return nil
}

// opener holds the state of one Open.
type opener struct {
	l        *Log
	rep      *Report
	names    []string
	segs     []*segment // sorted by seq
	hasMeta  bool
	resetSeq uint64
	removed  bool
	stateSet bool
}

func (r *opener) run() error {
	for _, step := range []func() error{
		r.lockDir, r.loadMeta, r.loadSegments, r.applyReset, r.checkSegments,
		// Removals are made durable before finishTail starts preparing
		// the next segment in the background: that Create racing the
		// directory fsync could make its temporary file durable, and a
		// crash right after Open would find recovery work again.
		r.applyFront, r.syncRemovals, r.finishTail,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	l := r.l
	r.rep.FirstIndex = l.reportedFirst()
	r.rep.LastIndex = l.last
	r.rep.Segments = len(l.sealed)
	if l.tail != nil {
		r.rep.Segments++
	}
	return nil
}

// abort releases what a failed Open acquired.
func (r *opener) abort() {
	for _, s := range append(r.segs, r.l.sealed...) {
		s.retire()
	}
	if r.l.tail != nil {
		r.l.tail.retire()
	}
	if r.l.lock != nil {
		_ = r.l.lock.Close()
	}
	if r.l.readOnly {
		for _, s := range r.l.sealed {
			s.retire()
		}
	}
}

// lockDir creates the directory, refuses one that holds foreign files and
// nothing of a log, and takes the lock.
func (r *opener) lockDir() error {
	l := r.l
	if l.readOnly {
		if _, err := l.fs.Stat(l.dir); err != nil {
			return fmt.Errorf("wal: %w", err)
		}
	} else if err := r.makeDir(); err != nil {
		return err
	}
	names, err := l.fs.List(l.dir)
	if err != nil {
		return fmt.Errorf("wal: listing %s: %w", l.dir, err)
	}
	ours := false
	for _, n := range names {
		if _, _, ok := parseSegmentName(n); ok || n == lockName || n == metaName || strings.HasSuffix(n, tmpSuffix) {
			ours = true
		}
	}
	if !ours && len(names) > 0 {
		return fmt.Errorf("%w: %s holds %d entries (such as %q) and no log files", ErrNotLog, l.dir, len(names), names[0])
	}
	r.names = names
	if l.readOnly {
		if !ours {
			return fmt.Errorf("%w: %s is empty", ErrNotLog, l.dir)
		}
		return nil
	}
	lk, err := l.fs.Lock(joinPath(l.dir, lockName))
	if errors.Is(err, vfs.ErrLocked) {
		return fmt.Errorf("%w: %s", ErrLocked, l.dir)
	}
	if err != nil {
		return fmt.Errorf("wal: locking %s: %w", l.dir, err)
	}
	l.lock = lk
	return nil
}

// makeDir creates the log directory and any missing parents with
// vfs.MkdirAllSynced, which fsyncs the parent of each directory it created:
// a new directory entry, like a file's, is durable only after its parent is
// synced.
func (r *opener) makeDir() error {
	if err := vfs.MkdirAllSynced(r.l.fs, r.l.dir, 0o755); err != nil {
		return fmt.Errorf("wal: creating directory: %w", err)
	}
	return nil
}

// loadMeta reads the META file if present.
func (r *opener) loadMeta() error {
	m, ok, err := readMetaFile(r.l.fs, r.l.dir)
	if err != nil || !ok {
		return err
	}
	r.l.meta, r.hasMeta = m, true
	return nil
}

// loadSegments opens every segment file, checks its header, and removes
// leftover temporary files.
func (r *opener) loadSegments() error {
	type named struct {
		name       string
		seq, first uint64
	}
	var found []named
	for _, n := range r.names {
		seq, first, ok := parseSegmentName(n)
		switch {
		case ok:
			found = append(found, named{n, seq, first})
		case strings.HasSuffix(n, tmpSuffix):
			if err := r.remove(n, "temporary file of an unfinished creation"); err != nil {
				return err
			}
		case n != lockName && n != metaName:
			r.rep.Ignored = append(r.rep.Ignored, n)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].seq < found[j].seq })
	// Segments between the first and the last two may be left closed
	// until first use (see lazyEnd); the others are opened and checked
	// now. Open every file first and hint the kernel to fetch each header
	// and trailer (the only bytes Open reads of a sealed segment), so that
	// on a cold cache those reads overlap on the device instead of costing
	// one random read after another per segment.
	hi := r.lazyEnd(len(found), func(i int) (uint64, uint64) { return found[i].seq, found[i].first })
	lazy := func(i int) bool { return i >= 1 && i < hi }
	files := make([]openedFile, len(found))
	for i, n := range found {
		if lazy(i) {
			continue
		}
		of, err := r.openFile(n.name)
		if err != nil {
			closeFiles(files[:i])
			return err
		}
		files[i] = of
		if p, ok := of.f.(vfs.Prefetcher); ok && of.size >= segHeaderSize {
			p.Prefetch(0, segHeaderSize)
			if of.size >= segHeaderSize+segTrailerSize {
				p.Prefetch(of.size-segTrailerSize, segTrailerSize)
			}
		}
	}
	for i, n := range found {
		if lazy(i) {
			s := newSegment(nil, r.l.dir, n.name, segHeader{seq: n.seq, first: n.first})
			s.lazy = &lazyOpen{fs: r.l.fs, noMmap: r.l.opts.NoMmap}
			r.segs = append(r.segs, s)
			continue
		}
		s, err := r.openSegment(files[i], n.name, n.seq, n.first, i == len(found)-1)
		if err != nil {
			closeFiles(files[i+1:])
			return err
		}
		if s != nil {
			r.segs = append(r.segs, s)
		}
	}
	return nil
}

// lazyEnd returns hi such that segments [1, hi) of the n in seq order may
// be left closed until first use (none if hi <= 1). Never the first: only
// the oldest segment and the newest can be reset segments (Reset deletes
// every older segment before any newer one is created, failing the log if
// it cannot; TruncateFront deletes from the front), and a reset segment's
// seq decides which META fields still hold.
// Never the last two: the last may be an unfinished creation that
// recovery removes, and the one before it then becomes the last, which
// recovery may unseal. A segment in between qualifies when its file name
// alone tells Open all it needs:
//   - its successor's first index is not below its own, so its entry count
//     is known (a decreasing first index is damage, which the eager checks
//     report);
//   - no interrupted TruncateBack may need to cut it: if META's backSeq
//     covers it, its entries (up to its successor's first index) are all
//     at or below META's back.
//
// A read-only log, and Options.EagerOpen, open every segment.
func (r *opener) lazyEnd(n int, at func(i int) (seq, first uint64)) int {
	l := r.l
	if l.readOnly || l.opts.EagerOpen {
		return 0
	}
	hi := 1
	for ; hi+2 < n; hi++ {
		seq, first := at(hi)
		_, next := at(hi + 1)
		if next < first {
			break
		}
		if m := l.meta; r.hasMeta && m.backSeq > 0 && seq <= m.backSeq && next-1 > m.back {
			break
		}
	}
	return hi
}

// openedFile is a segment file opened by loadSegments, with its size.
type openedFile struct {
	f    vfs.File
	size int64
}

// closeFiles closes the files opened (lazily opened segments' slots are
// empty).
func closeFiles(fs []openedFile) {
	for _, of := range fs {
		if of.f != nil {
			_ = of.f.Close()
		}
	}
}

// openFile opens segment file name (read-write unless the log is
// read-only) and reads its size.
func (r *opener) openFile(name string) (openedFile, error) {
	l := r.l
	open := l.fs.OpenReadWrite
	if l.readOnly {
		open = l.fs.Open
	}
	f, err := open(joinPath(l.dir, name))
	if err != nil {
		return openedFile{}, fmt.Errorf("wal: opening segment %s: %w", name, err)
	}
	size, err := f.Size()
	if err != nil {
		f.Close()
		return openedFile{}, fmt.Errorf("wal: segment %s: %w", name, err)
	}
	return openedFile{f, size}, nil
}

// openSegment validates the header of an opened segment file and takes
// ownership of it. A last segment with no valid header and nothing but
// zeros is an unfinished creation and is removed (nil, nil): the log
// writes a header durably before naming a segment, so no acknowledged
// entry can live there.
func (r *opener) openSegment(of openedFile, name string, seq, first uint64, isLast bool) (*segment, error) {
	l, f, size := r.l, of.f, of.size
	hb := make([]byte, segHeaderSize)
	if size >= segHeaderSize {
		if _, err := f.ReadAt(hb, 0); err != nil {
			f.Close()
			return nil, fmt.Errorf("wal: segment %s: reading header: %w", name, err)
		}
	}
	h, herr := decodeSegHeader(hb)
	if herr == nil && (h.seq != seq || h.first != first) {
		herr = fmt.Errorf("header says seq %d first %d", h.seq, h.first)
	}
	if herr != nil {
		// Recovery table (rtable.go): blank or damaged.
		in := tailInput{header: hdrDamaged, last: isLast}
		if zero, _ := allZero(f, 0, size); zero {
			in.header = hdrBlank
		}
		f.Close()
		if decide(in).v == vRemove {
			return nil, r.remove(name, "empty segment of an unfinished creation")
		}
		return nil, corruptf("segment %s offset 0: %v", name, herr)
	}
	return newSegment(f, l.dir, name, h), nil
}

// applyReset drops segments superseded by the newest reset segment.
func (r *opener) applyReset() error {
	keep := 0
	for i, s := range r.segs {
		if s.flags&flagReset != 0 {
			keep, r.resetSeq = i, s.seq
		}
	}
	for _, s := range r.segs[:keep] {
		if err := r.dropSegment(s, "superseded by a reset"); err != nil {
			return err
		}
	}
	r.segs = r.segs[keep:]
	if r.hasMeta && r.l.meta.backSeq < r.resetSeq {
		r.l.meta.back, r.l.meta.backSeq = 0, 0
	}
	return nil
}

// remove deletes a file of the directory and records why; read-only, it
// only records it.
func (r *opener) remove(name, why string) error {
	if r.l.readOnly {
		r.rep.Removed = append(r.rep.Removed, Removal{Name: name, Reason: why})
		return nil
	}
	if err := r.l.fs.Remove(joinPath(r.l.dir, name)); err != nil {
		return fmt.Errorf("wal: removing %s: %w", name, err)
	}
	r.rep.Removed = append(r.rep.Removed, Removal{Name: name, Reason: why})
	r.removed = true
	return nil
}

func (r *opener) dropSegment(s *segment, why string) error {
	s.retire()
	return r.remove(s.name, why)
}

// syncRemovals makes the removals durable: fsync of the directory, so a
// removed segment cannot reappear after a crash.
func (r *opener) syncRemovals() error {
	if !r.removed || r.l.readOnly {
		return nil
	}
	if err := r.l.fs.SyncDir(r.l.dir); err != nil {
		return fmt.Errorf("wal: syncing directory: %w", err)
	}
	return nil
}

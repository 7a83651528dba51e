package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/waldb/wal"
)

// repairPlan is what repair will do to one log, worked out read-only. See
// the repair command's help for the cases.
type repairPlan struct {
	dir string
	// diagnosis lists what is wrong, in the library's words.
	diagnosis []string
	// mode is the recovery mode of the wal.Open that performs recovery:
	// TolerateTornTail, or PointInTime when damaged durable bytes end the
	// tail segment.
	mode wal.RecoveryMode
	// recovery is what that Open will do (its dry-run report).
	recovery wal.Report
	// quarantine lists segment files moved out of the log before the
	// Open: the first segment that breaks the log and all after it.
	quarantine []segFile
	// reappend, if set, names the quarantined segments whose entries
	// continue the kept log and are written back after the Open.
	reappend *reappendPlan
	// cut, if not 0, is the first entry that cannot be read: the log is cut
	// just before it (TruncateBack(cut-1), or Reset(cut) if it is the first).
	cut uint64
	// first, last: the entries the repaired log will hold (last < first:
	// none; the next index is last+1).
	first, last uint64
	// regions are the bytes leaving the log, to salvage from.
	regions []scanRegion
	// salvageable counts the readable entry records found in them.
	salvageable int
	// backup lists the files (names in dir) to copy before any change.
	backup []string
	// refuse, if set, is why repair will not change anything.
	refuse string
}

// reappendPlan: entries [first, last] of the quarantined segments files
// (a valid log by themselves, judged by wal.OpenReadOnly with META) are
// appended to the repaired log after its last entry, first-1.
type reappendPlan struct {
	files       []string // META (if any) and the segments, names in the backup
	mode        wal.RecoveryMode
	first, last uint64
}

// lossy reports whether the plan may take out of the log entries that
// were durable (acknowledged): everything but the log's own torn-tail
// recovery, and a quarantine whose every readable entry is re-appended.
func (p *repairPlan) lossy() bool {
	return p.mode == wal.PointInTime || p.cut > 0 ||
		len(p.quarantine) > 0 && (p.reappend == nil || p.salvageable > 0)
}

// empty reports whether there is nothing to do.
func (p *repairPlan) empty() bool {
	return !p.lossy() && len(p.recovery.Dropped) == 0 && len(p.recovery.Removed) == 0
}

// diagnose works out the repair of the log in dir without changing it.
func diagnose(dir string) (*repairPlan, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	p := &repairPlan{dir: dir}
	if _, err := readMeta(dir); errors.Is(err, wal.ErrCorrupt) {
		p.diagnosis = append(p.diagnosis, err.Error())
		p.refuse = "META is damaged, so repair cannot tell which entries truncations removed and could bring them back; " +
			"restore META from a backup, or remove it by hand if entries removed by TruncateFront and TruncateBack may reappear"
		return p, nil
	} else if err != nil {
		return nil, err
	}
	l, err := p.openKept()
	if err != nil || l == nil {
		return p, err
	}
	defer l.Close()
	if err := p.checkKept(l); err != nil {
		return nil, err
	}
	p.planBackup(l)
	p.salvageable, err = salvage(dir, p.regions, nil)
	return p, err
}

// openKept opens, read-only, the part of the log repair keeps: the whole
// log if it opens, else what point-in-time recovery keeps, else the longest
// prefix of segments that forms a log (the rest is quarantined). nil, nil:
// nothing can be kept (p.refuse says why).
func (p *repairPlan) openKept() (*wal.Log, error) {
	l, err := wal.OpenReadOnly(p.dir, inspectOptions(wal.TolerateTornTail))
	if err == nil || !errors.Is(err, wal.ErrCorrupt) {
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", p.dir, err)
		}
		return l, nil
	}
	p.diagnosis = append(p.diagnosis, err.Error())
	if l, err = wal.OpenReadOnly(p.dir, inspectOptions(wal.PointInTime)); err == nil {
		p.mode = wal.PointInTime
		return l, nil
	}
	return p.openPrefix()
}

// openPrefix finds the longest prefix of the segments (in seq order) that,
// with META, opens as a log, and plans to quarantine the rest.
func (p *repairPlan) openPrefix() (*wal.Log, error) {
	segs, err := listSegments(p.dir)
	if err != nil {
		return nil, err
	}
	meta := metaFiles(p.dir)
	for n := len(segs) - 1; n > 0; n-- {
		v, err := newView(p.dir, append(slices.Clone(meta), segNames(segs[:n])...))
		if err != nil {
			return nil, err
		}
		l, mode, err := v.open(wal.TolerateTornTail, wal.PointInTime)
		v.remove() // an open log keeps its files open; the links can go
		if err != nil {
			continue
		}
		p.mode, p.quarantine = mode, segs[n:]
		if m, _ := readMeta(p.dir); m != nil && m.BackSeq > segs[n-1].Seq {
			// Open would give the new tail segment the sequence number
			// after the last kept one, at or below META's backSeq, and the
			// next Open would void every entry appended to it (see
			// FORMAT.md, TruncateBack): refuse rather than lose them.
			l.Close()
			p.refuse = fmt.Sprintf("the segments to keep end at sequence number %d, below the %d META's last TruncateBack recorded; "+
				"entries appended after such a repair would be voided by the next Open", segs[n-1].Seq, m.BackSeq)
			return nil, nil
		}
		return l, p.planReappend(l)
	}
	p.refuse = "no prefix of the segment files forms a log that can be opened; restore the damaged files from a backup"
	return nil, nil
}

// planReappend plans to write back the entries of the quarantined
// segments if they form a log that continues the kept one exactly.
func (p *repairPlan) planReappend(kept *wal.Log) error {
	_, last, _, err := bounds(kept)
	if err != nil {
		return err
	}
	meta := metaFiles(p.dir)
	for n := len(p.quarantine); n > 0; n-- {
		files := append(slices.Clone(meta), segNames(p.quarantine[:n])...)
		v, err := newView(p.dir, files)
		if err != nil {
			return err
		}
		l, mode, err := v.open(wal.TolerateTornTail, wal.PointInTime)
		v.remove()
		if err != nil {
			continue
		}
		defer l.Close()
		first, qlast, count, err := bounds(l)
		if err != nil || count == 0 || first != last+1 {
			return err
		}
		if verr := l.Verify(nil); verr != nil {
			// Re-append only up to the first entry that cannot be read.
			if k, ok := firstUnreadable(l, splitJoined(verr)); ok {
				qlast = k - 1
			}
		}
		if qlast >= first {
			p.reappend = &reappendPlan{files: files, mode: mode, first: first, last: qlast}
		}
		return nil
	}
	return nil
}

// checkKept verifies the kept log and plans the cut before its first
// unreadable entry, and works out the repaired log's bounds.
func (p *repairPlan) checkKept(l *wal.Log) error {
	p.recovery = l.Recovery()
	first, last, _, err := bounds(l)
	if err != nil {
		return err
	}
	p.first, p.last = first, last
	if verr := l.Verify(nil); verr != nil {
		problems := splitJoined(verr)
		p.diagnosis = append(p.diagnosis, problems...)
		if k, ok := firstUnreadable(l, problems); ok {
			p.cut, p.last, p.reappend = k, k-1, nil
		} else {
			p.refuse = "the damage found costs no entry (every entry reads back), so repair has nothing to cut; " +
				"the log works, and verify will keep reporting the damage"
		}
	}
	if p.reappend != nil {
		p.last = p.reappend.last
	}
	return nil
}

// firstUnreadable finds the lowest index whose Read fails, looking first
// in the segments the problems name.
func firstUnreadable(l *wal.Log, problems []string) (uint64, bool) {
	segs := l.Segments()
	var named []wal.SegmentInfo
	for _, s := range segs {
		for _, pr := range problems {
			if strings.Contains(pr, s.Name) {
				named = append(named, s)
				break
			}
		}
	}
	for _, set := range [][]wal.SegmentInfo{named, segs} {
		for _, s := range set {
			for i := s.FirstIndex; i <= s.LastIndex && i >= s.FirstIndex; i++ {
				if _, err := l.Read(i); err != nil && !errors.Is(err, wal.ErrNotFound) {
					return i, true
				}
			}
		}
	}
	return 0, false
}

// planBackup lists the files the repair may change and the regions that
// leave the log.
func (p *repairPlan) planBackup(l *wal.Log) {
	var files []string
	add := func(name string) {
		if !slices.Contains(files, name) {
			files = append(files, name)
		}
	}
	files = append(files, metaFiles(p.dir)...)
	for _, d := range p.recovery.Dropped {
		add(d.Segment)
		// Entries above an interrupted TruncateBack were removed on
		// purpose: nothing to salvage.
		if d.To > d.From && !strings.Contains(d.Reason, "TruncateBack") {
			p.regions = append(p.regions, scanRegion{name: d.Segment, from: d.From, to: d.To})
		}
	}
	for _, r := range p.recovery.Removed {
		add(r.Name)
	}
	segs := l.Segments()
	for i, s := range segs {
		// Open scans, cuts, seals or unseals unsealed segments and the
		// last one, and Close writes to the last; TruncateBack(cut-1)
		// reseals the segment holding cut-1 and removes the later ones.
		if !s.Sealed || i == len(segs)-1 || p.cut > 0 && s.LastIndex+1 >= p.cut {
			add(s.Name)
		}
		if p.cut > 0 && s.LastIndex >= p.cut {
			p.regions = append(p.regions, scanRegion{name: s.Name, to: -1})
		}
	}
	for _, q := range p.quarantine {
		add(q.Name)
		p.regions = append(p.regions, scanRegion{name: q.Name, to: -1})
	}
	for i := range p.regions {
		p.regions[i].minIndex = p.last
	}
	if !p.empty() {
		p.backup = files
	}
}

// metaFiles is ["META"] if dir has one.
func metaFiles(dir string) []string {
	if _, err := os.Stat(filepath.Join(dir, metaName)); err == nil {
		return []string{metaName}
	}
	return nil
}

func segNames(segs []segFile) []string {
	var names []string
	for _, s := range segs {
		names = append(names, s.Name)
	}
	return names
}

// describe writes the plan in words.
func (p *repairPlan) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "repair %s\n", p.dir)
	if len(p.diagnosis) > 0 {
		b.WriteString("diagnosis:\n")
		for _, d := range p.diagnosis {
			fmt.Fprintf(&b, "  - %s\n", d)
		}
	}
	if p.refuse != "" {
		fmt.Fprintf(&b, "repair will not change anything: %s\n", p.refuse)
		return b.String()
	}
	if p.empty() {
		fmt.Fprintf(&b, "nothing to repair: %s\n", p.recovery.State)
		return b.String()
	}
	b.WriteString("plan:\n")
	for i, s := range p.steps() {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, s)
	}
	fmt.Fprintf(&b, "result: the log will hold entries %s", describeRange(p.first, p.last, boundsCount(p.first, p.last)))
	if p.salvageable > 0 {
		fmt.Fprintf(&b, "; %s in the bytes that leave the log are saved to salvaged.jsonl in the backup", plural(p.salvageable, "readable entry record"))
	}
	b.WriteString("\n")
	return b.String()
}

// steps lists the plan's actions in order.
func (p *repairPlan) steps() []string {
	steps := []string{fmt.Sprintf("copy %s to the backup folder: %s", plural(len(p.backup), "file"), strings.Join(p.backup, ", "))}
	if len(p.quarantine) > 0 {
		steps = append(steps, fmt.Sprintf("quarantine %s (move them out of the log into the backup folder): %s",
			plural(len(p.quarantine), "segment file"), strings.Join(segNames(p.quarantine), ", ")))
	}
	rec := p.recovery
	rec.DryRun = false
	steps = append(steps, fmt.Sprintf("open the log for writing (recovery mode %s): %s", modeName(p.mode), rec.String()))
	switch {
	case p.cut > 0 && p.cut == p.first:
		steps = append(steps, fmt.Sprintf("entry %d, the first, cannot be read: empty the log, continuing at index %d (Reset)", p.cut, p.cut))
	case p.cut > 0:
		steps = append(steps, fmt.Sprintf("entry %d cannot be read: cut the log after entry %d (TruncateBack)", p.cut, p.cut-1))
	}
	if r := p.reappend; r != nil {
		steps = append(steps, fmt.Sprintf("append entries [%d, %d] read from the quarantined segments %s back to the log",
			r.first, r.last, strings.Join(r.files, ", ")))
	}
	return append(steps, "close the log and verify it")
}

// plural is "1 file", "2 files".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func boundsCount(first, last uint64) uint64 {
	if last >= first {
		return last - first + 1
	}
	return 0
}

func modeName(m wal.RecoveryMode) string {
	switch m {
	case wal.TolerateTornTail:
		return "tolerate-torn-tail"
	case wal.AbsoluteConsistency:
		return "absolute-consistency"
	case wal.PointInTime:
		return "point-in-time"
	}
	return fmt.Sprint(int(m))
}

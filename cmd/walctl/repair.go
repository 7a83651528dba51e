package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/waldb/wal"
	"github.com/waldb/wal/vfs"
)

// repairOptions configures repair.
type repairOptions struct {
	dir    string
	backup string // "": DIR.walctl-backup-<time>
	dryRun bool
	yes    bool
	echo   bool // echo the confirmation answer (stdin is not a terminal)
}

const repairHelp = `repair brings the log in DIR back to a state that opens and verifies, keeping
every entry it can. It first works out a plan read-only (--dry-run prints it and
stops), then copies every file it will change or remove to a backup folder
(--backup, default DIR.walctl-backup-<time>), fsyncs the copies, and only then
changes the log. It takes the log's lock for the whole repair, so it refuses
while another process has the log open.

What repair does, by what it finds:

  clean log            Nothing.
  torn tail            What opening the log for writing does anyway: cut the
  (crash leftovers)    partial record, incomplete batch or garbage after the
                       last complete record, delete temporary files, finish an
                       interrupted truncation. By the format's rules none of
                       these bytes held an acknowledged entry. No confirmation.
  damaged tail         A sync marker proves the damaged bytes were durable:
                       point-in-time recovery cuts the tail segment at the
                       damage.
  unreadable entry     An entry whose record fails its checksum (in any
                       segment): the log is cut just before it (TruncateBack,
                       or Reset if it is the first entry, so the log continues
                       at that index).
  broken structure     A missing segment, a bad segment header, a sealed
                       segment with a bad trailer, or any damage that keeps
                       the log from opening: the longest prefix of segments
                       that opens is kept and the rest is quarantined (moved
                       into the backup folder). If the quarantined segments
                       form a valid log that continues the kept one exactly
                       (a damaged trailer, say), their entries are appended
                       back, so nothing is lost.
  damaged META         Refused: without META repair cannot tell which
                       entries truncations removed.

In the last four cases entries that were acknowledged may leave the log, so
repair asks for confirmation (unless --yes). Nothing is ever deleted without a
copy: every file changed or removed is in the backup folder byte for byte, and
every readable entry record in the bytes that leave the log is also written to
salvaged.jsonl there (dump --json's fields, plus where it was found). The
backup's REPAIR.txt records the plan, the files the repair created, and how to
undo it.

Exit status 0 means the log now opens and verifies clean (with --dry-run: it
would); 1 means repair refused or damage remains.`

func newRepairCmd(e *env) *cobra.Command {
	var o repairOptions
	cmd := &cobra.Command{
		Use:   "repair DIR",
		Short: "Cut a torn tail or quarantine damage, after backing up every file it changes",
		Long:  withExit(repairHelp),
		Args:  dirArg(&o.dir),
		RunE: func(c *cobra.Command, _ []string) error {
			o.echo = e.echo
			return runRepair(c.Context(), o, e.stdin, e.stdout)
		},
	}
	cmd.Flags().StringVar(&o.backup, "backup", "", "backup `folder` (must not exist or be empty; default DIR.walctl-backup-<time>)")
	cmd.Flags().BoolVarP(&o.dryRun, "dry-run", "n", false, "print the plan and change nothing")
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func runRepair(ctx context.Context, o repairOptions, in io.Reader, out io.Writer) error {
	p, err := diagnose(o.dir)
	if err != nil {
		return err
	}
	fmt.Fprint(out, p.describe())
	switch {
	case p.refuse != "":
		return fmt.Errorf("%w: repair refused; nothing was changed", errCheckFailed)
	case p.empty():
		return nil
	case o.dryRun:
		fmt.Fprintln(out, "dry run: nothing was changed")
		return nil
	}
	backup, err := backupFolder(o)
	if err != nil {
		return err
	}
	if p.lossy() && !o.yes {
		if err := confirm(in, out, "Entries that were acknowledged may leave the log. Proceed?", o.echo); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := (&repairRun{plan: p, backup: backup, out: out}).run(); err != nil {
		return err
	}
	res, err := verifyLog(o.dir, nopProgress{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "verify: %d entries %s, %s\n", res.Entries, describeRange(res.FirstIndex, res.LastIndex, res.Entries), plural(len(res.Problems), "problem"))
	if !res.OK {
		return fmt.Errorf("%w: damage remains after the repair: %s", errCheckFailed, strings.Join(res.Problems, "; "))
	}
	return nil
}

// backupFolder returns the backup folder to use: --backup, or a new name
// beside the log. It must be outside the log and new or empty.
func backupFolder(o repairOptions) (string, error) {
	backup := o.backup
	if backup == "" {
		backup = filepath.Clean(o.dir) + ".walctl-backup-" + time.Now().Format("20060102-150405")
	}
	if inside(o.dir, backup) {
		return "", fmt.Errorf("the backup folder %s must not be inside the log directory", backup)
	}
	if ents, err := os.ReadDir(backup); err == nil && len(ents) > 0 {
		return "", fmt.Errorf("the backup folder %s exists and is not empty", backup)
	}
	return backup, nil
}

// repairRun carries out a plan.
type repairRun struct {
	plan   *repairPlan
	backup string
	out    io.Writer
	before map[string]fileState
}

// run performs the plan under the log's lock.
func (r *repairRun) run() error {
	p := r.plan
	lockPath := filepath.Join(p.dir, "LOCK")
	lock, err := vfs.Default.Lock(lockPath)
	if errors.Is(err, vfs.ErrLocked) {
		return fmt.Errorf("%s is open in another process (stop it first): %w", p.dir, wal.ErrLocked)
	}
	if err != nil {
		return fmt.Errorf("locking %s: %w", p.dir, err)
	}
	defer lock.Close()
	if r.before, err = snapshotDir(p.dir); err != nil {
		return err
	}
	if err := r.makeBackup(); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "backed up %s to %s\n", plural(len(p.backup), "file"), r.backup)
	held := heldLockFS{FS: vfs.Default, lock: filepath.Clean(lockPath)}
	if err := r.quarantine(held); err != nil {
		return err
	}
	if err := r.recover(held); err != nil {
		return fmt.Errorf("%w (every original file is in %s)", err, r.backup)
	}
	return r.finish()
}

// makeBackup copies the plan's files into a new backup folder, makes the
// copies durable, and salvages the bytes that leave the log.
func (r *repairRun) makeBackup() error {
	if err := makeEmptyDir(r.backup); err != nil {
		return err
	}
	for _, name := range r.plan.backup {
		if err := copyFileSync(filepath.Join(r.plan.dir, name), filepath.Join(r.backup, name)); err != nil {
			return fmt.Errorf("backing up %s: %w", name, err)
		}
	}
	if err := writeFileSync(filepath.Join(r.backup, "REPAIR.txt"), []byte(r.plan.describe())); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(r.backup, "salvaged.jsonl"))
	if err != nil {
		return err
	}
	_, err = salvage(r.backup, r.plan.regions, f)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(r.backup)
	}
	return err
}

// quarantine removes the quarantined segments (already copied) from the
// log, through wal.RemoveSegmentFiles; fs holds the log's lock.
func (r *repairRun) quarantine(fs vfs.FS) error {
	return wal.RemoveSegmentFiles(fs, r.plan.dir, segNames(r.plan.quarantine))
}

// recover opens the log for writing (its recovery), cuts it, re-appends
// quarantined entries and closes it.
func (r *repairRun) recover(fs vfs.FS) error {
	p := r.plan
	l, err := wal.Open(p.dir, &wal.Options{FS: fs, RecoveryMode: p.mode, NoPreallocate: true})
	if err != nil {
		return fmt.Errorf("opening %s for recovery: %w", p.dir, err)
	}
	switch {
	case p.cut > 0 && p.cut == p.first:
		err = l.Reset(p.cut)
	case p.cut > 0:
		err = l.TruncateBack(p.cut - 1)
	case p.reappend != nil:
		err = r.reappend(l)
	}
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	return err
}

// reappend appends the entries of the quarantined segments, read through
// a read-only view of their backup copies, to l.
func (r *repairRun) reappend(l *wal.Log) error {
	rp := r.plan.reappend
	v, err := newView(r.backup, rp.files)
	if err != nil {
		return err
	}
	defer v.remove()
	src, err := wal.OpenReadOnly(v.path, inspectOptions(rp.mode))
	if err != nil {
		return fmt.Errorf("reading the quarantined segments: %w", err)
	}
	defer src.Close()
	var b wal.Batch
	var size int
	it := src.Iter(rp.first, nil)
	for i := rp.first; i <= rp.last; i++ {
		idx, data, err := it.Next(context.Background())
		if err != nil || idx != i {
			return fmt.Errorf("reading quarantined entry %d: got %d: %v", i, idx, err)
		}
		b.Write(idx, data)
		if size += len(data); size >= 1<<20 || b.Len() == 1024 || i == rp.last {
			if err := l.WriteBatch(&b); err != nil {
				return fmt.Errorf("re-appending entries up to %d: %w", i, err)
			}
			b.Clear()
			size = 0
		}
	}
	return nil
}

// finish checks that every file the repair changed or removed was backed
// up, and records the files it created in REPAIR.txt.
func (r *repairRun) finish() error {
	after, err := snapshotDir(r.plan.dir)
	if err != nil {
		return err
	}
	var created, unbacked []string
	for name, st := range r.before {
		if a, ok := after[name]; (!ok || a != st) && !slices.Contains(r.plan.backup, name) && name != "LOCK" {
			unbacked = append(unbacked, name)
		}
	}
	for name := range after {
		if _, ok := r.before[name]; !ok {
			created = append(created, name)
		}
	}
	slices.Sort(created)
	note := fmt.Sprintf("\nrepair done. Files it created in %s: %s\n\nTo undo: stop every process using the log, delete the created files from it,\n"+
		"and copy every file of this folder except REPAIR.txt and salvaged.jsonl back into it.\n", r.plan.dir, strings.Join(created, ", "))
	if err := appendFileSync(filepath.Join(r.backup, "REPAIR.txt"), note); err != nil {
		return err
	}
	if len(unbacked) > 0 {
		slices.Sort(unbacked)
		return fmt.Errorf("internal error: repair changed %s without a backup; report this bug", strings.Join(unbacked, ", "))
	}
	if len(created) == 0 {
		created = []string{"no files"}
	}
	fmt.Fprintf(r.out, "repaired; created %s\n", strings.Join(created, ", "))
	return nil
}

// inside reports whether path is dir or inside it.
func inside(dir, path string) bool {
	d, err1 := filepath.Abs(dir)
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && (rel == "." || !strings.HasPrefix(rel, ".."))
}

// heldLockFS is the OS filesystem for a log whose lock this process
// already holds: the log's own Lock of that file succeeds without taking
// it again (flock would refuse a second holder, even in this process).
type heldLockFS struct {
	vfs.FS
	lock string
}

func (h heldLockFS) Lock(name string) (io.Closer, error) {
	if filepath.Clean(name) == h.lock {
		return nopCloser{}, nil
	}
	return h.FS.Lock(name)
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// fileState is what snapshotDir remembers of a file.
type fileState struct {
	size    int64
	modTime time.Time
}

func snapshotDir(dir string) (map[string]fileState, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	m := map[string]fileState{}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		m[e.Name()] = fileState{fi.Size(), fi.ModTime()}
	}
	return m, nil
}

// makeEmptyDir creates dir, or accepts an existing empty one.
func makeEmptyDir(dir string) error {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("the backup folder %s exists and is not empty", dir)
	}
	return vfs.MkdirAllSynced(vfs.Default, dir, 0o755)
}

// copyFileSync copies src to a new file dst and fsyncs it.
func copyFileSync(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeFileSync(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func appendFileSync(name, s string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, s)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory, making its entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

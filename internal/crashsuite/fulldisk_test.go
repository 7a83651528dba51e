package crashsuite

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/waldb/wal"
)

// Sizes of TestFullDiskTmpfs.
const (
	tmpfsSize   = "24m"
	ballastSize = 8 << 20
	// fullDiskSegment is small, so the log rotates (and preallocates the
	// next segment) many times before the disk fills.
	fullDiskSegment = 1 << 20
	// fullDiskMaxAppends bounds the filling loop: 24 MiB hold far fewer.
	fullDiskMaxAppends = 200_000
	// resumeBytes are appended after the ballast is freed (less than it).
	resumeBytes = 4 << 20
)

// mountTmpfs mounts a tmpfs of the given size on a fresh directory and
// unmounts it when the test ends. It skips the test where that is not
// possible.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("a real full disk needs a Linux tmpfs; this is %s", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		t.Skip("a real full disk needs root to mount a tmpfs; run as root (CI is)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount -t tmpfs -o size=%s failed (%v): %s", size, err, out)
	}
	t.Cleanup(func() { // runs before t.TempDir's removal
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
			exec.Command("umount", "-l", dir).Run()
		}
	})
	return dir
}

// writeBallast fills a file of n bytes and syncs it.
func writeBallast(name string, n int) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	_, err = f.Write(make([]byte, n))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// fullDiskLog appends self-verifying payloads and remembers the acknowledged
// ones.
type fullDiskLog struct {
	t      *testing.T
	dir    string
	opts   *wal.Options
	l      *wal.Log
	rng    *rand.Rand
	acked  []uint64 // acknowledged indexes, ascending
	bytes  int      // payload bytes acknowledged
	policy wal.SyncPolicy
}

// appendOne appends one entry at the next index; under SyncInterval and
// SyncNever it is acknowledged by a Sync. It returns the failing call's
// name and error.
func (d *fullDiskLog) appendOne() (string, error) {
	last, err := d.l.LastIndex()
	if err != nil {
		return "LastIndex", err
	}
	f := make([]byte, 1024+d.rng.IntN(3072))
	fill(d.rng, f)
	p := appendPayload(nil, payload{Index: last + 1, Gen: 1, BatchFirst: last + 1, BatchLen: 1}, f)
	i, err := d.l.Append(p)
	if err != nil {
		return "Append", err
	}
	if i != last+1 {
		d.t.Fatalf("Append returned index %d, want %d", i, last+1)
	}
	if d.policy != wal.SyncAlways {
		if err := d.l.Sync(); err != nil {
			return "Sync", err
		}
	}
	d.acked = append(d.acked, i)
	d.bytes += len(p)
	return "", nil
}

// verify reads every acknowledged entry back, and every entry in the log.
func (d *fullDiskLog) verify(when string) {
	d.t.Helper()
	first, last, err := bounds(d.l)
	if err != nil {
		d.t.Fatalf("%s: %v", when, err)
	}
	if n := len(d.acked); n > 0 && (first > d.acked[0] || last < d.acked[n-1]) {
		d.t.Fatalf("%s: the log holds [%d,%d], but entries [%d,%d] were acknowledged", when, first, last, d.acked[0], d.acked[n-1])
	}
	for i := first; i <= last; i++ {
		data, err := d.l.Read(i)
		var p payload
		if err == nil {
			p, err = decodePayload(data)
		}
		if err == nil && p.Index != i {
			err = fmt.Errorf("payload carries index %d", p.Index)
		}
		if err != nil {
			d.t.Fatalf("%s: Read(%d) of [%d,%d]: %v", when, i, first, last, err)
		}
	}
}

func (d *fullDiskLog) reopen(when string) {
	d.t.Helper()
	var err error
	if d.l, err = wal.Open(d.dir, d.opts); err != nil {
		d.t.Fatalf("%s: Open: %v", when, err)
	}
	d.t.Logf("%s: Open: %v", when, d.l.Recovery())
	d.verify(when)
}

// TestFullDiskTmpfs fills a real filesystem (a small tmpfs) until the log
// reports ENOSPC, checks that everything acknowledged reads back, frees
// space and resumes (reopening first if the failure was sticky), and checks
// that every acknowledged entry survives a reopen.
func TestFullDiskTmpfs(t *testing.T) {
	for _, policy := range []wal.SyncPolicy{wal.SyncAlways, wal.SyncNever} {
		t.Run(policy.String(), func(t *testing.T) { fullDisk(t, policy) })
	}
}

func fullDisk(t *testing.T, policy wal.SyncPolicy) {
	mnt := mountTmpfs(t, tmpfsSize)
	seed := testSeed(t)
	ballast := filepath.Join(mnt, "ballast")
	if err := writeBallast(ballast, ballastSize); err != nil {
		t.Fatalf("writing the ballast: %v", err)
	}
	d := &fullDiskLog{t: t, dir: filepath.Join(mnt, "wal"), opts: &wal.Options{SyncPolicy: policy, SegmentSize: fullDiskSegment},
		rng: rand.New(rand.NewPCG(seed, 0)), policy: policy}
	d.reopen("new log")

	// Fill the disk.
	var call string
	var err error
	for range fullDiskMaxAppends {
		if call, err = d.appendOne(); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatalf("no error after %d appends to a %s tmpfs", fullDiskMaxAppends, tmpfsSize)
	}
	sticky := errors.Is(err, wal.ErrFailed)
	t.Logf("full: %s failed after %d acknowledged entries (%d KiB of payload): %v; ENOSPC %v, sticky (ErrFailed) %v",
		call, len(d.acked), d.bytes>>10, err, errors.Is(err, syscall.ENOSPC), sticky)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("%s on a full disk returned %v, want an error matching syscall.ENOSPC", call, err)
	}
	call2, err2 := d.appendOne()
	t.Logf("full, next attempt: %s: %v", call2, err2)
	d.verify("full disk")
	sticky = sticky || errors.Is(err2, wal.ErrFailed)

	// Take the last free byte, then try every kind of write.
	filler := filepath.Join(mnt, "filler")
	n, err := fillUp(filler)
	t.Logf("completely full: a second file took the last %d KiB (%v)", n>>10, err)
	sticky = d.whileFull("completely full") || sticky
	d.verify("completely full disk")

	// Room for META, not for a segment: TruncateFront succeeds, a new tail
	// cannot be created, and a TruncateBack into a sealed segment (which
	// writes a cut copy) may fail-stop the log after recording the cut.
	if err := os.Truncate(filler, int64(n-64<<10)); err != nil {
		t.Fatal(err)
	}
	sticky = d.whileFull("64 KiB free") || sticky
	d.verify("almost full disk")

	// Free space and resume.
	for _, name := range []string{ballast, filler} {
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
	if sticky {
		cerr := closeLog(d.l)
		t.Logf("sticky failure: Close returned %v; reopening", cerr)
		d.reopen("reopened after freeing space")
	}
	start := d.bytes
	for d.bytes-start < resumeBytes {
		if call, err := d.appendOne(); err != nil {
			t.Fatalf("after freeing %d MiB, %s failed with %d KiB appended: %v", ballastSize>>20, call, (d.bytes-start)>>10, err)
		}
	}
	t.Logf("resumed: %d KiB more appended", (d.bytes-start)>>10)
	if err := closeLog(d.l); err != nil {
		t.Fatalf("Close: %v", err)
	}
	d.reopen("final reopen")
	if err := closeLog(d.l); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// fillUp writes name until the filesystem is full and returns the bytes
// written; the error is the one that stopped it.
func fillUp(name string) (int, error) {
	f, err := os.Create(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n := 0
	for {
		m, err := f.Write(buf)
		n += m
		if err != nil {
			return n, err
		}
	}
}

// whileFull tries appends, TruncateFront, TruncateBack and Sync on a
// (nearly) full disk. Each must succeed or fail with ENOSPC; a truncation
// that succeeds updates the acknowledged set. It reports whether a failure
// was sticky (ErrFailed).
func (d *fullDiskLog) whileFull(state string) (sticky bool) {
	t := d.t
	check := func(what string, err error) bool {
		t.Logf("%s: %s: %v", state, what, err)
		if err != nil && !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("%s: %s returned %v, want nil or an error matching syscall.ENOSPC", state, what, err)
		}
		sticky = sticky || errors.Is(err, wal.ErrFailed)
		return err == nil
	}
	appended := 0
	var call string
	var err error
	for ; appended < 10_000; appended++ {
		if call, err = d.appendOne(); err != nil {
			break
		}
	}
	check(fmt.Sprintf("%d appends, then %s", appended, call), err)
	first, last, err := bounds(d.l)
	if err != nil {
		t.Fatal(err)
	}
	if f := first + 10; f <= last && check(fmt.Sprintf("TruncateFront(%d)", f), d.l.TruncateFront(f)) {
		d.keep(f, last)
	}
	if k := last - 5; k >= first {
		err := d.l.TruncateBack(k)
		if check(fmt.Sprintf("TruncateBack(%d)", k), err) {
			d.keep(0, k)
		} else if errors.Is(err, wal.ErrFailed) {
			// Cutting a sealed segment writes a cut copy, which needs
			// room. The cut is in META before any file changes, so a
			// TruncateBack that failed there has taken effect (the
			// log ends at k and stays so after a reopen); one that
			// failed writing META has not. Either way, the log must
			// hold everything acknowledged up to where it ends.
			if _, l2, berr := bounds(d.l); berr == nil && l2 == k {
				d.keep(0, k)
			}
		}
	}
	call, err = d.appendOne()
	check("then "+call, err)
	check("Sync", d.l.Sync())
	return sticky
}

// keep forgets acknowledged entries outside [first, last] (truncated).
func (d *fullDiskLog) keep(first, last uint64) {
	kept := d.acked[:0]
	for _, i := range d.acked {
		if i >= first && i <= last {
			kept = append(kept, i)
		}
	}
	d.acked = kept
}

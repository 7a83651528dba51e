package vfs_test

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/waldb/wal/vfs"
)

// tornFile makes /a with a synced 100-byte prefix and three unsynced pages
// of live data after it, and returns the synced and live contents.
func tornFile(t *testing.T) (*vfs.MemFS, string, string) {
	fs := vfs.NewMem()
	s := memScript{t: t, fs: fs}
	synced := strings.Repeat("S", 100)
	f := s.file("/a", synced, true, true)
	s.write(f, strings.Repeat("L", 3*vfs.CrashBlockSize-100), 100)
	return fs, synced, readAll(t, fs, "/a")
}

// garbledAt reports whether off lies in a garbled range of r.
func garbledAt(r vfs.CrashReport, off int) bool {
	for _, g := range r.Garbled {
		if int64(off) >= g.Off && int64(off) < g.End {
			return true
		}
	}
	return false
}

// TestCrashCloneTearsAndGarbles checks torn pages: each unsynced sector is
// its live bytes, its synced bytes (zeros past the synced size) or listed
// garbage; garbage never touches synced bytes; the report counts every
// sector once; a seed reproduces the clone.
func TestCrashCloneTearsAndGarbles(t *testing.T) {
	fs, synced, live := tornFile(t)
	opts := func(seed uint64) vfs.CrashOptions {
		return vfs.CrashOptions{KeepUnsyncedBlocks: 0.4, TearPages: 1, GarbleUnsynced: 0.5, Rand: rand.New(rand.NewPCG(seed, 9))}
	}
	sawGarbage, sawKept, sawDropped := false, false, false
	for seed := range uint64(30) {
		c, rep := fs.CrashCloneReport(opts(seed))
		got := readAll(t, c, "/a")
		if again, _ := fs.CrashCloneReport(opts(seed)); readAll(t, again, "/a") != got {
			t.Fatalf("seed %d: same seed gave different clones", seed)
		}
		if got[:100] != synced {
			t.Fatalf("seed %d: synced prefix damaged: %q", seed, got[:100])
		}
		sectors := rep.KeptSectors + rep.DroppedSectors + rep.GarbledSectors
		perPage := vfs.CrashBlockSize / vfs.CrashSectorSize
		if sectors+rep.KeptPages*perPage != 3*perPage || rep.DroppedPages+rep.GarbledPages != 0 {
			t.Fatalf("seed %d: report %+v does not count each of the 24 sectors once", seed, rep)
		}
		for i := 100; i < len(got); i++ {
			switch {
			case garbledAt(rep, i):
				sawGarbage = true
			case got[i] == live[i]:
				sawKept = true
			case got[i] == 0:
				sawDropped = true
			default:
				t.Fatalf("seed %d: byte %d = %q is neither live, zero nor listed garbage", seed, i, got[i])
			}
		}
		for _, g := range rep.Garbled {
			if g.Path != "/a" || g.Off < 100 || g.End > int64(len(live)) || g.End <= g.Off {
				t.Fatalf("seed %d: garbled range %+v outside the unsynced bytes", seed, g)
			}
		}
	}
	if !sawGarbage || !sawKept || !sawDropped {
		t.Errorf("garbage %v, kept %v, dropped %v: want all three", sawGarbage, sawKept, sawDropped)
	}
}

// TestCrashCloneGarblesWholePages: with GarbleUnsynced 1 and no tearing,
// every unsynced page is garbled (wholly or partly) and none is kept.
func TestCrashCloneGarblesWholePages(t *testing.T) {
	fs, _, live := tornFile(t)
	c, rep := fs.CrashCloneReport(vfs.CrashOptions{GarbleUnsynced: 1, Rand: rand.New(rand.NewPCG(1, 1))})
	if rep.GarbledPages != 3 || rep.KeptPages != 0 || len(rep.Garbled) != 3 {
		t.Fatalf("report %+v; want 3 garbled pages", rep)
	}
	got := readAll(t, c, "/a")
	if len(got) > len(live) {
		t.Fatalf("clone has %d bytes, more than the live %d", len(got), len(live))
	}
	if strings.Contains(got, strings.Repeat("L", 64)) {
		t.Error("a garbled clone still holds runs of live bytes")
	}
	if rep.Faults() != 3 {
		t.Errorf("Faults() = %d; want 3", rep.Faults())
	}
}

// TestCrashCloneNewOptionsOffKeepsOldClones: with the new options zero the
// clone (and so every draw) is the one the older options made.
func TestCrashCloneNewOptionsOffKeepsOldClones(t *testing.T) {
	fs, _, _ := tornFile(t)
	a := fs.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: 0.5, Rand: rand.New(rand.NewPCG(5, 5))})
	b, rep := fs.CrashCloneReport(vfs.CrashOptions{KeepUnsyncedBlocks: 0.5, Rand: rand.New(rand.NewPCG(5, 5))})
	if readAll(t, a, "/a") != readAll(t, b, "/a") || len(rep.Garbled) != 0 || rep.KeptPages+rep.DroppedPages != 3 {
		t.Fatalf("clones differ or report %+v is wrong", rep)
	}
}

// TestCrashCloneLoseNeverSynced: a file never synced loses its unsynced
// entry even when every directory op is otherwise kept; a synced one keeps
// it; lost truncates are counted.
func TestCrashCloneLoseNeverSynced(t *testing.T) {
	fs := vfs.NewMem()
	s := memScript{t: t, fs: fs}
	f := s.file("/old", "old data", true, true)
	s.check(f.Truncate(3))
	s.file("/never", "x", false, false)
	s.file("/synced", "y", true, false)
	c, rep := fs.CrashCloneReport(vfs.CrashOptions{KeepUnsyncedDirOps: 1, LoseNeverSynced: true})
	got := snapshot(t, c, "/")
	if _, ok := got["/never"]; ok || got["/synced"] != "y" || got["/old"] != "old data" {
		t.Fatalf("after crash %q; want /synced and the untruncated /old only", got)
	}
	if rep.LostDirOps != 1 || rep.KeptDirOps != 1 || rep.LostTruncates != 1 {
		t.Errorf("report %+v; want 1 lost op, 1 kept, 1 lost truncate", rep)
	}
}

// TestFlipBit: bit rot changes synced data, survives a crash, and is
// refused where the data is not synced.
func TestFlipBit(t *testing.T) {
	fs := vfs.NewMem()
	s := memScript{t: t, fs: fs}
	f := s.file("/a", "hello", true, true)
	s.write(f, "!", 5)
	s.check(fs.FlipBit("/a", 1, 0))
	if got := readAll(t, fs, "/a"); got != "hdllo!" {
		t.Fatalf("live %q; want hdllo!", got)
	}
	if got := readAll(t, fs.CrashClone(vfs.CrashOptions{}), "/a"); got != "hdllo" {
		t.Fatalf("after crash %q; want hdllo", got)
	}
	if err := fs.FlipBit("/a", 5, 0); err == nil {
		t.Error("FlipBit of an unsynced byte succeeded")
	}
	if lf := fs.LatentFaults(); len(lf) != 1 || lf[0].Kind != "bitrot" || lf[0].Off != 1 {
		t.Errorf("LatentFaults() = %v", lf)
	}
}

// TestMisdirectWrite: a write lands at another offset of the same file or
// in another file; the intended bytes keep their old contents.
func TestMisdirectWrite(t *testing.T) {
	fs := vfs.NewMem()
	s := memScript{t: t, fs: fs}
	a := s.file("/a", "aaaaaaaa", true, true)
	s.file("/b", "bbbbbbbb", true, true)
	isA := func(name string) bool { return name == "/a" }
	fs.MisdirectWrite(vfs.Misdirection{Match: isA, Redirect: func(name string, off int64) (string, int64) { return name, off + 4 }})
	s.write(a, "XY", 0)
	if got := readAll(t, fs, "/a"); got != "aaaaXYaa" {
		t.Fatalf("shifted write: /a = %q; want aaaaXYaa", got)
	}
	fs.MisdirectWrite(vfs.Misdirection{Match: isA, Redirect: func(string, int64) (string, int64) { return "/b", 6 }})
	s.write(a, "ZZZ", 1)
	if got, b := readAll(t, fs, "/a"), readAll(t, fs, "/b"); got != "aaaaXYaa" || b != "bbbbbbZZ" {
		t.Fatalf("write into /b: /a = %q, /b = %q; want aaaaXYaa, bbbbbbZZ", got, b)
	}
	// Bytes that landed in another file are on the medium: a crash keeps them.
	if b := readAll(t, fs.CrashClone(vfs.CrashOptions{}), "/b"); b != "bbbbbbZZ" {
		t.Fatalf("after crash /b = %q", b)
	}
	s.write(a, "N", 7) // the misdirection fired once
	lf := fs.LatentFaults()
	if readAll(t, fs, "/a") != "aaaaXYaN" || len(lf) != 2 || lf[1].Path != "/b" || lf[1].Len != 2 || lf[1].IntendedOff != 1 {
		t.Fatalf("faults %v", lf)
	}
	if !bytes.Contains([]byte(lf[1].String()), []byte("meant for /a")) {
		t.Errorf("String() = %q", lf[1].String())
	}
}

// TestMisdirectVectoredWrite: a vectored write is one write to the fault
// model: all of its buffers go astray together, and the next write is
// not affected.
func TestMisdirectVectoredWrite(t *testing.T) {
	fs := vfs.NewMem()
	s := memScript{t: t, fs: fs}
	a := s.file("/a", "aaaaaaaaaa", true, true)
	fs.MisdirectWrite(vfs.Misdirection{Match: func(string) bool { return true },
		Redirect: func(name string, off int64) (string, int64) { return name, off + 5 }})
	if n, err := vfs.WriteAtv(a, [][]byte{[]byte("XY"), []byte("Z")}, 0); err != nil || n != 3 {
		t.Fatalf("WriteAtv = %d, %v", n, err)
	}
	if got := readAll(t, fs, "/a"); got != "aaaaaXYZaa" {
		t.Fatalf("/a = %q; want aaaaaXYZaa", got)
	}
	if lf := fs.LatentFaults(); len(lf) != 1 || lf[0].Len != 3 {
		t.Fatalf("faults %v; want one of 3 bytes", lf)
	}
	s.write(a, "Q", 0)
	if got := readAll(t, fs, "/a"); got != "QaaaaXYZaa" {
		t.Fatalf("/a = %q after the next write", got)
	}
}

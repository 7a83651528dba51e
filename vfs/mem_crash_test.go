package vfs_test

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/waldb/wal/vfs"
)

func TestCrashClone(t *testing.T) {
	const hello = "hello, world"
	all := vfs.CrashOptions{KeepUnsyncedBlocks: 1, KeepUnsyncedDirOps: 1}
	tests := []struct {
		name  string
		opts  vfs.CrashOptions
		setup func(s memScript)
		want  map[string]string
	}{{
		name:  "unsynced write lost",
		setup: func(s memScript) { s.write(s.file("/a", "", true, true), hello, 0) },
		want:  map[string]string{"/a": ""},
	}, {
		name:  "synced write kept",
		setup: func(s memScript) { s.file("/a", hello, true, true) },
		want:  map[string]string{"/a": hello},
	}, {
		name:  "synced file without synced entry vanishes",
		setup: func(s memScript) { s.file("/a", hello, true, false) },
		want:  map[string]string{},
	}, {
		name:  "entry synced, data not",
		setup: func(s memScript) { s.file("/a", hello, false, true) },
		want:  map[string]string{"/a": ""},
	}, {
		name: "rename not durable before SyncDir",
		setup: func(s memScript) {
			s.file("/a", hello, true, true)
			s.check(s.fs.Rename("/a", "/b"))
		},
		want: map[string]string{"/a": hello},
	}, {
		name: "rename durable after SyncDir",
		setup: func(s memScript) {
			s.file("/a", hello, true, true)
			s.check(s.fs.Rename("/a", "/b"))
			s.check(s.fs.SyncDir("/"))
		},
		want: map[string]string{"/b": hello},
	}, {
		name: "rename replaces durably",
		setup: func(s memScript) {
			s.file("/a", "new", true, false)
			s.file("/b", "old", true, true)
			s.check(s.fs.Rename("/a", "/b"))
			s.check(s.fs.SyncDir("/"))
		},
		want: map[string]string{"/b": "new"},
	}, {
		name: "rename kept as a unit",
		opts: all,
		setup: func(s memScript) {
			s.file("/a", "new", true, true)
			s.check(s.fs.Rename("/a", "/b"))
		},
		want: map[string]string{"/b": "new"},
	}, {
		name: "remove not durable before SyncDir",
		setup: func(s memScript) {
			s.file("/a", hello, true, true)
			s.check(s.fs.Remove("/a"))
		},
		want: map[string]string{"/a": hello},
	}, {
		name: "removed open file is gone after SyncDir",
		setup: func(s memScript) {
			f := s.file("/a", hello, true, true)
			s.check(s.fs.Remove("/a"))
			s.check(s.fs.SyncDir("/"))
			s.write(f, "more", 0)
			s.check(f.Sync())
		},
		want: map[string]string{},
	}, {
		name: "unsynced truncate reverts",
		setup: func(s memScript) {
			f := s.file("/a", hello, true, true)
			s.check(f.Truncate(5))
		},
		want: map[string]string{"/a": hello},
	}, {
		name: "synced truncate kept",
		setup: func(s memScript) {
			f := s.file("/a", hello, true, true)
			s.check(f.Truncate(5))
			s.check(f.Sync())
		},
		want: map[string]string{"/a": "hello"},
	}, {
		name: "unsynced truncate kept with KeepUnsyncedBlocks 1",
		opts: vfs.CrashOptions{KeepUnsyncedBlocks: 1},
		setup: func(s memScript) {
			f := s.file("/a", hello, true, true)
			s.check(f.Truncate(5))
		},
		want: map[string]string{"/a": "hello"},
	}, {
		name: "Create of existing file truncates the inode, unsynced",
		setup: func(s memScript) {
			s.file("/a", hello, true, true)
			s.file("/a", "x", false, false)
		},
		want: map[string]string{"/a": hello},
	}, {
		name: "KeepUnsyncedBlocks 1 keeps all live data",
		opts: vfs.CrashOptions{KeepUnsyncedBlocks: 1},
		setup: func(s memScript) {
			f := s.file("/a", "synced", true, true)
			s.write(f, strings.Repeat("x", 3*vfs.CrashBlockSize), 2)
		},
		want: map[string]string{"/a": "sy" + strings.Repeat("x", 3*vfs.CrashBlockSize)},
	}, {
		name:  "MkdirAll is durable at once",
		setup: func(s memScript) { s.check(s.fs.MkdirAll("/x/y", 0o755)) },
		want:  map[string]string{"/x/": "", "/x/y/": ""},
	}, {
		name: "entries of a subdirectory need its own SyncDir",
		setup: func(s memScript) {
			s.check(s.fs.MkdirAll("/d", 0o755))
			s.file("/d/a", hello, true, false)
			s.check(s.fs.SyncDir("/"))
		},
		want: map[string]string{"/d/": ""},
	}, {
		name: "everything kept equals live state",
		opts: all,
		setup: func(s memScript) {
			s.check(s.fs.MkdirAll("/d", 0o755))
			s.file("/d/a", hello, false, false)
			s.file("/b", "b", false, false)
			s.check(s.fs.Rename("/b", "/d/c"))
		},
		want: map[string]string{"/d/": "", "/d/a": hello, "/d/c": "b"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := vfs.NewMem()
			tt.setup(memScript{t: t, fs: fs})
			before := snapshot(t, fs, "/")
			got := snapshot(t, fs.CrashClone(tt.opts), "/")
			if !maps.Equal(got, tt.want) {
				t.Errorf("after crash: %q\nwant %q", got, tt.want)
			}
			if after := snapshot(t, fs, "/"); !maps.Equal(before, after) {
				t.Errorf("CrashClone changed the original: %q -> %q", before, after)
			}
		})
	}
}

// TestCrashCloneBlocks checks the block rules with probability 0.5: each
// block is either its live or its synced value, the size ends at the last
// surviving block, and a fixed seed reproduces the result.
func TestCrashCloneBlocks(t *testing.T) {
	const blocks = 64
	fs := vfs.NewMem()
	s := memScript{t: t, fs: fs}
	f := s.file("/a", "", true, true)
	for i := range blocks {
		s.write(f, strings.Repeat(string(rune('A'+i%26)), vfs.CrashBlockSize), int64(i*vfs.CrashBlockSize))
	}
	live := readAll(t, fs, "/a")
	crash := func() string {
		opts := vfs.CrashOptions{KeepUnsyncedBlocks: 0.5, Rand: rand.New(rand.NewPCG(1, 2))}
		return readAll(t, fs.CrashClone(opts), "/a")
	}
	got := crash()
	if got != crash() {
		t.Fatal("same seed gave different clones")
	}
	if len(got)%vfs.CrashBlockSize != 0 {
		t.Fatalf("size %d is not a multiple of the block size", len(got))
	}
	kept := 0
	zero := make([]byte, vfs.CrashBlockSize)
	for lo := 0; lo < len(got); lo += vfs.CrashBlockSize {
		b := got[lo : lo+vfs.CrashBlockSize]
		switch {
		case b == live[lo:lo+vfs.CrashBlockSize]:
			kept++
		case !bytes.Equal([]byte(b), zero):
			t.Fatalf("block at %d is neither live nor zero", lo)
		case lo+vfs.CrashBlockSize == len(got):
			t.Fatalf("last block at %d did not survive but sets the size", lo)
		}
	}
	if kept == 0 || kept == blocks {
		t.Errorf("kept %d of %d blocks; want some", kept, blocks)
	}
}

// TestCrashCloneDirOps checks that each unsynced create survives on its own
// with probability KeepUnsyncedDirOps.
func TestCrashCloneDirOps(t *testing.T) {
	const files = 100
	fs := vfs.NewMem()
	s := memScript{t: t, fs: fs}
	for i := range files {
		s.file(fmt.Sprintf("/f%03d", i), "data", true, false)
	}
	for _, tt := range []struct {
		p        float64
		min, max int
	}{{0, 0, 0}, {0.5, 1, files - 1}, {1, files, files}} {
		opts := vfs.CrashOptions{KeepUnsyncedDirOps: tt.p, Rand: rand.New(rand.NewPCG(3, 4))}
		got := snapshot(t, fs.CrashClone(opts), "/")
		if len(got) < tt.min || len(got) > tt.max {
			t.Errorf("p=%v: %d files survived; want %d..%d", tt.p, len(got), tt.min, tt.max)
		}
		for name, data := range got {
			if data != "data" {
				t.Errorf("p=%v: %s = %q", tt.p, name, data)
			}
		}
	}
}

// TestCrashCloneKeepAllIsLive runs random workloads and checks that keeping
// every unsynced change reproduces the live state, and that keeping none
// reproduces it after syncing everything.
func TestCrashCloneKeepAllIsLive(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, seed))
		fs := vfs.NewMem()
		randomWorkload(t, fs, rng, 200)
		live := snapshot(t, fs, "/")
		all := vfs.CrashOptions{KeepUnsyncedBlocks: 1, KeepUnsyncedDirOps: 1}
		if got := snapshot(t, fs.CrashClone(all), "/"); !maps.Equal(got, live) {
			t.Fatalf("seed %d: keep-all clone differs from live state", seed)
		}
		// A partial crash must still be a consistent FS.
		snapshot(t, fs.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: 0.5, KeepUnsyncedDirOps: 0.5, Rand: rng}), "/")
	}
}

// randomWorkload performs n random operations on files f0..f7 in / and /d,
// ignoring errors from operations that do not apply.
func randomWorkload(t *testing.T, fs *vfs.MemFS, rng *rand.Rand, n int) {
	if err := fs.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	name := func() string {
		return fmt.Sprintf("%s/f%d", []string{"", "/d"}[rng.IntN(2)], rng.IntN(8))
	}
	for range n {
		switch rng.IntN(7) {
		case 0:
			if f, err := fs.Create(name()); err == nil {
				f.Close()
			}
		case 1:
			fs.Rename(name(), name())
		case 2:
			fs.Remove(name())
		case 3:
			fs.SyncDir([]string{"/", "/d"}[rng.IntN(2)])
		default:
			mutateFile(fs, name(), rng)
		}
	}
}

func mutateFile(fs *vfs.MemFS, name string, rng *rand.Rand) {
	f, err := fs.OpenReadWrite(name)
	if err != nil {
		return
	}
	defer f.Close()
	switch rng.IntN(3) {
	case 0:
		f.WriteAt(bytes.Repeat([]byte{byte(rng.Uint32())}, rng.IntN(3*vfs.CrashBlockSize)), rng.Int64N(2*vfs.CrashBlockSize))
	case 1:
		f.Truncate(rng.Int64N(3 * vfs.CrashBlockSize))
	case 2:
		f.Sync()
	}
}

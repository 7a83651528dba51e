package raftlog

import (
	"fmt"
	"sync"
	"testing"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// recorder is an errorfs.Injector that fails nothing: before every
// filesystem operation it takes a crash image of mem, the state a power
// loss at that instant could leave (as the wal's powerloss_test does).
// Each image remembers which call of the workload was in flight.
type recorder struct {
	mu     sync.Mutex
	mem    *vfs.MemFS
	keep   float64
	n      int64
	call   int    // index of the call in flight, or of the next one
	desc   string // what is in flight
	images []image
}

// image is one crash image: a call in flight (between = false) may leave
// the state before or after it; between calls only the state after the
// previous one.
type image struct {
	fs      *vfs.MemFS
	call    int
	between bool
	at      string
}

func newRecorder(mem *vfs.MemFS, keep float64) *recorder {
	return &recorder{mem: mem, keep: keep, desc: "Open"}
}

func (r *recorder) MaybeError(op errorfs.Op, path string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	r.images = append(r.images, image{
		fs:   r.crash(r.n),
		call: r.call,
		at:   fmt.Sprintf("keep %v, fs op %d (%v %s) during call %d (%s)", r.keep, r.n, op, path, r.call, r.desc),
	})
	return nil
}

// crash takes a crash image seeded by n. REQUIRES: mu held.
func (r *recorder) crash(n int64) *vfs.MemFS {
	return r.mem.CrashClone(vfs.CrashOptions{KeepUnsyncedBlocks: r.keep, KeepUnsyncedDirOps: r.keep, Rand: newRand(uint64(n))})
}

// start marks call i (described by desc) as in flight.
func (r *recorder) start(i int, desc string) {
	r.mu.Lock()
	r.call, r.desc = i, desc
	r.mu.Unlock()
}

// done marks call i as returned and takes an image of the state it left.
func (r *recorder) done(i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	r.images = append(r.images, image{
		fs:      r.crash(r.n),
		call:    i,
		between: true,
		at:      fmt.Sprintf("keep %v, after call %d (%s) returned", r.keep, i, r.desc),
	})
	r.call, r.desc = i+1, "between calls"
}

// wrap returns the recording filesystem.
func (r *recorder) wrap() vfs.FS { return errorfs.Wrap(r.mem, r) }

// checkImages opens a store on every image and calls check with it and
// the image; check returns why the store is wrong, or "".
func checkImages(t *testing.T, images []image, opts func(vfs.FS) *Options, check func(s *Store, im image) string) {
	t.Helper()
	for _, im := range images {
		s, err := Open(memDir, opts(im.fs))
		if err != nil {
			t.Fatalf("%s: Open after the crash: %v", im.at, err)
		}
		why := check(s, im)
		mustClose(t, s)
		if why != "" {
			t.Fatalf("%s: %s", im.at, why)
		}
	}
}

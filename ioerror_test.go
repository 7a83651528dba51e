package wal

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// ioWorkload is a fixed sequence crossing rotations, both truncations and
// a reset, with forced-durable batches under SyncNever.
func ioWorkload() []op {
	var ops []op
	for i := 0; i < 14; i++ {
		ops = append(ops, appendOp(1+i%3, i%4 == 0, 1))
	}
	ops = append(ops, syncOp(),
		truncFrontOp(func(s state) uint64 { return s.first + 5 }),
		truncBackOp(func(s state) uint64 { return s.last - 3 }),
		appendOp(4, true, 2),
		truncFrontOp(func(s state) uint64 { return s.last + 1 }),
		appendOp(3, true, 3), resetOp(100), appendOp(2, true, 4), syncOp())
	return ops
}

// ioRun runs the workload on a filesystem that fails as inj says. It
// returns the model before and after the first failed call (equal if
// nothing failed), whether a call failed, and the failure's error.
func ioRun(t *testing.T, mem *vfs.MemFS, inj errorfs.Injector, p SyncPolicy, m writeMode, cause error, directMin int) (before, after state, failed bool) {
	t.Helper()
	o := Options{FS: errorfs.Wrap(mem, inj), SyncPolicy: p, SegmentSize: 1 << 10, FlushInterval: 1 << 40, SyncInterval: 1 << 40, directMin: directMin}
	s := state{first: 1, gen: map[uint64]uint64{}, ends: map[uint64]bool{}}
	l, err := Open(memDir, &o)
	if err != nil {
		if !errors.Is(err, cause) {
			t.Fatalf("Open failed with %v, want an error wrapping %v", err, cause)
		}
		return s, s, true
	}
	defer l.Close()
	for _, op := range withMode(ioWorkload(), m) {
		next := s.clone()
		op.apply(&next, p)
		err := op.call(l)
		if err == nil {
			s = next
			continue
		}
		if !errors.Is(err, cause) {
			t.Fatalf("%s failed with %v, want an error wrapping %v", op.desc, err, cause)
		}
		if errors.Is(err, ErrFailed) {
			// Fail-stop: nothing after this may be acknowledged, even if
			// the filesystem works again (no retried fsync).
			if _, err2 := l.Append(payload(next.last+1, 9)); !errors.Is(err2, ErrFailed) {
				t.Fatalf("after %s failed (%v), Append = %v, want sticky ErrFailed", op.desc, err, err2)
			}
		}
		return s, next, true
	}
	return s, s, false
}

// TestIOErrorsAtEveryOperation fails the Nth filesystem operation of a
// workload for every N, once and from N on, with EIO and ENOSPC, under
// SyncAlways and SyncNever: the failing call returns an error wrapping the
// cause, nothing hangs or panics, fail-stop holds, and after a simulated
// power loss a clean Open recovers a log consistent with the model before
// or after the failed call, every acknowledged entry intact.
//
// The appends run through the synchronous API and through the
// asynchronous one (NotifyDurable under SyncAlways, WaitDurable under
// SyncNever; the power-loss suite pairs them the other way round): the
// failure reaches the waiter as the sticky error, and no entry it covers
// is reported durable. Half of the (cause, from) pairs run with lone
// entries written from the caller's slice (pwritev, Options.directMin),
// half copied, so each cause and each mode of failure meets both paths.
func TestIOErrorsAtEveryOperation(t *testing.T) {
	runs := 0
	for _, p := range []SyncPolicy{SyncAlways, SyncNever} {
		async := map[SyncPolicy]writeMode{SyncAlways: modeNotify, SyncNever: modeWait}[p]
		for _, m := range []writeMode{modeSync, async} {
			for _, direct := range []bool{false, true} {
				counter := errorfs.NewCounter()
				ioRun(t, vfs.NewMem(), counter, p, m, nil, directFor(direct))
				n := counter.Count()
				for _, cause := range []error{syscall.EIO, syscall.ENOSPC} {
					for _, from := range []bool{false, true} {
						if (cause == syscall.EIO) != from != direct {
							continue
						}
						for i := int64(0); i < n+5; i++ {
							inj := errorfs.OnIndex(i, cause)
							if from {
								inj = errorfs.FromIndex(i, cause)
							}
							mem := vfs.NewMem()
							before, after, _ := ioRun(t, mem, inj, p, m, cause, directFor(direct))
							checkAfterIOError(t, mem, before, after, fmt.Sprintf("%v %v %v from=%v direct=%v op %d", p, m, cause, from, direct, i))
							runs++
						}
					}
				}
			}
		}
	}
	t.Logf("%d runs with an injected error", runs)
}

// checkAfterIOError power-fails mem, opens it cleanly and checks the model.
func checkAfterIOError(t *testing.T, mem *vfs.MemFS, before, after state, what string) {
	t.Helper()
	crashed := mem.CrashClone(vfs.CrashOptions{})
	if names, _ := crashed.List(memDir); len(names) == 0 {
		return // the directory itself was never durable: nothing acknowledged
	}
	l, err := Open(memDir, &Options{FS: crashed, SegmentSize: 1 << 10})
	if err != nil {
		t.Fatalf("%s: clean Open after the failure: %v", what, err)
	}
	defer l.Close()
	if why := before.consistent(l); why != "" {
		if why2 := after.consistent(l); why2 != "" {
			t.Fatalf("%s: recovered log matches neither model: %s; %s", what, why, why2)
		}
	}
}

package raftlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/errorfs"
)

// raft's own stable keys (unexported in package raft).
var (
	keyCurrentTerm  = []byte("CurrentTerm")
	keyLastVoteTerm = []byte("LastVoteTerm")
	keyLastVoteCand = []byte("LastVoteCand")
)

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func goldenStable() map[string][]byte {
	return map[string][]byte{
		"CurrentTerm":  be64(7),
		"LastVoteTerm": be64(7),
		"LastVoteCand": []byte("node-2"),
		"empty":        {},
	}
}

// TestStableGolden pins the stable file: testdata/stable.golden is what a
// store writes after the Sets of goldenStable.
func TestStableGolden(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, memDir, memOpts(fs))
	must(t, s.SetUint64(keyCurrentTerm, 7))
	must(t, s.SetUint64(keyLastVoteTerm, 7))
	must(t, s.Set(keyLastVoteCand, []byte("node-2")))
	must(t, s.Set([]byte("empty"), nil))
	mustClose(t, s)
	got, err := readFile(fs, memDir+"/"+stableName)
	must(t, err)
	if want := encodeStable(goldenStable()); !bytes.Equal(got, want) {
		t.Fatalf("STABLE after the Sets\n got %x\nwant %x", got, want)
	}
	path := filepath.Join("testdata", "stable.golden")
	if *update {
		must(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("STABLE\n got %x\nwant %x (%s)", got, want, path)
	}
	kv, err := decodeStable(want)
	must(t, err)
	if !maps.EqualFunc(kv, goldenStable(), bytes.Equal) {
		t.Fatalf("golden decodes as %q", kv)
	}
}

// TestStableSemantics checks raft's expectations of a StableStore and
// raft-boltdb's conventions, before and after a reopen.
func TestStableSemantics(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, memDir, memOpts(fs))
	if v, err := s.Get([]byte("missing")); err != ErrKeyNotFound || err.Error() != "not found" || v != nil {
		t.Fatalf("Get(missing) = %q, %v; want nil, \"not found\"", v, err)
	}
	if v, err := s.GetUint64([]byte("missing")); err != ErrKeyNotFound || v != 0 {
		t.Fatalf("GetUint64(missing) = %d, %v; want 0, \"not found\"", v, err)
	}
	val := []byte("candidate-1")
	must(t, s.Set(keyLastVoteCand, val))
	val[0] = 'X' // the store keeps its own copy
	must(t, s.SetUint64(keyCurrentTerm, 42))
	must(t, s.Set([]byte("empty"), nil))
	must(t, s.Set([]byte("odd"), []byte("12345")))
	for round := 0; round < 2; round++ {
		if v, err := s.Get(keyLastVoteCand); err != nil || string(v) != "candidate-1" {
			t.Fatalf("round %d: Get = %q, %v", round, v, err)
		}
		if v, err := s.GetUint64(keyCurrentTerm); err != nil || v != 42 {
			t.Fatalf("round %d: GetUint64 = %d, %v", round, v, err)
		}
		if v, err := s.Get(keyCurrentTerm); err != nil || !bytes.Equal(v, be64(42)) {
			t.Fatalf("round %d: Get of a SetUint64 key = %x, %v; want 8 big-endian bytes", round, v, err)
		}
		if v, err := s.Get([]byte("empty")); err != nil || v == nil || len(v) != 0 {
			t.Fatalf("round %d: Get(empty value) = %#v, %v; want a non-nil empty slice", round, v, err)
		}
		if _, err := s.GetUint64([]byte("odd")); err == nil {
			t.Fatalf("round %d: GetUint64 of a 5-byte value succeeded", round)
		}
		v, _ := s.Get(keyLastVoteCand)
		v[0] = 'Y' // callers get copies
		mustClose(t, s)
		s = mustOpen(t, memDir, memOpts(fs))
	}
	must(t, s.SetUint64(keyCurrentTerm, 43)) // overwrite
	if v, err := s.GetUint64(keyCurrentTerm); err != nil || v != 43 {
		t.Fatalf("after overwrite: %d, %v", v, err)
	}
	mustClose(t, s)
	if _, err := s.Get(keyCurrentTerm); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if err := s.Set(keyCurrentTerm, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Set after Close: %v", err)
	}
}

// TestRaftSeesNoExistingState runs raft's own check of a new store, which
// depends on the exact "not found" text.
func TestRaftSeesNoExistingState(t *testing.T) {
	s := mustOpen(t, memDir, memOpts(vfs.NewMem()))
	defer mustClose(t, s)
	snaps := raft.NewInmemSnapshotStore()
	if has, err := raft.HasExistingState(s, s, snaps); err != nil || has {
		t.Fatalf("HasExistingState(new store) = %v, %v", has, err)
	}
	must(t, s.SetUint64(keyCurrentTerm, 1))
	if has, err := raft.HasExistingState(s, s, snaps); err != nil || !has {
		t.Fatalf("HasExistingState(after a term) = %v, %v", has, err)
	}
}

// TestStableDamage: every flipped byte and every truncation of STABLE is
// ErrCorrupt at Open, never a silently different state.
func TestStableDamage(t *testing.T) {
	good := encodeStable(goldenStable())
	try := func(desc string, b []byte) {
		fs := vfs.NewMem()
		must(t, fs.MkdirAll(memDir, 0o755))
		must(t, writeSynced(fs, memDir+"/"+stableName, b))
		s, err := Open(memDir, memOpts(fs))
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: Open = %v, want ErrCorrupt", desc, err)
		}
	}
	for i := range good {
		b := bytes.Clone(good)
		b[i] ^= 0x10
		try(fmt.Sprintf("byte %d flipped", i), b)
	}
	for n := 0; n < len(good); n++ {
		try(fmt.Sprintf("truncated to %d bytes", n), good[:n])
	}
	try("trailing byte", append(bytes.Clone(good), 0))
}

// TestStableLeftoverTemp: a STABLE.tmp left by a crash is not the state
// and is removed by Open.
func TestStableLeftoverTemp(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, memDir, memOpts(fs))
	must(t, s.SetUint64(keyCurrentTerm, 5))
	mustClose(t, s)
	must(t, writeSynced(fs, memDir+"/"+stableTmpName, encodeStable(map[string][]byte{"CurrentTerm": be64(6)})))
	s = mustOpen(t, memDir, memOpts(fs))
	defer mustClose(t, s)
	if v, err := s.GetUint64(keyCurrentTerm); err != nil || v != 5 {
		t.Fatalf("GetUint64 = %d, %v; want 5 from STABLE", v, err)
	}
	if _, err := fs.Stat(memDir + "/" + stableTmpName); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("STABLE.tmp still there: %v", err)
	}
}

// stableCall is one Set or SetUint64 of a workload.
type stableCall struct {
	key []byte
	val []byte // nil: SetUint64(key, u)
	u   uint64
}

func (c stableCall) do(s *Store) error {
	if c.val == nil {
		return s.SetUint64(c.key, c.u)
	}
	return s.Set(c.key, c.val)
}

func (c stableCall) value() []byte {
	if c.val == nil {
		return be64(c.u)
	}
	return c.val
}

// stableWorkload is what raft does over a few elections, plus an
// application key and a large value that spans several crash blocks.
func stableWorkload() []stableCall {
	var calls []stableCall
	for term := uint64(1); term <= 6; term++ {
		calls = append(calls,
			stableCall{key: keyCurrentTerm, u: term},
			stableCall{key: keyLastVoteTerm, u: term},
			stableCall{key: keyLastVoteCand, val: fmt.Appendf(nil, "node-%d", term%3)})
	}
	calls = append(calls,
		stableCall{key: []byte("app"), val: bytes.Repeat([]byte("v"), 3*vfs.CrashBlockSize)},
		stableCall{key: keyCurrentTerm, u: 7},
		stableCall{key: []byte("app"), val: []byte("short")})
	return calls
}

// TestStablePowerLoss takes a crash image at every filesystem operation of
// a sequence of Set and SetUint64 calls, keeping none, half or all of the
// unsynced blocks and directory operations, and checks that each image
// opens with every acknowledged value, and the in-flight call's key holding
// its old or its new value (the whole state is the one before or after the
// call: the file is replaced whole).
func TestStablePowerLoss(t *testing.T) {
	calls := stableWorkload()
	states := []map[string][]byte{{}}
	for _, c := range calls {
		next := maps.Clone(states[len(states)-1])
		next[string(c.key)] = c.value()
		states = append(states, next)
	}
	total := 0
	for _, keep := range []float64{0, 0.5, 1} {
		rec := newRecorder(vfs.NewMem(), keep)
		s := mustOpen(t, memDir, memOpts(rec.wrap()))
		for i, c := range calls {
			rec.start(i, fmt.Sprintf("set %s", c.key))
			must(t, c.do(s))
			rec.done(i)
		}
		mustClose(t, s)
		checkImages(t, rec.images, memOpts, func(s *Store, im image) string {
			kv, err := s.stable.load()
			if err != nil {
				return err.Error()
			}
			lo, hi := im.call, im.call+1
			if im.between {
				lo = hi
			}
			for i := lo; i <= hi && i < len(states); i++ {
				if maps.EqualFunc(kv, states[i], bytes.Equal) {
					return ""
				}
			}
			return fmt.Sprintf("stable state %q matches neither the state before nor after the call", kv)
		})
		total += len(rec.images)
	}
	t.Logf("%d crash images checked", total)
}

// TestStableIOErrors fails each filesystem operation of a Set in turn: the
// Set returns the error; a failure before the rename leaves the old value
// and the store usable, one at or after it makes the store refuse Sets
// (ErrFailed); a reopen, with or without a power loss, finds the old or
// the new value.
func TestStableIOErrors(t *testing.T) {
	for n := int64(0); ; n++ {
		mem := vfs.NewMem()
		inj := &switchable{}
		s := mustOpen(t, memDir, memOpts(errorfs.Wrap(mem, inj)))
		must(t, s.SetUint64(keyCurrentTerm, 1))
		idx := errorfs.OnIndex(n, syscall.EIO)
		inj.set(idx)
		err := s.SetUint64(keyCurrentTerm, 2)
		inj.set(nil)
		if !idx.Fired() {
			mustClose(t, s)
			if n < 4 {
				t.Fatalf("a Set performs only %d filesystem operations", n)
			}
			return
		}
		if !errors.Is(err, syscall.EIO) {
			t.Fatalf("op %d: Set = %v, want EIO", n, err)
		}
		v, _ := s.GetUint64(keyCurrentTerm)
		again := s.SetUint64(keyLastVoteTerm, 9)
		if v != 1 {
			t.Fatalf("op %d: after the failed Set, GetUint64 = %d, want the old 1", n, v)
		}
		if again != nil && !errors.Is(again, ErrFailed) {
			t.Fatalf("op %d: next Set = %v, want nil or ErrFailed", n, again)
		}
		crashed := mem.CrashClone(vfs.CrashOptions{})
		mustClose(t, s)
		for _, fs := range []vfs.FS{mem, crashed} {
			r := mustOpen(t, memDir, memOpts(fs))
			if v, err := r.GetUint64(keyCurrentTerm); err != nil || (v != 1 && v != 2) {
				t.Fatalf("op %d: reopened: %d, %v", n, v, err)
			}
			mustClose(t, r)
		}
	}
}

// switchable forwards the operations on the stable file and the store's
// directory to an injector that can be swapped, so the log's own
// operations never shift the count.
type switchable struct {
	inj atomic.Pointer[errorfs.Injector]
}

func (s *switchable) set(inj errorfs.Injector) { s.inj.Store(&inj) }

func (s *switchable) MaybeError(op errorfs.Op, path string) error {
	if !strings.Contains(path, stableName) && path != memDir {
		return nil
	}
	if p := s.inj.Load(); p != nil && *p != nil {
		return (*p).MaybeError(op, path)
	}
	return nil
}

// writeSynced creates name holding b and fsyncs it.
func writeSynced(fs vfs.FS, name string, b []byte) error {
	f, err := fs.Create(name)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(b, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

package raftlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/waldb/wal/record"
	"github.com/waldb/wal/vfs"
)

// Wire constants of the stable file. Never change these: they define the
// on-disk format (see the package doc and FORMAT.md).
const (
	stableMagic      = "WALDBSTB"
	stableVersion    = 1
	stableHeaderSize = 24
	// maxStableSize bounds the stable file Open reads (64 MiB); raft keeps
	// a few dozen bytes there.
	maxStableSize = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Set stores val under key (raft.StableStore). The whole stable state is
// written to a new file that atomically replaces the old one (see the
// package doc), so when Set returns nil the value is durable, and a crash
// at any point leaves either the old or the new value.
func (s *Store) Set(key, val []byte) error {
	return s.stable.set(map[string][]byte{string(key): bytes.Clone(val)})
}

// Get returns a copy of the value stored under key, or nil and
// ErrKeyNotFound (unwrapped, text "not found", as raft expects) if the key
// was never set (raft.StableStore). It takes no lock.
func (s *Store) Get(key []byte) ([]byte, error) {
	kv, err := s.stable.load()
	if err != nil {
		return nil, err
	}
	v, ok := kv[string(key)]
	if !ok {
		return nil, ErrKeyNotFound
	}
	return append([]byte{}, v...), nil
}

// SetUint64 stores val under key as 8 big-endian bytes, as raft-boltdb
// does, so Get returns those bytes (raft.StableStore).
func (s *Store) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 returns the value stored under key by SetUint64, or 0 and
// ErrKeyNotFound (unwrapped) if the key was never set
// (raft.StableStore). A value that is not 8 bytes long is an error.
func (s *Store) GetUint64(key []byte) (uint64, error) {
	kv, err := s.stable.load()
	if err != nil {
		return 0, err
	}
	v, ok := kv[string(key)]
	if !ok {
		return 0, ErrKeyNotFound
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("raftlog: value of key %q is %d bytes, not a uint64's 8", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// stable is the StableStore half of a Store: every key and value in memory,
// and on disk in the file STABLE, which each Set replaces whole.
type stable struct {
	fs  vfs.FS
	dir string

	// kv is the current state: an immutable map, replaced by each
	// successful Set after the new file is durable. Readers load it
	// without a lock.
	kv     atomic.Pointer[map[string][]byte]
	closed atomic.Bool

	// mu serializes Sets (one file replacement at a time) and guards
	// failed.
	mu sync.Mutex
	// failed is the sticky error of a replacement that failed at or after
	// its rename, when the disk may hold the new state while memory holds
	// the old one.
	failed error
}

// open removes a leftover temporary file and loads STABLE, or starts empty
// if there is none (a store whose stable state was never set).
func (st *stable) open(fs vfs.FS, dir string) error {
	st.fs, st.dir = fs, dir
	// A leftover temporary file is a replacement that never reached its
	// rename: it is not the state. Its removal need not be durable; a
	// crash brings it back and the next Open removes it again.
	if err := fs.Remove(st.path(stableTmpName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("raftlog: removing %s: %w", stableTmpName, err)
	}
	b, err := readFile(fs, st.path(stableName))
	kv := map[string][]byte{}
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("raftlog: reading %s: %w", stableName, err)
	default:
		if kv, err = decodeStable(b); err != nil {
			return fmt.Errorf("raftlog: %s: %w", st.path(stableName), err)
		}
	}
	st.kv.Store(&kv)
	return nil
}

func (st *stable) path(name string) string { return filepath.Join(st.dir, name) }

func (st *stable) close() { st.closed.Store(true) }

// load returns the current state.
func (st *stable) load() (map[string][]byte, error) {
	if st.closed.Load() {
		return nil, ErrClosed
	}
	return *st.kv.Load(), nil
}

// set adds kvs to the state, durably, and then publishes the new state.
func (st *stable) set(kvs map[string][]byte) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	old, err := st.load()
	if err != nil {
		return err
	}
	if st.failed != nil {
		return st.failed
	}
	next := maps.Clone(old)
	maps.Copy(next, kvs)
	if err := st.replace(encodeStable(next)); err != nil {
		return err
	}
	st.kv.Store(&next)
	return nil
}

// replace makes b the durable content of STABLE with
// vfs.WriteFileAtomic: write STABLE.tmp and fsync it, rename it over
// STABLE, fsync the directory; only then may Set acknowledge the value.
//
// A failure before the rename leaves STABLE untouched and the state
// unchanged; a failed rename or directory fsync (vfs.ErrOutcomeUnknown) may
// or may not have replaced STABLE on disk, so it is sticky (ErrFailed): the
// store refuses further Sets until reopened. REQUIRES: mu held.
func (st *stable) replace(b []byte) error {
	if err := vfs.WriteFileAtomic(st.fs, st.dir, stableName, b); err != nil {
		if errors.Is(err, vfs.ErrOutcomeUnknown) {
			return st.fail(err)
		}
		return fmt.Errorf("raftlog: writing %s: %w", stableName, err)
	}
	return nil
}

// fail records and returns the sticky error of a replacement. REQUIRES: mu
// held.
func (st *stable) fail(cause error) error {
	st.failed = fmt.Errorf("%w: replacing %s: %w", ErrFailed, stableName, cause)
	return st.failed
}

// readFile returns the contents of name, refusing files over
// maxStableSize.
func readFile(fs vfs.FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	if size > maxStableSize {
		return nil, corruptf("%d bytes, more than the %d a stable file may have", size, maxStableSize)
	}
	b := make([]byte, size)
	if n, err := f.ReadAt(b, 0); n < len(b) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// encodeStable returns the stable file holding kv (see the package doc).
func encodeStable(kv map[string][]byte) []byte {
	size := stableHeaderSize
	for k, v := range kv {
		size += 8 + len(k) + len(v)
	}
	b := make([]byte, stableHeaderSize, size)
	copy(b, stableMagic)
	binary.LittleEndian.PutUint16(b[8:], stableVersion)
	binary.LittleEndian.PutUint32(b[12:], uint32(len(kv)))
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(kv[k])))
		b = append(b, kv[k]...)
	}
	binary.LittleEndian.PutUint32(b[16:], uint32(len(b)-stableHeaderSize))
	binary.LittleEndian.PutUint32(b[20:], stableCRC(b))
	return b
}

// stableCRC is the masked CRC-32C of header bytes [0, 20) and the body.
func stableCRC(b []byte) uint32 {
	c := crc32.Checksum(b[:20], castagnoli)
	return record.Mask(crc32.Update(c, castagnoli, b[stableHeaderSize:]))
}

// decodeStable parses a stable file. Every error wraps ErrCorrupt. Lengths
// are checked against len(b) before use.
func decodeStable(b []byte) (map[string][]byte, error) {
	if len(b) < stableHeaderSize {
		return nil, corruptf("stable file of %d bytes is shorter than its %d-byte header", len(b), stableHeaderSize)
	}
	if string(b[:8]) != stableMagic {
		return nil, corruptf("bad stable file magic %q", b[:8])
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != stableVersion {
		return nil, corruptf("unknown stable file version %d", v)
	}
	if z := binary.LittleEndian.Uint16(b[10:]); z != 0 {
		return nil, corruptf("stable file reserved bytes are %#04x, not zero", z)
	}
	n := binary.LittleEndian.Uint32(b[12:])
	if body := binary.LittleEndian.Uint32(b[16:]); uint64(body) != uint64(len(b)-stableHeaderSize) {
		return nil, corruptf("stable file body length %d, file has %d bytes after the header", body, len(b)-stableHeaderSize)
	}
	if stored, computed := binary.LittleEndian.Uint32(b[20:]), stableCRC(b); stored != computed {
		return nil, corruptf("stable file checksum mismatch (stored %#08x, computed %#08x)", stored, computed)
	}
	if uint64(n) > uint64(len(b)-stableHeaderSize)/8 {
		return nil, corruptf("stable file claims %d pairs in %d bytes", n, len(b)-stableHeaderSize)
	}
	return decodePairs(b[stableHeaderSize:], int(n))
}

// decodePairs parses n key/value pairs that must fill body exactly, with
// keys in strictly increasing order.
func decodePairs(body []byte, n int) (map[string][]byte, error) {
	kv := make(map[string][]byte, n)
	var prev []byte
	for i := 0; i < n; i++ {
		var k, v []byte
		var ok bool
		if k, body, ok = cutField(body); !ok {
			return nil, corruptf("stable file pair %d: key overruns the file", i)
		}
		if v, body, ok = cutField(body); !ok {
			return nil, corruptf("stable file pair %d: value overruns the file", i)
		}
		if i > 0 && bytes.Compare(prev, k) >= 0 {
			return nil, corruptf("stable file pair %d: key %q not after %q", i, k, prev)
		}
		kv[string(k)], prev = bytes.Clone(v), k
	}
	if len(body) != 0 {
		return nil, corruptf("stable file has %d bytes after its %d pairs", len(body), n)
	}
	return kv, nil
}

// cutField splits a uint32-length-prefixed field off b.
func cutField(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

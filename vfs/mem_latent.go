package vfs

import (
	"fmt"
	"os"
)

// Latent faults: damage a running MemFS suffers while the process runs,
// which no crash explains and which recovery must detect rather than
// repair (TigerBeetle's storage fault model). Both kinds land on the
// medium, so CrashClone carries them into every later clone.

// LatentFault describes a latent fault that happened.
type LatentFault struct {
	Kind string // "bitrot" or "misdirected"
	// Path and Off say where the damage is: the flipped byte, or where a
	// misdirected write's bytes landed ([Off, Off+Len)).
	Path string
	Off  int64
	Len  int64
	// Intended is where a misdirected write was meant to go; its bytes
	// there kept their old contents.
	IntendedPath string
	IntendedOff  int64
}

func (f LatentFault) String() string {
	if f.Kind == "bitrot" {
		return fmt.Sprintf("bit rot in %s at %d", f.Path, f.Off)
	}
	return fmt.Sprintf("misdirected write of %d bytes meant for %s at %d landed in %s at %d",
		f.Len, f.IntendedPath, f.IntendedOff, f.Path, f.Off)
}

// FlipBit flips bit (0..7) of the byte at off of the file name in both
// its live and its synced contents: bit rot of durable data. off must lie
// below the synced size and the byte must not have changed since the last
// Sync.
func (m *MemFS) FlipBit(name string, off int64, bit uint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(name)
	switch {
	case err != nil:
	case n.dir != nil:
		err = fmt.Errorf("is a directory")
	case off < 0 || off >= int64(len(n.synced)) || off >= int64(len(n.data)) || n.data[off] != n.synced[off]:
		err = fmt.Errorf("offset %d is not synced data", off)
	}
	if err != nil {
		return &os.PathError{Op: "flipbit", Path: name, Err: err}
	}
	n.data[off] ^= 1 << (bit & 7)
	n.synced[off] ^= 1 << (bit & 7)
	m.latent = append(m.latent, LatentFault{Kind: "bitrot", Path: cleanPath(name), Off: off, Len: 1})
	return nil
}

// Misdirection says where a misdirected write lands.
type Misdirection struct {
	// Match selects the write that goes astray: the first WriteAt or
	// WriteAtv (the whole vectored write), after MisdirectWrite, through a
	// handle whose name (as it was opened) satisfies Match.
	Match func(name string) bool
	// Redirect returns the file and offset the bytes land at instead,
	// given where they were meant to go. The file is looked up by name when
	// the write happens; a missing one loses the write. Bytes that land in
	// another file are written to its live and synced contents alike (the
	// device wrote them to the medium), but only within both sizes; in the
	// same file they are an ordinary unsynced write at the other offset.
	Redirect func(name string, off int64) (string, int64)
}

// MisdirectWrite arranges for one future write to land at the wrong
// offset or in the wrong file, leaving the intended bytes as they were.
// The write still reports success. LatentFaults lists it once it happened.
func (m *MemFS) MisdirectWrite(d Misdirection) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.misdirect = &d
}

// LatentFaults returns the latent faults that happened so far, in order.
func (m *MemFS) LatentFaults() []LatentFault {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]LatentFault(nil), m.latent...)
}

// misdirected performs f's write of p at off astray if a misdirection is
// pending for f; it reports whether it did.
// REQUIRES: m.mu is held.
func (m *MemFS) misdirected(f *memFile, p []byte, off int64) bool {
	d := m.misdirect
	if d == nil || !d.Match(f.name) {
		return false
	}
	m.misdirect = nil
	name, to := d.Redirect(f.name, off)
	fault := LatentFault{Kind: "misdirected", Path: cleanPath(name), Off: to, IntendedPath: cleanPath(f.name), IntendedOff: off}
	n, err := m.lookup(name)
	switch {
	case err != nil || n.dir != nil || to < 0:
	case n == f.node:
		n.writeAt(p, to)
		fault.Len = int64(len(p))
	default:
		end := min(to+int64(len(p)), int64(len(n.data)), int64(len(n.synced)))
		if end > to {
			copy(n.data[to:end], p)
			copy(n.synced[to:end], p)
			fault.Len = end - to
		}
	}
	m.latent = append(m.latent, fault)
	return true
}

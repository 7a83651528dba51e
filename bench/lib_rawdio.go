package main

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The direct-I/O baselines (issue 16): raw-a and raw-b with the log's
// writes going through a descriptor opened O_DIRECT|O_DSYNC, as ScyllaDB,
// Redpanda and TigerBeetle write their logs: each write is durable when it
// returns (no separate fdatasync), bypasses the page cache, and must cover
// whole, aligned blocks, so the last partial block is rewritten, from an
// aligned buffer, by every write until it is full. The file is reserved by
// writing zeros, dioChunk at a time (direct writes into fallocated,
// unwritten extents would journal an extent conversion each). Synced mode only. They run only when
// -libs names them.

// dioAlign is the alignment of direct writes: offset, length and memory.
// 4 KiB satisfies every logical block size up to it.
const dioAlign = 4096

func rawDIOALib() *Lib {
	return &Lib{Name: "raw-dio-a", Baseline: true, DiskReads: true, NoReopen: true, NoUnsynced: true,
		Note: "raw-a with O_DIRECT|O_DSYNC writes of whole aligned blocks instead of pwrite + fdatasync",
		Open: func(c Config) (Log, error) { return openRawA(c, true) }}
}

func rawDIOBLib() *Lib {
	return &Lib{Name: "raw-dio-b", Baseline: true, DiskReads: true, NoReopen: true, NoUnsynced: true,
		Note: "raw-b (one flusher) with O_DIRECT|O_DSYNC writes of whole aligned blocks instead of pwrite + fdatasync",
		Open: func(c Config) (Log, error) { return openRawB(c, true) }}
}

// dioChunk is how far ahead the direct-I/O baselines reserve their file,
// with zeros: at open, 512 MiB, more than a 2 s run of W3 writes, so that
// no reservation falls inside a measured run.
const dioChunk = 512 << 20

// optionalLibraries run only when -libs names them.
func optionalLibraries() []*Lib { return []*Lib{rawDIOALib(), rawDIOBLib()} }

// dioTail writes a file's appended bytes with O_DIRECT|O_DSYNC. block
// holds, aligned, the bytes of the last partial block ([end-part, end))
// followed by room for the next write.
type dioTail struct {
	f     *os.File
	fd    int
	block []byte
	part  int
	end   int64
}

// directIO opens r's file a second time for direct, synchronous writes,
// and loads the partial last block. Synced mode only.
func (r *rawFile) directIO(m Mode) error {
	if m != Synced {
		return errUnsupported
	}
	f, err := os.OpenFile(r.f.Name(), os.O_WRONLY|unix.O_DIRECT|unix.O_DSYNC, 0)
	if err != nil {
		return fmt.Errorf("open O_DIRECT: %w", err)
	}
	d := &dioTail{f: f, fd: int(f.Fd()), end: r.end}
	d.grow(dioAlign)
	d.part = int(r.end % dioAlign)
	if d.part > 0 {
		if _, err := r.f.ReadAt(d.block[:d.part], r.end-int64(d.part)); err != nil {
			f.Close()
			return err
		}
	}
	r.dio = d
	return nil
}

// close closes the file and its direct-I/O descriptor, if any.
func (r *rawFile) close() error {
	var err error
	if r.dio != nil {
		err = r.dio.f.Close()
	}
	return errors.Join(err, r.f.Close())
}

// grow makes block hold at least n bytes, aligned, keeping the partial
// block.
func (d *dioTail) grow(n int) {
	if len(d.block) >= n {
		return
	}
	n = (n + dioAlign - 1) &^ (dioAlign - 1)
	raw := make([]byte, n+dioAlign)
	shift := int(-uintptr(unsafe.Pointer(&raw[0])) & (dioAlign - 1))
	b := raw[shift : shift+n]
	copy(b, d.block[:d.part])
	d.block = b
}

// write makes p, which must start at the end of what was written, durable
// with one direct write of whole blocks from the partial one on.
func (d *dioTail) write(p []byte, off int64) error {
	if off != d.end {
		return fmt.Errorf("dio: write at %d, end is %d", off, d.end)
	}
	n := d.part + len(p)
	size := (n + dioAlign - 1) &^ (dioAlign - 1)
	d.grow(size)
	copy(d.block[d.part:], p)
	clear(d.block[n:size])
	start := off - int64(d.part)
	w, err := unix.Pwrite(d.fd, d.block[:size], start)
	if err == nil && w != size {
		err = fmt.Errorf("dio: short write %d of %d", w, size)
	}
	if err != nil {
		return err
	}
	full := n &^ (dioAlign - 1)
	d.part = n - full
	copy(d.block, d.block[full:n])
	d.end = off + int64(len(p))
	return nil
}

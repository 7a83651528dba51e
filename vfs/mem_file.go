package vfs

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// memFile is an open MemFS file. It refers to its inode, not its name, so it
// stays usable after the file is renamed or removed.
type memFile struct {
	fs       *MemFS
	name     string
	readOnly bool
	// Guarded by fs.mu.
	node   *memNode
	closed bool
}

var _ File = (*memFile)(nil)

var errNegative = errors.New("negative offset or size")

// check reports why op cannot run: the file is closed (os.ErrClosed) or op
// writes through a read-only handle (syscall.EBADF, as the OS reports).
// REQUIRES: f.fs.mu is held.
func (f *memFile) check(op string, write bool) error {
	switch {
	case f.closed:
		return &os.PathError{Op: op, Path: f.name, Err: os.ErrClosed}
	case write && f.readOnly:
		return &os.PathError{Op: op, Path: f.name, Err: syscall.EBADF}
	}
	return nil
}

func (f *memFile) lock(op string, write bool) (unlock func(), err error) {
	f.fs.mu.Lock()
	if err := f.check(op, write); err != nil {
		f.fs.mu.Unlock()
		return nil, err
	}
	return f.fs.mu.Unlock, nil
}

// ReadAt reads from the live contents; io.EOF when p extends past the end.
func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	unlock, err := f.lock("read", false)
	if err != nil {
		return 0, err
	}
	defer unlock()
	if off < 0 {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: errNegative}
	}
	if off >= int64(len(f.node.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.node.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt writes p at off, extending the file; holes read as zeros.
func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	unlock, err := f.lock("write", true)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return f.writeLocked(p, off)
}

var _ VectorWriter = (*memFile)(nil)

// WriteAtv writes the concatenation of bufs at off as one write: to the
// fault model (MisdirectWrite, and what CrashClone keeps of unsynced
// bytes) it is a single WriteAt of those bytes.
func (f *memFile) WriteAtv(bufs [][]byte, off int64) (int, error) {
	unlock, err := f.lock("write", true)
	if err != nil {
		return 0, err
	}
	defer unlock()
	var p []byte
	if len(bufs) == 1 {
		p = bufs[0]
	} else {
		for _, b := range bufs {
			p = append(p, b...)
		}
	}
	return f.writeLocked(p, off)
}

// writeLocked is WriteAt's body. REQUIRES: f.fs.mu held; f writable.
func (f *memFile) writeLocked(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &os.PathError{Op: "write", Path: f.name, Err: errNegative}
	}
	if !f.fs.misdirected(f, p, off) {
		f.node.writeAt(p, off)
	}
	return len(p), nil
}

// Close closes the handle; a second Close returns os.ErrClosed.
func (f *memFile) Close() error {
	unlock, err := f.lock("close", false)
	if err != nil {
		return err
	}
	defer unlock()
	f.closed = true
	return nil
}

// Sync makes the live contents and size the synced ones. Syncing through a
// read-only handle is allowed, as with fsync(2).
func (f *memFile) Sync() error {
	unlock, err := f.lock("sync", false)
	if err != nil {
		return err
	}
	defer unlock()
	f.node.sync()
	return nil
}

// Truncate sets the live size, zero-filling any extension.
func (f *memFile) Truncate(size int64) error {
	return f.resize("truncate", size, true)
}

// Preallocate extends the live size to at least size with zeros; it never
// shrinks the file.
func (f *memFile) Preallocate(size int64) error {
	return f.resize("preallocate", size, false)
}

func (f *memFile) resize(op string, size int64, shrink bool) error {
	unlock, err := f.lock(op, true)
	if err != nil {
		return err
	}
	defer unlock()
	if size < 0 {
		return &os.PathError{Op: op, Path: f.name, Err: errNegative}
	}
	if shrink || size > int64(len(f.node.data)) {
		f.node.resize(size)
	}
	return nil
}

// Size reports the live size.
func (f *memFile) Size() (int64, error) {
	unlock, err := f.lock("stat", false)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return int64(len(f.node.data)), nil
}

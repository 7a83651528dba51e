package vfs

import (
	"os"
	"syscall"
)

// osFile is a File backed by an *os.File. Errors keep the underlying
// *os.PathError and syscall.Errno, so errors.Is(err, syscall.ENOSPC) works.
type osFile struct {
	f    *os.File
	name string
}

var (
	_ File    = (*osFile)(nil)
	_ Mmapper = (*osFile)(nil)
)

func (f *osFile) ReadAt(p []byte, off int64) (int, error)  { return f.f.ReadAt(p, off) }
func (f *osFile) WriteAt(p []byte, off int64) (int, error) { return f.f.WriteAt(p, off) }
func (f *osFile) Close() error                             { return f.f.Close() }
func (f *osFile) Truncate(size int64) error                { return f.f.Truncate(size) }

// Sync makes the data and size durable; see syncData for the system call.
func (f *osFile) Sync() error { return f.syncData() }

// Preallocate reserves [0, size) and extends the size to at least size.
func (f *osFile) Preallocate(size int64) error { return f.preallocate(size) }

// Size reports the current size from fstat.
func (f *osFile) Size() (int64, error) {
	fi, err := f.f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// control runs fn with the file descriptor, which stays open meanwhile. A
// returned PathError names op and wraps fn's error (a syscall.Errno) or, when
// the file is already closed, os.ErrClosed.
func (f *osFile) control(op string, fn func(fd int) error) error {
	rc, err := f.f.SyscallConn()
	if err != nil {
		return &os.PathError{Op: op, Path: f.name, Err: err}
	}
	var opErr error
	// RawConn.Control fails only when the file is closed or closing.
	if err := rc.Control(func(fd uintptr) { opErr = fn(int(fd)) }); err != nil {
		return &os.PathError{Op: op, Path: f.name, Err: os.ErrClosed}
	}
	if opErr != nil {
		return &os.PathError{Op: op, Path: f.name, Err: opErr}
	}
	return nil
}

// ignoringEINTR retries fn while it is interrupted by a signal.
func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != syscall.EINTR {
			return err
		}
	}
}

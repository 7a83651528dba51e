//go:build unix && !aix

package vfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes flock(LOCK_EX|LOCK_NB) on f. The lock belongs to f's open
// file description: it is released when f is closed, and a second open of the
// same file (even in this process) cannot take it. EWOULDBLOCK becomes an
// error wrapping both ErrLocked and the errno.
func lockFile(f *os.File, name string) error {
	of := &osFile{f: f, name: name}
	err := of.control("flock", func(fd int) error {
		return ignoringEINTR(func() error { return unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) })
	})
	if errors.Is(err, unix.EWOULDBLOCK) {
		return fmt.Errorf("vfs: lock %s: %w (%w)", name, ErrLocked, unix.EWOULDBLOCK)
	}
	return err
}

// Mmap maps the first length bytes of the file read-only and shared, so
// later writes through WriteAt become visible in the mapping. Length 0 yields
// an empty slice and a no-op unmap (mmap rejects length 0). Reading the
// mapping beyond the file's current size raises SIGBUS.
func (f *osFile) Mmap(length int) ([]byte, func() error, error) {
	if length == 0 {
		return []byte{}, func() error { return nil }, nil
	}
	var data []byte
	err := f.control("mmap", func(fd int) error {
		var err error
		data, err = unix.Mmap(fd, 0, length, unix.PROT_READ, unix.MAP_SHARED)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	unmap := func() error {
		if err := unix.Munmap(data); err != nil {
			return &os.PathError{Op: "munmap", Path: f.name, Err: err}
		}
		return nil
	}
	return data, unmap, nil
}

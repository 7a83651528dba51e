//go:build !unix || aix

package vfs

import (
	"fmt"
	"os"
)

// lockFile is not implemented on this platform.
func lockFile(f *os.File, name string) error {
	return fmt.Errorf("vfs: lock %s: %w on this platform", name, ErrUnsupported)
}

// Mmap is not implemented on this platform; callers fall back to ReadAt.
func (f *osFile) Mmap(length int) ([]byte, func() error, error) {
	return nil, nil, &os.PathError{Op: "mmap", Path: f.name,
		Err: fmt.Errorf("%w on this platform", ErrUnsupported)}
}

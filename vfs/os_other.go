//go:build !linux

package vfs

import (
	"fmt"
	"os"
)

// syncData uses os.File.Sync (fsync, or F_FULLFSYNC on Darwin), which is at
// least as strong as fdatasync.
func (f *osFile) syncData() error { return f.f.Sync() }

// preallocate is not implemented outside Linux; callers continue without it.
func (f *osFile) preallocate(size int64) error {
	return &os.PathError{Op: "preallocate", Path: f.name,
		Err: fmt.Errorf("%w on this platform", ErrUnsupported)}
}

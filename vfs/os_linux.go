//go:build linux

package vfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// syncData calls fdatasync(2): it flushes the data and the metadata needed to
// read it back (the size) but not, say, the modification time. EINTR is
// retried.
func (f *osFile) syncData() error {
	return f.control("fdatasync", func(fd int) error {
		return ignoringEINTR(func() error { return unix.Fdatasync(fd) })
	})
}

// preallocate calls fallocate(2) with mode 0 over [0, size), which allocates
// blocks and extends the size to at least size; new bytes read as zeros.
// EOPNOTSUPP and ENOSYS become an error wrapping both ErrUnsupported and the
// errno. A size of zero is a no-op, as fallocate rejects length 0; a
// negative size fails with EINVAL.
func (f *osFile) preallocate(size int64) error {
	switch {
	case size < 0:
		return &os.PathError{Op: "fallocate", Path: f.name, Err: unix.EINVAL}
	case size == 0:
		return nil
	}
	err := f.control("fallocate", func(fd int) error {
		return ignoringEINTR(func() error { return unix.Fallocate(fd, 0, 0, size) })
	})
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return &os.PathError{Op: "fallocate", Path: f.name,
			Err: fmt.Errorf("%w: %w", ErrUnsupported, errors.Unwrap(err))}
	}
	return err
}

var (
	_ Prefetcher       = (*osFile)(nil)
	_ WritebackStarter = (*osFile)(nil)
)

// Prefetch asks the kernel to start reading [off, off+n) into the page
// cache (posix_fadvise POSIX_FADV_WILLNEED); it does not wait for the I/O.
func (f *osFile) Prefetch(off, n int64) {
	_ = f.control("fadvise", func(fd int) error { return unix.Fadvise(fd, off, n, unix.FADV_WILLNEED) })
}

// StartWriteback asks the kernel to start writing the dirty pages of
// [off, off+n) to the device (sync_file_range SYNC_FILE_RANGE_WRITE); it
// does not wait for them, and makes nothing durable.
func (f *osFile) StartWriteback(off, n int64) {
	_ = f.control("sync_file_range", func(fd int) error {
		return unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}

var _ VectorWriter = (*osFile)(nil)

// iovMax is the most buffers one pwritev(2) takes (IOV_MAX on Linux).
const iovMax = 1024

// WriteAtv writes the concatenation of bufs at off with pwritev(2), up to
// iovMax buffers per call. EINTR is retried; a short write (a full disk,
// or more than the kernel writes at once) is finished with WriteAt, which
// reports why it stopped.
func (f *osFile) WriteAtv(bufs [][]byte, off int64) (int, error) {
	total := 0
	for len(bufs) > 0 {
		vec := bufs[:min(len(bufs), iovMax)]
		bufs = bufs[len(vec):]
		var n int
		err := f.control("pwritev", func(fd int) error {
			return ignoringEINTR(func() error {
				var err error
				n, err = unix.Pwritev(fd, vec, off)
				return err
			})
		})
		if n < 0 {
			n = 0
		}
		total += n
		off += int64(n)
		if err != nil {
			return total, err
		}
		if rest := skipBytes(vec, n); len(rest) > 0 {
			m, err := writeEach(f, rest, off)
			total += m
			off += int64(m)
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// skipBytes returns what of bufs follows its first n bytes. The first
// buffer it returns may be a suffix of one of bufs, so it copies the
// slice of slices rather than change bufs; it allocates only then, after
// a short write.
func skipBytes(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) == 0 || n == 0 {
		return bufs
	}
	rest := append([][]byte{bufs[0][n:]}, bufs[1:]...)
	return rest
}

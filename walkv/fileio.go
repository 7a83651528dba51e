package walkv

import (
	"io"

	"github.com/waldb/wal/vfs"
)

// fileReader adapts a vfs.File (positional reads) to io.Reader.
type fileReader struct {
	f   vfs.File
	off int64
}

func (r *fileReader) Read(p []byte) (int, error) {
	n, err := r.f.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

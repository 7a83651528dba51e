package walkv

import (
	"io"

	"github.com/waldb/wal/vfs"
)

// fileWriter adapts a vfs.File (positional writes) to io.Writer.
type fileWriter struct {
	f   vfs.File
	off int64
}

func (w *fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.WriteAt(p, w.off)
	w.off += int64(n)
	return n, err
}

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

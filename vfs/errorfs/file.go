package errorfs

import (
	"github.com/waldb/wal/vfs"
)

// file wraps a vfs.File, consulting the injector before each operation.
type file struct {
	fs   *errFS
	f    vfs.File
	name string
}

// mmapFile is a file whose inner file implements vfs.Mmapper.
type mmapFile struct {
	*file
	m vfs.Mmapper
}

var (
	_ vfs.File         = (*file)(nil)
	_ vfs.VectorWriter = (*file)(nil)
	_ vfs.Mmapper      = (*mmapFile)(nil)
)

// wrapFile wraps f, preserving vfs.Mmapper.
func wrapFile(fs *errFS, f vfs.File, name string) vfs.File {
	wf := &file{fs: fs, f: f, name: name}
	if m, ok := f.(vfs.Mmapper); ok {
		return &mmapFile{file: wf, m: m}
	}
	return wf
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.f.ReadAt(p, off)
}

func (f *file) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpWrite, f.name); err != nil {
		return 0, err
	}
	return f.f.WriteAt(p, off)
}

// WriteAtv is one OpWrite: when the injector fails it, nothing of bufs is
// written, as with WriteAt; otherwise it forwards to the inner file's
// vectored write (vfs.WriteAtv).
func (f *file) WriteAtv(bufs [][]byte, off int64) (int, error) {
	if err := f.fs.check(OpWrite, f.name); err != nil {
		return 0, err
	}
	return vfs.WriteAtv(f.f, bufs, off)
}

// Close always closes the inner file; an injected error replaces its result.
func (f *file) Close() error {
	injected := f.fs.check(OpClose, f.name)
	err := f.f.Close()
	if injected != nil {
		return injected
	}
	return err
}

func (f *file) Sync() error {
	if err := f.fs.check(OpSync, f.name); err != nil {
		return err
	}
	return f.f.Sync()
}

func (f *file) Truncate(size int64) error {
	if err := f.fs.check(OpTruncate, f.name); err != nil {
		return err
	}
	return f.f.Truncate(size)
}

func (f *file) Preallocate(size int64) error {
	if err := f.fs.check(OpPreallocate, f.name); err != nil {
		return err
	}
	return f.f.Preallocate(size)
}

func (f *file) Size() (int64, error) {
	if err := f.fs.check(OpStat, f.name); err != nil {
		return 0, err
	}
	return f.f.Size()
}

func (f *mmapFile) Mmap(length int) ([]byte, func() error, error) {
	if err := f.fs.check(OpMmap, f.name); err != nil {
		return nil, nil, err
	}
	return f.m.Mmap(length)
}

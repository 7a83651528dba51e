package vfs

import (
	"io"
	"os"
	"path/filepath"
	"sort"
)

// Default is the FS of the operating system. Its files implement Mmapper.
//
// On Linux, File.Sync is fdatasync(2) and File.Preallocate is fallocate(2)
// with mode 0. On other Unix systems Sync is os.File.Sync (F_FULLFSYNC on
// Darwin) and Preallocate reports ErrUnsupported. Lock uses flock(2), whose
// locks belong to an open file description, so two Locks of one file fail
// against each other even within one process.
var Default FS = osFS{}

// osFS implements FS with package os. A zero permission means the
// default: 0644 for files, the caller's perm for directories.
type osFS struct{ filePerm, dirPerm os.FileMode }

// OSWithPerms returns the FS of the operating system (as Default) that
// creates files with mode filePerm and directories with mode dirPerm,
// both subject to the umask. A zero mode keeps Default's choice.
func OSWithPerms(filePerm, dirPerm os.FileMode) FS {
	return osFS{filePerm: filePerm.Perm(), dirPerm: dirPerm.Perm()}
}

func (fs osFS) fileMode() os.FileMode {
	if fs.filePerm == 0 {
		return 0o644
	}
	return fs.filePerm
}

var _ FS = osFS{}

// Create creates or truncates name with mode 0644 (or OSWithPerms's),
// open for reading and writing. The caller must SyncDir the parent to make
// a new entry durable.
func (fs osFS) Create(name string) (File, error) {
	return openOS(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, fs.fileMode())
}

// Open opens an existing file read-only.
func (osFS) Open(name string) (File, error) {
	return openOS(name, os.O_RDONLY, 0)
}

// OpenReadWrite opens an existing file for reading and writing.
func (osFS) OpenReadWrite(name string) (File, error) {
	return openOS(name, os.O_RDWR, 0)
}

func openOS(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &osFile{f: f, name: name}, nil
}

// Rename renames oldname to newname, replacing newname atomically.
func (osFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }

// Remove deletes a file or an empty directory.
func (osFS) Remove(name string) error { return os.Remove(name) }

// MkdirAll creates dir and any missing parents with mode perm (or
// OSWithPerms's directory mode).
func (fs osFS) MkdirAll(dir string, perm os.FileMode) error {
	if fs.dirPerm != 0 {
		perm = fs.dirPerm
	}
	return os.MkdirAll(dir, perm)
}

// Stat returns information about name, following symbolic links.
func (osFS) Stat(name string) (os.FileInfo, error) { return os.Stat(name) }

// List returns the names of the entries in dir, sorted.
func (osFS) List(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// SyncDir opens dir and fsyncs it, making the entries created, renamed or
// removed in it durable. The directory's own entry in its parent is not
// covered; MkdirAll callers that need it must SyncDir the parent too.
func (osFS) SyncDir(dir string) error {
	f, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Lock opens or creates name (mode 0644, or OSWithPerms's) and takes a
// non-blocking exclusive flock on it; see lockFile.
func (fs osFS) Lock(name string) (io.Closer, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, fs.fileMode())
	if err != nil {
		return nil, err
	}
	if err := lockFile(f, name); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

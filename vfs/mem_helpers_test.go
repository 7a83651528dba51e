package vfs_test

import (
	"io"
	"path"
	"testing"

	"github.com/waldb/wal/vfs"
)

// snapshot returns every file and directory below dir: files map to their
// contents, directories (keys ending in "/") to "".
func snapshot(t *testing.T, fs vfs.FS, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	names, err := fs.List(dir)
	if err != nil {
		t.Fatalf("List(%s): %v", dir, err)
	}
	for _, name := range names {
		p := path.Join(dir, name)
		fi, err := fs.Stat(p)
		if err != nil {
			t.Fatalf("Stat(%s): %v", p, err)
		}
		if !fi.IsDir() {
			out[p] = readAll(t, fs, p)
			continue
		}
		out[p+"/"] = ""
		for k, v := range snapshot(t, fs, p) {
			out[k] = v
		}
	}
	return out
}

func readAll(t *testing.T, fs vfs.FS, name string) string {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatalf("Open(%s): %v", name, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, size)
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		t.Fatalf("ReadAt(%s): %v", name, err)
	}
	return string(buf)
}

// memScript runs steps against a MemFS, failing the test on any error.
type memScript struct {
	t  *testing.T
	fs *vfs.MemFS
}

func (s memScript) create(name string) vfs.File {
	s.t.Helper()
	f, err := s.fs.Create(name)
	s.check(err)
	return f
}

func (s memScript) write(f vfs.File, data string, off int64) {
	s.t.Helper()
	_, err := f.WriteAt([]byte(data), off)
	s.check(err)
}

// file creates name holding data; sync syncs the file, syncDir its directory.
func (s memScript) file(name, data string, sync, syncDir bool) vfs.File {
	s.t.Helper()
	f := s.create(name)
	s.write(f, data, 0)
	if sync {
		s.check(f.Sync())
	}
	if syncDir {
		s.check(s.fs.SyncDir(path.Dir(name)))
	}
	return f
}

func (s memScript) check(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

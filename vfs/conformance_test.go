package vfs_test

import (
	"testing"

	"github.com/waldb/wal/vfs"
	"github.com/waldb/wal/vfs/vfstest"
)

func TestConformanceOS(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) (vfs.FS, string) {
		return vfs.Default, t.TempDir()
	})
}

func TestConformanceMem(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) (vfs.FS, string) {
		fs := vfs.NewMem()
		if err := fs.MkdirAll("/db", 0o755); err != nil {
			t.Fatal(err)
		}
		return fs, "/db"
	})
}

func TestConformanceMemRoot(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) (vfs.FS, string) {
		return vfs.NewMem(), ""
	})
}

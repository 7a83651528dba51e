package wal

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

const modulePath = "github.com/waldb/wal"

// layer ranks the module's packages: a package may import only packages
// of a lower rank (cmd/* -> {walkv, raftlog} -> txn -> wal -> {record,
// vfs} -> internal/*), and a package inside vfs/ may import vfs.
func layer(pkg string) (rank int, core bool) {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, modulePath), "/")
	if rel == "raftlog/boltmigrate" {
		return 5, false // beside raftlog, so that raftlog links no BoltDB
	}
	if rel == "walkv/internal/cmdmeta/gen" {
		return 6, false // a generator program (go run), a command like cmd/*
	}
	if strings.HasPrefix(rel, "walkv/internal/") {
		return 3, false // walkv's helpers (rdb: the DUMP format), below walkv
	}
	top, _, _ := strings.Cut(rel, "/")
	switch top {
	case "internal":
		return 0, true
	case "record", "vfs":
		return 1, true
	case "":
		return 2, true
	case "txn", "tidwall":
		return 3, true
	case "walprom":
		return 3, false // the Prometheus adapter: third-party, beside the core
	case "walkv", "raftlog":
		return 4, false
	case "cmd":
		return 6, false
	}
	return 7, false
}

// TestImportDirection walks every non-test source file of the module and
// checks the layering of STYLE.md, that record and vfs never import each
// other, and that core packages use only the standard library and
// golang.org/x/sys.
func TestImportDirection(t *testing.T) {
	imports := map[string]map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "bench" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := modulePath
		if dir := filepath.ToSlash(filepath.Dir(path)); dir != "." {
			pkg += "/" + dir
		}
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			imports[pkg][strings.Trim(imp.Path.Value, `"`)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 4 {
		t.Fatalf("found only %d packages; is the walk broken?", len(imports))
	}
	for pkg, imps := range imports {
		rank, core := layer(pkg)
		for imp := range imps {
			checkImport(t, pkg, rank, core, imp)
		}
	}
}

func checkImport(t *testing.T, pkg string, rank int, core bool, imp string) {
	t.Helper()
	switch {
	case strings.HasPrefix(imp, modulePath):
		r, _ := layer(imp)
		sameVFS := strings.HasPrefix(pkg, modulePath+"/vfs/") && imp == modulePath+"/vfs"
		if r >= rank && !sameVFS {
			t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down", pkg, rank, imp, r)
		}
	case !strings.Contains(strings.SplitN(imp, "/", 2)[0], "."):
		// standard library
	case core && !strings.HasPrefix(imp, "golang.org/x/sys/"):
		t.Errorf("core package %s imports third-party %s; only the standard library and golang.org/x/sys are allowed", pkg, imp)
	}
}

// Package doclinks checks the repository's Markdown files: every relative
// link and image must name an existing file, and every #fragment a
// heading of the target document.
package doclinks

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// link matches [text](target) and ![alt](target); the target ends at a
// space (a title follows) or the closing parenthesis.
var link = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

func TestRelativeLinks(t *testing.T) {
	root := filepath.Join("..", "..")
	docs := map[string][]string{} // path -> lines outside code fences
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			docs[path] = proseLines(t, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := docs[filepath.Join(root, "README.md")]; !ok {
		t.Fatal("README.md not found: is the walk broken?")
	}
	checked := 0
	for path, lines := range docs {
		for n, line := range lines {
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				checked++
				if why := resolve(path, target, docs); why != "" {
					t.Errorf("%s:%d: link %q: %s", path, n+1, target, why)
				}
			}
		}
	}
	t.Logf("%d relative links in %d Markdown files", checked, len(docs))
}

// resolve returns why target, linked from the document at from, is
// broken, or "".
func resolve(from, target string, docs map[string][]string) string {
	file, frag, _ := strings.Cut(target, "#")
	path := from
	if file != "" {
		path = filepath.Join(filepath.Dir(from), filepath.FromSlash(file))
		if _, err := os.Stat(path); err != nil {
			return "no such file"
		}
	}
	if frag == "" || !strings.HasSuffix(path, ".md") {
		return ""
	}
	for _, line := range docs[path] {
		if h, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " "); ok && strings.HasPrefix(line, "#") && slug(h) == frag {
			return ""
		}
	}
	return "no heading #" + frag + " in " + path
}

// slug is GitHub's anchor for a heading: lower case, punctuation other
// than - and _ dropped, spaces turned into -.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// proseLines returns the file's lines with those inside ``` fences blanked.
func proseLines(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	fence := false
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fence = !fence
			line = ""
		}
		if fence {
			line = ""
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestSlug(t *testing.T) {
	for h, want := range map[string]string{
		"Cluster mode":                          "cluster-mode",
		"walkv against redis-server":            "walkv-against-redis-server",
		"raft: `raftlog`":                       "raft-raftlog",
		"Status, compatibility, license":        "status-compatibility-license",
		"From etcd's wal (go.etcd.io/etcd/wal)": "from-etcds-wal-goetcdioetcdwal",
	} {
		if got := slug(h); got != want {
			t.Errorf("slug(%q) = %q, want %q", h, got, want)
		}
	}
}

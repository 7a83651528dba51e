package vfs

import (
	"fmt"
	"testing"
)

// TestSkipBytes: what of a vector follows its first n bytes, as the OS
// file's WriteAtv uses it after a short pwritev.
func TestSkipBytes(t *testing.T) {
	bufs := [][]byte{[]byte("ab"), []byte("cde"), nil, []byte("f")}
	for n, want := range []string{"[ab cde  f]", "[b cde  f]", "[cde  f]", "[de  f]", "[e  f]", "[f]", "[]"} {
		got := fmt.Sprintf("%s", skipBytes(bufs, n))
		if got != want {
			t.Errorf("skipBytes(%d) = %s, want %s", n, got, want)
		}
	}
	if fmt.Sprintf("%s", bufs) != "[ab cde  f]" {
		t.Errorf("skipBytes changed its argument: %s", bufs)
	}
}

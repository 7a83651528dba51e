package walkv

import (
	"errors"
	"testing"

	"github.com/waldb/wal/vfs"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"", "", true},
		{"", "a", false},
		{"user:*", "user:1", true},
		{"user:*", "item:1", false},
		{"h?llo", "hello", true},
		{"h?llo", "hllo", false},
		{"h*llo", "heeeello", true},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-c]llo", "hbllo", true},
		{"h[c-a]llo", "hbllo", true},
		{"h[a-c]llo", "hdllo", false},
		{`h\*llo`, "h*llo", true},
		{`h\*llo`, "hello", false},
		{`[\]]`, "]", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"*a", "aaaa", true},
		{"[abc", "a", true},
		{"[", "[", false},
		{`\`, `\`, true},
		{"a**b", "ab", true},
		{"*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false}, // no blow-up
	}
	for _, tt := range tests {
		if got := globMatch(tt.pat, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		v    int64
		want bool
	}{
		{"0", 0, true}, {"42", 42, true}, {"-7", -7, true},
		{"9223372036854775807", 1<<63 - 1, true}, {"-9223372036854775808", -1 << 63, true},
		{"9223372036854775808", 0, false}, {"", 0, false}, {"-", 0, false}, {"-0", 0, false},
		{"007", 0, false}, {"+1", 0, false}, {" 1", 0, false}, {"1 ", 0, false}, {"1e3", 0, false},
	}
	for _, tt := range tests {
		v, ok := parseInt([]byte(tt.in))
		if ok != tt.want || (ok && v != tt.v) {
			t.Errorf("parseInt(%q) = %d, %v; want %d, %v", tt.in, v, ok, tt.v, tt.want)
		}
	}
}

func TestParseFsync(t *testing.T) {
	for _, f := range []Fsync{FsyncAlways, FsyncEverysec, FsyncNo} {
		got, err := ParseFsync(f.String())
		if err != nil || got != f {
			t.Errorf("ParseFsync(%q) = %v, %v", f, got, err)
		}
	}
	if _, err := ParseFsync("sometimes"); err == nil {
		t.Error("ParseFsync accepted sometimes")
	}
	if s := Fsync(9).String(); s != "Fsync(9)" {
		t.Errorf("Fsync(9) = %q", s)
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, o := range []Options{
		{AppendFsync: 7}, {MaxBulk: -1}, {MaxBulk: MaxMaxBulk + 1}, {ExpireInterval: -1}, {SegmentSize: -1},
	} {
		o.FS = vfs.NewMem()
		if _, err := Open(testDir, &o); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("Open accepted %+v", o)
		}
	}
}

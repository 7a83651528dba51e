package walkv

import (
	"errors"
	"testing"
)

// TestEntryReply: ApplyEntry's form converts to each protocol's bytes.
func TestEntryReply(t *testing.T) {
	cases := []struct{ in, resp2, resp3 string }{
		{"+OK\r\n", "+OK\r\n", "+OK\r\n"},
		{"-ERR x\r\n:5\r\n", "-ERR x\r\n:5\r\n", "-ERR x\r\n:5\r\n"},
		{"$-1\r\n*-1\r\n", "$-1\r\n*-1\r\n", "_\r\n_\r\n"},
		{"$0\r\n\r\n$3\r\na\r\n\r\n", "$0\r\n\r\n$3\r\na\r\n\r\n", "$0\r\n\r\n$3\r\na\r\n\r\n"},
		{"%1\r\n$1\r\nk\r\n,1.5\r\n", "*2\r\n$1\r\nk\r\n$3\r\n1.5\r\n", "%1\r\n$1\r\nk\r\n,1.5\r\n"},
		{"~2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "~2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{">1\r\n#t\r\n#f\r\n", "*1\r\n:1\r\n:0\r\n", ">1\r\n#t\r\n#f\r\n"},
		{"=6\r\ntxt:hi\r\n", "$2\r\nhi\r\n", "=6\r\ntxt:hi\r\n"},
		{"^2\r\n&\r\n$1\r\na\r\n,1\r\n&\r\n$1\r\nb\r\n,-inf\r\n",
			"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$4\r\n-inf\r\n",
			"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,-inf\r\n"},
		{"*2\r\n^0\r\n*-1\r\n", "*2\r\n*0\r\n*-1\r\n", "*2\r\n*0\r\n_\r\n"},
	}
	for _, tc := range cases {
		for _, resp3 := range []bool{false, true} {
			want := tc.resp2
			if resp3 {
				want = tc.resp3
			}
			got, err := entryReply(nil, []byte(tc.in), resp3)
			if err != nil || string(got) != want {
				t.Errorf("%q (resp3 %v): %q %v, want %q", tc.in, resp3, got, err, want)
			}
		}
	}
	for _, bad := range []string{"*2\r\n:1\r\n", "^1\r\n&\r\n:1\r\n", "\r\n", "+OK", "$5\r\nab\r\n", "$2\r\nabcd", "=3\r\nabc\r\n", "%-1\r\n", "#x\r\n", "_\r\n", "$-2\r\n", "&x\r\n", "^-1\r\n"} {
		if _, err := entryReply(nil, []byte(bad), false); !errors.Is(err, errBadReply) {
			t.Errorf("%q: %v, want errBadReply", bad, err)
		}
	}
}

// TestEntryReplyForm: replies written in ApplyEntry's form convert to
// exactly what the typed writers write for each protocol.
func TestEntryReplyForm(t *testing.T) {
	write := func(rc *replyConn) {
		w := typed(rc)
		rc.WriteArray(6)
		rc.WriteNull()
		w.WriteNullArray()
		w.WriteMap(1)
		rc.WriteBulkString("k")
		w.WriteSet(0)
		w.WritePairs(1)
		w.WritePair()
		rc.WriteBulkString("m")
		w.WriteDouble(0.1)
		w.WriteVerbatim("text")
		w.WriteBool(true)
	}
	entry := &replyConn{entry: true}
	write(entry)
	for _, resp3 := range []bool{false, true} {
		s := &session{}
		s.resp3.Store(resp3)
		direct := &replyConn{s: s}
		write(direct)
		got, err := entryReply(nil, entry.buf, resp3)
		if err != nil || string(got) != string(direct.buf) {
			t.Errorf("resp3 %v: converted %q %v, direct %q", resp3, got, err, direct.buf)
		}
	}
}

// FuzzEntryReply: the conversion never panics, and RESP2 output (which
// has none of the RESP3 types) converts to itself.
func FuzzEntryReply(f *testing.F) {
	for _, s := range []string{"%1\r\n$1\r\nk\r\n,1.5\r\n", "^1\r\n&\r\n$1\r\na\r\n,1\r\n", "$-1\r\n*-1\r\n=5\r\ntxt:a\r\n", "*2\r\n#t\r\n~0\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = entryReply(nil, b, true)
		out, err := entryReply(nil, b, false)
		if err != nil {
			return
		}
		again, err := entryReply(nil, out, false)
		if err != nil || string(again) != string(out) {
			t.Fatalf("RESP2 output %q converts to %q %v", out, again, err)
		}
	})
}

package txn

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode: Decode never panics; every error wraps ErrCorrupt or
// ErrVersion; a successful decode re-encodes to exactly the input (the
// encoding is canonical) and reports Size equal to the input length.
func FuzzDecode(f *testing.F) {
	for _, r := range []Record{
		{Kind: KindBegin, ID: 1},
		{Kind: KindPut, ID: 2, Key: []byte("key"), Value: []byte("value")},
		{Kind: KindDelete, ID: 3, Key: []byte("key")},
		{Kind: KindCommit, ID: 1<<64 - 1},
		{Kind: KindAbort, ID: 5},
	} {
		f.Add(r.Append(nil))
	}
	f.Add([]byte{})
	f.Add([]byte{1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("Decode(%x): unexpected error %v", b, err)
			}
			return
		}
		if got := r.Append(nil); !bytes.Equal(got, b) {
			t.Fatalf("Decode(%x) = %+v re-encodes to %x", b, r, got)
		}
		if r.Size() != len(b) {
			t.Fatalf("Size() = %d for %d input bytes", r.Size(), len(b))
		}
	})
}

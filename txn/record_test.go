package txn

import (
	"bytes"
	"errors"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		size int
	}{
		{"begin", Record{Kind: KindBegin, ID: 1}, 10},
		{"commit", Record{Kind: KindCommit, ID: 1 << 40}, 10},
		{"abort", Record{Kind: KindAbort, ID: 7}, 10},
		{"put", Record{Kind: KindPut, ID: 2, Key: []byte("k"), Value: []byte("value")}, 24},
		{"put empty", Record{Kind: KindPut, ID: 3, Key: []byte{}, Value: []byte{}}, 18},
		{"delete", Record{Kind: KindDelete, ID: 4, Key: []byte("key")}, 17},
		{"delete empty key", Record{Kind: KindDelete, ID: 5, Key: []byte{}}, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.rec.Append(nil)
			if len(b) != tt.size || tt.rec.Size() != tt.size {
				t.Fatalf("encoded %d bytes, Size %d, want %d", len(b), tt.rec.Size(), tt.size)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got.Kind != tt.rec.Kind || got.ID != tt.rec.ID || !bytes.Equal(got.Key, tt.rec.Key) || !bytes.Equal(got.Value, tt.rec.Value) {
				t.Fatalf("Decode = %+v, want %+v", got, tt.rec)
			}
			if again := got.Append(nil); !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs: %x vs %x", again, b)
			}
		})
	}
}

// TestAppendIgnoresForeignFields: fields a kind does not carry are not
// encoded, so the encoding stays canonical.
func TestAppendIgnoresForeignFields(t *testing.T) {
	b := Record{Kind: KindCommit, ID: 9, Key: []byte("x"), Value: []byte("y")}.Append(nil)
	if len(b) != HeaderSize {
		t.Fatalf("commit with stray key encoded %d bytes", len(b))
	}
	b = Record{Kind: KindDelete, ID: 9, Key: []byte("x"), Value: []byte("y")}.Append(nil)
	if r, err := Decode(b); err != nil || r.Value != nil {
		t.Fatalf("delete decoded %+v, %v", r, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	put := Record{Kind: KindPut, ID: 1, Key: []byte("ab"), Value: []byte("cd")}.Append(nil)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"short header", []byte{1, 1, 0, 0}, ErrCorrupt},
		{"version 0", append([]byte{0}, put[1:]...), ErrVersion},
		{"version 2", append([]byte{2}, put[1:]...), ErrVersion},
		{"kind 0", []byte{1, 0, 1, 0, 0, 0, 0, 0, 0, 0}, ErrCorrupt},
		{"kind 6", []byte{1, 6, 1, 0, 0, 0, 0, 0, 0, 0}, ErrCorrupt},
		{"id 0", []byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0}, ErrCorrupt},
		{"begin trailing", []byte{1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 9}, ErrCorrupt},
		{"put no key length", put[:12], ErrCorrupt},
		{"put key cut", put[:15], ErrCorrupt},
		{"put no value length", put[:17], ErrCorrupt},
		{"put value cut", put[:len(put)-1], ErrCorrupt},
		{"put trailing", append(append([]byte(nil), put...), 0), ErrCorrupt},
		{"huge key length", []byte{1, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("Decode(%x) = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	tests := map[Kind]string{KindBegin: "begin", KindPut: "put", KindDelete: "delete", KindCommit: "commit", KindAbort: "abort", 9: "Kind(9)"}
	for k, want := range tests {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), got, want)
		}
	}
}

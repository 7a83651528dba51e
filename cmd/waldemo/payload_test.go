package main

import (
	"errors"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		id     entryID
		filler []byte
	}{
		{entryID{}, nil},
		{entryID{Round: 1, Writer: 7, Seq: 42}, []byte("x")},
		{entryID{Round: 65535, Writer: 65535, Seq: 1<<32 - 1}, make([]byte, maxFiller)},
	} {
		p := appendPayload([]byte("prefix"), tc.id, tc.filler)[len("prefix"):]
		if want := payloadMinSize + len(tc.filler); len(p) != want {
			t.Errorf("%v: payload is %d bytes, want %d", tc.id, len(p), want)
		}
		got, err := verifyPayload(p)
		if err != nil || got != tc.id {
			t.Errorf("verifyPayload(appendPayload(%v)) = %v, %v", tc.id, got, err)
		}
	}
}

func TestPayloadCorruptionDetected(t *testing.T) {
	p := appendPayload(nil, entryID{Round: 3, Writer: 1, Seq: 9}, []byte("some filler bytes"))
	for i := range p {
		for _, bit := range []byte{0x01, 0x80} {
			q := append([]byte(nil), p...)
			q[i] ^= bit
			if _, err := verifyPayload(q); !errors.Is(err, errPayloadCRC) {
				t.Errorf("flipping bit %#x of byte %d: err = %v, want errPayloadCRC", bit, i, err)
			}
		}
	}
	for n := range p {
		want := errPayloadCRC
		if n < payloadMinSize {
			want = errPayloadShort
		}
		if _, err := verifyPayload(p[:n]); !errors.Is(err, want) {
			t.Errorf("payload cut to %d bytes: err = %v, want %v", n, err, want)
		}
	}
}

func TestParseID(t *testing.T) {
	id := entryID{Round: 2, Writer: 15, Seq: 123456}
	if got, err := parseID(id.String()); err != nil || got != id {
		t.Errorf("parseID(%q) = %v, %v", id.String(), got, err)
	}
	for _, s := range []string{"", "1.2", "1.2.3.4", "1.2.x", "65536.0.0", "0.65536.0", "0.0.4294967296", "-1.0.0", " 1.2.3"} {
		if got, err := parseID(s); err == nil {
			t.Errorf("parseID(%q) = %v, want an error", s, got)
		}
	}
}

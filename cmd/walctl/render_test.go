package main

import (
	"bytes"
	"testing"

	"github.com/waldb/wal/txn"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]bool{
		"": true, "hello world": true, "naïve ☕": true,
		"tab\t": false, "nl\n": false, "\x00": false, "\xff\xfe": false, "del\x7f": false, "bad\xc3": false,
	} {
		if got := printable([]byte(in)); got != want {
			t.Errorf("printable(%q) = %v", in, got)
		}
	}
}

func TestShowData(t *testing.T) {
	for _, tc := range []struct {
		in   string
		mode dataMode
		want string
	}{
		{"abc", dataAuto, "abc"},
		{"\x01\x02", dataAuto, "hex:0102"},
		{"abc", dataHex, "616263"},
		{"abc", dataBase64, "YWJj"},
		{"a\nb", dataRaw, "a\nb"},
		{"", dataAuto, ""},
	} {
		if got := showData([]byte(tc.in), tc.mode); got != tc.want {
			t.Errorf("showData(%q, %s) = %q, want %q", tc.in, tc.mode, got, tc.want)
		}
	}
}

func TestParseDataMode(t *testing.T) {
	for _, tc := range []struct {
		s    string
		json bool
		ok   bool
	}{
		{"auto", false, true}, {"hex", true, true}, {"base64", true, true}, {"raw", false, true},
		{"raw", true, false}, {"", false, false}, {"HEX", false, false},
	} {
		if _, err := parseDataMode(tc.s, tc.json); (err == nil) != tc.ok {
			t.Errorf("parseDataMode(%q, %v) = %v", tc.s, tc.json, err)
		}
	}
}

// TestTxnHook: records of package txn decode; other data does not.
func TestTxnHook(t *testing.T) {
	put := txn.Record{Kind: txn.KindPut, ID: 9, Key: []byte("k"), Value: []byte{0xff}}.Append(nil)
	r, ok := decodeTxn(put)
	if !ok || r.text(dataAuto) != `txn put id=9 key="k" value=hex:ff` {
		t.Errorf("decodeTxn(put) = %+v, %v", r, ok)
	}
	for _, b := range [][]byte{nil, []byte("set x 1"), {1, 2, 0, 0, 0, 0, 0, 0, 0, 0}, append(bytes.Clone(put), 0)} {
		if r, ok := decodeTxn(b); ok {
			t.Errorf("decodeTxn(%q) = %+v", b, r)
		}
	}
}

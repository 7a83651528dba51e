package main

import (
	"fmt"
	"strconv"

	"github.com/waldb/wal/txn"
)

// The txn hook. dump and tail show an entry that decodes as a record of
// package txn (Begin, Put, Delete, Commit, Abort) as that record. This file
// is the only one that knows txn's API; if the record format changes,
// change decodeTxn.
//
// A txn record has no magic number, so an arbitrary binary entry could
// decode as one; txn.Decode is strict (version byte 1, a known kind, a
// nonzero id, lengths that end exactly at the end of the entry), so that is
// rare, and text entries never decode (their first byte is printable, the
// version byte is 1). --txn=false shows every entry as plain data.

// txnRecord is a decoded txn record.
type txnRecord struct {
	Kind       string
	ID         uint64
	Key, Value []byte
	HasKey     bool
	HasValue   bool
}

// decodeTxn decodes b as a txn record.
func decodeTxn(b []byte) (txnRecord, bool) {
	r, err := txn.Decode(b)
	if err != nil {
		return txnRecord{}, false
	}
	return txnRecord{
		Kind: r.Kind.String(), ID: r.ID, Key: r.Key, Value: r.Value,
		HasKey:   r.Kind == txn.KindPut || r.Kind == txn.KindDelete,
		HasValue: r.Kind == txn.KindPut,
	}, true
}

// text renders r for a text line: "txn put id=7 key="k" value="v"".
func (r txnRecord) text(mode dataMode) string {
	s := fmt.Sprintf("txn %s id=%d", r.Kind, r.ID)
	if r.HasKey {
		s += " key=" + txnField(r.Key, mode)
	}
	if r.HasValue {
		s += " value=" + txnField(r.Value, mode)
	}
	return s
}

// txnField shows a key or value: quoted text, or hex:/base64: data.
func txnField(b []byte, mode dataMode) string {
	switch enc, s := encodeData(b, mode); enc {
	case "text":
		return strconv.Quote(s)
	case "raw":
		return strconv.Quote(string(b))
	default:
		return enc + ":" + s
	}
}

// txnJSON is a txn record in JSON output.
type txnJSON struct {
	Kind          string  `json:"kind"`
	ID            uint64  `json:"id"`
	Key           *string `json:"key,omitempty"`
	KeyEncoding   string  `json:"key_encoding,omitempty"`
	Value         *string `json:"value,omitempty"`
	ValueEncoding string  `json:"value_encoding,omitempty"`
}

func (r txnRecord) json(mode dataMode) *txnJSON {
	j := &txnJSON{Kind: r.Kind, ID: r.ID}
	if r.HasKey {
		enc, s := encodeData(r.Key, mode)
		j.Key, j.KeyEncoding = &s, enc
	}
	if r.HasValue {
		enc, s := encodeData(r.Value, mode)
		j.Value, j.ValueEncoding = &s, enc
	}
	return j
}

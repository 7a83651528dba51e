package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// dataMode says how dump and tail show entry bytes (--data).
type dataMode string

const (
	dataAuto   dataMode = "auto"   // text if printable UTF-8, else "hex:..."
	dataHex    dataMode = "hex"    // always hex
	dataBase64 dataMode = "base64" // always standard base64
	dataRaw    dataMode = "raw"    // the bytes themselves, one entry per line, nothing else
)

// parseDataMode validates a --data value; json rules out raw, which JSON
// strings cannot carry.
func parseDataMode(s string, json bool) (dataMode, error) {
	switch m := dataMode(s); m {
	case dataAuto, dataHex, dataBase64:
		return m, nil
	case dataRaw:
		if json {
			return "", fmt.Errorf("--data=raw cannot be combined with --json")
		}
		return m, nil
	}
	return "", fmt.Errorf("--data=%q: want auto, hex, base64 or raw", s)
}

// printable reports whether b is valid UTF-8 made of printable characters
// (spaces included; tabs, newlines and other controls not).
func printable(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 || !strconv.IsPrint(r) {
			return false
		}
		b = b[n:]
	}
	return true
}

// encodeData returns b's encoding name and encoded form under mode.
func encodeData(b []byte, mode dataMode) (enc, s string) {
	switch {
	case mode == dataHex || mode == dataAuto && !printable(b):
		return "hex", hex.EncodeToString(b)
	case mode == dataBase64:
		return "base64", base64.StdEncoding.EncodeToString(b)
	case mode == dataRaw:
		return "raw", string(b)
	}
	return "text", string(b)
}

// showData is b as text output shows it: under auto, non-text data is
// marked "hex:".
func showData(b []byte, mode dataMode) string {
	enc, s := encodeData(b, mode)
	if mode == dataAuto && enc == "hex" {
		return "hex:" + s
	}
	return s
}

// entryPrinter writes entries as dump and tail show them: text lines
// "INDEX<TAB>SIZE<TAB>DATA", raw bytes, or JSON lines.
type entryPrinter struct {
	w    io.Writer
	mode dataMode
	json bool
	txn  bool // decode records of package txn
}

// entryJSON is one JSON line.
type entryJSON struct {
	Index    uint64   `json:"index"`
	Size     int      `json:"size"`
	Encoding string   `json:"encoding,omitempty"`
	Data     *string  `json:"data,omitempty"`
	Txn      *txnJSON `json:"txn,omitempty"`
}

func (p *entryPrinter) print(index uint64, data []byte) error {
	var t *txnRecord
	if p.txn {
		if r, ok := decodeTxn(data); ok {
			t = &r
		}
	}
	var err error
	switch {
	case p.json:
		e := entryJSON{Index: index, Size: len(data)}
		if t != nil {
			e.Txn = t.json(p.mode)
		} else {
			enc, s := encodeData(data, p.mode)
			e.Encoding, e.Data = enc, &s
		}
		var b []byte
		if b, err = json.Marshal(e); err == nil {
			_, err = fmt.Fprintf(p.w, "%s\n", b)
		}
	case p.mode == dataRaw:
		_, err = fmt.Fprintf(p.w, "%s\n", data)
	case t != nil:
		_, err = fmt.Fprintf(p.w, "%d\t%d\t%s\n", index, len(data), t.text(p.mode))
	default:
		_, err = fmt.Fprintf(p.w, "%d\t%d\t%s\n", index, len(data), showData(data, p.mode))
	}
	return err
}

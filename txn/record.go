package txn

import (
	"encoding/binary"
	"fmt"
)

// Wire constants of record format version 1. Never change these: they
// define the bytes in existing logs (see the package doc).
const (
	// Version is the record format version this package writes.
	Version = 1
	// HeaderSize is the size of the version, kind and id fields; Begin,
	// Commit and Abort records are exactly this long.
	HeaderSize = 10
	lenSize    = 4
)

// Kind is a record's kind.
type Kind uint8

// Record kinds. Never change these values.
const (
	KindBegin  Kind = 1
	KindPut    Kind = 2
	KindDelete Kind = 3
	KindCommit Kind = 4
	KindAbort  Kind = 5
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindBegin:
		return "begin"
	case KindPut:
		return "put"
	case KindDelete:
		return "delete"
	case KindCommit:
		return "commit"
	case KindAbort:
		return "abort"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// isOp reports whether k is an operation (Put or Delete).
func (k Kind) isOp() bool { return k == KindPut || k == KindDelete }

// Record is one decoded log record. Key is set for Put and Delete, Value
// for Put only.
type Record struct {
	Kind  Kind
	ID    uint64
	Key   []byte
	Value []byte
}

// Size returns the encoded size of r in bytes.
func (r Record) Size() int {
	switch r.Kind {
	case KindPut:
		return HeaderSize + 2*lenSize + len(r.Key) + len(r.Value)
	case KindDelete:
		return HeaderSize + lenSize + len(r.Key)
	}
	return HeaderSize
}

// Append appends the encoding of r to dst and returns the extended slice.
// Fields a kind does not carry are ignored. The caller keeps keys and
// values under 4 GiB (the log's entry limit is far lower).
func (r Record) Append(dst []byte) []byte {
	dst = append(dst, Version, byte(r.Kind))
	dst = binary.LittleEndian.AppendUint64(dst, r.ID)
	if r.Kind == KindPut || r.Kind == KindDelete {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.Key)))
		dst = append(dst, r.Key...)
	}
	if r.Kind == KindPut {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.Value)))
		dst = append(dst, r.Value...)
	}
	return dst
}

// Decode decodes one record that occupies all of b. Key and Value alias b.
// Errors wrap ErrCorrupt or ErrVersion.
func Decode(b []byte) (Record, error) {
	if len(b) < HeaderSize {
		return Record{}, fmt.Errorf("%w: %d bytes, header needs %d", ErrCorrupt, len(b), HeaderSize)
	}
	if b[0] != Version {
		return Record{}, fmt.Errorf("%w: version %d", ErrVersion, b[0])
	}
	r := Record{Kind: Kind(b[1]), ID: binary.LittleEndian.Uint64(b[2:])}
	if r.Kind < KindBegin || r.Kind > KindAbort {
		return Record{}, fmt.Errorf("%w: kind %d", ErrCorrupt, b[1])
	}
	if r.ID == 0 {
		return Record{}, fmt.Errorf("%w: transaction id 0", ErrCorrupt)
	}
	rest := b[HeaderSize:]
	var err error
	if r.Kind.isOp() {
		if r.Key, rest, err = field(rest, "key"); err != nil {
			return Record{}, err
		}
	}
	if r.Kind == KindPut {
		if r.Value, rest, err = field(rest, "value"); err != nil {
			return Record{}, err
		}
	}
	if len(rest) != 0 {
		return Record{}, fmt.Errorf("%w: %d trailing bytes after %s record", ErrCorrupt, len(rest), r.Kind)
	}
	return r, nil
}

// field splits a length-prefixed field off b, checking the length against
// the bytes present.
func field(b []byte, what string) (data, rest []byte, err error) {
	if len(b) < lenSize {
		return nil, nil, fmt.Errorf("%w: %s length cut short", ErrCorrupt, what)
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[lenSize:]
	if uint64(n) > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: %s length %d exceeds the %d bytes left", ErrCorrupt, what, n, len(b))
	}
	return b[:n:n], b[n:], nil
}

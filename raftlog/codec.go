package raftlog

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"time"

	"github.com/hashicorp/raft"
)

// Wire constants of the entry encoding. Never change these: they define the
// on-disk format (see the package doc and FORMAT.md).
const (
	// EntryVersion is the version byte of the entry encoding this package
	// writes and the only one it reads.
	EntryVersion = 1

	flagAppendedAt = 1 << 0 // AppendedAt follows the term
	flagExtensions = 1 << 1 // an Extensions length and bytes follow
	knownFlags     = flagAppendedAt | flagExtensions

	entryFixed = 3 // version, type, flags
)

// AppendLog appends the encoding of l (see the package doc) to dst and
// returns the extended slice. Every field is encoded: Index, Term, Type,
// Data, Extensions and AppendedAt (as an instant: its location and
// monotonic clock reading are not kept). Empty Data and Extensions are
// encoded like nil ones.
func AppendLog(dst []byte, l *raft.Log) []byte {
	var flags byte
	if !l.AppendedAt.IsZero() {
		flags |= flagAppendedAt
	}
	if len(l.Extensions) > 0 {
		flags |= flagExtensions
	}
	dst = append(dst, EntryVersion, byte(l.Type), flags)
	dst = binary.AppendUvarint(dst, l.Index)
	dst = binary.AppendUvarint(dst, l.Term)
	if flags&flagAppendedAt != 0 {
		dst = binary.AppendVarint(dst, l.AppendedAt.Unix())
		dst = binary.AppendUvarint(dst, uint64(l.AppendedAt.Nanosecond()))
	}
	if flags&flagExtensions != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(l.Extensions)))
		dst = append(dst, l.Extensions...)
	}
	return append(dst, l.Data...)
}

// EncodedLen returns len(AppendLog(nil, l)) without encoding.
func EncodedLen(l *raft.Log) int {
	n := entryFixed + uvarintLen(l.Index) + uvarintLen(l.Term) + len(l.Data)
	if !l.AppendedAt.IsZero() {
		n += uvarintLen(zigzag(l.AppendedAt.Unix())) + uvarintLen(uint64(l.AppendedAt.Nanosecond()))
	}
	if len(l.Extensions) > 0 {
		n += uvarintLen(uint64(len(l.Extensions))) + len(l.Extensions)
	}
	return n
}

// DecodeLog decodes an entry written by AppendLog into l, replacing all of
// its fields. l.Data and l.Extensions alias b (nil when empty); AppendedAt
// is in UTC, the zero time when absent. Every error wraps ErrCorrupt, and
// l is then left unchanged. Only canonical encodings are accepted (minimal
// varints, no unknown flag bits, no empty Extensions block), so for any b
// that decodes, AppendLog(nil, l) reproduces b exactly. Lengths are checked
// against len(b) before use; DecodeLog allocates nothing.
func DecodeLog(b []byte, l *raft.Log) error {
	d := decoder{b: b}
	if len(b) < entryFixed {
		return corruptf("entry of %d bytes is shorter than its %d-byte header", len(b), entryFixed)
	}
	if b[0] != EntryVersion {
		return corruptf("unknown entry version %d (this package reads version %d)", b[0], EntryVersion)
	}
	typ, flags := raft.LogType(b[1]), b[2]
	if flags&^knownFlags != 0 {
		return corruptf("unknown entry flags %#02x", flags)
	}
	d.off = entryFixed
	index := d.uvarint("index")
	term := d.uvarint("term")
	at := d.appendedAt(flags)
	ext := d.extensions(flags)
	if d.err != nil {
		return d.err
	}
	*l = raft.Log{Index: index, Term: term, Type: typ, Extensions: ext, AppendedAt: at}
	if d.off < len(b) {
		l.Data = b[d.off:len(b):len(b)]
	}
	return nil
}

// decoder reads the variable-length fields of an entry. The first error
// sticks; later reads return zero values.
type decoder struct {
	b   []byte
	off int
	err error
}

// uvarint reads a minimally encoded uvarint.
func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	switch {
	case n == 0:
		d.err = corruptf("%s: truncated varint at offset %d", field, d.off)
	case n < 0:
		d.err = corruptf("%s: varint at offset %d overflows 64 bits", field, d.off)
	case n != uvarintLen(v):
		d.err = corruptf("%s: non-minimal varint at offset %d", field, d.off)
	}
	if d.err != nil {
		return 0
	}
	d.off += n
	return v
}

// appendedAt reads the optional timestamp.
func (d *decoder) appendedAt(flags byte) time.Time {
	if flags&flagAppendedAt == 0 {
		return time.Time{}
	}
	sec := unzigzag(d.uvarint("appended-at seconds"))
	nsec := d.uvarint("appended-at nanoseconds")
	if d.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 {
		d.err = corruptf("appended-at nanoseconds %d >= 1e9", nsec)
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec)).UTC()
	if t.IsZero() {
		d.err = corruptf("appended-at flag set on the zero time")
	}
	return t
}

// extensions reads the optional Extensions block.
func (d *decoder) extensions(flags byte) []byte {
	if flags&flagExtensions == 0 {
		return nil
	}
	n := d.uvarint("extensions length")
	if d.err != nil {
		return nil
	}
	if rest := uint64(len(d.b) - d.off); n == 0 || n > rest {
		d.err = corruptf("extensions length %d outside [1, %d]", n, rest)
		return nil
	}
	end := d.off + int(n)
	ext := d.b[d.off:end:end]
	d.off = end
	return ext
}

// uvarintLen is the length of the minimal uvarint encoding of v.
func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// zigzag maps signed to unsigned as binary.PutVarint does.
func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

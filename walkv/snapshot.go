package walkv

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// Snapshot wire constants (see the package doc). Never change them.
const (
	snapMagic      = "WALKVSNP"
	snapVersion    = 3 // 2 added lists and sets, 3 databases; versions 1 and 2 still load
	snapHeaderSize = 32
	snapEndMarker  = 0xff
	snapDBMarker   = 0xfe // version 3: the entries after it are of another database
	snapTrailer    = 1 + 8 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// snapHeader is the snapshot header's content.
type snapHeader struct {
	id      uint64 // last transaction reflected
	created int64  // Unix ms, informational
}

// writeSnapshot writes a snapshot of the items each yields to w, skipping
// those expired at now, and returns the number of entries written. each
// yields every item with its database, in increasing database order.
func writeSnapshot(w io.Writer, h snapHeader, each func(func(int, *item) bool), now int64) (uint64, error) {
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 256<<10)
	hdr := make([]byte, snapHeaderSize)
	copy(hdr, snapMagic)
	binary.LittleEndian.PutUint32(hdr[8:], snapVersion)
	binary.LittleEndian.PutUint64(hdr[16:], h.id)
	binary.LittleEndian.PutUint64(hdr[24:], uint64(h.created))
	bw.Write(hdr)
	var n uint64
	var buf []byte
	cur := 0
	each(func(db int, it *item) bool {
		if it.expired(now) {
			return true
		}
		buf = buf[:0]
		if db != cur {
			buf = binary.LittleEndian.AppendUint32(append(buf, snapDBMarker), uint32(db))
			cur = db
		}
		buf = appendSnapEntry(buf, it)
		_, err := bw.Write(buf)
		n++
		return err == nil
	})
	end := binary.LittleEndian.AppendUint64([]byte{snapEndMarker}, n)
	bw.Write(end)
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	_, err := w.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	return n, err
}

// appendSnapEntry appends the encoding of one item.
func appendSnapEntry(b []byte, it *item) []byte {
	b = append(b, byte(it.kind))
	b = binary.LittleEndian.AppendUint64(b, uint64(it.expire))
	b = appendLenBytes(b, []byte(it.key))
	switch it.kind {
	case kindString:
		return appendLenBytes(b, it.str)
	case kindList:
		return appendSnapList(b, it)
	case kindSet:
		return appendSnapSet(b, it)
	}
	if it.kind == kindZSet {
		return appendZSetEntry(b, it)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(it.fields)))
	for f, v := range it.fields {
		b = appendLenBytes(b, []byte(f))
		b = appendLenBytes(b, v)
	}
	return b
}

func appendLenBytes(b, p []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
	return append(b, p...)
}

// snapReader decodes a snapshot of known size, checking every length
// against the bytes left before allocating, and the CRC at the end.
type snapReader struct {
	version uint32
	r       *bufio.Reader
	crc     hash.Hash32
	left    int64 // bytes not yet read
}

// readSnapshot reads a snapshot of size bytes from r, calling add for
// each entry with its database (the gen unset). Errors wrap
// ErrCorruptSnapshot, or are I/O errors.
func readSnapshot(r io.Reader, size int64, add func(int, *item)) (snapHeader, error) {
	sr := &snapReader{r: bufio.NewReaderSize(r, 256<<10), crc: crc32.New(castagnoli), left: size}
	h, err := sr.header()
	if err != nil {
		return h, err
	}
	var n uint64
	db, entered := 0, true // entered: an entry followed the last database marker
	for {
		k, err := sr.byte()
		if err != nil {
			return h, err
		}
		if (k == snapEndMarker || k == snapDBMarker && sr.version >= 3) && !entered {
			return h, corruptSnap("database marker without entries")
		}
		switch {
		case k == snapEndMarker:
			return h, sr.trailer(n)
		case k == snapDBMarker && sr.version >= 3:
			if db, err = sr.dbMarker(db); err != nil {
				return h, err
			}
			entered = false
			continue
		}
		it, err := sr.entry(kind(k))
		if err != nil {
			return h, err
		}
		add(db, it)
		n++
		entered = true
	}
}

// dbMarker reads the database index after a database marker, which must
// name a database after prev (markers go in increasing order).
func (sr *snapReader) dbMarker(prev int) (int, error) {
	d, err := sr.u32()
	if err != nil {
		return 0, err
	}
	if int64(d) <= int64(prev) || d >= numDBs {
		return 0, corruptSnap("database marker %d after database %d", d, prev)
	}
	return int(d), nil
}

func corruptSnap(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorruptSnapshot}, args...)...)
}

// read reads exactly n bytes, n already bounded by the caller.
func (sr *snapReader) read(n int64) ([]byte, error) {
	if n > sr.left {
		return nil, corruptSnap("%d bytes wanted, %d left", n, sr.left)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(sr.r, b); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, corruptSnap("file shorter than its size")
		}
		return nil, err
	}
	sr.left -= n
	sr.crc.Write(b)
	return b, nil
}

func (sr *snapReader) byte() (byte, error) {
	b, err := sr.read(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (sr *snapReader) u32() (uint32, error) {
	b, err := sr.read(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (sr *snapReader) u64() (uint64, error) {
	b, err := sr.read(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// lenBytes reads a length-prefixed byte string.
func (sr *snapReader) lenBytes() ([]byte, error) {
	n, err := sr.u32()
	if err != nil {
		return nil, err
	}
	return sr.read(int64(n))
}

func (sr *snapReader) header() (snapHeader, error) {
	b, err := sr.read(snapHeaderSize)
	if err != nil {
		return snapHeader{}, err
	}
	if string(b[:8]) != snapMagic {
		return snapHeader{}, corruptSnap("bad magic %q", b[:8])
	}
	if sr.version = binary.LittleEndian.Uint32(b[8:]); sr.version < 1 || sr.version > snapVersion {
		return snapHeader{}, corruptSnap("unsupported version %d", sr.version)
	}
	return snapHeader{id: binary.LittleEndian.Uint64(b[16:]), created: int64(binary.LittleEndian.Uint64(b[24:]))}, nil
}

func (sr *snapReader) entry(k kind) (*item, error) {
	if k != kindString && k != kindHash && (sr.version < 2 || (k != kindList && k != kindSet && k != kindZSet)) {
		return nil, corruptSnap("unknown entry kind %d in a version %d snapshot", k, sr.version)
	}
	exp, err := sr.u64()
	if err != nil {
		return nil, err
	}
	key, err := sr.lenBytes()
	if err != nil {
		return nil, err
	}
	it := &item{key: string(key), kind: k, expire: int64(exp)}
	switch k {
	case kindString:
		it.str, err = sr.lenBytes()
		return it, err
	case kindList:
		return it, sr.list(it)
	case kindSet:
		return it, sr.set(it)
	}
	if k == kindZSet {
		return it, sr.zsetEntry(it)
	}
	return it, sr.fields(it)
}

func (sr *snapReader) fields(it *item) error {
	n, err := sr.u32()
	if err != nil {
		return err
	}
	if int64(n)*8 > sr.left {
		return corruptSnap("%d fields cannot fit in %d bytes", n, sr.left)
	}
	it.fields = make(map[string][]byte, n)
	for range n {
		f, err := sr.lenBytes()
		if err != nil {
			return err
		}
		if it.fields[string(f)], err = sr.lenBytes(); err != nil {
			return err
		}
	}
	return nil
}

// trailer checks the entry count and the CRC, and that nothing follows.
func (sr *snapReader) trailer(n uint64) error {
	count, err := sr.u64()
	if err != nil {
		return err
	}
	if count != n {
		return corruptSnap("trailer counts %d entries, file has %d", count, n)
	}
	want := sr.crc.Sum32()
	got, err := sr.u32()
	if err != nil {
		return err
	}
	if got != want || sr.left != 0 {
		return corruptSnap("checksum %08x, computed %08x, %d trailing bytes", got, want, sr.left)
	}
	return nil
}

package record

import (
	"errors"
	"fmt"
	"io"
)

// Reader decodes successive records from an io.Reader through one reusable
// buffer, so scanning a segment costs memory proportional to its largest
// record, not to the segment.
//
// Invariant: buf[start:end] holds the unconsumed bytes, the first of which
// sits at stream offset off.
type Reader struct {
	r          io.Reader
	buf        []byte
	start, end int
	off        int64
	eof        bool
	rerr       error // a non-EOF error from r, reported once buf runs short
	err        error
	maxPayload uint32
}

// NewReader returns a Reader whose stream offset 0 is r's current position.
// Records with payloads longer than maxPayload are reported as ErrCorrupt
// without allocating; maxPayload <= 0 means MaxPayload.
func NewReader(r io.Reader, bufSize, maxPayload int) *Reader {
	if bufSize < HeaderSize {
		bufSize = 64 << 10
	}
	if maxPayload <= 0 || maxPayload > MaxPayload {
		maxPayload = MaxPayload
	}
	return &Reader{r: r, buf: make([]byte, bufSize), maxPayload: uint32(maxPayload)}
}

// Offset is the stream offset of the next record Next will return.
func (r *Reader) Offset() int64 { return r.off }

// Next returns the next record, its stream offset, and its payload, which
// stays valid until the following call. It returns io.EOF when the stream
// ends exactly at a record boundary. Any other error (ErrShort, ErrZero,
// ErrCorrupt, or the underlying reader's error) is sticky: off then names
// where the bad record starts.
func (r *Reader) Next() (off int64, h Header, payload []byte, err error) {
	if r.err != nil {
		return r.off, Header{}, nil, r.err
	}
	h, payload, err = r.next()
	if err != nil {
		r.err = err
		return r.off, h, nil, err
	}
	off = r.off
	r.start += h.Size()
	r.off += int64(h.Size())
	return off, h, payload, nil
}

func (r *Reader) next() (Header, []byte, error) {
	if err := r.fill(HeaderSize); err != nil {
		return Header{}, nil, err
	}
	h, err := DecodeHeader(r.buf[r.start:r.end])
	if err != nil {
		return h, nil, err
	}
	if h.Length > r.maxPayload {
		return h, nil, fmt.Errorf("%w: payload length %d exceeds limit %d", ErrCorrupt, h.Length, r.maxPayload)
	}
	if err := r.fill(h.Size()); err != nil {
		if err == io.EOF {
			err = ErrShort
		}
		return h, nil, err
	}
	rec := r.buf[r.start : r.start+h.Size()]
	p := rec[HeaderSize:]
	return h, p, Verify(h, rec[4:HeaderSize], p)
}

// fill ensures n unconsumed bytes are buffered. It returns io.EOF if the
// stream ended with no unconsumed bytes, ErrShort if it ended with fewer
// than n, and r's error if r failed with fewer than n. As io.Reader asks,
// bytes returned together with an error are kept: records they complete are
// still returned, and the error is reported only when more bytes are needed.
func (r *Reader) fill(n int) error {
	if r.end-r.start >= n {
		return nil
	}
	if r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	for empty := 0; r.end < n && !r.eof && r.rerr == nil; {
		if r.end == len(r.buf) {
			// Grow step by step as bytes arrive, so a corrupt length field
			// over a short stream never allocates what it claims.
			nb := make([]byte, min(n, 2*len(r.buf)))
			copy(nb, r.buf[:r.end])
			r.buf = nb
		}
		m, err := r.r.Read(r.buf[r.end:])
		r.end += m
		switch {
		case errors.Is(err, io.EOF):
			r.eof = true
		case err != nil:
			r.rerr = err
		case m == 0:
			if empty++; empty == 100 {
				r.rerr = io.ErrNoProgress
			}
		}
	}
	if r.end >= n {
		return nil
	}
	if r.rerr != nil {
		return r.rerr
	}
	if r.end == 0 {
		return io.EOF
	}
	return ErrShort
}

package walkv

import (
	"encoding/binary"
	"errors"
)

// Request limits (Redis's): a multibulk request has at most
// maxMultibulk arguments; an inline request line is at most maxInline
// bytes; a bulk string at most Options.MaxBulk.
const (
	maxMultibulk = 1024 * 1024
	maxInline    = 64 << 10
	maxNumLine   = 24 // digits, sign and CR of a '*' or '$' line
)

// Errors of the request guard; their text is the error reply.
var (
	errBulkLength      = errors.New("ERR Protocol error: invalid bulk length")
	errMultibulkLength = errors.New("ERR Protocol error: invalid multibulk length")
	errInlineTooBig    = errors.New("ERR Protocol error: too big inline request")
	// errRequestTooLarge: in cluster mode, a request whose arguments
	// cannot fit one log entry (see entrylimit.go).
	errRequestTooLarge = errors.New("ERR Protocol error: request larger than a log entry can hold")
	errMbulkTooBig     = errors.New("ERR Protocol error: too big mbulk count string")
	errBulkCountTooBig = errors.New("ERR Protocol error: too big bulk count string")
)

// Scanner states.
const (
	scStart     = iota // at the first byte of a request
	scInline           // inside an inline request line
	scCount            // inside a '*' line
	scBulkStart        // expecting '$'
	scBulkLen          // inside a '$' line
	scBody             // inside a bulk string and its CRLF
	scOff              // malformed beyond our concern: redcon reports it
)

// reqScanner follows a RESP request stream just far enough to enforce the
// limits before a request is buffered whole (a parser would grow its
// buffer to whatever length a client announces): it reads the '*' and '$'
// length lines and skips bulk bodies without looking at them. It never
// buffers. Input redcon would reject
// anyway (a missing '$', a malformed number) turns it off.
type reqScanner struct {
	maxBulk int64
	state   int
	num     int64 // the number on a length line
	neg     bool
	bad     bool  // the length line is not a valid number
	lineLen int   // bytes of the current line
	args    int64 // bulk strings left in the request
	skip    int64 // bytes left of the current bulk string and its CRLF

	// maxReq, if positive, bounds a multibulk request's encoded size in a
	// cluster entry: each argument counts its length plus a length
	// prefix (reqBytes so far).
	maxReq   int64
	reqBytes int64
}

// feed consumes p and returns len(p), or the number of bytes before the
// first violation and the violation.
func (sc *reqScanner) feed(p []byte) (int, error) {
	for i := 0; i < len(p); i++ {
		if sc.state == scBody {
			n := min(sc.skip, int64(len(p)-i))
			sc.skip -= n
			i += int(n) - 1
			if sc.skip == 0 {
				sc.endBulk()
			}
			continue
		}
		if err := sc.step(p[i]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}

// step consumes one byte outside a bulk body.
func (sc *reqScanner) step(c byte) error {
	switch sc.state {
	case scStart:
		sc.lineLen = 1
		sc.state = scInline
		if c == '*' {
			sc.state, sc.num, sc.neg, sc.bad, sc.lineLen = scCount, 0, false, false, 0
		} else if c == '\n' {
			sc.state = scStart
		}
	case scInline:
		sc.lineLen++
		if c == '\n' {
			sc.state = scStart
		} else if sc.lineLen > maxInline {
			return errInlineTooBig
		}
	case scCount, scBulkLen:
		return sc.number(c)
	case scBulkStart:
		sc.state, sc.num, sc.neg, sc.bad, sc.lineLen = scBulkLen, 0, false, false, 0
		if c != '$' {
			sc.state = scOff
		}
	}
	return nil
}

// number consumes a byte of a length line. As Redis, it waits for the
// line's end to call a bad number invalid, but refuses a line still
// unterminated after maxInline bytes (counting its '*' or '$').
func (sc *reqScanner) number(c byte) error {
	sc.lineLen++
	switch {
	case c == '\n':
		if sc.bad {
			return sc.tooLong()
		}
		return sc.endLine()
	case sc.lineLen+1 > maxInline:
		if sc.state == scCount {
			return errMbulkTooBig
		}
		return errBulkCountTooBig
	case c == '-' && sc.lineLen == 1:
		sc.neg = true
	case c >= '0' && c <= '9':
		if sc.num > maxMultibulk<<32 { // far past any limit; keep int64 from overflowing
			sc.bad = true
		} else {
			sc.num = sc.num*10 + int64(c-'0')
		}
	case c == '\r':
	default:
		sc.bad = true
	}
	return nil
}

// tooLong is the violation for a length line that does not hold a valid
// number or names too large a one.
func (sc *reqScanner) tooLong() error {
	if sc.state == scCount {
		return errMultibulkLength
	}
	return errBulkLength
}

// endLine acts on a complete length line.
func (sc *reqScanner) endLine() error {
	if sc.state == scCount {
		switch {
		case sc.neg || sc.num == 0:
			sc.state = scStart // redcon rejects or ignores it
		case sc.num > maxMultibulk:
			return errMultibulkLength
		default:
			sc.args, sc.state, sc.reqBytes = sc.num, scBulkStart, 0
		}
		return nil
	}
	if sc.neg || sc.num > sc.maxBulk {
		return errBulkLength
	}
	sc.reqBytes += sc.num + binary.MaxVarintLen64
	if sc.maxReq > 0 && sc.reqBytes > sc.maxReq {
		return errRequestTooLarge
	}
	sc.skip, sc.state = sc.num+2, scBody
	return nil
}

// endBulk moves past a complete bulk string.
func (sc *reqScanner) endBulk() {
	sc.args--
	sc.state = scBulkStart
	if sc.args == 0 {
		sc.state = scStart
	}
}

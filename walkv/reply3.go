package walkv

import (
	"math"
	"strconv"

	"github.com/tidwall/redcon"
)

// RESP3 (HELLO 3)
//
// A connection speaks RESP2 until HELLO 3, and again after HELLO 2 or
// RESET; the protocol is the session's (session.resp3), so it holds
// across MULTI/EXEC (a HELLO queued in MULTI changes the protocol of the
// replies EXEC writes after it, as in Redis).
//
// Command handlers write every reply whose RESP3 type differs from its
// RESP2 form through the methods below, never with raw bytes. Each writes
// the RESP3 type when the session speaks RESP3 and the RESP2 form
// otherwise, which is Redis 7.0's (networking.c's addReplyMapLen,
// addReplySetLen, addReplyDouble, addReplyNull, addReplyNullArray,
// addReplyPushLen, addReplyBool, addReplyVerbatim), so RESP2 replies stay
// byte for byte what they were:
//
//	method              RESP3            RESP2
//	WriteNull           _                $-1
//	WriteNullArray      _                *-1
//	WriteMap(n)         %n (n pairs)     *2n
//	WriteSet(n)         ~n               *n
//	WritePush(n)        >n               *n
//	WriteDouble(f)      ,%.17g           $len %.17g  ("inf", "-inf")
//	WriteBool(b)        #t / #f          :1 / :0
//	WriteVerbatim(s)    =len txt:s       $len s
//	WritePairs(n)       *n               *2n   (an array of n pairs,
//	WritePair()         *2               -      each begun by WritePair)
//
// Handlers reach them through typed(x.c) (or x.typed()): the
// connection's writer (conn, replyConn) implements typedWriter; any other
// redcon.Conn gets the RESP2 forms.

// typedWriter writes the replies whose type depends on the protocol.
type typedWriter interface {
	WriteNullArray()
	WriteMap(n int)
	WriteSet(n int)
	WritePush(n int)
	WriteDouble(f float64)
	WriteBool(b bool)
	WriteVerbatim(s string)
	WritePairs(n int)
	WritePair()
	// Resp3 reports whether the replies are RESP3.
	Resp3() bool
}

var (
	_ typedWriter = (*replyConn)(nil)
	_ typedWriter = (*conn)(nil)
)

// typed returns c's typed writer; a redcon.Conn that has none speaks
// RESP2.
func typed(c redcon.Conn) typedWriter {
	if w, ok := c.(typedWriter); ok {
		return w
	}
	return resp2Writer{c}
}

// typed returns the typed writer of x's connection.
func (x *exec) typed() typedWriter { return typed(x.c) }

// Resp3 reports whether the session the replies go to speaks RESP3 (or
// the replies are in ApplyEntry's form, which has RESP3's types).
func (c *replyConn) Resp3() bool { return c.entry || c.s != nil && c.s.resp3.Load() }

// null3 reports whether nulls are RESP3's _: not in ApplyEntry's form,
// which keeps RESP2's two nulls apart (entryreply.go).
func (c *replyConn) null3() bool { return !c.entry && c.Resp3() }

// WriteNull writes a null bulk string ($-1), RESP3's null (_).
func (c *replyConn) WriteNull() {
	if c.null3() {
		c.buf = append(c.buf, "_\r\n"...)
		return
	}
	c.buf = append(c.buf, "$-1\r\n"...)
}

// WriteNullArray writes a null array (*-1), RESP3's null (_).
func (c *replyConn) WriteNullArray() {
	c.buf = appendNullArray(c.buf, c.null3())
}

func appendNullArray(b []byte, resp3 bool) []byte {
	if resp3 {
		return append(b, "_\r\n"...)
	}
	return append(b, "*-1\r\n"...)
}

// WriteMap begins a map of n key-value pairs: 2n replies follow.
func (c *replyConn) WriteMap(n int) {
	if c.Resp3() {
		c.buf = appendHeader(c.buf, '%', n)
		return
	}
	c.buf = appendHeader(c.buf, '*', 2*n)
}

// WriteSet begins a set of n elements.
func (c *replyConn) WriteSet(n int) { c.buf = appendHeader(c.buf, c.pick('~', '*'), n) }

// WritePush begins an out-of-band push of n elements (Pub/Sub).
func (c *replyConn) WritePush(n int) { c.buf = appendHeader(c.buf, c.pick('>', '*'), n) }

// WriteDouble writes a double as Redis's addReplyDouble: "%.17g", and
// "inf" / "-inf".
func (c *replyConn) WriteDouble(f float64) { c.buf = appendDouble(c.buf, f, c.Resp3()) }

func appendDouble(b []byte, f float64, resp3 bool) []byte {
	var tmp [32]byte
	d := tmp[:0]
	switch {
	case math.IsInf(f, 1):
		d = append(d, "inf"...)
	case math.IsInf(f, -1):
		d = append(d, "-inf"...)
	default:
		d = strconv.AppendFloat(d, f, 'g', 17, 64)
	}
	if resp3 {
		b = append(b, ',')
		b = append(b, d...)
		return append(b, '\r', '\n')
	}
	return redcon.AppendBulk(b, d)
}

// WriteBool writes a boolean (RESP2: the integer 1 or 0).
func (c *replyConn) WriteBool(v bool) {
	switch {
	case c.Resp3() && v:
		c.buf = append(c.buf, "#t\r\n"...)
	case c.Resp3():
		c.buf = append(c.buf, "#f\r\n"...)
	case v:
		c.buf = append(c.buf, ":1\r\n"...)
	default:
		c.buf = append(c.buf, ":0\r\n"...)
	}
}

// WriteVerbatim writes a plain-text verbatim string (INFO, CLIENT LIST);
// RESP2 gets a bulk string.
func (c *replyConn) WriteVerbatim(s string) {
	if !c.Resp3() {
		c.buf = redcon.AppendBulkString(c.buf, s)
		return
	}
	c.buf = appendHeader(c.buf, '=', len(s)+4)
	c.buf = append(c.buf, "txt:"...)
	c.buf = append(c.buf, s...)
	c.buf = append(c.buf, '\r', '\n')
}

// WritePairs begins an array of n pairs (ZRANGE ... WITHSCORES,
// HRANDFIELD ... WITHVALUES): RESP3 nests each pair (WritePair begins
// it), RESP2 flattens them into one array of 2n elements.
func (c *replyConn) WritePairs(n int) {
	if c.entry {
		c.buf = appendHeader(c.buf, entryPairs, n)
		return
	}
	if c.Resp3() {
		c.buf = appendHeader(c.buf, '*', n)
		return
	}
	c.buf = appendHeader(c.buf, '*', 2*n)
}

// WritePair begins one pair of WritePairs: two replies follow.
func (c *replyConn) WritePair() {
	if c.entry {
		c.buf = append(c.buf, entryPair, '\r', '\n')
		return
	}
	if c.Resp3() {
		c.buf = append(c.buf, "*2\r\n"...)
	}
}

// pick returns r3 under RESP3, else r2.
func (c *replyConn) pick(r3, r2 byte) byte {
	if c.Resp3() {
		return r3
	}
	return r2
}

// appendHeader appends an aggregate or length header: kind, n, CRLF.
func appendHeader(b []byte, kind byte, n int) []byte {
	b = append(b, kind)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// resp2Writer gives a redcon.Conn without a protocol the RESP2 forms.
type resp2Writer struct{ c redcon.Conn }

func (w resp2Writer) Resp3() bool            { return false }
func (w resp2Writer) WriteNullArray()        { w.c.WriteRaw([]byte("*-1\r\n")) }
func (w resp2Writer) WriteMap(n int)         { w.c.WriteArray(2 * n) }
func (w resp2Writer) WriteSet(n int)         { w.c.WriteArray(n) }
func (w resp2Writer) WritePush(n int)        { w.c.WriteArray(n) }
func (w resp2Writer) WriteDouble(f float64)  { w.c.WriteRaw(appendDouble(nil, f, false)) }
func (w resp2Writer) WriteVerbatim(s string) { w.c.WriteBulkString(s) }
func (w resp2Writer) WritePairs(n int)       { w.c.WriteArray(2 * n) }
func (w resp2Writer) WritePair()             {}
func (w resp2Writer) WriteBool(v bool) {
	if v {
		w.c.WriteInt(1)
	} else {
		w.c.WriteInt(0)
	}
}

package walkv

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/tidwall/redcon"
)

// Cluster-mode replies and the protocol
//
// ApplyEntry runs on every node and cannot know the protocol of the
// client that proposed the entry (entries carry none: the entry format is
// fixed). It writes its replies in one form that either protocol can be
// derived from without knowing the commands: RESP3's types (map, set,
// push, double, boolean, verbatim string) with RESP2's two nulls ($-1
// and *-1), which RESP3 merges into one, and two tokens of its own for
// an array of pairs, which RESP3 nests and RESP2 flattens (WritePairs,
// WritePair): "^n" begins the array of n pairs, "&" each pair. The
// proposing node converts the reply for its client (entryReply): for
// RESP3 both nulls become _, ^n *n and & *2; for RESP2 every RESP3 type
// becomes its RESP2 form, ^n *2n and & nothing, which is byte for byte
// what the typed writers write under RESP2 (reply3.go).

// The tokens of ApplyEntry's form that are not RESP's.
const (
	entryPairs = '^' // ^n: an array of n pairs
	entryPair  = '&' // &: one pair of two replies
)

// errBadReply: a reply in ApplyEntry's form does not parse.
var errBadReply = errors.New("walkv: malformed cluster reply")

// entryReply converts b, replies in ApplyEntry's form, for a client
// speaking RESP3 (resp3) or RESP2; it appends to out. b must hold
// complete replies: need counts the elements the open aggregates still
// expect.
func entryReply(out, b []byte, resp3 bool) ([]byte, error) {
	need := 0
	for len(b) > 0 {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 1 {
			return out, errBadReply
		}
		kind, line, rest := b[0], b[1:i], b[i+2:]
		if kind == entryPair && i == 1 { // a bare "&": counted as nothing, its array as 2n
			if resp3 {
				out = append(out, "*2\r\n"...)
			}
			b = rest
			continue
		}
		if need > 0 {
			need-- // this token is one element of an open aggregate
		}
		switch kind {
		case '+', '-', ':', '(':
			out = append(out, b[:i+2]...)
		case '$', '=':
			n, err := strconv.Atoi(string(line))
			switch {
			case err != nil || n < -1 || n >= 0 && n > len(rest)-2 || kind == '=' && n < 4:
				return out, errBadReply
			case n == -1 && kind == '$':
				out = appendNull(out, resp3)
			case n == -1:
				return out, errBadReply
			case rest[n] != '\r' || rest[n+1] != '\n':
				return out, errBadReply
			case kind == '=' && !resp3:
				out = redcon.AppendBulk(out, rest[4:n])
			default:
				out = append(out, b[:i+2+n+2]...)
			}
			if n >= 0 {
				rest = rest[n+2:]
			}
		case '*', '%', '~', '>':
			n, err := strconv.Atoi(string(line))
			if err != nil || n < -1 || n == -1 && kind != '*' || n > len(rest) {
				// Every element takes 3 bytes or more: a count larger
				// than the bytes left is malformed (and 2n cannot overflow).
				return out, errBadReply
			}
			if kind == '%' {
				need += 2 * n
			} else if n > 0 {
				need += n
			}
			switch {
			case n == -1:
				out = appendNullArray(out, resp3)
			case resp3 || kind == '*':
				out = append(out, b[:i+2]...)
			case kind == '%':
				out = appendHeader(out, '*', 2*n)
			default:
				out = appendHeader(out, '*', n)
			}
		case entryPairs:
			n, err := strconv.Atoi(string(line))
			if err != nil || n < 0 || n > len(rest) {
				return out, errBadReply
			}
			need += 2 * n
			if resp3 {
				out = appendHeader(out, '*', n)
			} else {
				out = appendHeader(out, '*', 2*n)
			}
		case ',':
			if resp3 {
				out = append(out, b[:i+2]...)
			} else {
				out = redcon.AppendBulk(out, line)
			}
		case '#':
			switch {
			case len(line) != 1 || line[0] != 't' && line[0] != 'f':
				return out, errBadReply
			case resp3:
				out = append(out, b[:i+2]...)
			case line[0] == 't':
				out = append(out, ":1\r\n"...)
			default:
				out = append(out, ":0\r\n"...)
			}
		default:
			return out, errBadReply
		}
		b = rest
	}
	if need > 0 {
		return out, errBadReply // a reply is cut short
	}
	return out, nil
}

func appendNull(b []byte, resp3 bool) []byte {
	if resp3 {
		return append(b, "_\r\n"...)
	}
	return append(b, "$-1\r\n"...)
}

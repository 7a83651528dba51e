package walkv

import (
	"errors"
	"strconv"
	"strings"
)

// Error replies, worded as Redis words them.
const (
	errSyntax      = "ERR syntax error"
	errNotInt      = "ERR value is not an integer or out of range"
	errWrongType   = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errOverflow    = "ERR increment or decrement would overflow"
	errNoMulti     = "ERR Command not allowed inside a transaction"
	errExecAbort   = "EXECABORT Transaction discarded because of previous errors."
	errTooBig      = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	errTxnTooLarge = "ERR transaction exceeds the log's size limit"
	errDBIndex     = "ERR DB index is out of range"
)

// errTooLarge is tx.apply's refusal; commands reply errTxnTooLarge.
var errTooLarge = errors.New(errTxnTooLarge)

// errArity is the reply for a wrong number of arguments.
func errArity(name string) string {
	return "ERR wrong number of arguments for '" + strings.ToLower(name) + "' command"
}

// errUnknown is the reply for an unknown command.
func errUnknown(args [][]byte) string {
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	b.WriteString(clip(string(args[0])))
	b.WriteString("', with args beginning with: ")
	for _, a := range args[1:min(len(args), 4)] {
		b.WriteString("'" + clip(string(a)) + "' ")
	}
	return b.String()
}

// clip shortens s for an error message and removes line breaks, which
// would break the RESP error line.
func clip(s string) string {
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// parseInt parses a decimal int64 as Redis's string2ll does: an optional
// minus sign, no plus sign, no spaces, no leading zeros, no "-0".
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	d := b
	if d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || d[0] < '1' || d[0] > '9' {
		return 0, false
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	return v, err == nil
}

// eqFold reports whether b equals the lower-case ASCII word s, ignoring
// case.
func eqFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

package walkv

import (
	"hash/fnv"
	"slices"
	"strconv"
)

// Cursors of SSCAN and HSCAN (walking one collection's elements).
//
// A collection of at most smallScan elements is returned whole by the
// first call, with cursor 0, as Redis does for its compact encodings.
// Larger ones are walked in the order of a 64-bit FNV-1a hash of each
// element: the cursor is the hash to go on from, and elements sharing a
// hash are returned together, so an element present from the first call
// to the last is returned at least once, whatever changes meanwhile. Each
// call costs O(n log n) in the collection's size.
const smallScan = 128

// elemScan are the options of SSCAN and HSCAN.
type elemScan struct {
	match string
	count int
}

// parseCursor parses a cursor as Redis's strtoul does (an optional sign,
// a negative number wrapping, the empty string 0), replying "invalid
// cursor" otherwise.
func (x *exec) parseCursor(b []byte) (uint64, bool) {
	s := string(b)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" && len(b) == 0 {
		return 0, true
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		x.c.WriteError("ERR invalid cursor")
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// writeEmptyScan replies the scan of a missing key.
func (x *exec) writeEmptyScan() {
	x.c.WriteArray(2)
	x.c.WriteBulkString("0")
	x.c.WriteArray(0)
}

// parseElemScan parses [MATCH pattern] [COUNT count] from args[from].
func (x *exec) parseElemScan(from int) (elemScan, bool) {
	a := elemScan{count: 10}
	for i := from; i < len(x.args); i += 2 {
		if i+1 >= len(x.args) {
			x.c.WriteError(errSyntax)
			return a, false
		}
		switch v := x.args[i+1]; {
		case eqFold(x.args[i], "count"):
			n, ok := x.intArg(v)
			if !ok {
				return a, false
			}
			if n < 1 {
				x.c.WriteError(errSyntax)
				return a, false
			}
			a.count = int(min(n, 1<<30))
		case eqFold(x.args[i], "match"):
			a.match = string(v)
		default:
			x.c.WriteError(errSyntax)
			return a, false
		}
	}
	return a, true
}

func scanHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// scanStrings returns the next cursor and the elements of all (which it
// may reorder) that a call with cursor returns.
func scanStrings(all []string, cursor uint64, a elemScan) (uint64, []string) {
	var next uint64
	if cursor != 0 || len(all) > smallScan {
		type hashed struct {
			h uint64
			s string
		}
		hs := make([]hashed, 0, len(all))
		for _, s := range all {
			if h := scanHash(s); h >= cursor {
				hs = append(hs, hashed{h, s})
			}
		}
		slices.SortFunc(hs, func(p, q hashed) int {
			switch {
			case p.h < q.h:
				return -1
			case p.h > q.h:
				return 1
			}
			return 0
		})
		n := min(a.count, len(hs))
		for n < len(hs) && hs[n].h == hs[n-1].h {
			n++
		}
		if n < len(hs) {
			next = hs[n-1].h + 1 // not 0: a larger hash follows
		}
		all = all[:0]
		for _, p := range hs[:n] {
			all = append(all, p.s)
		}
	}
	if a.match == "" {
		return next, all
	}
	out := all[:0]
	for _, s := range all {
		if globMatch(a.match, s) {
			out = append(out, s)
		}
	}
	return next, out
}

func formatUint(v uint64) string { return strconv.FormatUint(v, 10) }

package walkv

import (
	"math"
	"strconv"
	"strings"
)

// formatScore formats a sorted-set score as Redis 7.0 replies it
// (addReplyDouble: "%.17g", and "inf" / "-inf").
func formatScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// parseScore parses a float as Redis's getDoubleFromObject does: the
// whole string, as C's strtod reads it (decimal or hex, "inf",
// "infinity"), no leading space, not NaN, and no overflow or underflow to
// zero.
func parseScore(b []byte) (float64, bool) {
	s := string(b)
	if s == "" || isCSpace(s[0]) {
		return 0, false
	}
	v, n, erange := strtod(s)
	if n != len(s) || math.IsNaN(v) || (erange && (math.IsInf(v, 0) || v == 0)) {
		return 0, false
	}
	return v, true
}

// parseRangeScore parses one end of a score range as Redis's
// zslParseRange does with strtod: leading spaces are skipped, the empty
// string is 0, overflow gives ±inf, only NaN and trailing bytes fail.
func parseRangeScore(s string) (float64, bool) {
	if s == "" {
		return 0, true
	}
	v, n, _ := strtod(s)
	if n != len(s) || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// strtod reads the longest prefix of s that C's strtod converts (after
// leading white space) and returns its value, its length (0 if none) and
// whether the value is out of range (overflow, or underflow to zero).
func strtod(s string) (v float64, n int, erange bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	start := i
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	rest := strings.ToLower(s[i:min(len(s), i+8)])
	sign := 1.0
	if neg {
		sign = -1
	}
	switch {
	case strings.HasPrefix(rest, "infinity"):
		return math.Inf(int(sign)), i + 8, false
	case strings.HasPrefix(rest, "inf"):
		return math.Inf(int(sign)), i + 3, false
	case strings.HasPrefix(rest, "nan"):
		j := i + 3
		if j < len(s) && s[j] == '(' {
			k := j + 1
			for k < len(s) && (isAlnum(s[k]) || s[k] == '_') {
				k++
			}
			if k < len(s) && s[k] == ')' {
				j = k + 1
			}
		}
		return math.NaN(), j, false
	}
	hex := len(s) > i+1 && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X')
	if hex {
		j := i + 2
		digits, nonzero := 0, false
		for j < len(s) && isHex(s[j]) {
			nonzero = nonzero || s[j] != '0'
			j, digits = j+1, digits+1
		}
		if j < len(s) && s[j] == '.' {
			j++
			for j < len(s) && isHex(s[j]) {
				nonzero = nonzero || s[j] != '0'
				j, digits = j+1, digits+1
			}
		}
		if digits == 0 {
			hex = false // "0x" alone is the number 0 followed by "x"
		} else {
			mant := s[start:j]
			if e := expLen(s, j, 'p'); e > 0 {
				mant, j = s[start:j+e], j+e
			} else {
				mant += "p0"
			}
			v, err := strconv.ParseFloat(mant, 64)
			return v, j, err != nil || (v == 0 && nonzero)
		}
	}
	j := i
	digits, nonzero := 0, false
	for j < len(s) && isDigit(s[j]) {
		nonzero = nonzero || s[j] != '0'
		j, digits = j+1, digits+1
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isDigit(s[j]) {
			nonzero = nonzero || s[j] != '0'
			j, digits = j+1, digits+1
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	j += expLen(s, j, 'e')
	v, err := strconv.ParseFloat(s[start:j], 64)
	return v, j, err != nil || (v == 0 && nonzero)
}

// expLen returns the length of an exponent (marker, optional sign, at
// least one digit) at s[j:], or 0.
func expLen(s string, j int, marker byte) int {
	if j >= len(s) || (s[j]|0x20) != marker {
		return 0
	}
	k := j + 1
	if k < len(s) && (s[k] == '+' || s[k] == '-') {
		k++
	}
	d := k
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	if k == d {
		return 0
	}
	return k - j
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'f') }
func isAlnum(c byte) bool { return isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'z') }

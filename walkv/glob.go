package walkv

// globMatch reports whether s matches the Redis glob pattern p: '*' any
// run of bytes, '?' any one byte, '[abc]', '[^abc]' and '[a-z]' one byte
// from (or not from) a set, '\x' the byte x literally. Matching is
// byte-wise and case-sensitive. It backtracks only to the most recent '*',
// so it runs in O(len(p) * len(s)) time whatever the pattern.
func globMatch(p, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			if p[pi] == '*' {
				for pi < len(p) && p[pi] == '*' {
					pi++
				}
				starP, starS = pi, si
				continue
			}
			if n, ok := matchOne(p[pi:], s[si]); n > 0 && ok {
				pi += n
				si++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchOne matches byte c against the single-byte token at the start of
// p (p[0] is not '*') and returns the token's length and whether it
// matched.
func matchOne(p string, c byte) (int, bool) {
	switch p[0] {
	case '?':
		return 1, true
	case '\\':
		if len(p) >= 2 {
			return 2, p[1] == c
		}
		return 1, c == '\\'
	case '[':
		return matchClass(p, c)
	}
	return 1, p[0] == c
}

// matchClass matches a '[...]' class. An unterminated class extends to the
// end of the pattern, as in Redis.
func matchClass(p string, c byte) (int, bool) {
	i := 1
	not := i < len(p) && p[i] == '^'
	if not {
		i++
	}
	match := false
	for i < len(p) && p[i] != ']' {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			match = match || p[i+1] == c
			i += 2
		case i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']':
			lo, hi := p[i], p[i+2]
			if lo > hi {
				lo, hi = hi, lo
			}
			match = match || (lo <= c && c <= hi)
			i += 3
		default:
			match = match || p[i] == c
			i++
		}
	}
	if i < len(p) {
		i++ // the ']'
	}
	return i, match != not
}

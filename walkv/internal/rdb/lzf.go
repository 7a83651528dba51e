package rdb

import "fmt"

// maxLZFExpansion bounds how many output bytes LZF produces per input
// byte: the longest back reference takes 3 input bytes (control, length,
// offset) and copies 7+255+2 = 264 bytes.
const maxLZFExpansion = 264 / 3

// lzfDecompress expands the LZF stream in into exactly n bytes (liblzf's
// lzf_d.c format, which Redis uses). Like Redis it fails unless the
// stream yields exactly n bytes, except that n = 0 accepts anything (Redis
// reads lzf_decompress's 0 for "output full" as the expected length).
// REQUIRES: n <= maxLZFExpansion*len(in), checked by the caller before
// allocating.
func lzfDecompress(in []byte, n int) ([]byte, error) {
	if n == 0 {
		return []byte{}, nil
	}
	out := make([]byte, 0, n)
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 1<<5 { // a literal run of ctrl+1 bytes
			run := ctrl + 1
			if i+run > len(in) || len(out)+run > n {
				return nil, fmt.Errorf("%w: LZF literal past the end", ErrBadFormat)
			}
			out = append(out, in[i:i+run]...)
			i += run
			continue
		}
		length := ctrl >> 5 // a back reference
		if length == 7 {
			if i >= len(in) {
				return nil, fmt.Errorf("%w: truncated LZF reference", ErrBadFormat)
			}
			length += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, fmt.Errorf("%w: truncated LZF reference", ErrBadFormat)
		}
		back := (ctrl&0x1f)<<8 + int(in[i]) + 1
		i++
		length += 2
		if back > len(out) || len(out)+length > n {
			return nil, fmt.Errorf("%w: LZF reference out of range", ErrBadFormat)
		}
		from := len(out) - back
		for k := range length { // may overlap what it writes
			out = append(out, out[from+k])
		}
	}
	if len(out) != n {
		return nil, fmt.Errorf("%w: LZF yields %d bytes, not %d", ErrBadFormat, len(out), n)
	}
	return out, nil
}

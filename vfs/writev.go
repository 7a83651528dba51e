package vfs

// VectorWriter is implemented by files that can write several buffers at
// one offset with one operation (pwritev(2)), so that a caller can write a
// header it built and a payload it was handed without first copying both
// into one buffer.
//
// WriteAtv writes the concatenation of bufs at off, exactly as WriteAt of
// that concatenation would: the same durability (nothing is durable before
// Sync), the same errors, and it returns the number of bytes written, with
// a non-nil error whenever that is less than their total. It neither
// modifies bufs nor retains them after it returns.
//
// Call it through the function WriteAtv, which falls back to WriteAt for
// files without it.
type VectorWriter interface {
	WriteAtv(bufs [][]byte, off int64) (int, error)
}

// WriteAtv writes the concatenation of bufs to f at off: with one vectored
// write if f implements VectorWriter, else with one WriteAt per non-empty
// buffer, stopping at the first error. Either way the bytes may be
// written only in part when it fails, as with WriteAt.
func WriteAtv(f File, bufs [][]byte, off int64) (int, error) {
	if v, ok := f.(VectorWriter); ok {
		return v.WriteAtv(bufs, off)
	}
	return writeEach(f, bufs, off)
}

// writeEach writes bufs one after another with WriteAt.
func writeEach(f File, bufs [][]byte, off int64) (int, error) {
	total := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		n, err := f.WriteAt(b, off)
		total += n
		off += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

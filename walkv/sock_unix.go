//go:build unix

package walkv

import "golang.org/x/sys/unix"

// canWriteDirect: replies released by the syncQueue are written to the
// socket from its goroutine (see conn.finish).
const canWriteDirect = true

// writeFD writes b to the non-blocking socket fd once (retrying on
// EINTR); EAGAIN comes back as an error.
func writeFD(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Write(fd, b)
		if err != unix.EINTR {
			return n, err
		}
	}
}

//go:build unix

package walkv

import (
	"fmt"
	"net"
	"strconv"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

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

// boundAddr returns the address the engine's listener is bound to.
func boundAddr(eng gnet.Engine, _ string) (*net.TCPAddr, error) {
	fd, err := eng.Dup()
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil, err
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}, nil
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port, Zone: zoneName(sa.ZoneId)}, nil
	}
	return nil, fmt.Errorf("unexpected socket address %T", sa)
}

func zoneName(id uint32) string {
	if id == 0 {
		return ""
	}
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		return ifi.Name
	}
	return strconv.FormatUint(uint64(id), 10)
}

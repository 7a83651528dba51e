//go:build !unix

package walkv

import (
	"errors"
	"fmt"
	"net"

	"github.com/panjf2000/gnet/v2"
)

// canWriteDirect: elsewhere released replies go back through the event
// loop (conn.finish wakes it).
const canWriteDirect = false

func writeFD(int, []byte) (int, error) { return 0, errors.ErrUnsupported }

// boundAddr returns the address Listen was asked for; port 0 cannot be
// resolved here.
func boundAddr(_ gnet.Engine, addr string) (*net.TCPAddr, error) {
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, err
	}
	if a.Port == 0 {
		return nil, fmt.Errorf("port 0 is not supported on this platform")
	}
	return a, nil
}

//go:build !unix

package walkv

import (
	"errors"
	"net"
)

func socketPair() (a, b net.Conn, err error) {
	return nil, nil, errors.New("walkv: TLS needs Unix socket pairs")
}

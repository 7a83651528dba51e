//go:build !unix

package walkv

import "errors"

// canWriteDirect: elsewhere released replies go back through the event
// loop (conn.finish wakes it).
const canWriteDirect = false

func writeFD(int, []byte) (int, error) { return 0, errors.ErrUnsupported }

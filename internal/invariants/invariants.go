// Package invariants gates expensive internal consistency checks behind the
// build tag "invariants": `go test -tags invariants ./...` turns them on, and
// CI runs that way. Without the tag Enabled is a false constant and the
// checks compile away.
package invariants

import "fmt"

// Check panics with the formatted message if Enabled and cond is false.
func Check(cond bool, format string, args ...any) {
	if Enabled && !cond {
		panic("invariant violated: " + fmt.Sprintf(format, args...))
	}
}

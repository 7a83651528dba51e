//go:build !race

package walkv

// raceEnabled: see race_on_test.go.
const raceEnabled = false

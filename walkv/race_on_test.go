//go:build race

package walkv

// raceEnabled: the race detector's shadow memory makes RSS bounds
// meaningless; the attack tests then only log RSS.
const raceEnabled = true

//go:build !race

package netlab

// RaceEnabled: see race.go.
const RaceEnabled = false

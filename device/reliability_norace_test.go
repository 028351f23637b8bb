//go:build !race

package device_test

// raceEnabled: see reliability_race_test.go.
const raceEnabled = false

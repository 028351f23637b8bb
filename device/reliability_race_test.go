//go:build race

package device_test

// raceEnabled: the race detector slows the load tests several times over
// and caps live goroutines at 8128, so they run at a smaller scale.
const raceEnabled = true

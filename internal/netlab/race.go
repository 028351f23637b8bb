//go:build race

package netlab

// RaceEnabled reports whether the binary was built with the race detector,
// which makes every process several times slower and caps live goroutines
// at 8128: load and scale tests run at a smaller scale then, and assert the
// same things.
const RaceEnabled = true

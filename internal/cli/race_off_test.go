//go:build !race

package cli

// raceEnabled reports whether the tests run with the race detector, which
// makes every process several times slower: the scale tests give their
// processes more time then, but assert the same things.
const raceEnabled = false

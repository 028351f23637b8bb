package netlab

import (
	"fmt"
	"io"
	"time"

	"go.uber.org/goleak"
)

// leakGrace is how long Main waits, after tests that passed, for the
// goroutines they started to end. The last test's cleanup may have closed a
// server whose goroutines are still unwinding on a busy machine; a real
// leak is still there when the grace ends.
const leakGrace = 10 * time.Second

// runTests runs the tests and, when they pass, checks that no goroutine is
// left running: it waits up to grace for stragglers, then reports the
// stacks of the rest on w and returns 1. A failed run's result is returned
// as is, without the check, since its goroutines say nothing new.
func runTests(m interface{ Run() int }, w io.Writer, grace time.Duration, opts ...goleak.Option) int {
	code := m.Run()
	if code != 0 {
		return code
	}
	// No goroutine is ignored beyond goleak's defaults (the testing
	// package's own and os/signal's): every other one is ours to end.
	deadline := time.Now().Add(grace)
	for {
		err := goleak.Find(opts...) // itself retries for about 0.4 s
		if err == nil {
			return 0
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(w, "netlab: goroutines still running %v after the tests passed (a leak):\n%v\nFAIL\n", grace, err)
			return 1
		}
		time.Sleep(100 * time.Millisecond)
	}
}

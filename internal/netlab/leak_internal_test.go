package netlab

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

type runFunc func() int

func (f runFunc) Run() int { return f() }

// parkedUntil blocks until stop is closed: the goroutine the leaking run
// leaves behind, found by name in the report.
func parkedUntil(stop chan struct{}) { <-stop }

// TestRunTestsFindsLeaks checks the leak check of Main: a passing run that
// leaves a goroutine fails with its stack, one whose goroutine ends within
// the grace passes, and a failing run keeps its code.
func TestRunTestsFindsLeaks(t *testing.T) {
	others := goleak.IgnoreCurrent() // goroutines of tests running beside this one
	tests := []struct {
		name     string
		run      func(stop chan struct{}) int
		want     int
		wantText string
	}{
		{"leak", func(stop chan struct{}) int { go parkedUntil(stop); return 0 }, 1, "netlab.parkedUntil"},
		{"straggler ends in grace", func(chan struct{}) int {
			go time.Sleep(time.Second) // outlives goleak.Find's own retries
			return 0
		}, 0, ""},
		{"failed run", func(stop chan struct{}) int { go parkedUntil(stop); return 3 }, 3, ""},
		{"clean", func(chan struct{}) int { return 0 }, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stop := make(chan struct{})
			var out strings.Builder
			got := runTests(runFunc(func() int { return tt.run(stop) }), &out, 2*time.Second, others)
			close(stop)
			if got != tt.want {
				t.Errorf("runTests = %d, want %d; output:\n%s", got, tt.want, out.String())
			}
			if tt.wantText == "" && out.Len() > 0 {
				t.Errorf("unexpected report:\n%s", out.String())
			}
			if !strings.Contains(out.String(), tt.wantText) {
				t.Errorf("report does not name %q:\n%s", tt.wantText, out.String())
			}
		})
	}
}

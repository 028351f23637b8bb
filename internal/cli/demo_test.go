package cli

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

func TestDemoCommand(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	start := time.Now()
	code, out, errOut := run(t, "demo")
	if code != ExitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	for _, want := range []string{"answers M-SEARCH at 127.0.0.1:", `found "upnp-go demo light" at http://127.0.0.1:`,
		"service SwitchPower:1: actions SetTarget, GetTarget, GetStatus", "the light is ON", "the light is OFF", "done"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("demo took %v", time.Since(start))
	if code, _, _ := run(t, "demo", "x"); code != ExitUsage {
		t.Errorf("demo x: exit %d", code)
	}
}

// TestDemoWithoutMulticast: the demo works on a loopback that carries no
// multicast, as on a fresh machine's root namespace.
func TestDemoWithoutMulticast(t *testing.T) {
	if !netlab.Private(t) { // it changes lo: a namespace of its own
		return
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "multicast", "off").CombinedOutput(); err != nil {
		t.Skipf("ip link set lo multicast off: %v %s", err, out)
	}
	defer exec.Command("ip", "link", "set", "lo", "multicast", "on").Run()
	code, out, errOut := run(t, "demo")
	if code != ExitOK || !strings.Contains(out, "the light is OFF") {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
}

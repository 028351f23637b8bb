//go:build linux

package cli

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

// TestWatchFollowsRestart: when the watched device stops (byebye) and comes
// back at another address (a new port, a new BOOTID), "upnp watch" subscribes
// to it there and shows its events, without a restart of its own.
func TestWatchFollowsRestart(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 2})
	// The BOOTID file makes the restart's BOOTID the next one even within
	// the same second (without it, BOOTID is the start time in seconds).
	bootID := filepath.Join(t.TempDir(), "bootid")
	serve := func(port string) *netlab.Proc {
		p := lan.Host(1).Start(t, "upnp", "serve", "light", "-i", "lan0", "--port", port, "--uuid", lightUUID,
			"--name", "Lab Light", "--bootid-file", bootID)
		waitLine(t, p, "serving")
		return p
	}
	light := serve("49200")
	cp := lan.Host(2)
	w := cp.Start(t, "upnp", "watch", "-i", "lan0", "-4", "Lab Light", "SwitchPower")
	waitOut(t, w, 10*time.Second, "SwitchPower:1 SEQ 0 Status=0")

	light.Stop()
	serve("49201")
	waitOut(t, w, 20*time.Second, "subscribed again")
	upnpIn(t, cp, "call", "-i", "lan0", "http://10.77.0.11:49201/desc.xml", "SwitchPower", "SetTarget", "newTargetValue=1")
	waitOut(t, w, 10*time.Second, "SwitchPower:1 SEQ 1 Status=1")
	stopWatch(t, w)
}

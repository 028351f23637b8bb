//go:build linux

package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

// TestServeFollowsAddress (issue 6): "upnp serve light --addr lan0" on a host
// without IPv4 claims a link-local address and is discovered from another
// host at that LOCATION; when a DHCP server appears, the light moves to its
// lease and the other host sees byebye, then alive at the new LOCATION.
func TestServeFollowsAddress(t *testing.T) {
	dnsmasqBin := need(t, "dnsmasq")
	lan := netlab.New(t, netlab.Config{Hosts: 3, NoIPv4: []int{1}})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	listen := lan.Host(2).Start(t, "upnp", "listen", "-i", "lan0", "-4", "--json")
	light := lan.Host(1).Start(t, "upnp", "serve", "light", "--addr", "lan0", "--dhcp-timeout", "4s", "--dhcp-retry", "2s",
		"--poll", "300ms", "--port", "49200", "--uuid", lightUUID, "--name", "Roaming Light")
	if err := light.WaitForLine(ctx, "serving"); err != nil {
		t.Fatal(err)
	}
	usn := "uuid:" + lightUUID + "::upnp:rootdevice"
	seen := func(pred func(m map[string]any) bool) map[string]any {
		t.Helper()
		for line := range listen.Follow(ctx) {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) != nil || m["usn"] != usn {
				continue
			}
			if pred(m) {
				return m
			}
		}
		t.Fatalf("not seen; listener output:\n%s\nlight output:\n%s", strings.Join(listen.Lines(), "\n"), strings.Join(light.Lines(), "\n"))
		return nil
	}
	first := seen(func(m map[string]any) bool {
		loc, _ := m["location"].(string)
		return m["nts"] == "ssdp:alive" && strings.HasPrefix(loc, "http://169.254.")
	})
	t.Logf("link-local: %v", first["location"])

	dns := lan.Host(3).StartCommand(t, dnsmasqBin, "--keep-in-foreground", "--conf-file=/dev/null",
		"--port=0", "--interface=lan0", "--bind-interfaces", "--except-interface=lo",
		"--dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,1h", "--dhcp-authoritative",
		"--dhcp-option=3", "--dhcp-option=6", "--no-resolv", "--no-hosts",
		"--dhcp-leasefile="+t.TempDir()+"/leases", "--pid-file=",
		"--user=root", "--group=root", "--log-dhcp", "--log-facility=-")
	if err := dns.WaitForLine(ctx, "DHCP, IP range"); err != nil {
		t.Fatal(err)
	}
	bye := seen(func(m map[string]any) bool { return m["nts"] == "ssdp:byebye" })
	moved := seen(func(m map[string]any) bool {
		loc, _ := m["location"].(string)
		return m["nts"] == "ssdp:alive" && strings.HasPrefix(loc, "http://10.77.0.1")
	})
	t.Logf("byebye %v, then alive at %v", bye["location"], moved["location"])
	// The light answers at its new LOCATION.
	out, err := lan.Host(2).Command(ctx, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", moved["location"].(string)).Output()
	if err != nil || string(out) != "200" {
		t.Errorf("GET %v: %s %v", moved["location"], out, err)
	}
}

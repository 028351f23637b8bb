//go:build linux

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/autoip"
	"github.com/seedb72249f9/upnp/internal/netlab"
)

func TestAddrUsage(t *testing.T) {
	for _, args := range [][]string{{"addr"}, {"addr", "lan0", "lan1"}, {"addr", "--bogus", "lan0"}} {
		var out, errOut bytes.Buffer
		if code := Main(context.Background(), args, &out, &errOut); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d; stderr %s", args, code, ExitUsage, errOut.String())
		}
	}
}

// TestAddrCommand runs "upnp addr" in a namespace host: with --no-dhcp and
// --json it claims the host's first candidate, configures it, and removes
// it when interrupted.
func TestAddrCommand(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 2, NoIPv4: []int{1}})
	h1 := lan.Host(1)
	p := h1.Start(t, "upnp", "addr", "lan0", "--no-dhcp", "--json")
	waitLine(t, p, `"event":"claimed"`)
	want := netip.PrefixFrom(autoip.Candidate(h1.MAC, 0), 16).String()
	var claimed addrJSON
	for _, l := range p.Lines() {
		if strings.Contains(l, `"event":"claimed"`) {
			if err := json.Unmarshal([]byte(l), &claimed); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
		}
	}
	if claimed.Addr != want || claimed.Current != want {
		t.Errorf("claimed %+v, want %s", claimed, want)
	}
	if out := h1.Exec(t, "ip", "-4", "-o", "addr", "show", "dev", "lan0"); !strings.Contains(out, "inet "+want) {
		t.Errorf("h1 lan0:\n%s", out)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range p.Lines() {
		var j addrJSON
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Errorf("not JSON: %q", l)
			continue
		}
		got = append(got, j.Event)
	}
	if strings.Join(got, " ") != "probing claimed released" {
		t.Errorf("events %v", got)
	}
	if out := h1.Exec(t, "ip", "-4", "-o", "addr", "show", "dev", "lan0"); strings.Contains(out, "169.254.") {
		t.Errorf("address left behind:\n%s", out)
	}
}

// TestAddrCommandDHCP: with dnsmasq on the LAN, "upnp addr" prints the
// lease and never probes.
func TestAddrCommandDHCP(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 2, NoIPv4: []int{1}})
	dnsmasq := need(t, "dnsmasq")
	srv := lan.Host(2).StartCommand(t, dnsmasq, "--keep-in-foreground", "--conf-file=/dev/null",
		"--port=0", "--interface=lan0", "--bind-interfaces", "--except-interface=lo",
		"--dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,1h", "--dhcp-authoritative",
		"--dhcp-option=3", "--dhcp-option=6", "--no-resolv", "--no-hosts",
		"--dhcp-leasefile="+t.TempDir()+"/leases", "--pid-file=",
		"--user=root", "--group=root", "--log-facility=-")
	waitLine(t, srv, "DHCP, IP range")
	p := lan.Host(1).Start(t, "upnp", "addr", "lan0")
	waitLine(t, p, " lease ")
	time.Sleep(500 * time.Millisecond)
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	out := strings.Join(p.Lines(), "\n")
	t.Logf("upnp addr lan0:\n%s", out)
	if strings.Contains(out, "probing") || !strings.Contains(out, " from 10.77.0.12 for 1h0m0s") || !strings.Contains(out, "released") {
		t.Errorf("output:\n%s", out)
	}
}

// TestAddrCommandNoInterface: a missing interface is an error, exit 1.
func TestAddrCommandNoInterface(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 1})
	p := lan.Host(1).Start(t, "upnp", "addr", "nosuch0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Wait(ctx); err == nil || p.ExitCode() != ExitError {
		t.Errorf("exit %d (%v); output:\n%s", p.ExitCode(), err, strings.Join(p.Lines(), "\n"))
	}
	if out := strings.Join(p.Lines(), "\n"); !strings.Contains(out, "upnp addr: autoip: ") {
		t.Errorf("output:\n%s", out)
	}
}

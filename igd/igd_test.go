package igd_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/igd"
	"github.com/seedb72249f9/upnp/internal/netlab"
	"github.com/seedb72249f9/upnp/ssdp"
)

// TestMain lets the interop tests run the igd role in a host of a netlab LAN.
func TestMain(m *testing.M) {
	netlab.Main(m, map[string]netlab.Role{"igd": roleIGD})
}

// The interop LAN: our control point on h1, miniupnpd on h2 (the lab's
// configuration: secure_mode, ports 1024-65535 allowed for 10.77.0.0/24,
// external address 1.2.3.4 on wan0), miniupnpc's upnpc on h3.
const (
	ourHost  = "10.77.0.11"
	peerHost = "10.77.0.13" // h3: a mapping to it is someone else's
)

// TestInteropMiniupnpd maps, reads, lists and deletes ports on a real
// miniupnpd, as IGD:2 and as IGD:1, and checks each step from the outside:
// upnpc (miniupnpc) lists what we mapped and the router's nftables ruleset
// forwards it, then both show it gone.
func TestInteropMiniupnpd(t *testing.T) {
	for _, v := range []string{"2", "1"} {
		t.Run("IGD"+v, func(t *testing.T) {
			if v == "1" {
				t.Setenv("IGD_V1", "yes")
			}
			lan := netlab.New(t, netlab.Config{Hosts: 3})
			lan.StartPeer(t, "miniupnpd", lan.Host(2))

			out := runRole(t, lan.Host(1), "add", v)
			udpPort := ""
			for _, l := range out {
				if p, ok := strings.CutPrefix(l, "any-port "); ok {
					udpPort = p
				}
			}
			if udpPort == "" {
				t.Fatalf("the role printed no any-port line:\n%s", strings.Join(out, "\n"))
			}

			list := lan.Host(3).Exec(t, "upnpc", "-m", "lan0", "-l")
			for _, want := range []string{
				"TCP  8080->" + ourHost + ":8080  'igd-test'",
				"UDP  " + pad(udpPort) + "->" + ourHost + ":9000  'igd-test-any'",
			} {
				if !strings.Contains(list, want) {
					t.Errorf("upnpc -l does not show %q:\n%s", want, list)
				}
			}
			rules := lan.Host(2).Exec(t, "nft", "list", "ruleset")
			for _, want := range []string{"dport 8080 dnat ip to " + ourHost + ":8080", "dport " + udpPort + " dnat ip to " + ourHost + ":9000"} {
				if !strings.Contains(rules, want) {
					t.Errorf("the router's ruleset has no %q:\n%s", want, rules)
				}
			}

			runRole(t, lan.Host(1), "delete", v, udpPort)
			list = lan.Host(3).Exec(t, "upnpc", "-m", "lan0", "-l")
			if strings.Contains(list, ourHost) {
				t.Errorf("upnpc -l still lists a mapping to us after Delete:\n%s", list)
			}
			if rules := lan.Host(2).Exec(t, "nft", "list", "ruleset"); strings.Contains(rules, ourHost) {
				t.Errorf("the router still forwards to us after Delete:\n%s", rules)
			}
		})
	}
}

// TestInteropDoubleNAT: a miniupnpd whose own WAN address is reserved
// (203.0.113.1, as behind a second NAT) reports no usable external address,
// and refuses mappings with 501.
func TestInteropDoubleNAT(t *testing.T) {
	t.Setenv("IGD_EXT_IP", "203.0.113.1")
	lan := netlab.New(t, netlab.Config{Hosts: 2})
	lan.StartPeer(t, "miniupnpd", lan.Host(2))
	runRole(t, lan.Host(1), "double-nat", "2")
}

// pad right-aligns a port the way upnpc prints it.
func pad(p string) string { return fmt.Sprintf("%4s", p) }

// runRole runs the igd role in h and returns its lines; the role checks its
// own steps and prints "FAIL" lines for what went wrong.
func runRole(t *testing.T, h *netlab.Host, args ...string) []string {
	t.Helper()
	p := h.Start(t, "igd", args...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := p.Wait(ctx)
	lines := p.Lines()
	for _, l := range lines {
		if strings.HasPrefix(l, "FAIL") {
			t.Error(l)
		}
	}
	if err != nil {
		t.Fatalf("igd role %v: %v\n%s", args, err, strings.Join(lines, "\n"))
	}
	t.Logf("igd role %v:\n%s", args, strings.Join(lines, "\n"))
	return lines
}

// roleIGD runs in h1. args: phase ("add", "delete", "double-nat"), the IGD
// version expected, and for delete the UDP port that add got.
func roleIGD(ctx context.Context, args []string) int {
	failed := false
	fail := func(format string, a ...any) {
		failed = true
		fmt.Printf("FAIL "+format+"\n", a...)
	}
	cp := &controlpoint.Client{Interfaces: []string{"lan0"}, Network: "udp4"}
	var g *igd.Gateway
	for g == nil { // miniupnpd may still be starting
		fctx, cancel := context.WithTimeout(ctx, 4*time.Second)
		var err error
		g, err = igd.Find(fctx, cp, ssdp.SearchRequest{MX: 1})
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				fail("Find: %v", err)
				return 1
			}
			fmt.Println("find:", err)
		}
	}
	fmt.Println("found", g.Service.Type, "at", g.Device.Location, "igd2", g.IGD2())
	if want := args[1] == "2"; g.IGD2() != want {
		fail("IGD2() = %v, want %v", g.IGD2(), want)
	}
	local := netip.MustParseAddr(ourHost)

	switch args[0] {
	case "double-nat":
		if a, err := g.ExternalIP(ctx); !errors.Is(err, igd.ErrNoExternalAddress) {
			fail("ExternalIP = %v, %v; want ErrNoExternalAddress", a, err)
		}
		_, err := g.Add(ctx, igd.Mapping{ExternalPort: 8080})
		if !errors.Is(err, &upnp.Error{Code: upnp.CodeActionFailed}) {
			fail("Add behind a second NAT: %v; want 501", err)
		}
		fmt.Println("add behind a second NAT:", err)

	case "add":
		a, err := g.ExternalIP(ctx)
		if err != nil || a != netip.MustParseAddr("1.2.3.4") {
			fail("ExternalIP = %v, %v; want 1.2.3.4", a, err)
		}
		fmt.Println("external", a)

		m, err := g.Add(ctx, igd.Mapping{ExternalPort: 8080, Description: "igd-test", Lease: time.Hour})
		want := igd.Mapping{Protocol: "TCP", ExternalPort: 8080, InternalClient: local, InternalPort: 8080, Description: "igd-test", Lease: time.Hour}
		if err != nil || m != want {
			fail("Add = %+v, %v; want %+v", m, err, want)
		}
		fmt.Println("added", m)

		any, err := g.Add(ctx, igd.Mapping{Protocol: "udp", InternalPort: 9000, Description: "igd-test-any"})
		if err != nil || any.ExternalPort == 0 || any.InternalPort != 9000 || any.Protocol != "UDP" {
			fail("Add with any external port = %+v, %v", any, err)
		}
		fmt.Println("any-port", any.ExternalPort)

		// secure_mode: a mapping to another host is refused.
		_, err = g.Add(ctx, igd.Mapping{ExternalPort: 8081, InternalClient: netip.MustParseAddr(peerHost)})
		if !errors.Is(err, igd.ErrConflict) && !errors.Is(err, igd.ErrNotAuthorized) {
			fail("Add for another host: %v; want 718 or 606", err)
		}
		fmt.Println("another host:", err)
		// The lab allows ports 1024-65535 only.
		_, err = g.Add(ctx, igd.Mapping{ExternalPort: 80})
		if !errors.Is(err, igd.ErrNotAuthorized) {
			fail("Add of port 80: %v; want 606", err)
		}
		fmt.Println("port 80:", err)

		got, err := g.Get(ctx, "tcp", 8080)
		if err != nil || got.InternalClient != local || got.InternalPort != 8080 || got.Description != "igd-test" ||
			got.Lease <= 0 || got.Lease > time.Hour || got.Disabled {
			fail("Get(tcp, 8080) = %+v, %v", got, err)
		}
		fmt.Println("get", got, "lease", got.Lease)

		var ours []string
		for m, err := range g.Mappings(ctx) {
			if err != nil {
				fail("Mappings: %v", err)
				break
			}
			fmt.Println("listed", m)
			if m.InternalClient == local {
				ours = append(ours, m.Protocol+" "+strconv.Itoa(int(m.ExternalPort)))
			}
		}
		slices.Sort(ours)
		if want := []string{"TCP 8080", "UDP " + strconv.Itoa(int(any.ExternalPort))}; !slices.Equal(ours, want) {
			fail("Mappings to us = %v, want %v", ours, want)
		}

	case "delete":
		udp, _ := strconv.Atoi(args[2])
		for _, m := range []igd.Mapping{{Protocol: "TCP", ExternalPort: 8080}, {Protocol: "UDP", ExternalPort: uint16(udp)}} {
			if err := g.Delete(ctx, m); err != nil {
				fail("Delete(%v): %v", m, err)
			}
		}
		if m, err := g.Get(ctx, "TCP", 8080); !errors.Is(err, igd.ErrNoSuchEntry) {
			fail("Get after Delete = %+v, %v; want ErrNoSuchEntry", m, err)
		}
		// miniupnpd answers success to deleting what is not there; other
		// routers say 714.
		if err := g.Delete(ctx, igd.Mapping{ExternalPort: 8080}); err != nil && !errors.Is(err, igd.ErrNoSuchEntry) {
			fail("second Delete: %v; want nil or ErrNoSuchEntry", err)
		}
		for m, err := range g.Mappings(ctx) {
			if err != nil {
				fail("Mappings: %v", err)
				break
			}
			if m.InternalClient == local {
				fail("still listed after Delete: %v", m)
			}
		}
		fmt.Println("deleted")
	}
	if failed {
		return 1
	}
	return 0
}

//go:build linux

package ssdp_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

func skipOrFail(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("UPNP_REQUIRE_NETNS") == "1" {
		t.Fatal(reason)
	}
	t.Skip(reason)
}

// searchFrom runs the search role in h on lan0 and returns its response lines.
func searchFrom(t *testing.T, h *netlab.Host, target, network string, mx int) []string {
	t.Helper()
	return searchFromOn(t, h, target, network, mx, "lan0")
}

// searchFromOn is searchFrom on the interfaces named, comma-separated.
func searchFromOn(t *testing.T, h *netlab.Host, target, network string, mx int, interfaces string) []string {
	t.Helper()
	p := h.Start(t, "search", target, network, fmt.Sprint(mx), interfaces)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(mx+10)*time.Second)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("search role: %v\n%s", err, strings.Join(p.Lines(), "\n"))
	}
	var out []string
	for _, l := range p.Lines() {
		if strings.HasPrefix(l, "error:") {
			t.Fatalf("search role: %s", l)
		}
		if !strings.HasPrefix(l, "done ") {
			out = append(out, l)
		}
	}
	return out
}

func linesWith(lines []string, subs ...string) []string {
	var out []string
next:
	for _, l := range lines {
		for _, s := range subs {
			if !strings.Contains(l, s) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

// TestInteropSearchRealPeers: our search finds minidlna, gmediarender and
// miniupnpd (Debian's builds, started by the lab's peers.sh) with the right
// USN, ST and LOCATION over IPv4, and miniupnpd over IPv6.
func TestInteropSearchRealPeers(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 4, ULA: true})
	h1 := lan.Host(1)
	lan.StartPeer(t, "minidlna", lan.Host(2))
	lan.StartPeer(t, "gmediarender", lan.Host(3))
	lan.StartPeer(t, "miniupnpd", lan.Host(4))
	time.Sleep(1500 * time.Millisecond) // the daemons bind their sockets

	// The UDNs the lab gives each peer, from its host's MAC (../shared/lab).
	peers := []struct {
		name, udn, url, devType string
		host                    *netlab.Host
	}{
		{"minidlna", "uuid:4d696e69-444c-164e-9d41-027700000002", "http://10.77.0.12:8200/rootDesc.xml",
			"urn:schemas-upnp-org:device:MediaServer:1", lan.Host(2)},
		{"gmediarender", "uuid:a1b2c3d4-0000-4000-8000-027700000003", "http://10.77.0.13:49494/description.xml",
			"urn:schemas-upnp-org:device:MediaRenderer:1", lan.Host(3)},
		{"miniupnpd", "uuid:3d3cec3a-8cf0-11e0-98ee-027700000004", "http://10.77.0.14:5000/rootDesc.xml",
			"urn:schemas-upnp-org:device:InternetGatewayDevice:2", lan.Host(4)},
	}
	t.Run("rootdevice", func(t *testing.T) {
		got := searchFrom(t, h1, "upnp:rootdevice", "udp4", 2)
		for _, p := range peers {
			rs := linesWith(got, p.udn+"::upnp:rootdevice upnp:rootdevice "+p.url+" "+p.host.IPv4.String()+" lan0")
			if len(rs) == 0 {
				t.Errorf("%s not found; got:\n%s", p.name, strings.Join(got, "\n"))
			}
		}
	})
	t.Run("ssdp:all", func(t *testing.T) {
		got := searchFrom(t, h1, "ssdp:all", "udp4", 3)
		for _, p := range peers {
			if rs := linesWith(got, p.url); len(rs) < 4 {
				t.Errorf("%s: %d answers to ssdp:all, want its whole set:\n%s", p.name, len(rs), strings.Join(got, "\n"))
			}
		}
	})
	t.Run("device type", func(t *testing.T) {
		for _, p := range peers {
			got := searchFrom(t, h1, p.devType, "udp4", 2)
			if len(got) == 0 || len(linesWith(got, p.url)) != len(got) {
				t.Errorf("search for %s: want answers from %s only, got:\n%s", p.devType, p.name, strings.Join(got, "\n"))
			}
			for _, l := range got {
				f := strings.Fields(l)
				if f[1] != p.devType || f[0] != p.udn+"::"+p.devType {
					t.Errorf("ST/USN mismatch: %s", l)
				}
			}
		}
	})
	t.Run("IPv6 miniupnpd", func(t *testing.T) {
		// miniupnpd (an InternetGatewayDevice:2) answers a search for
		// version 1 with that version in ST and USN, as UDA 1.3.2 asks.
		const st = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
		got := searchFrom(t, h1, st, "udp6", 2)
		found := false
		for _, l := range linesWith(got, "http://[fd77::14]:5000/rootDesc.xml") {
			found = true
			if want := peers[2].udn + "::" + st + " " + st + " http://[fd77::14]:5000/rootDesc.xml fd77::14 lan0"; !strings.HasPrefix(l, want) {
				t.Errorf("IPv6 answer %q, want %q", l, want)
			}
		}
		if !found {
			t.Errorf("miniupnpd not found over IPv6; got:\n%s", strings.Join(got, "\n"))
		}
	})
}

// TestInteropAdvertise: gssdp-discover (GUPnP's client) and our own Listener
// on other hosts see our advertiser's full set with correct headers, and its
// byebye on shutdown; goupnp's SSDP search finds our responder.
func TestInteropAdvertise(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 4})
	gssdp, err := exec.LookPath("gssdp-discover")
	if err != nil {
		skipOrFail(t, "gssdp-discover is not installed (package gupnp-tools)")
	}
	listener := lan.Host(3).Start(t, "listen")
	discover := lan.Host(2).StartCommand(t, gssdp, "-i", "lan0", "-n", "6", "-m", "all")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := listener.WaitForLine(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // gssdp-discover joins the group
	adv := lan.Host(1).Start(t, "advertise")
	if err := adv.WaitForLine(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	usns := []string{
		interopTree.UDN + "::upnp:rootdevice", interopTree.UDN, interopTree.UDN + "::" + interopTree.Type,
		interopTree.UDN + "::" + interopTree.ServiceTypes[0], interopTree.UDN + "::" + interopTree.ServiceTypes[1],
		interopTree.Devices[0].UDN, interopTree.Devices[0].UDN + "::" + interopTree.Devices[0].Type,
		interopTree.Devices[0].UDN + "::" + interopTree.Devices[0].ServiceTypes[0],
	}
	loc := "http://10.77.0.11:8080/desc.xml"

	t.Run("goupnp finds us", func(t *testing.T) {
		p := lan.Host(4).Start(t, "goupnp-search", "upnp:rootdevice")
		if err := p.Wait(ctx); err != nil {
			t.Fatalf("goupnp-search: %v", err)
		}
		if len(linesWith(p.Lines(), interopTree.UDN+"::upnp:rootdevice", loc)) == 0 {
			t.Errorf("goupnp did not find us:\n%s", strings.Join(p.Lines(), "\n"))
		}
	})

	time.Sleep(time.Second)
	if err := adv.Stop(); err != nil {
		t.Logf("advertise stop: %v", err)
	}
	if !contains(adv.Lines(), "stopped") {
		t.Errorf("advertiser did not stop cleanly:\n%s", strings.Join(adv.Lines(), "\n"))
	}
	if err := discover.Wait(ctx); err != nil {
		t.Logf("gssdp-discover: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	listener.Stop()

	t.Run("gssdp-discover", func(t *testing.T) {
		out := strings.Join(discover.Lines(), "\n") + "\n"
		for _, u := range usns {
			if !strings.Contains(out, "resource available\n  USN:      "+u+"\n  Location: "+loc) {
				t.Errorf("gssdp-discover did not see %s available at %s", u, loc)
			}
			if !strings.Contains(out, "resource unavailable\n  USN:      "+u+"\n") {
				t.Errorf("gssdp-discover did not see byebye for %s", u)
			}
		}
		if t.Failed() {
			t.Log(out)
		}
	})
	t.Run("our listener", func(t *testing.T) {
		lines := listener.Lines()
		for _, u := range usns {
			// The NT of each USN: its part after "::", or the UDN itself.
			nt := u
			if _, after, ok := strings.Cut(u, "::"); ok {
				nt = after
			}
			added := linesWith(lines, "added "+u+" "+loc+" ssdp:alive")
			if len(added) != 1 {
				t.Errorf("listener did not add %s once", u)
			} else if want := " boot=11 config=2 maxage=1800 nt=" + nt + " server=linux/1.0 UPnP/2.0 upnp-go/"; !strings.Contains(added[0], want) {
				t.Errorf("listener's entry for %s: %q, want %q in it", u, added[0], want)
			}
			if len(linesWith(lines, "removed "+u+" "+loc+" ssdp:byebye")) != 1 {
				t.Errorf("listener did not remove %s on byebye", u)
			}
		}
		if t.Failed() {
			t.Log(strings.Join(lines, "\n"))
		}
	})
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// TestSearchFromForeignSubnet (SECURITY.md, SSDP reflection): a search from a
// source outside the subnets of the interface it arrived on gets no answer,
// while the same host searching from inside the subnet does.
func TestSearchFromForeignSubnet(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 3, NoIPv4: []int{2}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	adv := lan.Host(1).Start(t, "advertise")
	if err := adv.WaitForLine(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	h2 := lan.Host(2)
	h2.AddAddr(t, netip.MustParsePrefix("192.0.2.7/24")) // not 10.77.0.0/24
	// A route back, so that an answer would arrive if the device sent one:
	// only the device's subnet check keeps it from answering.
	lan.Host(1).Exec(t, "ip", "route", "add", "192.0.2.0/24", "dev", "lan0")
	if got := searchFrom(t, h2, "upnp:rootdevice", "udp4", 1); len(got) != 0 {
		t.Errorf("a foreign source got answers: %v", got)
	}
	// Over IPv6 link-local the same host is on the link, and is answered.
	if got := searchFrom(t, h2, "upnp:rootdevice", "udp6", 1); len(got) != 1 {
		t.Errorf("IPv6 link-local search: %d answers, want 1: %v", len(got), got)
	}
	if got := searchFrom(t, lan.Host(3), "upnp:rootdevice", "udp4", 1); len(got) != 1 {
		t.Errorf("a source inside the subnet: %d answers, want 1", len(got))
	}
}

// TestAddressAppearsLater: a Server started on an interface without IPv4
// starts announcing over IPv4, with a LOCATION on the new address, once the
// address arrives, without a restart.
func TestAddressAppearsLater(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 2, NoIPv4: []int{1}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	listener := lan.Host(2).Start(t, "listen")
	if err := listener.WaitForLine(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	adv := lan.Host(1).Start(t, "advertise", "200ms")
	if err := adv.WaitForLine(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	lan.Host(1).AddAddr(t, netip.MustParsePrefix("10.77.0.99/24"))
	want := "added " + interopTree.UDN + " http://10.77.0.99:8080/desc.xml ssdp:alive"
	if err := listener.WaitForLine(ctx, want); err != nil {
		t.Fatalf("no IPv4 alive from the new address: %v\n%s", err, strings.Join(listener.Lines(), "\n"))
	}
}

// TestInterfaceComesUp: a Server on the default interfaces, started while
// its host's only LAN link is down, waits instead of failing; it announces
// once the link comes up, with the BOOTID it started with (11: a first
// join), and again with the next BOOTID after the link goes down and comes
// back (UDA 1.2.4: it rejoined the network), without a restart. The
// Listener sees the first as a new device, the second as a reboot.
func TestInterfaceComesUp(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h1 := lan.Host(1)
	listener := lan.Host(2).Start(t, "listen")
	if err := listener.WaitForLine(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	h1.Exec(t, "ip", "link", "set", "lan0", "down")
	adv := h1.Start(t, "advertise", "200ms", "all")
	if err := adv.WaitForLine(ctx, "ready"); err != nil {
		t.Fatalf("the server did not wait for an interface: %v\n%s", err, strings.Join(adv.Lines(), "\n"))
	}
	if err := adv.WaitForLine(ctx, "waiting for one"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if lines := listener.Lines(); len(lines) != 1 {
		t.Fatalf("the listener heard something while the link was down:\n%s", strings.Join(lines, "\n"))
	}
	h1.Exec(t, "ip", "link", "set", "lan0", "up")
	loc := "http://10.77.0.11:8080/desc.xml"
	if err := listener.WaitForLine(ctx, "added "+interopTree.UDN+" "+loc+" ssdp:alive boot=11"); err != nil {
		t.Fatalf("no alive once the link came up: %v\n%s", err, strings.Join(listener.Lines(), "\n"))
	}
	h1.Exec(t, "ip", "link", "set", "lan0", "down")
	time.Sleep(time.Second) // more than two polls
	h1.Exec(t, "ip", "link", "set", "lan0", "up")
	if err := listener.WaitForLine(ctx, "rebooted "+interopTree.UDN+" "+loc+" ssdp:alive boot=12"); err != nil {
		t.Fatalf("no alive with a new BOOTID after the link came back: %v\n%s", err, strings.Join(listener.Lines(), "\n"))
	}
	// BootIDChanged told the program once, for the rejoin only. Its line may
	// reach us after the listener's: wait for it.
	if err := adv.WaitForLine(ctx, "bootid changed to 12"); err != nil {
		t.Errorf("BootIDChanged was not called with 12: %v", err)
	}
	if got := linesWith(adv.Lines(), "bootid changed to"); len(got) != 1 || got[0] != "bootid changed to 12" {
		t.Errorf("BootIDChanged calls: %q, want one, with 12", got)
	}
}

// TestSearchSeveralInterfaces: one search on two interfaces finds the device
// behind each, and reports each answer with the interface it came in on.
func TestSearchSeveralInterfaces(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h1 := lan.Host(1)
	h1.Exec(t, "ip", "link", "set", "lo", "multicast", "on")
	onLo := h1.Start(t, "advertise", "200ms", "lo")
	onLAN := lan.Host(2).Start(t, "advertise")
	for _, p := range []*netlab.Proc{onLo, onLAN} {
		if err := p.WaitForLine(ctx, "ready"); err != nil {
			t.Fatal(err)
		}
	}
	got := searchFromOn(t, h1, "upnp:rootdevice", "udp4", 1, "lan0,lo")
	usn := interopTree.UDN + "::upnp:rootdevice upnp:rootdevice "
	for _, want := range []string{
		usn + "http://127.0.0.1:8080/desc.xml 127.0.0.1 lo ",
		usn + "http://10.77.0.12:8080/desc.xml 10.77.0.12 lan0 ",
	} {
		if len(linesWith(got, want)) != 1 {
			t.Errorf("want one answer %q; got:\n%s", want, strings.Join(got, "\n"))
		}
	}
	if len(got) != 2 {
		t.Errorf("%d answers, want 2:\n%s", len(got), strings.Join(got, "\n"))
	}
}

// TestMulticastHopLimit: NOTIFY to FF02::C leaves with hop limit 2 by
// default (TestMulticastTTL checks the IPv4 TTL on loopback, where IPv6
// multicast does not work).
func TestMulticastHopLimit(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hl := lan.Host(2).Start(t, "hoplimit")
	if err := hl.WaitForLine(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	lan.Host(1).Start(t, "advertise")
	if err := hl.WaitForLine(ctx, "hoplimit "); err != nil {
		t.Fatalf("no NOTIFY to FF02::C: %v\n%s", err, strings.Join(hl.Lines(), "\n"))
	}
	if got := strings.Join(hl.Lines(), "\n"); !strings.Contains(got, "hoplimit 2") {
		t.Errorf("want hop limit 2:\n%s", got)
	}
}

// TestUpdateWhenMultiHomed: a device on two interfaces that gains an address
// on one of them sends ssdp:update with NEXTBOOTID on the other, then alive
// with the new BOOTID; a Listener takes that as an update, not a reboot.
func TestUpdateWhenMultiHomed(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h1 := lan.Host(1)
	h1.Exec(t, "ip", "link", "set", "lo", "multicast", "on")
	listener := lan.Host(2).Start(t, "listen")
	if err := listener.WaitForLine(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	adv := h1.Start(t, "advertise", "200ms", "lan0,lo")
	if err := adv.WaitForLine(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	root := interopTree.UDN + "::upnp:rootdevice http://10.77.0.11:8080/desc.xml"
	if err := listener.WaitForLine(ctx, "added "+root+" ssdp:alive boot=11"); err != nil {
		t.Fatal(err)
	}
	h1.Exec(t, "ip", "addr", "add", "127.0.0.9/8", "dev", "lo") // lo changes; lan0 stays
	if err := listener.WaitForLine(ctx, "updated "+root+" ssdp:update boot=12"); err != nil {
		t.Fatalf("no ssdp:update on the link that stayed: %v", err)
	}
	if err := listener.WaitForLine(ctx, "refreshed "+root+" ssdp:alive boot=12"); err != nil {
		t.Fatalf("no alive with the new BOOTID: %v", err)
	}
	if rs := linesWith(listener.Lines(), "rebooted"); len(rs) != 0 {
		t.Errorf("an announced update was taken for a reboot: %v", rs)
	}
}

// TestSharedPort1900: our advertiser and Listener run on a host where
// minidlna already holds port 1900; a searcher on another host finds both,
// and our Listener on the peer's host still hears other devices.
func TestSharedPort1900(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h1 := lan.Host(1)
	lan.StartPeer(t, "minidlna", h1)
	time.Sleep(1500 * time.Millisecond) // minidlna binds 1900
	adv := h1.Start(t, "advertise")
	if err := adv.WaitForLine(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	got := searchFrom(t, lan.Host(2), "upnp:rootdevice", "udp4", 2)
	if len(linesWith(got, "http://10.77.0.11:8200/rootDesc.xml")) == 0 || len(linesWith(got, interopTree.UDN+"::upnp:rootdevice")) == 0 {
		t.Errorf("want both minidlna and our device on 10.77.0.11:\n%s", strings.Join(got, "\n"))
	}
	listener := h1.Start(t, "listen")
	if err := listener.WaitForLine(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	other := lan.Host(3).Start(t, "advertise")
	if err := other.WaitForLine(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	if err := listener.WaitForLine(ctx, "added "+interopTree.UDN+"::upnp:rootdevice http://10.77.0.13:8080/desc.xml"); err != nil {
		t.Errorf("our Listener beside minidlna missed another host's alive: %v", err)
	}
}

//go:build linux

package autoip

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

// The tests here run agents in hosts of a netlab LAN, never in the test's
// own namespace: every ARP, DHCP and netlink change stays on the LAN.

// startDnsmasq runs dnsmasq as a DHCP server only in h, with the lab's
// flags (../shared/lab/lan.sh dhcp-server) and the given lease time.
func startDnsmasq(t *testing.T, h *netlab.Host, lease string) *netlab.Proc {
	t.Helper()
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		skipOrFail(t, "dnsmasq is not installed (package dnsmasq-base)")
	}
	p := h.StartCommand(t, bin, "--keep-in-foreground", "--conf-file=/dev/null",
		"--port=0", "--interface=lan0", "--bind-interfaces", "--except-interface=lo",
		"--dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,"+lease, "--dhcp-authoritative",
		"--dhcp-option=3", "--dhcp-option=6", "--no-resolv", "--no-hosts",
		"--dhcp-leasefile="+t.TempDir()+"/leases", "--pid-file=",
		"--user=root", "--group=root", "--log-dhcp", "--log-facility=-")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := p.WaitForLine(ctx, "DHCP, IP range"); err != nil {
		t.Fatal(err)
	}
	return p
}

// addrs returns lan0's IPv4 addresses in h as "ip -o" prints them.
func addrs(t *testing.T, h *netlab.Host) string {
	t.Helper()
	return h.Exec(t, "ip", "-4", "-o", "addr", "show", "dev", "lan0")
}

func stopAgent(t *testing.T, p *netlab.Proc) {
	t.Helper()
	if err := p.Stop(); err != nil {
		t.Errorf("stopping %v: %v", p, err)
	}
	if lines := p.Lines(); len(lines) == 0 || lines[len(lines)-1] != "stopped" {
		t.Errorf("%v did not end with \"stopped\":\n%s", p, strings.Join(lines, "\n"))
	}
}

// TestLANLinkLocal: with no DHCP server the agent claims its first
// candidate, configures it (visible with ip addr, with its route), and a
// host on the LAN reaches it over TCP; stopping removes it.
func TestLANLinkLocal(t *testing.T) {
	t.Parallel()
	lan := netlab.New(t, netlab.Config{Hosts: 2, NoIPv4: []int{1}})
	h1, h2 := lan.Host(1), lan.Host(2)
	agent := h1.Start(t, "agent", "-no-dhcp", "-fast", "-listen")
	ev := waitEvent(t, agent, "claimed", 0, 10*time.Second)
	if want := netip.PrefixFrom(Candidate(h1.MAC, 0), 16); ev.addr != want || ev.cur != want {
		t.Fatalf("claimed %v (current %v), want %v", ev.addr, ev.cur, want)
	}
	if got := events(agent); !slices.Equal(got, []string{"probing", "claimed"}) {
		t.Errorf("events %v", got)
	}
	out := addrs(t, h1)
	if !strings.Contains(out, "inet "+ev.addr.String()+" ") || !strings.Contains(out, "scope link") || !strings.Contains(out, "noprefixroute") {
		t.Errorf("ip addr in h1:\n%s", out)
	}
	if route := h1.Exec(t, "ip", "-4", "route", "show", "169.254.0.0/16"); !strings.Contains(route, "metric 1000") ||
		!strings.Contains(route, "src "+ev.addr.Addr().String()) {
		t.Errorf("ip route in h1: %q", route)
	}
	t.Logf("h1 lan0:\n%s", out)

	h2.AddAddr(t, netip.MustParsePrefix("169.254.254.254/16"))
	dial := h2.Start(t, "dial", netip.AddrPortFrom(ev.addr.Addr(), 7777).String())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := dial.WaitForLine(ctx, "connected"); err != nil {
		t.Fatal(err)
	}
	if err := agent.WaitForLine(ctx, "accepted 169.254.254.254:"); err != nil {
		t.Fatal(err)
	}

	stopAgent(t, agent)
	if got := events(agent); !slices.Equal(got, []string{"probing", "claimed", "released"}) {
		t.Errorf("events %v", got)
	}
	if out := addrs(t, h1); strings.Contains(out, "169.254.") {
		t.Errorf("address left behind:\n%s", out)
	}
	if route := h1.Exec(t, "ip", "-4", "route", "show", "169.254.0.0/16"); strings.TrimSpace(route) != "" {
		t.Errorf("route left behind: %q", route)
	}
}

// TestLANConflictExisting: another host already holds our first candidate,
// so the agent takes its second.
func TestLANConflictExisting(t *testing.T) {
	t.Parallel()
	lan := netlab.New(t, netlab.Config{Hosts: 2, NoIPv4: []int{1}})
	h1, h2 := lan.Host(1), lan.Host(2)
	first := Candidate(h1.MAC, 0)
	h2.AddAddr(t, netip.PrefixFrom(first, 16))
	agent := h1.Start(t, "agent", "-no-dhcp", "-fast")
	ev := waitEvent(t, agent, "claimed", 0, 10*time.Second)
	if want := netip.PrefixFrom(Candidate(h1.MAC, 1), 16); ev.addr != want {
		t.Errorf("claimed %v, want the second candidate %v", ev.addr, want)
	}
	c := waitEvent(t, agent, "conflict", 0, time.Second)
	if c.addr.Addr() != first || !strings.Contains(c.line, "peer="+h2.MAC.String()) {
		t.Errorf("conflict: %s", c.line)
	}
	if got := events(agent); !slices.Equal(got, []string{"probing", "conflict", "probing", "claimed"}) {
		t.Errorf("events %v", got)
	}
	if out := addrs(t, h1); strings.Contains(out, first.String()+"/") {
		t.Errorf("h1 took the address h2 holds:\n%s", out)
	}
}

// TestLANSimultaneous: two agents told to try the same address first,
// starting at the same instant, see each other's probes and end on
// different addresses.
func TestLANSimultaneous(t *testing.T) {
	t.Parallel()
	lan := netlab.New(t, netlab.Config{Hosts: 2, NoIPv4: []int{1, 2}})
	same := "169.254.77.77"
	at := time.Now().Add(1500 * time.Millisecond).UnixMilli()
	a1 := lan.Host(1).Start(t, "agent", "-no-dhcp", "-fast", "-first", same, "-at", fmt.Sprint(at))
	a2 := lan.Host(2).Start(t, "agent", "-no-dhcp", "-fast", "-first", same, "-at", fmt.Sprint(at))
	e1 := waitEvent(t, a1, "claimed", 0, 15*time.Second)
	e2 := waitEvent(t, a2, "claimed", 0, 15*time.Second)
	t.Logf("h1 claimed %v after %v; h2 claimed %v after %v", e1.addr, events(a1), e2.addr, events(a2))
	if e1.addr == e2.addr {
		t.Fatalf("both claimed %v", e1.addr)
	}
	n := 0
	for _, p := range []*netlab.Proc{a1, a2} {
		for _, l := range p.Lines() {
			if strings.HasPrefix(l, "conflict "+same+"/16") {
				n++
			}
		}
	}
	if n == 0 {
		t.Error("neither agent saw the other's probe")
	}
	// Whoever kept 169.254.77.77 may; the other must not have it.
	both := addrs(t, lan.Host(1)) + addrs(t, lan.Host(2))
	if strings.Count(both, "inet "+same+"/") > 1 {
		t.Errorf("169.254.77.77 configured twice:\n%s", both)
	}
}

// TestLANDefend: a host that starts announcing our address is defended
// against once; when it insists within DEFEND_INTERVAL we move.
func TestLANDefend(t *testing.T) {
	t.Parallel()
	lan := netlab.New(t, netlab.Config{Hosts: 2, NoIPv4: []int{1}})
	h1, h2 := lan.Host(1), lan.Host(2)
	agent := h1.Start(t, "agent", "-no-dhcp", "-fast")
	x := waitEvent(t, agent, "claimed", 0, 10*time.Second).addr
	rude := h2.Start(t, "announce", x.Addr().String(), "2", "1s")
	d := waitEvent(t, agent, "defended", 0, 5*time.Second)
	if d.addr != x || !strings.Contains(d.line, "peer="+h2.MAC.String()) {
		t.Errorf("defended: %s", d.line)
	}
	// The defence is an announcement on the wire.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := rude.WaitForLine(ctx, "heard "+h1.MAC.String()); err != nil {
		t.Error(err)
	}
	r := waitEvent(t, agent, "retreated", 0, 5*time.Second)
	if r.addr != x || r.cur.IsValid() {
		t.Errorf("retreated: %s", r.line)
	}
	if r.ms-d.ms < 900 {
		t.Errorf("retreated %d ms after the defence, want the second announcement's 1 s", r.ms-d.ms)
	}
	y := waitEvent(t, agent, "claimed", 1, 10*time.Second).addr
	if y == x {
		t.Fatalf("claimed %v again", x)
	}
	want := []string{"probing", "claimed", "conflict", "defended", "conflict", "retreated", "probing", "claimed"}
	if got := events(agent); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	out := addrs(t, h1)
	if strings.Contains(out, "inet "+x.String()) || !strings.Contains(out, "inet "+y.String()) {
		t.Errorf("h1 lan0 after the move to %v:\n%s", y, out)
	}
}

// TestLANDHCP: with a DHCP server the agent takes its lease and never
// probes; the address carries the lease's lifetime; stopping releases it.
func TestLANDHCP(t *testing.T) {
	t.Parallel()
	lan := netlab.New(t, netlab.Config{Hosts: 2, NoIPv4: []int{1}})
	h1, h2 := lan.Host(1), lan.Host(2)
	dnsmasq := startDnsmasq(t, h2, "1h")
	agent := h1.Start(t, "agent", "-fast")
	ev := waitEvent(t, agent, "lease", 0, 15*time.Second)
	t.Logf("lease %v after %d ms", ev.addr, ev.ms)
	if ev.addr.Bits() != 24 || !netip.MustParsePrefix("10.77.0.0/24").Contains(ev.addr.Addr()) || ev.cur != ev.addr {
		t.Errorf("lease event: %s", ev.line)
	}
	out := addrs(t, h1)
	if !strings.Contains(out, "inet "+ev.addr.String()) || strings.Contains(out, "valid_lft forever") {
		t.Errorf("h1 lan0:\n%s", out)
	}
	time.Sleep(time.Second)
	if got := events(agent); !slices.Equal(got, []string{"lease"}) {
		t.Errorf("events %v: want the lease and no probing", got)
	}
	stopAgent(t, agent)
	if out := addrs(t, h1); strings.Contains(out, ev.addr.Addr().String()) {
		t.Errorf("lease address left behind:\n%s", out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := dnsmasq.WaitForLine(ctx, "DHCPRELEASE(lan0) "+ev.addr.Addr().String()); err != nil {
		t.Error(err)
	}
}

// TestLANDHCPLater: on link-local when dnsmasq appears, the agent moves to
// its lease within DHCPRetry plus one attempt, and drops the link-local
// address.
func TestLANDHCPLater(t *testing.T) {
	t.Parallel()
	lan := netlab.New(t, netlab.Config{Hosts: 2, NoIPv4: []int{1}})
	h1, h2 := lan.Host(1), lan.Host(2)
	agent := h1.Start(t, "agent", "-fast") // DHCPTimeout 5 s, DHCPRetry 3 s
	ll := waitEvent(t, agent, "claimed", 0, 15*time.Second)
	startDnsmasq(t, h2, "1h")
	up := time.Now()
	mv := waitEvent(t, agent, "moved", 0, fast.DHCPRetry+fast.DHCPTimeout+5*time.Second)
	took := time.Since(up)
	t.Logf("link-local %v after %d ms; moved to %v %v after dnsmasq started", ll.addr, ll.ms, mv.addr, took.Round(time.Millisecond))
	if mv.prev != ll.addr || mv.cur != mv.addr || !netip.MustParsePrefix("10.77.0.0/24").Contains(mv.addr.Addr()) {
		t.Errorf("moved: %s", mv.line)
	}
	want := []string{"no-lease", "probing", "claimed", "lease", "moved"}
	if got := events(agent); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	out := addrs(t, h1)
	if strings.Contains(out, "169.254.") || !strings.Contains(out, "inet "+mv.addr.String()) {
		t.Errorf("h1 lan0 after the move:\n%s", out)
	}
}

// TestLANRenew: a 2-minute lease (dnsmasq's shortest) is renewed at T1.
func TestLANRenew(t *testing.T) {
	if testing.Short() {
		t.Skip("waits a minute for T1")
	}
	t.Parallel()
	lan := netlab.New(t, netlab.Config{Hosts: 2, NoIPv4: []int{1}})
	h1, h2 := lan.Host(1), lan.Host(2)
	dnsmasq := startDnsmasq(t, h2, "2m")
	capture := captureDHCP(t, h2)
	agent := h1.Start(t, "agent", "-fast")
	l := waitEvent(t, agent, "lease", 0, 15*time.Second)
	r := waitEvent(t, agent, "renewed", 0, 80*time.Second)
	if r.addr != l.addr {
		t.Errorf("renewed %v, leased %v", r.addr, l.addr)
	}
	if d := r.ms - l.ms; d < 55_000 || d > 70_000 {
		t.Errorf("renewed %d ms after the lease, want T1, 60 s", d)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := dnsmasq.WaitForLine(ctx, "DHCPACK(lan0) "+l.addr.Addr().String()); err != nil {
		t.Error(err)
	}
	// Before T2 the renewal goes to the server that granted the lease, by
	// unicast (RFC 2131 section 4.4.5): a REQUEST from the leased address to
	// the server's address and MAC, not to the broadcast ones.
	unicast := fmt.Sprintf("%v\t%v\t%v\t3", l.addr.Addr(), h2.IPv4, h2.MAC)
	if err := capture.WaitForLine(ctx, unicast); err != nil {
		t.Errorf("no unicast DHCPREQUEST (%q): %v", unicast, err)
	}
}

// captureDHCP starts tshark on h's lan0, printing for each DHCP packet its
// source and destination addresses, destination MAC and message type,
// separated by tabs.
func captureDHCP(t *testing.T, h *netlab.Host) *netlab.Proc {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		skipOrFail(t, "tshark is not installed (package tshark)")
	}
	p := h.StartCommand(t, bin, "-i", "lan0", "-n", "-l", "-f", "udp port 67 or udp port 68",
		"-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "eth.dst", "-e", "dhcp.option.dhcp")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := p.WaitForLine(ctx, "Capturing on"); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLANTimings measures the time from Run to a usable address, with the
// default and the compressed (fast) timings, with and without a DHCP
// server; see the package documentation. It logs them with -v.
func TestLANTimings(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 15 s")
	}
	t.Parallel()
	for _, tc := range []struct {
		name   string
		dhcp   bool
		args   []string
		event  string
		within time.Duration
	}{
		{"link-local default NoDHCP", false, []string{"-no-dhcp"}, "claimed", 10 * time.Second},
		{"link-local default DHCP first", false, nil, "claimed", 20 * time.Second},
		{"link-local fast NoDHCP", false, []string{"-no-dhcp", "-fast"}, "claimed", 5 * time.Second},
		{"link-local fast DHCP first", false, []string{"-fast"}, "claimed", 10 * time.Second},
		{"lease default", true, nil, "lease", 10 * time.Second},
		{"lease fast", true, []string{"-fast"}, "lease", 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lan := netlab.New(t, netlab.Config{Hosts: 2, NoIPv4: []int{1}})
			if tc.dhcp {
				startDnsmasq(t, lan.Host(2), "1h")
			}
			agent := lan.Host(1).Start(t, "agent", tc.args...)
			ev := waitEvent(t, agent, tc.event, 0, tc.within+5*time.Second)
			t.Logf("timing: %s: %s %v after %d ms (events %v)", tc.name, tc.event, ev.addr, ev.ms, events(agent))
			if time.Duration(ev.ms)*time.Millisecond > tc.within {
				t.Errorf("took %d ms, want at most %v", ev.ms, tc.within)
			}
		})
	}
}

// TestLANLinkFlap: after the link goes down and up, the agent probes its
// address again. It keeps it when nobody took it meanwhile (and its route
// comes back), and gives it up for its next candidate when another host did.
func TestLANLinkFlap(t *testing.T) {
	t.Parallel()
	lan := netlab.New(t, netlab.Config{Hosts: 2, NoIPv4: []int{1}})
	h1, h2 := lan.Host(1), lan.Host(2)
	first := Candidate(h1.MAC, 0)
	agent := h1.Start(t, "agent", "-no-dhcp", "-fast")
	if ev := waitEvent(t, agent, "claimed", 0, 10*time.Second); ev.addr.Addr() != first {
		t.Fatalf("claimed %v, want %v", ev.addr, first)
	}
	flap := func() {
		h1.Exec(t, "ip", "link", "set", "lan0", "down")
		time.Sleep(200 * time.Millisecond)
		h1.Exec(t, "ip", "link", "set", "lan0", "up")
	}

	flap()
	if ev := waitEvent(t, agent, "claimed", 1, 10*time.Second); ev.addr.Addr() != first {
		t.Fatalf("claimed %v after the link came back, want %v again", ev.addr, first)
	}
	if got := events(agent); !slices.Equal(got, []string{"probing", "claimed", "probing", "claimed"}) {
		t.Errorf("events %v, want the address probed and claimed again", got)
	}
	if route := h1.Exec(t, "ip", "-4", "route", "show", "169.254.0.0/16"); !strings.Contains(route, "src "+first.String()) {
		t.Errorf("169.254/16 route after the flap: %q", route)
	}

	h1.Exec(t, "ip", "link", "set", "lan0", "down")
	h2.AddAddr(t, netip.PrefixFrom(first, 16)) // taken while we were away
	h1.Exec(t, "ip", "link", "set", "lan0", "up")
	ev := waitEvent(t, agent, "claimed", 2, 10*time.Second)
	if want := Candidate(h1.MAC, 1); ev.addr.Addr() != want {
		t.Errorf("claimed %v, want the second candidate %v", ev.addr, want)
	}
	if r := waitEvent(t, agent, "retreated", 0, time.Second); r.addr.Addr() != first {
		t.Errorf("retreated from %v, want %v", r.addr, first)
	}
	if out := addrs(t, h1); strings.Contains(out, first.String()+"/") {
		t.Errorf("h1 kept the address h2 now holds:\n%s", out)
	}
}

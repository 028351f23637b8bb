package cli

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

// TestPortmapUsage: bad command lines fail with exit 2 before any search.
// Each runs with an interface that does not exist, so that a case that got
// through by mistake could not search any network.
func TestPortmapUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "needs a subcommand"},
		{[]string{"frob"}, `unknown portmap subcommand "frob"`},
		{[]string{"ip", "extra"}, "takes no arguments"},
		{[]string{"list", "extra"}, "takes no arguments"},
		{[]string{"add"}, "needs PROTO EXTPORT"},
		{[]string{"add", "tcp"}, "needs PROTO EXTPORT"},
		{[]string{"add", "tcp", "1", "2", "3"}, "needs PROTO EXTPORT"},
		{[]string{"add", "sctp", "8080"}, `protocol "sctp": want tcp or udp`},
		{[]string{"add", "tcp", "70000"}, `EXTPORT "70000": want a port number 0-65535`},
		{[]string{"add", "tcp", "http"}, `EXTPORT "http"`},
		{[]string{"add", "tcp", "-5"}, "unknown shorthand flag"},
		{[]string{"add", "tcp", "0"}, "needs an INTPORT"},
		{[]string{"add", "tcp", "8080", "0"}, `INTPORT "0": want a port number 1-65535`},
		{[]string{"add", "udp", "8080", "--lease", "500ms"}, "at least 1s"},
		{[]string{"add", "udp", "8080", "--lease", "-1s"}, "out of range"},
		{[]string{"add", "udp", "8080", "--lease", "a-week"}, "invalid argument"},
		{[]string{"add", "tcp", "8080", "--client", "my-pc"}, "not an IP address"},
		{[]string{"rm", "tcp"}, "needs PROTO EXTPORT"},
		{[]string{"rm", "tcp", "0"}, "want a port number 1-65535"},
		{[]string{"rm", "icmp", "8080"}, "want tcp or udp"},
		{[]string{"list", "--lease", "1h"}, "--lease is for portmap add only"},
		{[]string{"rm", "tcp", "8080", "--desc", "x"}, "--desc is for portmap add only"},
		{[]string{"ip", "--client", "10.0.0.1"}, "--client is for portmap add only"},
		{[]string{"ip", "-4", "-6"}, "exclude each other"},
		{[]string{"ip", "--timeout", "10ms"}, "at least 1s"},
		{[]string{"ip", "--gateway", "10.0.0.1:5000"}, "not an http:// LOCATION URL"},
		{[]string{"ip", "--bogus"}, "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			args := append([]string{"portmap", "-i", "portmap-none0"}, tt.args...)
			code, out, errOut := run(t, args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, ExitUsage, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, errOut)
			}
		})
	}
	// No arguments prints the subcommands; --help too, with exit 0.
	if _, _, errOut := run(t, "portmap"); !strings.Contains(errOut, "upnp portmap [flags] add PROTO EXTPORT [INTPORT]") {
		t.Errorf("portmap without arguments prints no usage:\n%s", errOut)
	}
	if code, _, errOut := run(t, "portmap", "--help"); code != ExitOK || !strings.Contains(errOut, "--gateway") {
		t.Errorf("portmap --help: exit %d:\n%s", code, errOut)
	}
	if _, out, _ := run(t, "help"); !strings.Contains(out, "portmap ") {
		t.Errorf("help does not list portmap:\n%s", out)
	}
}

// TestPortmapNoGateway: with no router on the LAN, or a --gateway that is
// not one, portmap says so and exits 4.
func TestPortmapNoGateway(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	// A LOCATION on loopback that describes a light, not a router.
	code, out, errOut := run(t, "portmap", "--gateway", httpLight(t), "ip")
	if code != ExitNotFound || out != "" || !strings.Contains(errOut, "no WAN connection service") {
		t.Errorf("--gateway of a light: exit %d, stdout %q, stderr:\n%s", code, out, errOut)
	}
	loLight(t, "Not A Router") // answers searches, but not for an IGD
	for _, sub := range [][]string{{"ip"}, {"list", "--json"}, {"add", "tcp", "8080"}, {"rm", "udp", "9000"}} {
		code, out, errOut := run(t, append([]string{"portmap", "-i", "lo", "-4", "--timeout", "1s"}, sub...)...)
		if code != ExitNotFound || out != "" || !strings.Contains(errOut, "no gateway (Internet Gateway Device) answered") {
			t.Errorf("portmap %v with no router: exit %d, stdout %q, stderr:\n%s", sub, code, out, errOut)
		}
	}
}

// portmapIn runs "upnp portmap ARGS" in h and returns its exit code and
// output (stdout and stderr together).
func portmapIn(t *testing.T, h *netlab.Host, args ...string) (int, string) {
	t.Helper()
	p := h.Start(t, "upnp", append([]string{"portmap"}, args...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Logf("%s: %v", p, err)
	}
	out := strings.Join(p.Lines(), "\n")
	t.Logf("upnp portmap %s: exit %d\n%s", strings.Join(args, " "), p.ExitCode(), out)
	return p.ExitCode(), out
}

// jsonMappings reads the --json lines of list or add.
func jsonMappings(t *testing.T, out string) []mappingJSON {
	t.Helper()
	var ms []mappingJSON
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var raw map[string]any
		if err := json.Unmarshal([]byte(line), &raw); err != nil {
			t.Fatalf("bad JSON %q: %v", line, err)
		}
		for _, k := range []string{"protocol", "external_port", "internal_client", "internal_port", "remote_host", "description", "lease", "enabled"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("no %q in %s", k, line)
			}
		}
		var m mappingJSON
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad JSON %q: %v", line, err)
		}
		ms = append(ms, m)
	}
	return ms
}

// TestPortmapInterop drives a real miniupnpd (the lab's configuration:
// external address 1.2.3.4, secure mode, ports 1024-65535 allowed) with
// "upnp portmap" from another host of the LAN.
func TestPortmapInterop(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 2})
	lan.StartPeer(t, "miniupnpd", lan.Host(2))
	h := lan.Host(1)
	const us = "10.77.0.11"
	lan0 := []string{"-i", "lan0", "-4"}

	// miniupnpd may still be starting: search until it answers.
	var code int
	var out string
	for range 10 {
		if code, out = portmapIn(t, h, append(lan0, "--timeout", "3s", "ip")...); code != ExitNotFound {
			break
		}
	}
	if code != ExitOK || out != "1.2.3.4" {
		t.Fatalf("portmap ip: exit %d, want the address 1.2.3.4:\n%s", code, out)
	}
	if code, out := portmapIn(t, h, append(lan0, "ip", "--json")...); code != ExitOK || out != `{"external_ip":"1.2.3.4"}` {
		t.Errorf("portmap ip --json: exit %d:\n%s", code, out)
	}
	// The router's LOCATION instead of a search.
	if code, out := portmapIn(t, h, "--gateway", "http://10.77.0.12:5000/rootDesc.xml", "ip"); code != ExitOK || out != "1.2.3.4" {
		t.Errorf("portmap --gateway ip: exit %d:\n%s", code, out)
	}

	code, out = portmapIn(t, h, append(lan0, "add", "tcp", "8080", "--desc", "x", "--lease", "1h")...)
	if want := `TCP 8080 -> ` + us + `:8080 from * lease 1h0m0s "x"`; code != ExitOK || out != want {
		t.Fatalf("portmap add: exit %d, want %q:\n%s", code, want, out)
	}

	code, out = portmapIn(t, h, append(lan0, "list")...)
	if want := `TCP 8080 -> ` + us + `:8080 from * lease `; code != ExitOK || !strings.Contains(out, want) || !strings.Contains(out, `"x"`) {
		t.Errorf("portmap list: exit %d, want a line %q...:\n%s", code, want, out)
	}
	code, out = portmapIn(t, h, append(lan0, "list", "--json")...)
	ms := jsonMappings(t, out)
	if code != ExitOK || len(ms) != 1 {
		t.Fatalf("portmap list --json: exit %d, want one mapping:\n%s", code, out)
	}
	if m := ms[0]; m.Protocol != "TCP" || m.ExternalPort != 8080 || m.InternalClient != us || m.InternalPort != 8080 ||
		m.RemoteHost != "" || m.Description != "x" || m.Lease <= 0 || m.Lease > 3600 || !m.Enabled {
		t.Errorf("portmap list --json: %+v", m)
	}

	if code, out := portmapIn(t, h, append(lan0, "rm", "tcp", "8080")...); code != ExitOK || out != "" {
		t.Errorf("portmap rm: exit %d:\n%s", code, out)
	}
	code, out = portmapIn(t, h, append(lan0, "list")...)
	if code != ExitOK || strings.Contains(out, "8080") {
		t.Errorf("portmap list after rm: exit %d, want no mapping:\n%s", code, out)
	}
	if code, out := portmapIn(t, h, append(lan0, "list", "--json")...); code != ExitOK || out != "" {
		t.Errorf("portmap list --json after rm: exit %d, want nothing:\n%s", code, out)
	}

	// The lab allows ports 1024-65535 only: a UPnP fault, exit 3.
	code, out = portmapIn(t, h, append(lan0, "add", "tcp", "80")...)
	if code != ExitFault || !strings.Contains(out, "add TCP 80: UPnP error 606") {
		t.Errorf("portmap add tcp 80: exit %d, want %d and error 606:\n%s", code, ExitFault, out)
	}
	code, out = portmapIn(t, h, append(lan0, "add", "tcp", "80", "--json")...)
	if code != ExitFault || !strings.Contains(out, `{"error_code":606,`) {
		t.Errorf("portmap add tcp 80 --json: exit %d, want %d and error_code 606:\n%s", code, ExitFault, out)
	}

	// EXTPORT 0: any free port, printed with the port the router gave.
	code, out = portmapIn(t, h, append(lan0, "add", "udp", "0", "9000", "--json")...)
	ms = jsonMappings(t, out)
	if code != ExitOK || len(ms) != 1 || ms[0].Protocol != "UDP" || ms[0].ExternalPort == 0 || ms[0].InternalPort != 9000 ||
		ms[0].InternalClient != us || ms[0].Description != "upnp" {
		t.Fatalf("portmap add udp 0 9000 --json: exit %d:\n%s", code, out)
	}
	port := ms[0].ExternalPort
	code, out = portmapIn(t, h, append(lan0, "list", "--json")...)
	if ms := jsonMappings(t, out); code != ExitOK || len(ms) != 1 || ms[0].ExternalPort != port || ms[0].Protocol != "UDP" {
		t.Errorf("portmap list --json after add udp 0: exit %d, want UDP %d:\n%s", code, port, out)
	}
	if code, out := portmapIn(t, h, append(lan0, "rm", "udp", strconv.Itoa(int(port)))...); code != ExitOK {
		t.Errorf("portmap rm udp %d: exit %d:\n%s", port, code, out)
	}

	// --keep: the mapping is renewed (a second line) and removed at Ctrl-C.
	keep := h.Start(t, "upnp", append([]string{"portmap"}, append(lan0, "add", "tcp", "8085", "--lease", "4s", "--keep")...)...)
	line := waitOut(t, keep, 15*time.Second, "TCP 8085 -> "+us+":8085")
	code, out = portmapIn(t, h, append(lan0, "list")...)
	if code != ExitOK || !strings.Contains(out, "TCP 8085 -> "+us+":8085") {
		t.Errorf("portmap list while --keep runs: exit %d:\n%s", code, out)
	}
	waitCount(t, keep, 15*time.Second, line[:strings.Index(line, " lease")], 2)
	if err := keep.Stop(); err != nil || keep.ExitCode() != ExitOK {
		t.Errorf("portmap add --keep after Ctrl-C: %v, exit %d\n%s", err, keep.ExitCode(), strings.Join(keep.Lines(), "\n"))
	}
	if code, out := portmapIn(t, h, append(lan0, "list")...); code != ExitOK || strings.Contains(out, "8085") {
		t.Errorf("portmap list after --keep ended: exit %d, want no 8085:\n%s", code, out)
	}
}

// waitCount waits until p has printed n lines holding s.
func waitCount(t *testing.T, p *netlab.Proc, d time.Duration, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := 0
		for _, l := range p.Lines() {
			if strings.Contains(l, s) {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s printed %d lines with %q, want %d:\n%s", p, got, s, n, strings.Join(p.Lines(), "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

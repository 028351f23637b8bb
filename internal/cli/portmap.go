package cli

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/igd"
	"github.com/seedb72249f9/upnp/ssdp"
)

// mappingJSON is the --json form of a port mapping. Lease is in seconds,
// 0 for a permanent mapping; RemoteHost is "" for any remote host.
type mappingJSON struct {
	Protocol       string `json:"protocol"`
	ExternalPort   uint16 `json:"external_port"`
	InternalClient string `json:"internal_client"`
	InternalPort   uint16 `json:"internal_port"`
	RemoteHost     string `json:"remote_host"`
	Description    string `json:"description"`
	Lease          int64  `json:"lease"`
	Enabled        bool   `json:"enabled"`
}

func mappingToJSON(m igd.Mapping) mappingJSON {
	j := mappingJSON{Protocol: m.Protocol, ExternalPort: m.ExternalPort, InternalPort: m.InternalPort,
		Description: m.Description, Lease: int64(m.Lease / time.Second), Enabled: !m.Disabled}
	if m.InternalClient.IsValid() {
		j.InternalClient = m.InternalClient.String()
	}
	if m.RemoteHost.IsValid() {
		j.RemoteHost = m.RemoteHost.String()
	}
	return j
}

// mappingLine is the text form of a mapping, one line:
// TCP 8080 -> 10.77.0.11:8080 from * lease 1h0m0s "description".
func mappingLine(m igd.Mapping) string {
	lease := "permanent"
	if m.Lease > 0 {
		lease = "lease " + m.Lease.String()
	}
	line := oneLine(m.String()) + " " + lease + " " + strconv.Quote(m.Description)
	if m.Disabled {
		line += " disabled"
	}
	return line
}

const portmapUsage = `usage: upnp portmap [flags] ip                          print the router's external address
       upnp portmap [flags] list                        print the router's port mappings
       upnp portmap [flags] add PROTO EXTPORT [INTPORT] map EXTPORT (0: any free port) to INTPORT here
       upnp portmap [flags] rm PROTO EXTPORT            remove a mapping
PROTO is tcp or udp; INTPORT defaults to EXTPORT. The router is the first
Internet Gateway Device to answer a search, or the one at --gateway.
Exit codes: 0 success, 1 error, 2 usage, 3 UPnP fault from the router,
4 no gateway found (or it has no usable external address).
`

func runPortmap(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "portmap", "")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, portmapUsage)
		fs.PrintDefaults()
	}
	var nf netFlags
	nf.add(fs)
	timeout := fs.Duration("timeout", 3*time.Second, "how long to search for the gateway (or to describe --gateway)")
	gateway := fs.String("gateway", "", "use the router at this LOCATION URL instead of searching")
	asJSON := fs.Bool("json", false, "print JSON: ip {external_ip}; list and add one object a mapping (protocol, external_port, internal_client, internal_port, remote_host, description, lease in seconds, enabled)")
	lease := fs.Duration("lease", 0, "add: how long the mapping lasts (default: the longest the router allows)")
	desc := fs.String("desc", "upnp", "add: the mapping's description in the router's table")
	client := fs.String("client", "", "add: the internal client IP (default: our address that reaches the router)")
	keep := fs.Bool("keep", false, "add: keep the mapping, renewing its lease, until Ctrl-C, then remove it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageErr("portmap needs a subcommand: ip, list, add or rm")
	}
	sub, rest := fs.Arg(0), fs.Args()[1:]
	if sub != "add" {
		for _, name := range []string{"lease", "desc", "client", "keep"} {
			if fs.Changed(name) {
				return usageErr("--%s is for portmap add only", name)
			}
		}
	}
	var m igd.Mapping
	switch sub {
	case "ip", "list":
		if len(rest) > 0 {
			return usageErr("portmap %s takes no arguments", sub)
		}
	case "add":
		if len(rest) < 2 || len(rest) > 3 {
			return usageErr("portmap add needs PROTO EXTPORT [INTPORT]")
		}
		var err error
		if m.Protocol, err = protoArg(rest[0]); err != nil {
			return err
		}
		if m.ExternalPort, err = portArg("EXTPORT", rest[1], true); err != nil {
			return err
		}
		if len(rest) == 3 {
			if m.InternalPort, err = portArg("INTPORT", rest[2], false); err != nil {
				return err
			}
		} else if m.ExternalPort == 0 {
			return usageErr("portmap add with EXTPORT 0 (any free port) needs an INTPORT")
		}
		switch {
		case *lease < 0 || *lease > time.Duration(1<<32-1)*time.Second:
			return usageErr("--lease %v: out of range", *lease)
		case *lease > 0 && *lease < time.Second:
			return usageErr("--lease %v: at least 1s (or 0 for the longest the router allows)", *lease)
		}
		m.Lease = lease.Truncate(time.Second)
		m.Description = *desc
		if *client != "" {
			a, err := netip.ParseAddr(*client)
			if err != nil {
				return usageErr("--client %q: not an IP address", *client)
			}
			m.InternalClient = a.Unmap()
		}
	case "rm":
		if len(rest) != 2 {
			return usageErr("portmap rm needs PROTO EXTPORT")
		}
		var err error
		if m.Protocol, err = protoArg(rest[0]); err != nil {
			return err
		}
		if m.ExternalPort, err = portArg("EXTPORT", rest[1], false); err != nil {
			return err
		}
	default:
		return usageErr("unknown portmap subcommand %q: want ip, list, add or rm", sub)
	}
	network, err := nf.network()
	if err != nil {
		return err
	}
	if *timeout < time.Second {
		return usageErr("--timeout %v: at least 1s", *timeout)
	}
	if *gateway != "" && !strings.HasPrefix(*gateway, "http://") && !strings.HasPrefix(*gateway, "https://") {
		return usageErr("--gateway %q: not an http:// LOCATION URL", *gateway)
	}

	c := &controlpoint.Client{Interfaces: nf.ifaces, Network: network}
	g, err := findGateway(ctx, c, *gateway, *timeout)
	if err != nil {
		return err
	}
	fault := func(what string, err error) error { return upnpFault(e, *asJSON, what, err) }

	switch sub {
	case "ip":
		a, err := g.ExternalIP(ctx)
		switch {
		case errors.Is(err, igd.ErrNoExternalAddress):
			if a.IsValid() {
				return &exitError{ExitNotFound, fmt.Errorf("the gateway at %s has no usable external address: %s is not public (a second NAT?)", g.Device.Location, a)}
			}
			return &exitError{ExitNotFound, fmt.Errorf("the gateway at %s has no external address (not connected?)", g.Device.Location)}
		case err != nil:
			return fault("GetExternalIPAddress", err)
		}
		if *asJSON {
			return writeJSON(e.stdout, map[string]string{"external_ip": a.String()})
		}
		fmt.Fprintln(e.stdout, a)
	case "list":
		n := 0
		for m, err := range g.Mappings(ctx) {
			if err != nil {
				return fault("GetGenericPortMappingEntry", err)
			}
			n++
			if *asJSON {
				if err := writeJSON(e.stdout, mappingToJSON(m)); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintln(e.stdout, mappingLine(m))
		}
		if !*asJSON {
			plural := "s"
			if n == 1 {
				plural = ""
			}
			fmt.Fprintf(e.stderr, "%d mapping%s on %s\n", n, plural, g.Device.Location)
		}
	case "add":
		if *keep {
			// Each Add, the first and every renewal, prints a line; a
			// renewal the router refuses is printed and tried again.
			first := true
			err := g.Keep(ctx, m, func(got igd.Mapping, err error) {
				switch {
				case err != nil && !first:
					fmt.Fprintf(e.stderr, "upnp portmap: renewal: %v\n", err)
				case err != nil:
				case *asJSON:
					writeJSON(e.stdout, mappingToJSON(got))
				default:
					fmt.Fprintln(e.stdout, mappingLine(got))
				}
				first = false
			})
			if err != nil {
				return fault(fmt.Sprintf("add %s %d", m.Protocol, m.ExternalPort), err)
			}
			return nil // removed at Ctrl-C
		}
		got, err := g.Add(ctx, m)
		if err != nil {
			return fault(fmt.Sprintf("add %s %d", m.Protocol, m.ExternalPort), err)
		}
		if *asJSON {
			return writeJSON(e.stdout, mappingToJSON(got))
		}
		fmt.Fprintln(e.stdout, mappingLine(got))
	case "rm":
		if err := g.Delete(ctx, m); err != nil {
			return fault(fmt.Sprintf("rm %s %d", m.Protocol, m.ExternalPort), err)
		}
	}
	return nil
}

// findGateway returns the WAN connection service of the router at location
// or, without one, of the first router to answer a search within timeout:
// the first of its services whose connection is up, else its best one.
func findGateway(ctx context.Context, c *controlpoint.Client, location string, timeout time.Duration) (*igd.Gateway, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if location != "" {
		d, err := c.Describe(ctx, location)
		if err != nil {
			return nil, err
		}
		gs := igd.Gateways(c, d)
		if len(gs) == 0 {
			return nil, notFound("%s (%q) has no WAN connection service: not an Internet Gateway Device", location, d.Root.Device.FriendlyName)
		}
		return connected(ctx, gs), nil
	}
	var described []error
	for g, err := range igd.Discover(ctx, c, ssdp.SearchRequest{MX: searchMX(timeout)}) {
		if err != nil {
			var de *controlpoint.DescribeError
			if !errors.As(err, &de) {
				return nil, err // the search could not start
			}
			described = append(described, err)
			continue
		}
		return connected(ctx, igd.Gateways(c, g.Device)), nil
	}
	if len(described) > 0 {
		return nil, &exitError{ExitNotFound, fmt.Errorf("no gateway found: %w", errors.Join(described...))}
	}
	return nil, notFound("no gateway (Internet Gateway Device) answered within %v", timeout)
}

// connected returns the first of a router's gateways whose Status says
// Connected (routers often list idle WANPPPConnection services beside the
// live one), else the first.
func connected(ctx context.Context, gs []*igd.Gateway) *igd.Gateway {
	for _, g := range gs {
		if st, err := g.Status(ctx); err == nil && st.Connection == "Connected" {
			return g
		}
	}
	return gs[0]
}

// protoArg reads a PROTO argument: tcp or udp, in any case.
func protoArg(s string) (string, error) {
	switch p := strings.ToUpper(s); p {
	case "TCP", "UDP":
		return p, nil
	}
	return "", usageErr("protocol %q: want tcp or udp", s)
}

// portArg reads a port number; zero is allowed only when zeroOK.
func portArg(name, s string, zeroOK bool) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 && !zeroOK {
		lo := "1"
		if zeroOK {
			lo = "0"
		}
		return 0, usageErr("%s %q: want a port number %s-65535", name, s, lo)
	}
	return uint16(n), nil
}

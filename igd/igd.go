package igd

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/internal/clock"
	"github.com/seedb72249f9/upnp/internal/outarg"
	"github.com/seedb72249f9/upnp/ssdp"
)

// Types of the IGD devices and WAN connection services.
const (
	// DeviceType1 is the search target of Discover and Find: IGD:2 routers
	// answer it too (UDA 1.3.2, a search for an older version).
	DeviceType1 = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"

	WANIPConnection1  = "urn:schemas-upnp-org:service:WANIPConnection:1"
	WANIPConnection2  = "urn:schemas-upnp-org:service:WANIPConnection:2"
	WANPPPConnection1 = "urn:schemas-upnp-org:service:WANPPPConnection:1"
)

// Errors from the IGD specifications that callers branch on. errors.Is
// matches them by code against the *upnp.Error a router returns.
var (
	// ErrNotAuthorized (606): the router refuses the mapping, for example an
	// external port below 1024 or an internal client other than the caller.
	ErrNotAuthorized = &upnp.Error{Code: 606, Description: "Action not authorized"}
	// ErrNoSuchEntry (714): Get or Delete of a mapping that does not exist.
	ErrNoSuchEntry = &upnp.Error{Code: 714, Description: "NoSuchEntryInArray"}
	// ErrConflict (718): the external port is mapped to another client.
	ErrConflict = &upnp.Error{Code: 718, Description: "ConflictInMappingEntry"}
	// ErrSamePortValuesRequired (724): the router needs the internal and
	// external ports to be equal.
	ErrSamePortValuesRequired = &upnp.Error{Code: 724, Description: "SamePortValuesRequired"}
	// ErrOnlyPermanentLeases (725): an IGD:1 router that takes lease 0 only.
	ErrOnlyPermanentLeases = &upnp.Error{Code: 725, Description: "OnlyPermanentLeasesSupported"}
	// ErrNoPortMapsAvailable (728): the router's table is full.
	ErrNoPortMapsAvailable = &upnp.Error{Code: 728, Description: "NoPortMapsAvailable"}

	// ErrNoService is returned by the methods of a Gateway without a Service.
	ErrNoService = errors.New("igd: gateway has no WAN connection service")
	// ErrNoGateway is returned by Find when no gateway answered.
	ErrNoGateway = errors.New("igd: no gateway found")
	// ErrNoExternalAddress is returned by ExternalIP when the router has no
	// usable public address: it is not connected, or it is itself behind
	// another NAT (a private or reserved address).
	ErrNoExternalAddress = errors.New("igd: gateway has no external address")
)

// codeArrayIndexInvalid (713) ends the listing of GetGenericPortMappingEntry.
const codeArrayIndexInvalid = 713

// maxMappings bounds Mappings against a router that never says the list has
// ended.
const maxMappings = 4096

// maxLease is the longest lease Add asks for: IGD:2's maximum (2.3.17), which
// routers of either version commonly enforce in their SCPD.
const maxLease = 604800 * time.Second

// A Gateway is one WAN connection service of an Internet Gateway Device.
// Set Device and Service from a described device (Discover and Find do);
// Client makes the calls, and nil means a shared zero controlpoint.Client. A
// Gateway is safe for concurrent use.
type Gateway struct {
	Client  *controlpoint.Client
	Device  *controlpoint.Device
	Service *controlpoint.Service

	clock clock.Clock // Keep's timers; nil means real time
}

// A Mapping is one port mapping: connections to ExternalPort on the router's
// public address, from RemoteHost, go to InternalClient:InternalPort.
type Mapping struct {
	// Protocol is "TCP" or "UDP"; Add treats "" as "TCP".
	Protocol string
	// ExternalPort is the port on the router. Add treats 0 as any free port
	// and returns the one it got.
	ExternalPort uint16
	// InternalClient is the LAN host the connections go to; Add treats the
	// zero Addr as the local address that reaches the router.
	InternalClient netip.Addr
	// InternalPort is the port on the InternalClient; Add treats 0 as
	// ExternalPort. Add needs one of the two ports.
	InternalPort uint16
	// RemoteHost limits the mapping to one remote address; the zero Addr
	// means any (most routers support no other).
	RemoteHost netip.Addr
	// Description is the mapping's name in the router's table.
	Description string
	// Lease is how long the mapping lasts, in whole seconds, at most 7 days
	// (longer asks are capped). 0 asks for the longest the router allows:
	// permanent on IGD:1, and on IGD:2 Add sends 7 days, the spec's maximum,
	// since some IGD:2 routers refuse 0. When an IGD:1 router takes permanent
	// leases only (ErrOnlyPermanentLeases), Add retries with 0 and returns a
	// Mapping whose Lease is 0: renew or Delete it yourself.
	Lease time.Duration
	// Disabled is true for a mapping that is in the table but not applied.
	Disabled bool
}

// String describes m on one line: "TCP 8080 -> 10.0.0.2:8080 from *".
func (m Mapping) String() string {
	remote := "*"
	if m.RemoteHost.IsValid() {
		remote = m.RemoteHost.String()
	}
	return fmt.Sprintf("%s %d -> %s from %s", m.Protocol, m.ExternalPort,
		netip.AddrPortFrom(m.InternalClient, m.InternalPort), remote)
}

// Discover searches for gateways with c and yields one Gateway per WAN
// connection service of each router found (WANIPConnection:2, then :1, then
// WANPPPConnection:1, in description order), while the search goes on. An
// empty req.Target means DeviceType1. The services map IPv4, and a mapping
// needs our IPv4 address on the router's LAN, so routers that answered over
// IPv6 are skipped (a dual-stack router also answers over IPv4). Errors are
// those of controlpoint.Client.Discover: a router that cannot be described is
// yielded as an error and the search goes on. A nil c means a zero Client
// searching over IPv4.
func Discover(ctx context.Context, c *controlpoint.Client, req ssdp.SearchRequest) iter.Seq2[*Gateway, error] {
	if c == nil {
		c = &controlpoint.Client{Network: "udp4"}
	}
	if req.Target == "" {
		req.Target = DeviceType1
	}
	return func(yield func(*Gateway, error) bool) {
		for dev, err := range c.Discover(ctx, req) {
			if err != nil {
				if !yield(nil, err) {
					return
				}
				continue
			}
			if !dev.Addr.Unmap().Is4() {
				continue
			}
			for _, g := range Gateways(c, dev) {
				if !yield(g, nil) {
					return
				}
			}
		}
	}
}

// Gateways returns a Gateway for each WAN connection service of dev, the best
// service types first: WANIPConnection:2, WANIPConnection:1,
// WANPPPConnection:1 (later versions of those types count as the version they
// extend). It returns nil when dev is nil or has none.
func Gateways(c *controlpoint.Client, dev *controlpoint.Device) []*Gateway {
	if dev == nil {
		return nil
	}
	var out []*Gateway
	for _, want := range []string{WANIPConnection2, WANIPConnection1, WANPPPConnection1} {
		for _, svc := range dev.Services {
			if serviceIs(svc.Type, want) {
				out = append(out, &Gateway{Client: c, Device: dev, Service: svc})
			}
		}
	}
	return out
}

// serviceIs reports whether a service of type t implements want: the same
// type name, and the same version, or for want version 2 any later one
// (version 1 services match exactly, so that a :2 is not listed twice).
func serviceIs(t, want string) bool {
	base, v, ok := cutVersion(t)
	wbase, wv, _ := cutVersion(want)
	if !ok || !strings.EqualFold(base, wbase) {
		return false
	}
	if wv >= 2 {
		return v >= wv
	}
	return v == wv
}

func cutVersion(t string) (base string, v int, ok bool) {
	i := strings.LastIndexByte(t, ':')
	if i < 0 {
		return t, 0, false
	}
	v, err := strconv.Atoi(t[i+1:])
	return t[:i], v, err == nil && v > 0
}

// Find returns the first gateway Discover yields whose connection is up
// (Status says Connected): routers often list WAN connection services that
// are not in use, such as a WANPPPConnection beside the live WANIPConnection.
// When none is up by the end of the search, it returns the first gateway
// found. It returns ErrNoGateway when the search ends with none, wrapping
// the last error met (a router that could not be described).
func Find(ctx context.Context, c *controlpoint.Client, req ssdp.SearchRequest) (*Gateway, error) {
	var (
		last  error
		first *Gateway
	)
	for g, err := range Discover(ctx, c, req) {
		if err != nil {
			last = err
			continue
		}
		if st, err := g.Status(ctx); err == nil && st.Connection == "Connected" {
			return g, nil
		}
		if first == nil {
			first = g
		}
	}
	switch {
	case first != nil:
		return first, nil
	case last != nil:
		return nil, fmt.Errorf("%w: %w", ErrNoGateway, last)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%w: %w", ErrNoGateway, ctx.Err())
	}
	return nil, ErrNoGateway
}

// A Status is a WAN connection's state (GetStatusInfo).
type Status struct {
	// Connection is Connected, Disconnected, Connecting, PendingDisconnect,
	// Disconnecting, Unconfigured or a vendor value.
	Connection string
	// LastError is the last connection error, such as ERROR_NONE.
	LastError string
	// Uptime is how long the connection has been up; 0 when unknown.
	Uptime time.Duration
}

// Status returns the connection's state (GetStatusInfo).
func (g *Gateway) Status(ctx context.Context) (Status, error) {
	out, err := g.call(ctx, "GetStatusInfo", nil)
	if err != nil {
		return Status{}, err
	}
	st := Status{Connection: outarg.Text(out["NewConnectionStatus"]), LastError: outarg.Text(out["NewLastConnectionError"])}
	if n, err := strconv.ParseUint(outarg.Text(out["NewUptime"]), 10, 32); err == nil {
		st.Uptime = time.Duration(n) * time.Second
	}
	return st, nil
}

// IGD2 reports whether g's service is WANIPConnection:2 or later, which has
// AddAnyPortMapping and limited leases.
func (g *Gateway) IGD2() bool { return g.Service != nil && serviceIs(g.Service.Type, WANIPConnection2) }

// defaultClient makes the calls of Gateways without a Client, so that they
// share its kept-alive connections (like http.DefaultClient).
var defaultClient = &controlpoint.Client{}

func (g *Gateway) client() *controlpoint.Client {
	if g.Client == nil {
		return defaultClient
	}
	return g.Client
}

func (g *Gateway) call(ctx context.Context, action string, args map[string]any) (map[string]any, error) {
	if g.Service == nil {
		return nil, ErrNoService
	}
	return g.client().Invoke(ctx, g.Service, action, args)
}

// ExternalIP returns the router's public address (GetExternalIPAddress). It
// returns ErrNoExternalAddress when the router reports none, or one that is
// private, shared (100.64.0.0/10, carrier-grade NAT), link-local, loopback or
// unspecified: a mapping on such a router is not reachable from the Internet.
// With that error it also returns the address the router reported, if any.
func (g *Gateway) ExternalIP(ctx context.Context) (netip.Addr, error) {
	out, err := g.call(ctx, "GetExternalIPAddress", nil)
	if err != nil {
		return netip.Addr{}, err
	}
	s := outarg.Text(out["NewExternalIPAddress"])
	if s == "" {
		return netip.Addr{}, ErrNoExternalAddress
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("igd: GetExternalIPAddress returned %q: %w", s, err)
	}
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() || sharedNAT.Contains(a) {
		return a, fmt.Errorf("%w: %s", ErrNoExternalAddress, a)
	}
	return a, nil
}

// sharedNAT is the carrier-grade NAT range (RFC 6598).
var sharedNAT = netip.MustParsePrefix("100.64.0.0/10")

// Add asks the router for m and returns the mapping made, with every zero
// field that Mapping documents filled in. With ExternalPort 0 it uses
// AddAnyPortMapping on IGD:2 and, on IGD:1 or an IGD:2 without that action,
// tries InternalPort then up to seven random ports in 1024-65535, skipping a
// port that is already mapped (IGD:1 routers may overwrite a mapping of the
// same host) and going on while the router reports ErrConflict. Errors: the
// router's *upnp.Error (ErrConflict, ErrNotAuthorized, ...), an error when
// the internal client is not an IPv4 address (the zero one: when the local
// address is unknown) or Protocol is not TCP or UDP, and transport errors.
func (g *Gateway) Add(ctx context.Context, m Mapping) (Mapping, error) {
	m.Protocol = strings.ToUpper(m.Protocol)
	switch m.Protocol {
	case "":
		m.Protocol = "TCP"
	case "TCP", "UDP":
	default:
		return m, fmt.Errorf("igd: protocol %q is not TCP or UDP", m.Protocol)
	}
	if !m.InternalClient.IsValid() {
		if g.Device == nil || !g.Device.Local.IsValid() {
			return m, errors.New("igd: no internal client given and the local address that reaches the gateway is unknown")
		}
		m.InternalClient = g.Device.Local
	}
	if !m.InternalClient.Unmap().Is4() {
		return m, fmt.Errorf("igd: internal client %v is not an IPv4 address", m.InternalClient)
	}
	m.InternalClient = m.InternalClient.Unmap()
	if m.Lease < 0 {
		return m, fmt.Errorf("igd: lease %v out of range", m.Lease)
	}
	m.Lease = min(m.Lease.Truncate(time.Second), maxLease)
	switch {
	case m.ExternalPort == 0 && m.InternalPort == 0:
		return m, errors.New("igd: mapping has neither an external nor an internal port")
	case m.InternalPort == 0:
		m.InternalPort = m.ExternalPort
	}
	if m.ExternalPort != 0 {
		return g.add(ctx, "AddPortMapping", m)
	}
	if g.IGD2() {
		wish := m
		wish.ExternalPort = m.InternalPort // what we would like
		got, err := g.add(ctx, "AddAnyPortMapping", wish)
		if !errors.Is(err, controlpoint.ErrNoAction) && !errors.Is(err, &upnp.Error{Code: upnp.CodeInvalidAction}) &&
			!errors.Is(err, &upnp.Error{Code: upnp.CodeOptionalActionNotImplemented}) {
			return got, err
		}
	}
	try := m.InternalPort
	for range 8 {
		if _, err := g.Get(ctx, m.Protocol, try); err == nil {
			try = randomPort() // taken, perhaps by another program here
			continue
		}
		wish := m
		wish.ExternalPort = try
		got, err := g.add(ctx, "AddPortMapping", wish)
		if !errors.Is(err, ErrConflict) {
			return got, err
		}
		try = randomPort()
	}
	return m, fmt.Errorf("igd: no free external port after 8 tries: %w", ErrConflict)
}

func randomPort() uint16 { return uint16(1024 + rand.IntN(65536-1024)) }

// add calls AddPortMapping or AddAnyPortMapping with m, falling back to a
// permanent lease when an IGD:1 router takes no other.
func (g *Gateway) add(ctx context.Context, action string, m Mapping) (Mapping, error) {
	enabled := "1"
	if m.Disabled {
		enabled = "0"
	}
	args := map[string]any{
		"NewRemoteHost":             hostArg(m.RemoteHost),
		"NewExternalPort":           strconv.Itoa(int(m.ExternalPort)),
		"NewProtocol":               m.Protocol,
		"NewInternalPort":           strconv.Itoa(int(m.InternalPort)),
		"NewInternalClient":         m.InternalClient.Unmap().String(),
		"NewEnabled":                enabled,
		"NewPortMappingDescription": m.Description,
		"NewLeaseDuration":          strconv.FormatInt(int64(m.Lease/time.Second), 10),
	}
	if m.Lease == 0 && g.IGD2() {
		args["NewLeaseDuration"] = strconv.FormatInt(int64(maxLease/time.Second), 10)
	}
	out, err := g.call(ctx, action, args)
	if errors.Is(err, ErrOnlyPermanentLeases) && m.Lease != 0 {
		m.Lease = 0
		args["NewLeaseDuration"] = "0"
		out, err = g.call(ctx, action, args)
	}
	if err != nil {
		return m, err
	}
	if action == "AddAnyPortMapping" {
		// The spec's out argument is NewReservedPort; miniupnpd's SCPD
		// calls it NewExternalPort (its answer says NewReservedPort).
		v, ok := out["NewReservedPort"]
		if !ok {
			v = out["NewExternalPort"]
		}
		p, err := port(v)
		if err != nil || p == 0 {
			return m, fmt.Errorf("igd: AddAnyPortMapping returned port %q: %v", outarg.Text(v), err)
		}
		m.ExternalPort = p
	}
	if m.Lease == 0 && g.IGD2() {
		m.Lease = maxLease
	}
	return m, nil
}

// Keep adds m (see Add) and keeps it until ctx is done, then deletes it
// (waiting at most 5 s for the router). A mapping with a lease is added
// again, with the same external port, when half of the lease has run; a
// renewal that fails is tried again after an eighth of the lease (at least
// every second) while the router may still hold it. A permanent mapping
// (lease 0 on IGD:1) is only deleted at the end. report, when not nil, is
// called after every Add with its result, from Keep's goroutine.
//
// Keep returns the first Add's error at once. Otherwise it returns when ctx
// is done: nil, or the error of the final Delete (a mapping already gone
// counts as deleted).
func (g *Gateway) Keep(ctx context.Context, m Mapping, report func(Mapping, error)) error {
	got, err := g.Add(ctx, m)
	if report != nil {
		report(got, err)
	}
	if err != nil {
		return err
	}
	clk := clock.Or(g.clock)
	due := make(chan struct{}, 1)
	schedule := func(d time.Duration) clock.Timer {
		return clk.AfterFunc(max(d, time.Second), func() {
			select {
			case due <- struct{}{}:
			default:
			}
		})
	}
	var t clock.Timer
	if got.Lease > 0 {
		t = schedule(got.Lease / 2)
	}
	for {
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := g.Delete(dctx, got); err != nil && !errors.Is(err, ErrNoSuchEntry) {
				return err
			}
			return nil
		case <-due:
			again, err := g.Add(ctx, got)
			if ctx.Err() != nil {
				continue // deleted above
			}
			if report != nil {
				report(again, err)
			}
			if err != nil {
				t = schedule(got.Lease / 8)
				continue
			}
			got = again
			if got.Lease > 0 {
				t = schedule(got.Lease / 2)
			}
		}
	}
}

// Delete removes the mapping of m.Protocol ("" means TCP), m.ExternalPort and
// m.RemoteHost (DeletePortMapping). Deleting a mapping that does not exist
// is ErrNoSuchEntry on most routers; miniupnpd answers success.
func (g *Gateway) Delete(ctx context.Context, m Mapping) error {
	if m.ExternalPort == 0 {
		return errors.New("igd: Delete needs the mapping's external port")
	}
	proto := strings.ToUpper(m.Protocol)
	if proto == "" {
		proto = "TCP"
	}
	_, err := g.call(ctx, "DeletePortMapping", map[string]any{
		"NewRemoteHost":   hostArg(m.RemoteHost),
		"NewExternalPort": strconv.Itoa(int(m.ExternalPort)),
		"NewProtocol":     proto,
	})
	return err
}

// Get returns the mapping of protocol ("" means TCP) and externalPort from any
// remote host (GetSpecificPortMappingEntry), or ErrNoSuchEntry.
func (g *Gateway) Get(ctx context.Context, protocol string, externalPort uint16) (Mapping, error) {
	protocol = strings.ToUpper(protocol)
	if protocol == "" {
		protocol = "TCP"
	}
	out, err := g.call(ctx, "GetSpecificPortMappingEntry", map[string]any{
		"NewRemoteHost":   "",
		"NewExternalPort": strconv.Itoa(int(externalPort)),
		"NewProtocol":     protocol,
	})
	if err != nil {
		return Mapping{}, err
	}
	out["NewProtocol"], out["NewExternalPort"] = protocol, strconv.Itoa(int(externalPort))
	return mapping(out)
}

// Mappings yields the router's mappings in table order
// (GetGenericPortMappingEntry from index 0 until the router answers 713, or
// 714 or 402 as some do). A mapping the router describes in a way that cannot
// be read ends the sequence with an error, as does any other error; at most
// 4096 are read.
func (g *Gateway) Mappings(ctx context.Context) iter.Seq2[Mapping, error] {
	return func(yield func(Mapping, error) bool) {
		for i := range maxMappings {
			out, err := g.call(ctx, "GetGenericPortMappingEntry", map[string]any{
				"NewPortMappingIndex": strconv.Itoa(i),
			})
			if errors.Is(err, &upnp.Error{Code: codeArrayIndexInvalid}) || errors.Is(err, ErrNoSuchEntry) ||
				errors.Is(err, &upnp.Error{Code: upnp.CodeInvalidArgs}) {
				return // the end: 713 per the spec; some routers say 714 or 402
			}
			var m Mapping
			if err == nil {
				m, err = mapping(out)
			}
			if !yield(m, err) || err != nil {
				return
			}
		}
	}
}

// mapping reads the out arguments of GetGenericPortMappingEntry.
func mapping(out map[string]any) (Mapping, error) {
	var m Mapping
	var err error
	m.Protocol = strings.ToUpper(outarg.Text(out["NewProtocol"]))
	if m.ExternalPort, err = port(out["NewExternalPort"]); err != nil {
		return m, fmt.Errorf("igd: mapping external port %q: %w", outarg.Text(out["NewExternalPort"]), err)
	}
	if m.InternalPort, err = port(out["NewInternalPort"]); err != nil {
		return m, fmt.Errorf("igd: mapping internal port %q: %w", outarg.Text(out["NewInternalPort"]), err)
	}
	if s := outarg.Text(out["NewInternalClient"]); s != "" {
		if m.InternalClient, err = netip.ParseAddr(s); err != nil {
			return m, fmt.Errorf("igd: mapping internal client %q: %w", s, err)
		}
	}
	if s := outarg.Text(out["NewRemoteHost"]); s != "" {
		m.RemoteHost, _ = netip.ParseAddr(s) // a name or garbage reads as any
	}
	m.Description = outarg.Text(out["NewPortMappingDescription"])
	if s := outarg.Text(out["NewLeaseDuration"]); s != "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return m, fmt.Errorf("igd: mapping lease %q: %w", s, err)
		}
		m.Lease = time.Duration(n) * time.Second
	}
	switch strings.ToLower(outarg.Text(out["NewEnabled"])) {
	case "0", "false", "no":
		m.Disabled = true
	}
	return m, nil
}

func port(v any) (uint16, error) {
	n, err := strconv.ParseUint(outarg.Text(v), 10, 16)
	return uint16(n), err
}

func hostArg(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.Unmap().String()
}

package igd_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/igd"
	"github.com/seedb72249f9/upnp/internal/clock"
)

// fakeRouter is a WANIPConnection served by our own device package from
// miniupnpd's SCPD, with the quirks of other routers switched on by its
// fields: the paths a miniupnpd never takes.
type fakeRouter struct {
	external      string          // GetExternalIPAddress answer
	permanentOnly bool            // AddPortMapping with a lease answers 725
	taken         map[uint16]bool // external ports that answer 718
	endCode       int             // how GetGenericPortMappingEntry says "no more"
	table         []map[string]any
	noAnyPort     bool // IGD:2 without an AddAnyPortMapping handler (602)

	mu     sync.Mutex
	calls  []string        // "AddPortMapping 8080 3600", ...
	mapped map[string]bool // "TCP 8080"
}

func (f *fakeRouter) log(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

// serve returns a Gateway on f: version 1 or 2 of WANIPConnection.
func (f *fakeRouter) serve(t *testing.T, version string) *igd.Gateway {
	t.Helper()
	dir := "../testdata/descriptions/miniupnpd-InternetGatewayDevice" + version
	b, err := os.ReadFile(dir + "/WANIPConnection-" + version + ".scpd.xml")
	if err != nil {
		t.Fatal(err)
	}
	scpd, err := upnp.ParseSCPD(b)
	if err != nil {
		t.Fatal(err)
	}
	handlers := map[string]device.Handler{
		"GetExternalIPAddress": func(ctx context.Context, r *device.Request) (map[string]any, error) {
			return map[string]any{"NewExternalIPAddress": f.external}, nil
		},
		"AddPortMapping": func(ctx context.Context, r *device.Request) (map[string]any, error) {
			port, lease := r.Args["NewExternalPort"].(uint16), r.Args["NewLeaseDuration"].(uint32)
			f.log("AddPortMapping " + itoa(int(port)) + " " + itoa(int(lease)))
			switch {
			case f.permanentOnly && lease != 0:
				return nil, igd.ErrOnlyPermanentLeases
			case f.taken[port]:
				return nil, igd.ErrConflict
			}
			f.mu.Lock()
			f.mapped[r.Args["NewProtocol"].(string)+" "+itoa(int(port))] = true
			f.mu.Unlock()
			return nil, nil
		},
		"GetStatusInfo": func(ctx context.Context, r *device.Request) (map[string]any, error) {
			return map[string]any{"NewConnectionStatus": "Connected", "NewLastConnectionError": "ERROR_NONE", "NewUptime": uint32(73)}, nil
		},
		"GetSpecificPortMappingEntry": func(ctx context.Context, r *device.Request) (map[string]any, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			port := r.Args["NewExternalPort"].(uint16)
			if !f.mapped[r.Args["NewProtocol"].(string)+" "+itoa(int(port))] {
				return nil, igd.ErrNoSuchEntry
			}
			return map[string]any{"NewInternalPort": port, "NewInternalClient": "127.0.0.1", "NewEnabled": true,
				"NewPortMappingDescription": "", "NewLeaseDuration": uint32(0)}, nil
		},
		"DeletePortMapping": func(ctx context.Context, r *device.Request) (map[string]any, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			key := r.Args["NewProtocol"].(string) + " " + itoa(int(r.Args["NewExternalPort"].(uint16)))
			if !f.mapped[key] {
				return nil, igd.ErrNoSuchEntry
			}
			delete(f.mapped, key)
			return nil, nil
		},
		"GetGenericPortMappingEntry": func(ctx context.Context, r *device.Request) (map[string]any, error) {
			i := int(r.Args["NewPortMappingIndex"].(uint16))
			if i >= len(f.table) {
				return nil, &upnp.Error{Code: f.endCode}
			}
			return f.table[i], nil
		},
	}
	if version == "2" && !f.noAnyPort {
		handlers["AddAnyPortMapping"] = func(ctx context.Context, r *device.Request) (map[string]any, error) {
			port := r.Args["NewExternalPort"].(uint16)
			f.log("AddAnyPortMapping " + itoa(int(port)) + " " + itoa(int(r.Args["NewLeaseDuration"].(uint32))))
			for f.taken[port] {
				port++
			}
			return map[string]any{"NewExternalPort": port}, nil // as miniupnpd's SCPD names it
		}
	}
	f.mapped = map[string]bool{}
	svcType := "urn:schemas-upnp-org:service:WANIPConnection:" + version
	s := &device.Server{Device: &device.Device{
		Type:         "urn:schemas-upnp-org:device:InternetGatewayDevice:" + version,
		FriendlyName: "fake router", Manufacturer: "test", ModelName: "fake",
		UDN:      "uuid:3d3cec3a-8cf0-11e0-98ee-000000000001",
		Services: []*device.Service{{Type: svcType, SCPD: scpd, Handlers: handlers}},
	}}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	cp := &controlpoint.Client{}
	dev, err := cp.Describe(context.Background(), ts.URL+"/desc.xml")
	if err != nil {
		t.Fatal(err)
	}
	gs := igd.Gateways(cp, dev)
	if len(gs) != 1 || gs[0].Service.Type != svcType {
		t.Fatalf("Gateways = %v", gs)
	}
	local := *dev
	local.Local = netip.MustParseAddr("127.0.0.1") // Describe does not know it
	gs[0].Device = &local
	return gs[0]
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestExternalIP(t *testing.T) {
	f := &fakeRouter{}
	g := f.serve(t, "2")
	for _, tt := range []struct {
		answer string
		want   string
		err    error
	}{
		{"1.2.3.4", "1.2.3.4", nil},
		{" 1.2.3.4 ", "1.2.3.4", nil},
		{"", "invalid IP", igd.ErrNoExternalAddress},
		{"0.0.0.0", "0.0.0.0", igd.ErrNoExternalAddress},
		{"192.168.1.7", "192.168.1.7", igd.ErrNoExternalAddress},
		{"100.64.3.1", "100.64.3.1", igd.ErrNoExternalAddress},
		{"169.254.3.1", "169.254.3.1", igd.ErrNoExternalAddress},
	} {
		f.external = tt.answer
		a, err := g.ExternalIP(context.Background())
		if a.String() != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("router says %q: ExternalIP = %v, %v; want %s, %v", tt.answer, a, err, tt.want, tt.err)
		}
	}
	f.external = "not an address"
	if _, err := g.ExternalIP(context.Background()); err == nil || errors.Is(err, igd.ErrNoExternalAddress) {
		t.Errorf("router says garbage: ExternalIP error = %v", err)
	}
}

// TestPermanentLeaseFallback: an IGD:1 router that takes only lease 0 gets it,
// and the caller is told through the Mapping's Lease.
func TestPermanentLeaseFallback(t *testing.T) {
	f := &fakeRouter{permanentOnly: true}
	g := f.serve(t, "1")
	m, err := g.Add(context.Background(), igd.Mapping{ExternalPort: 8080, Lease: time.Hour})
	if err != nil || m.Lease != 0 || m.ExternalPort != 8080 || m.InternalPort != 8080 ||
		m.InternalClient != netip.MustParseAddr("127.0.0.1") || m.Protocol != "TCP" {
		t.Fatalf("Add = %+v, %v", m, err)
	}
	if want := []string{"AddPortMapping 8080 3600", "AddPortMapping 8080 0"}; !slices.Equal(f.calls, want) {
		t.Errorf("calls %q, want %q", f.calls, want)
	}
}

// TestAnyPortIGD1: with no external port, an IGD:1 gets the internal port
// first, then random ones while it reports a conflict.
func TestAnyPortIGD1(t *testing.T) {
	f := &fakeRouter{taken: map[uint16]bool{9000: true}}
	g := f.serve(t, "1")
	m, err := g.Add(context.Background(), igd.Mapping{Protocol: "udp", InternalPort: 9000})
	if err != nil || m.ExternalPort == 9000 || m.ExternalPort < 1024 || m.InternalPort != 9000 || m.Protocol != "UDP" {
		t.Fatalf("Add = %+v, %v", m, err)
	}
	if len(f.calls) != 2 || f.calls[0] != "AddPortMapping 9000 0" {
		t.Errorf("calls %q, want 9000 then a random port", f.calls)
	}

	f.taken = nil
	f.calls = nil
	all := map[uint16]bool{}
	for p := range 65536 {
		all[uint16(p)] = true
	}
	f.taken = all
	if _, err := g.Add(context.Background(), igd.Mapping{InternalPort: 9000}); !errors.Is(err, igd.ErrConflict) {
		t.Errorf("Add on a full router: %v, want ErrConflict", err)
	}
	if len(f.calls) != 8 {
		t.Errorf("%d tries on a full router, want 8", len(f.calls))
	}
}

// TestIGD2LeaseZero: on IGD:2, lease 0 means the spec's 7 days.
func TestIGD2LeaseZero(t *testing.T) {
	f := &fakeRouter{}
	g := f.serve(t, "2")
	m, err := g.Add(context.Background(), igd.Mapping{ExternalPort: 8080})
	if err != nil || m.Lease != 7*24*time.Hour {
		t.Fatalf("Add = %+v, %v; want a 7-day lease", m, err)
	}
}

func TestAddChecks(t *testing.T) {
	f := &fakeRouter{}
	g := f.serve(t, "2")
	for _, m := range []igd.Mapping{
		{Protocol: "SCTP", ExternalPort: 1},
		{},
		{ExternalPort: 1, Lease: -time.Second},
		{ExternalPort: 1, InternalClient: netip.MustParseAddr("fd77::11")},
	} {
		if _, err := g.Add(context.Background(), m); err == nil {
			t.Errorf("Add(%+v) = nil error", m)
		}
	}
	unknown := *g
	dev := *g.Device
	dev.Local = netip.Addr{}
	unknown.Device = &dev
	if _, err := unknown.Add(context.Background(), igd.Mapping{ExternalPort: 1}); err == nil {
		t.Error("Add without an internal client or local address = nil error")
	}
	if err := g.Delete(context.Background(), igd.Mapping{}); err == nil {
		t.Error("Delete without a port = nil error")
	}
	var nothing igd.Gateway
	if _, err := nothing.Add(context.Background(), igd.Mapping{ExternalPort: 1, InternalClient: netip.MustParseAddr("10.0.0.2")}); !errors.Is(err, igd.ErrNoService) {
		t.Errorf("Add on a zero Gateway: %v", err)
	}
	if _, err := nothing.ExternalIP(context.Background()); !errors.Is(err, igd.ErrNoService) {
		t.Errorf("ExternalIP on a zero Gateway: %v", err)
	}
	if gs := igd.Gateways(nil, nil); gs != nil {
		t.Errorf("Gateways(nil, nil) = %v", gs)
	}
	if len(f.calls) != 0 {
		t.Errorf("the router was asked: %q", f.calls)
	}
}

// TestLeases: a lease over 7 days is capped, and IGD:2 gets 7 days for 0.
func TestLeases(t *testing.T) {
	f := &fakeRouter{}
	g := f.serve(t, "2")
	m, err := g.Add(context.Background(), igd.Mapping{ExternalPort: 8080, Lease: 30 * 24 * time.Hour})
	if err != nil || m.Lease != 7*24*time.Hour {
		t.Errorf("Add of 30 days = %+v, %v; want 7 days", m, err)
	}
	if _, err := g.Add(context.Background(), igd.Mapping{ExternalPort: 8081}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"AddPortMapping 8080 604800", "AddPortMapping 8081 604800"}; !slices.Equal(f.calls, want) {
		t.Errorf("calls %q, want %q", f.calls, want)
	}
}

// TestAnyPortIGD2: AddAnyPortMapping gets the port the router reserves; an
// IGD:2 without the action falls back to trying ports.
func TestAnyPortIGD2(t *testing.T) {
	f := &fakeRouter{taken: map[uint16]bool{9000: true, 9001: true}}
	g := f.serve(t, "2")
	m, err := g.Add(context.Background(), igd.Mapping{InternalPort: 9000, Lease: time.Hour})
	if err != nil || m.ExternalPort != 9002 || m.InternalPort != 9000 || m.Lease != time.Hour {
		t.Fatalf("Add = %+v, %v; want external port 9002", m, err)
	}
	if want := []string{"AddAnyPortMapping 9000 3600"}; !slices.Equal(f.calls, want) {
		t.Errorf("calls %q, want %q", f.calls, want)
	}

	f = &fakeRouter{noAnyPort: true}
	g = f.serve(t, "2")
	m, err = g.Add(context.Background(), igd.Mapping{InternalPort: 9000})
	if err != nil || m.ExternalPort != 9000 {
		t.Fatalf("Add without AddAnyPortMapping = %+v, %v", m, err)
	}
	if want := []string{"AddPortMapping 9000 604800"}; !slices.Equal(f.calls, want) {
		t.Errorf("calls %q, want %q", f.calls, want)
	}
}

// TestGetDeleteStatus: Get and Delete round trip; a port already mapped is
// skipped by an any-port Add on IGD:1; Status reads GetStatusInfo.
func TestGetDeleteStatus(t *testing.T) {
	f := &fakeRouter{}
	g := f.serve(t, "1")
	ctx := context.Background()
	if st, err := g.Status(ctx); err != nil || st != (igd.Status{Connection: "Connected", LastError: "ERROR_NONE", Uptime: 73 * time.Second}) {
		t.Errorf("Status = %+v, %v", st, err)
	}
	if _, err := g.Add(ctx, igd.Mapping{Protocol: "UDP", ExternalPort: 9000}); err != nil {
		t.Fatal(err)
	}
	if m, err := g.Get(ctx, "udp", 9000); err != nil || m.ExternalPort != 9000 || m.Protocol != "UDP" || m.InternalClient != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("Get = %+v, %v", m, err)
	}
	f.calls = nil
	m, err := g.Add(ctx, igd.Mapping{Protocol: "UDP", InternalPort: 9000})
	if err != nil || m.ExternalPort == 9000 || len(f.calls) != 1 {
		t.Errorf("any-port Add with 9000 mapped = %+v, %v; calls %q", m, err, f.calls)
	}
	if err := g.Delete(ctx, igd.Mapping{Protocol: "udp", ExternalPort: 9000}); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if _, err := g.Get(ctx, "UDP", 9000); !errors.Is(err, igd.ErrNoSuchEntry) {
		t.Errorf("Get after Delete: %v", err)
	}
	if err := g.Delete(ctx, igd.Mapping{Protocol: "UDP", ExternalPort: 9000}); !errors.Is(err, igd.ErrNoSuchEntry) {
		t.Errorf("second Delete: %v", err)
	}
}

// TestMappingsEnd: the listing ends at 713 (the spec), 714 or 402 (what some
// routers say), and reads sloppy entries.
func TestMappingsEnd(t *testing.T) {
	entry := func(port, enabled, lease string) map[string]any {
		return map[string]any{
			"NewRemoteHost": "", "NewExternalPort": port, "NewProtocol": "TCP",
			"NewInternalPort": port, "NewInternalClient": "10.0.0.2", "NewEnabled": enabled,
			"NewPortMappingDescription": "d", "NewLeaseDuration": lease,
		}
	}
	for _, code := range []int{713, 714, 402} {
		f := &fakeRouter{endCode: code}
		for m, err := range f.serve(t, "1").Mappings(context.Background()) {
			t.Errorf("empty table ending with %d: got %+v, %v", code, m, err)
		}
	}
	for _, code := range []int{713, 714, 402} {
		f := &fakeRouter{endCode: code, table: []map[string]any{entry("8080", "1", "60"), entry("8081", "0", "0")}}
		g := f.serve(t, "1")
		var got []igd.Mapping
		for m, err := range g.Mappings(context.Background()) {
			if err != nil {
				t.Fatalf("end code %d: %v", code, err)
			}
			got = append(got, m)
		}
		want := []igd.Mapping{
			{Protocol: "TCP", ExternalPort: 8080, InternalPort: 8080, InternalClient: netip.MustParseAddr("10.0.0.2"), Description: "d", Lease: time.Minute},
			{Protocol: "TCP", ExternalPort: 8081, InternalPort: 8081, InternalClient: netip.MustParseAddr("10.0.0.2"), Description: "d", Disabled: true},
		}
		if !slices.Equal(got, want) {
			t.Errorf("end code %d: Mappings = %+v, want %+v", code, got, want)
		}
	}
	// Any other error is reported, and ends the sequence.
	f := &fakeRouter{endCode: 501}
	g := f.serve(t, "1")
	n := 0
	for _, err := range g.Mappings(context.Background()) {
		n++
		if !errors.Is(err, &upnp.Error{Code: 501}) {
			t.Errorf("Mappings error = %v, want 501", err)
		}
	}
	if n != 1 {
		t.Errorf("%d elements after an error, want 1", n)
	}
}

// TestKeep: Keep renews at half the lease, retries a failed renewal after an
// eighth, and deletes the mapping when its context ends.
func TestKeep(t *testing.T) {
	f := &fakeRouter{}
	g := f.serve(t, "2")
	fake := clock.NewFake(time.Unix(1e9, 0))
	igd.SetClock(g, fake)
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		m   igd.Mapping
		err error
	}
	reports := make(chan result, 10)
	done := make(chan error, 1)
	go func() {
		done <- g.Keep(ctx, igd.Mapping{ExternalPort: 8080, Lease: time.Hour}, func(m igd.Mapping, err error) { reports <- result{m, err} })
	}()
	next := func() result {
		t.Helper()
		select {
		case r := <-reports:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("no report from Keep")
			return result{}
		}
	}
	if r := next(); r.err != nil || r.m.ExternalPort != 8080 {
		t.Fatalf("first Add: %+v", r)
	}
	for fake.Pending() == 0 { // the renewal timer is set after the report
		time.Sleep(time.Millisecond)
	}
	fake.Advance(30*time.Minute - time.Second)
	select {
	case r := <-reports:
		t.Fatalf("renewed before half the lease: %+v", r)
	default:
	}
	fake.Advance(time.Second)
	if r := next(); r.err != nil {
		t.Fatalf("renewal: %v", r.err)
	}

	f.mu.Lock()
	f.taken = map[uint16]bool{8080: true}
	f.mu.Unlock()
	for fake.Pending() == 0 {
		time.Sleep(time.Millisecond)
	}
	fake.Advance(30 * time.Minute)
	if r := next(); !errors.Is(r.err, igd.ErrConflict) {
		t.Fatalf("renewal refused: %+v, want ErrConflict", r)
	}
	f.mu.Lock()
	f.taken = nil
	f.mu.Unlock()
	for fake.Pending() == 0 {
		time.Sleep(time.Millisecond)
	}
	fake.Advance(time.Hour / 8)
	if r := next(); r.err != nil {
		t.Fatalf("retry after an eighth of the lease: %v", r.err)
	}
	want := []string{"AddPortMapping 8080 3600", "AddPortMapping 8080 3600", "AddPortMapping 8080 3600", "AddPortMapping 8080 3600"}
	f.mu.Lock()
	calls := slices.Clone(f.calls)
	f.mu.Unlock()
	if !slices.Equal(calls, want) {
		t.Errorf("calls %q, want %q", calls, want)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Keep at the end: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.mapped) != 0 {
		t.Errorf("still mapped after Keep: %v", f.mapped)
	}
}

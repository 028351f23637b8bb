package controlpoint_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
	"github.com/seedb72249f9/upnp/internal/netlab"
	"github.com/seedb72249f9/upnp/ssdp"
)

const slowDesc = `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<device><deviceType>urn:x:device:Slow:1</deviceType><friendlyName>Slow</friendlyName><manufacturer>m</manufacturer><modelName>n</modelName><UDN>uuid:5105510a-0000-4000-8000-000000000001</UDN></device></root>`

// startLight runs the example light with SSDP on lo until the test ends.
func startLight(t *testing.T) *device.Server {
	t.Helper()
	s := &device.Server{Device: binarylight.New("Loopback Light", lightUDN), Interfaces: []string{"lo"}, Network: "4"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for range 100 {
		if len(s.Addrs()) > 0 {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the light did not start")
	return nil
}

// TestDiscoverStreams: a device is yielded as soon as it is described,
// before a slower one, and the slower one still comes.
func TestDiscoverStreams(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	startLight(t)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(1500 * time.Millisecond)
		io.WriteString(w, slowDesc)
	}))
	defer slow.Close()
	adv := &ssdp.Server{
		Devices:    []ssdp.Device{{UDN: "uuid:5105510a-0000-4000-8000-000000000001", Type: "urn:x:device:Slow:1"}},
		Location:   func(netip.Addr) string { return slow.URL + "/d.xml" },
		Interfaces: []string{"lo"}, Network: "udp4",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	actx, acancel := context.WithCancel(ctx)
	adone := make(chan error, 1)
	go func() { adone <- adv.ListenAndServe(actx) }()
	time.Sleep(200 * time.Millisecond)

	c := &controlpoint.Client{Interfaces: []string{"lo"}, Network: "udp4"}
	start := time.Now()
	var got []string
	var at []time.Duration
	for d, err := range c.Discover(ctx, ssdp.SearchRequest{Target: ssdp.RootDevice, MX: 1}) {
		if err != nil {
			t.Fatalf("Discover: %v", err)
		}
		got = append(got, d.Root.Device.FriendlyName)
		at = append(at, time.Since(start))
		if d.Root.Device.FriendlyName == "Loopback Light" {
			if d.Interface != "lo" || d.Local.String() != "127.0.0.1" || d.Addr.String() != "127.0.0.1" || d.BootID < 0 ||
				d.Root.Device.UDN != lightUDN || d.USN != lightUDN+"::upnp:rootdevice" {
				t.Errorf("light: %+v", d)
			}
			if len(d.Services) != 2 || d.Services[0].SCPD == nil || d.Services[1].SCPD == nil {
				t.Errorf("light services not described: %+v", d.Services)
			}
			if lag := d.Described.Sub(d.Found); lag > 200*time.Millisecond {
				t.Errorf("light described %v after its answer", lag)
			}
		}
	}
	if len(got) != 2 || got[0] != "Loopback Light" || got[1] != "Slow" {
		t.Fatalf("got %v at %v, want the light then the slow device", got, at)
	}
	if at[0] > time.Second {
		t.Errorf("the light came after %v: not streamed", at[0])
	}

	// Unicast searches to port 1900 reach one of the sockets bound there:
	// leave only the light's.
	acancel()
	<-adone
	t.Run("unicast", func(t *testing.T) {
		ds, err := c.DiscoverAll(ctx, ssdp.SearchRequest{Target: lightUDN, To: netip.MustParseAddrPort("127.0.0.1:1900")})
		if err != nil || len(ds) != 1 || ds[0].Root.Device.UDN != lightUDN {
			t.Fatalf("unicast DiscoverAll = %v, %v", ds, err)
		}
	})
	t.Run("break early", func(t *testing.T) {
		for d, err := range c.Discover(ctx, ssdp.SearchRequest{Target: ssdp.RootDevice, MX: 1}) {
			if err != nil || d == nil {
				t.Fatalf("%v %v", d, err)
			}
			break
		}
	})
}

// TestRegistryRun: a registry on lo finds the light by search and
// announcement, and sees it go at byebye.
func TestRegistryRun(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	r := &controlpoint.Registry{Client: &controlpoint.Client{Interfaces: []string{"lo"}, Network: "udp4"}}
	ch, stop := r.Subscribe(64)
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	s := &device.Server{Device: binarylight.New("Registry Light", lightUDN), Interfaces: []string{"lo"}, Network: "4"}
	lctx, lcancel := context.WithCancel(ctx)
	ldone := make(chan error, 1)
	go func() { ldone <- s.ListenAndServe(lctx) }()
	wait := func(want controlpoint.RegistryEventType) *controlpoint.Device {
		t.Helper()
		for {
			select {
			case ev := <-ch:
				if ev.Type == want {
					return ev.Device
				}
				t.Logf("event %v", ev.Type)
			case <-time.After(10 * time.Second):
				t.Fatalf("no %v event", want)
			}
		}
	}
	d := wait(controlpoint.DeviceAdded)
	if d.Root.Device.FriendlyName != "Registry Light" || len(r.Lookup("BinaryLight")) != 1 || len(r.Lookup("SwitchPower:1")) != 1 {
		t.Errorf("added %s; lookups %v %v", d.Root.Device.FriendlyName, r.Lookup("BinaryLight"), r.Lookup("SwitchPower:1"))
	}
	lcancel()
	<-ldone
	wait(controlpoint.DeviceRemoved)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

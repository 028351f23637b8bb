package controlpoint_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
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

// hang bounds the waits for what must happen: long enough for a loaded
// machine under -race, so that it only catches hangs.
const hang = 20 * time.Second

// startLight runs the example light with SSDP on lo until the test ends,
// and returns once it answers a unicast search: call it before any other
// socket is bound to port 1900 on lo, since the search goes to whichever
// socket there the kernel picks.
func startLight(t *testing.T) *device.Server {
	t.Helper()
	s := &device.Server{Device: binarylight.New("Loopback Light", lightUDN), Interfaces: []string{"lo"}, Network: "4"}
	ctx, cancel := context.WithCancel(context.Background())
	var runErr error
	stopped := make(chan struct{})
	go func() { runErr = s.ListenAndServe(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })
	c := &controlpoint.Client{Interfaces: []string{"lo"}, Network: "udp4"}
	for deadline := time.Now().Add(hang); time.Now().Before(deadline); {
		select {
		case <-stopped:
			t.Fatalf("the light stopped: %v", runErr)
		default:
		}
		// A search sent before the light listens goes unanswered, and
		// ends after 2 s.
		for d, err := range c.Discover(ctx, ssdp.SearchRequest{Target: lightUDN, To: netip.MustParseAddrPort("127.0.0.1:1900")}) {
			if err == nil && d.Root.Device.UDN == lightUDN {
				return s
			}
		}
	}
	t.Fatalf("the light did not answer a search within %v", hang)
	return nil
}

// TestDiscoverStreams: a device is yielded as soon as it is described,
// while a slower one is still being described, and the slower one still
// comes. The test holds the slow device's description back until the light
// has been yielded: Discover cannot pass unless it yields the light while
// another description is under way.
func TestDiscoverStreams(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	startLight(t)
	asked, release, lightOut := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var askedOnce, releaseOnce, lightOnce sync.Once
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		askedOnce.Do(func() { close(asked) })
		select {
		case <-release:
			io.WriteString(w, slowDesc)
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer releaseOnce.Do(func() { close(release) }) // before slow.Close waits for the handler
	adv := &ssdp.Server{
		Devices:    []ssdp.Device{{UDN: "uuid:5105510a-0000-4000-8000-000000000001", Type: "urn:x:device:Slow:1"}},
		Location:   func(netip.Addr) string { return slow.URL + "/d.xml" },
		Interfaces: []string{"lo"}, Network: "udp4",
	}
	actx, acancel := context.WithCancel(ctx)
	defer acancel()
	adone := make(chan error, 1)
	go func() { adone <- adv.ListenAndServe(actx) }()
	// Its sockets are bound and in the group once it has announced itself.
	for deadline := time.Now().Add(hang); adv.Stats().Notifies == 0; {
		select {
		case err := <-adone:
			t.Fatalf("the slow device's SSDP server: %v", err)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slow device did not announce itself within %v", hang)
		}
	}
	go func() {
		for _, ch := range []chan struct{}{asked, lightOut} {
			select {
			case <-ch:
			case <-ctx.Done():
				return
			}
		}
		releaseOnce.Do(func() { close(release) })
	}()

	// The fetch of the slow description must be able to wait for the light.
	c := &controlpoint.Client{Interfaces: []string{"lo"}, Network: "udp4", Timeout: hang}
	var got []string
	for d, err := range c.Discover(ctx, ssdp.SearchRequest{Target: ssdp.RootDevice, MX: 1}) {
		if err != nil {
			t.Fatalf("Discover: %v (after %v)", err, got)
		}
		got = append(got, d.Root.Device.FriendlyName)
		if d.Root.Device.FriendlyName == "Loopback Light" {
			if d.Interface != "lo" || d.Local.String() != "127.0.0.1" || d.Addr.String() != "127.0.0.1" || d.BootID < 0 ||
				d.Root.Device.UDN != lightUDN || d.USN != lightUDN+"::upnp:rootdevice" {
				t.Errorf("light: %+v", d)
			}
			if len(d.Services) != 2 || d.Services[0].SCPD == nil || d.Services[1].SCPD == nil {
				t.Errorf("light services not described: %+v", d.Services)
			}
			t.Logf("light described %v after its answer", d.Described.Sub(d.Found))
			lightOnce.Do(func() { close(lightOut) })
		}
	}
	if len(got) != 2 || got[0] != "Loopback Light" || got[1] != "Slow" {
		select {
		case <-asked:
		default:
			t.Fatalf("got %v; the slow device's description was never asked for", got)
		}
		t.Fatalf("got %v (%v), want the light, yielded while the slow description was held back, then the slow device", got, ctx.Err())
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

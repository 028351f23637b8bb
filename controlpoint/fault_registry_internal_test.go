package controlpoint

// Registry faults found by the LAN tests of fault_test.go, reproduced with
// the listener's events fed by hand.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/ssdp"
)

// regWatch reads a registry's events.
type regWatch struct {
	t  *testing.T
	r  *Registry
	ch <-chan RegistryEvent
}

func (w *regWatch) next() RegistryEvent {
	w.t.Helper()
	select {
	case e := <-w.ch:
		return e
	case <-time.After(5 * time.Second):
		w.t.Fatal("no registry event")
	}
	return RegistryEvent{}
}

func (w *regWatch) quiet() {
	w.t.Helper()
	w.r.wg.Wait()
	select {
	case e := <-w.ch:
		w.t.Fatalf("unexpected event %v %s", e.Type, e.Device.Location)
	default:
	}
}

// TestRegistryAddressMoves: a device whose address changes announces the
// same USNs on the same route from its new address, with a new LOCATION;
// its byebye from the old address was lost (sent while it had no IPv4
// address at all). The registry moves each USN to the new LOCATION and
// drops the old one when it has none left, instead of keeping it for ever:
// the listener's entry, refreshed from the new address, never expires.
func TestRegistryAddressMoves(t *testing.T) {
	serve := func() string {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tinyDesc) }))
		t.Cleanup(ts.Close)
		return ts.URL + "/d.xml"
	}
	// The two addresses of the device: documentation ones, with both
	// descriptions served on loopback, which AllowForeignHosts lets the
	// registry fetch from a LOCATION that is not on the sender's address.
	loc1, from1 := serve(), netip.MustParseAddrPort("192.0.2.1:1900")
	loc2, from2 := serve(), netip.MustParseAddrPort("192.0.2.2:1900")
	r := &Registry{Client: &Client{AllowForeignHosts: true}}
	ch, stop := r.Subscribe(16)
	defer stop()
	w := &regWatch{t: t, r: r, ch: ch}
	ev := func(typ ssdp.EventType, usn, loc string, from netip.AddrPort, boot int32) {
		r.handle(ssdp.Event{Type: typ, Entry: ssdp.Entry{USN: usn, Location: loc, From: from, Interface: "lan0", BootID: boot, ConfigID: 1}})
	}
	usns := []string{"uuid:t::upnp:rootdevice", "uuid:t", "uuid:t::urn:x:device:T:1"}
	for _, u := range usns {
		ev(ssdp.EventAdded, u, loc1, from1, 1)
	}
	if e := w.next(); e.Type != DeviceAdded || e.Device.Location != loc1 {
		t.Fatalf("%v %s, want added %s", e.Type, e.Device.Location, loc1)
	}
	w.quiet()
	// The address changed: BOOTID grows (UDA 1.2.4), LOCATION and sender
	// change, the listener's key (USN, interface, family) does not.
	for _, u := range usns {
		ev(ssdp.EventRebooted, u, loc2, from2, 2)
	}
	got := map[RegistryEventType]string{}
	for range 2 {
		e := w.next()
		got[e.Type] = e.Device.Location
	}
	if got[DeviceRemoved] != loc1 || got[DeviceAdded] != loc2 {
		t.Errorf("events %v, want %s removed and %s added", got, loc1, loc2)
	}
	w.quiet()
	if ds := r.Devices(); len(ds) != 1 || ds[0].Location != loc2 || ds[0].BootID != 2 {
		t.Errorf("devices %v, want the one at %s", ds, loc2)
	}
	// Its advertisements expire with the new entry, which goes with them.
	for _, u := range usns {
		ev(ssdp.EventExpired, u, loc2, from2, 2)
	}
	if e := w.next(); e.Type != DeviceRemoved || e.Device.Location != loc2 {
		t.Errorf("%v %s, want removed %s", e.Type, e.Device.Location, loc2)
	}
	if len(r.entries) != 0 || len(r.usnLoc) != 0 {
		t.Errorf("left: %d entries, %d USN routes", len(r.entries), len(r.usnLoc))
	}
}

// TestRegistryRetriesRefetch: the description fetch after a reboot fails
// (the device announced itself before it served HTTP again). The registry
// keeps the old description, but does not forget that it is out of date: a
// later announcement, after a short backoff, re-describes the device and
// reports the reboot.
func TestRegistryRetriesRefetch(t *testing.T) {
	var fail atomic.Bool
	ts, n := hits(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, tinyDesc)
	})
	defer ts.Close()
	loc := ts.URL + "/d.xml"
	from := netip.MustParseAddrPort(strings.TrimPrefix(ts.URL, "http://"))
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	r := &Registry{now: func() time.Time { return time.Unix(0, clock.Load()) }}
	ch, stop := r.Subscribe(16)
	defer stop()
	w := &regWatch{t: t, r: r, ch: ch}
	ev := func(typ ssdp.EventType, boot int32) {
		r.handle(ssdp.Event{Type: typ, Entry: ssdp.Entry{USN: "uuid:t::upnp:rootdevice", Location: loc, From: from, Interface: "lo", BootID: boot, ConfigID: 1}})
	}
	ev(ssdp.EventAdded, 1)
	if e := w.next(); e.Type != DeviceAdded {
		t.Fatalf("%v, want added", e.Type)
	}
	fail.Store(true)
	ev(ssdp.EventRebooted, 2)
	w.quiet() // the fetch failed: nothing to report yet
	ev(ssdp.EventRefreshed, 2)
	w.quiet() // within the backoff: not even a fetch
	if got := n.Load(); got != 2 {
		t.Errorf("%d fetches, want 2", got)
	}
	if ds := r.Devices(); len(ds) != 1 || ds[0].BootID != 1 {
		t.Errorf("devices %v: the old description should stay meanwhile", ds)
	}
	fail.Store(false)
	clock.Add(int64(retryBackoff))
	ev(ssdp.EventRefreshed, 2)
	if e := w.next(); e.Type != DeviceRebooted || e.Device.BootID != 2 {
		t.Errorf("%v BOOTID %d, want rebooted with BOOTID 2", e.Type, e.Device.BootID)
	}
	ev(ssdp.EventRefreshed, 2)
	w.quiet() // described: no more fetches
}

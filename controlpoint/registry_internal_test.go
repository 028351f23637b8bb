package controlpoint

import (
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/ssdp"
)

func TestRegistryLifecycle(t *testing.T) {
	ts, hits := hits(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tinyDesc) })
	defer ts.Close()
	loc := ts.URL + "/d.xml"
	from := netip.MustParseAddrPort(strings.TrimPrefix(ts.URL, "http://"))
	r := &Registry{}
	ch, stop := r.Subscribe(16)
	defer stop()
	slow, stopSlow := r.Subscribe(16) // never read: must not hold anything up
	defer stopSlow()
	_ = slow
	ev := func(typ ssdp.EventType, usn string, boot, config int32) {
		r.handle(ssdp.Event{Type: typ, Entry: ssdp.Entry{USN: usn, Location: loc, From: from, Interface: "lo", BootID: boot, ConfigID: config}})
	}
	next := func(want RegistryEventType) *Device {
		t.Helper()
		select {
		case e := <-ch:
			if e.Type != want {
				t.Fatalf("event %v, want %v", e.Type, want)
			}
			return e.Device
		case <-time.After(5 * time.Second):
			t.Fatalf("no %v event", want)
		}
		return nil
	}
	quiet := func() {
		t.Helper()
		r.wg.Wait()
		select {
		case e := <-ch:
			t.Fatalf("unexpected event %v", e.Type)
		default:
		}
	}
	ev(ssdp.EventAdded, "uuid:t::upnp:rootdevice", 1, 7)
	ev(ssdp.EventAdded, "uuid:t", 1, 7)
	ev(ssdp.EventAdded, "uuid:t::urn:x:device:T:1", 1, 7)
	d := next(DeviceAdded)
	if d.Root.Device.UDN != "uuid:t" || d.Interface != "lo" || d.BootID != 1 || d.ConfigID != 7 {
		t.Errorf("added %+v", d)
	}
	quiet()
	if got := r.Lookup("T"); len(got) != 1 || got[0] != d {
		t.Errorf("Lookup(T) = %v", got)
	}
	if got := r.Lookup("uuid:t"); len(got) != 1 {
		t.Errorf("Lookup(uuid:t) = %v", got)
	}
	ev(ssdp.EventRefreshed, "uuid:t", 1, 7)
	quiet()
	ev(ssdp.EventConfig, "uuid:t", 1, 8)
	if d := next(DeviceUpdated); d.ConfigID != 8 {
		t.Errorf("updated ConfigID %d", d.ConfigID)
	}
	ev(ssdp.EventRebooted, "uuid:t::upnp:rootdevice", 2, 8)
	if d := next(DeviceRebooted); d.BootID != 2 {
		t.Errorf("rebooted BootID %d", d.BootID)
	}
	quiet()
	if n := hits.Load(); n != 3 {
		t.Errorf("%d description fetches, want 3", n)
	}
	// Expiry of some advertisements keeps the device; of all, removes it.
	ev(ssdp.EventExpired, "uuid:t::urn:x:device:T:1", 2, 8)
	quiet()
	ev(ssdp.EventExpired, "uuid:t", 2, 8)
	quiet()
	ev(ssdp.EventExpired, "uuid:t::upnp:rootdevice", 2, 8)
	next(DeviceRemoved)
	if len(r.Devices()) != 0 {
		t.Errorf("devices left: %v", r.Devices())
	}
	// A byebye of the root removes at once.
	ev(ssdp.EventAdded, "uuid:t::upnp:rootdevice", 3, 8)
	ev(ssdp.EventAdded, "uuid:t::urn:x:device:T:1", 3, 8)
	next(DeviceAdded)
	ev(ssdp.EventRemoved, "uuid:t::upnp:rootdevice", 3, 8)
	next(DeviceRemoved)
	quiet()
}

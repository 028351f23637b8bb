package controlpoint_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/internal/netlab"
	"github.com/seedb72249f9/upnp/ssdp"
)

// TestListenMulticast: a change of a variable marked multicast="yes" on
// our device reaches ListenMulticast on lo; datagrams that are not events
// do not.
func TestListenMulticast(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	scpd, err := upnp.ParseSCPD([]byte(`<scpd xmlns="urn:schemas-upnp-org:service-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<serviceStateTable><stateVariable sendEvents="yes" multicast="yes"><name>Alarm</name><dataType>string</dataType></stateVariable></serviceStateTable></scpd>`))
	if err != nil {
		t.Fatal(err)
	}
	svc := &device.Service{Type: "urn:example-com:service:Alarm:1", SCPD: scpd}
	d := &device.Device{Type: "urn:example-com:device:Siren:1", FriendlyName: "Siren", Manufacturer: "m", ModelName: "n",
		UDN: "uuid:0f0f0f0f-1111-4222-8333-777777777777", Services: []*device.Service{svc}}
	s := &device.Server{Device: d, Interfaces: []string{"lo"}, Network: "4"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	defer func() { cancel(); <-done }()
	for i := 0; i < 200 && len(s.Addrs()) == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}

	c := &controlpoint.Client{Interfaces: []string{"lo"}, Network: "udp4"}
	lctx, lcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer lcancel()
	events := make(chan *controlpoint.MulticastEvent, 10)
	go func() {
		for ev, err := range c.ListenMulticast(lctx) {
			if err != nil {
				t.Error(err)
				return
			}
			events <- ev
		}
		close(events)
	}()
	// Junk first: it must be dropped, not yielded.
	junk, err := net.Dial("udp4", "239.255.255.246:7900")
	if err != nil {
		t.Fatal(err)
	}
	defer junk.Close()
	var ev *controlpoint.MulticastEvent
	for i := 0; ev == nil; i++ {
		if i == 30 {
			t.Fatal("no multicast event")
		}
		junk.Write([]byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n"))
		junk.Write([]byte("NOTIFY * HTTP/1.1\r\nNT: upnp:event\r\nNTS: upnp:propchange\r\nSEQ: x\r\n\r\n"))
		if err := svc.Set("Alarm", "fire "+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
		select {
		case ev = <-events:
		case <-time.After(200 * time.Millisecond):
		}
	}
	if ev.USN != d.UDN+"::"+svc.Type || ev.SVCID != "urn:example-com:serviceId:Alarm" || ev.LVL != "upnp:info" ||
		ev.BootID <= 0 || ev.Interface != "lo" ||
		len(ev.Vars) != 1 || ev.Vars[0].Name != "Alarm" || !strings.HasPrefix(ev.Vars[0].Value.(string), "fire") {
		t.Errorf("event %+v", ev)
	}
	seq := ev.SEQ
	svc.Set("Alarm", "smoke")
	select {
	case ev = <-events:
		if ev.SEQ <= seq || ev.Vars[0].Text != "smoke" {
			t.Errorf("second event %+v", ev)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no second event")
	}
	lcancel()
	for range events {
	}

	bad := &controlpoint.Client{Interfaces: []string{"nosuch0"}}
	for _, err := range bad.ListenMulticast(context.Background()) {
		if !errors.Is(err, ssdp.ErrNoInterface) {
			t.Errorf("unknown interface: %v", err)
		}
	}
}

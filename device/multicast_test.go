package device_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/internal/gena"
	"github.com/seedb72249f9/upnp/internal/netlab"
	"golang.org/x/net/ipv4"
)

// TestMulticastEvents: a change of a variable marked multicast="yes" goes to
// 239.255.255.246:7900 with USN, SVCID, SEQ, LVL and BOOTID (UDA 1.1 4.3).
func TestMulticastEvents(t *testing.T) {
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

	pc, err := net.ListenPacket("udp4", "0.0.0.0:7900")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	lo, _ := net.InterfaceByName("lo")
	if err := ipv4.NewPacketConn(pc).JoinGroup(lo, &net.UDPAddr{IP: net.IPv4(239, 255, 255, 246)}); err != nil {
		t.Fatal(err)
	}

	s := &device.Server{Device: d, Interfaces: []string{"lo"}, Network: "4"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	defer func() { cancel(); <-done }()
	for i := 0; i < 100 && len(s.Addrs()) == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	for i, v := range []string{"smoke", "fire"} {
		if err := svc.Set("Alarm", v); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 9000)
		pc.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no multicast event: %v", err)
		}
		ev, err := gena.ParseMulticast(buf[:n])
		if err != nil {
			t.Fatalf("%v\n%s", err, buf[:n])
		}
		if ev.USN != d.UDN+"::"+svc.Type || ev.SVCID != "urn:example-com:serviceId:Alarm" || ev.SEQ != uint32(i) ||
			ev.LVL != gena.LevelInfo || ev.BootID <= 0 || len(ev.Props) != 1 || ev.Props[0].Value != v {
			t.Errorf("event %d: %+v", i, ev)
		}
	}
}

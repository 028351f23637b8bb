package ssdp_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/seedb72249f9/upnp/ssdp"
)

// Parse reads a datagram as devices send it: names in any case, the known
// headers typed, the others kept in Extra.
func ExampleParse() {
	m, err := ssdp.Parse([]byte("HTTP/1.1 200 OK\r\n" +
		"Cache-Control: max-age=1800\r\n" +
		"EXT:\r\n" +
		"LOCATION: http://192.168.1.20:49152/description.xml\r\n" +
		"SERVER: Linux/6.1 UPnP/1.0 Example/1.0\r\n" +
		"ST: upnp:rootdevice\r\n" +
		"USN: uuid:0f0f0f0f-1111-2222-3333-444444444444::upnp:rootdevice\r\n" +
		"BOOTID.UPNP.ORG: 7\r\n" +
		"01-NLS: 1795307213\r\n" +
		"\r\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Kind == ssdp.KindResponse, m.ST, m.MaxAge, m.BootID, m.ConfigID)
	fmt.Println(m.Location)
	fmt.Println(m.Extra)
	// Output:
	// true upnp:rootdevice 1800 7 -1
	// http://192.168.1.20:49152/description.xml
	// [{01-NLS 1795307213}]
}

// Append writes a message strictly: upper-case names in a fixed order, CRLF
// line ends, a blank line at the end.
func ExampleMessage_Append() {
	var m ssdp.Message
	m.Reset() // BOOTID, NEXTBOOTID and CONFIGID absent
	m.Kind = ssdp.KindSearch
	m.Host = "239.255.255.250:1900"
	m.MAN = ssdp.Discover
	m.MX = 2
	m.ST = ssdp.RootDevice
	b, err := m.Append(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(string(b), "\r\n", "\n"))
	// Output:
	// M-SEARCH * HTTP/1.1
	// HOST: 239.255.255.250:1900
	// ST: upnp:rootdevice
	// MAN: "ssdp:discover"
	// MX: 2
}

// A Parser reads datagrams in a loop without an allocation per datagram;
// what the loop keeps, it copies, since a kept string holds its Parser's
// buffer.
func ExampleParser() {
	pc, err := net.ListenPacket("udp4", ":0") // a socket of your own
	if err != nil {
		log.Fatal(err)
	}
	defer pc.Close()
	var p ssdp.Parser
	var m ssdp.Message
	seen := map[string]string{} // USN to LOCATION, kept
	buf := make([]byte, ssdp.MaxDatagram+1)
	for {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			log.Fatal(err)
		}
		if err := p.Parse(&m, buf[:n]); err != nil || m.USN == "" {
			continue // not SSDP, or nothing to keep
		}
		if _, ok := seen[m.USN]; !ok {
			seen[strings.Clone(m.USN)] = strings.Clone(m.Location)
		}
	}
}

// A search prints each answer as it arrives, with the interface it came in
// on, until the devices have had their MX seconds to answer.
func ExampleClient_Search() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &ssdp.Client{Interfaces: []string{"eth0"}} // nil: every usable interface
	for p, err := range c.Search(ctx, ssdp.SearchRequest{Target: ssdp.RootDevice, MX: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(p.USN, p.Location, "from", p.From.Addr(), "via", p.Interface)
	}
}

// A Server announces a device and answers searches for it until its context
// ends, then says byebye.
func ExampleServer() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	s := &ssdp.Server{
		Devices: []ssdp.Device{{
			UDN:          "uuid:0f0f0f0f-1111-2222-3333-444444444444",
			Type:         "urn:schemas-upnp-org:device:BinaryLight:1",
			ServiceTypes: []string{"urn:schemas-upnp-org:service:SwitchPower:1"},
		}},
		// The LOCATION for each interface: an address the searcher can reach.
		Location: func(local netip.Addr) string {
			return "http://" + netip.AddrPortFrom(local, 8080).String() + "/description.xml"
		},
	}
	if err := s.ListenAndServe(ctx); err != nil {
		log.Fatal(err)
	}
}

// A Listener keeps a cache of what is announced on the link and tells a
// subscriber of every change; a slow subscriber loses its own events, never
// the socket's.
func ExampleListener() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	l := &ssdp.Listener{}
	events, unsubscribe := l.Subscribe(256)
	defer unsubscribe()
	go func() {
		for ev := range events {
			switch ev.Type {
			case ssdp.EventAdded, ssdp.EventConfig, ssdp.EventRebooted:
				// (Re-)fetch its description; a reboot that also changed
				// CONFIGID is followed by an EventConfig for the same entry.
				fmt.Println(ev.Type, ev.Entry.USN, ev.Entry.Location)
			case ssdp.EventRemoved, ssdp.EventExpired:
				fmt.Println(ev.Type, ev.Entry.USN)
			}
		}
	}()
	if err := l.ListenAndServe(ctx); err != nil {
		log.Fatal(err)
	}
}

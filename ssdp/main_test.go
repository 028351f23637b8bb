package ssdp_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huin/goupnp/httpu"
	goupnpssdp "github.com/huin/goupnp/ssdp"
	"github.com/seedb72249f9/upnp/internal/netlab"
	"github.com/seedb72249f9/upnp/ssdp"
	"golang.org/x/net/ipv6"
)

// TestMain lets multi-host tests run roles in their own processes, one per
// network namespace (internal/netlab).
func TestMain(m *testing.M) {
	netlab.Main(m, map[string]netlab.Role{
		"advertise":     roleAdvertise,
		"search":        roleSearch,
		"listen":        roleListen,
		"goupnp-search": roleGoupnpSearch,
		"hoplimit":      roleHopLimit,
	})
}

// interopTree is the device the advertise role serves: a root with one
// embedded device, so the set has 3 + 2*1 + 3 = 8 messages.
var interopTree = ssdp.Device{
	UDN:          "uuid:5e1f0000-aaaa-4bbb-8ccc-000000000001",
	Type:         "urn:schemas-upnp-org:device:MediaRenderer:1",
	ServiceTypes: []string{"urn:schemas-upnp-org:service:RenderingControl:1", "urn:schemas-upnp-org:service:AVTransport:1"},
	Devices: []ssdp.Device{{
		UDN:          "uuid:5e1f0000-aaaa-4bbb-8ccc-000000000002",
		Type:         "urn:schemas-upnp-org:device:Embedded:1",
		ServiceTypes: []string{"urn:schemas-upnp-org:service:ConnectionManager:1"},
	}},
}

// roleAdvertise serves interopTree on lan0 until stopped; args: [poll
// [interfaces]] with interfaces comma-separated, or "all" for the default.
// It prints "ready" 300 ms after starting unless ListenAndServe failed by
// then (it may still be waiting for an interface), and "stopped" after
// byebye.
func roleAdvertise(ctx context.Context, args []string) int {
	s := &ssdp.Server{
		Devices:    []ssdp.Device{interopTree},
		Location:   func(a netip.Addr) string { return "http://" + netip.AddrPortFrom(a, 8080).String() + "/desc.xml" },
		Interfaces: []string{"lan0"},
		BootID:     11,
		ConfigID:   2,
		Logger:     slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	s.BootIDChanged = func(id int32) { fmt.Println("bootid changed to", id) }
	if len(args) > 0 {
		d, err := time.ParseDuration(args[0])
		if err != nil {
			fmt.Println(err)
			return 2
		}
		s.InterfacePoll = d
	}
	if len(args) > 1 {
		s.Interfaces = strings.Split(args[1], ",")
		if args[1] == "all" {
			s.Interfaces = nil // every usable interface of the host's namespace
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe(ctx) }()
	select {
	case err := <-errc:
		fmt.Println("error:", err)
		return 1
	case <-time.After(300 * time.Millisecond):
	}
	fmt.Println("ready")
	if err := <-errc; err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("stopped")
	return 0
}

// roleSearch searches on lan0; args: target network mx [interfaces], with
// interfaces comma-separated. It prints one line per response: USN ST
// LOCATION FROM INTERFACE BOOTID, then "done N".
func roleSearch(ctx context.Context, args []string) int {
	mx, _ := strconv.Atoi(args[2])
	c := &ssdp.Client{Interfaces: []string{"lan0"}, Network: args[1]}
	if len(args) > 3 {
		c.Interfaces = strings.Split(args[3], ",")
	}
	n := 0
	for p, err := range c.Search(ctx, ssdp.SearchRequest{Target: args[0], MX: mx}) {
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		n++
		fmt.Println(p.USN, p.ST, p.Location, p.From.Addr(), p.Interface, p.BootID)
	}
	fmt.Println("done", n)
	return 0
}

// roleListen runs a Listener on lan0 and prints "EVENT USN LOCATION NTS" per event.
func roleListen(ctx context.Context, args []string) int {
	l := &ssdp.Listener{Interfaces: []string{"lan0"}, InterfacePoll: 200 * time.Millisecond}
	events, stop := l.Subscribe(4096)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- l.ListenAndServe(ctx) }()
	fmt.Println("ready")
	for {
		select {
		case err := <-errc:
			if err != nil {
				fmt.Println("error:", err)
				return 1
			}
			return 0
		case ev, ok := <-events:
			if !ok {
				return 0
			}
			nts := ""
			if ev.Packet != nil {
				nts = ev.Packet.NTS
			}
			// Substring matches of the tests rely on this order.
			fmt.Println(ev.Type, ev.Entry.USN, ev.Entry.Location, nts, "boot="+strconv.Itoa(int(ev.Entry.BootID)),
				"config="+strconv.Itoa(int(ev.Entry.ConfigID)), "maxage="+strconv.Itoa(ev.Entry.MaxAge),
				"nt="+ev.Entry.NT, "server="+ev.Entry.Server)
		}
	}
}

// roleGoupnpSearch searches with goupnp's SSDP client; args: target. It
// prints one USN per line, then "done N".
func roleGoupnpSearch(ctx context.Context, args []string) int {
	client, err := httpu.NewHTTPUClient()
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resps, err := goupnpssdp.RawSearch(ctx, client, args[0], 2)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	for _, r := range resps {
		fmt.Println(r.Header.Get("USN"), r.Header.Get("Location"))
	}
	fmt.Println("done", len(resps))
	return 0
}

// roleHopLimit joins FF02::C on lan0 and prints "hoplimit N" with the hop
// limit of the first NOTIFY it reads, then exits.
func roleHopLimit(ctx context.Context, args []string) int {
	ifi, err := net.InterfaceByName("lan0")
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	c, err := net.ListenPacket("udp6", "[::]:1900")
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer c.Close()
	p := ipv6.NewPacketConn(c)
	if err := p.JoinGroup(ifi, &net.UDPAddr{IP: net.ParseIP("ff02::c")}); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	if err := p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst, true); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	go func() { <-ctx.Done(); c.Close() }()
	fmt.Println("ready")
	buf := make([]byte, 9000)
	for {
		n, cm, _, err := p.ReadFrom(buf)
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		if cm != nil && cm.Dst.Equal(net.ParseIP("ff02::c")) && strings.HasPrefix(string(buf[:n]), "NOTIFY ") {
			fmt.Println("hoplimit", cm.HopLimit)
			return 0
		}
	}
}

package ssdp_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seedb72249f9/upnp/internal/netlab"
	"github.com/seedb72249f9/upnp/ssdp"
)

var light = ssdp.Device{
	UDN:          "uuid:0f0f0f0f-1111-2222-3333-444444444444",
	Type:         "urn:schemas-upnp-org:device:BinaryLight:1",
	ServiceTypes: []string{"urn:schemas-upnp-org:service:SwitchPower:1", "urn:schemas-upnp-org:service:Dimming:1"},
}

func startServer(t *testing.T, s *ssdp.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	})
	// ListenAndServe has bound its sockets once it answers a search; wait for that.
	c := &ssdp.Client{Interfaces: []string{"lo"}, Network: "udp4"}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		ps, _ := c.SearchAll(ctx, ssdp.SearchRequest{Target: s.Devices[0].UDN, To: netip.MustParseAddrPort("127.0.0.1:1900")})
		cancel()
		if len(ps) > 0 {
			return
		}
		select {
		case err := <-errc:
			t.Fatalf("ListenAndServe: %v", err)
		default:
		}
	}
	t.Fatal("server never answered")
}

func newServer() *ssdp.Server {
	return &ssdp.Server{
		Devices:    []ssdp.Device{light},
		Location:   func(a netip.Addr) string { return "http://" + a.String() + ":49152/desc.xml" },
		Interfaces: []string{"lo"},
		Network:    "udp4",
		BootID:     3,
		ConfigID:   9,
	}
}

func TestSearchLoopback(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	startServer(t, newServer())
	c := &ssdp.Client{Interfaces: []string{"lo"}, Network: "udp4"}
	tests := []struct {
		st   string
		want []string // USNs
	}{
		{"ssdp:all", []string{
			light.UDN, light.UDN + "::upnp:rootdevice", light.UDN + "::" + light.Type,
			light.UDN + "::" + light.ServiceTypes[0], light.UDN + "::" + light.ServiceTypes[1]}},
		{"upnp:rootdevice", []string{light.UDN + "::upnp:rootdevice"}},
		{light.UDN, []string{light.UDN}},
		{"urn:schemas-upnp-org:service:SwitchPower:1", []string{light.UDN + "::urn:schemas-upnp-org:service:SwitchPower:1"}},
		{"urn:schemas-upnp-org:service:SwitchPower:2", nil},
		{"urn:schemas-upnp-org:device:MediaServer:1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.st, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ps, err := c.SearchAll(ctx, ssdp.SearchRequest{Target: tt.st, MX: 1, Sends: 1})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.USN)
				if p.Location != "http://127.0.0.1:49152/desc.xml" || p.Interface != "lo" || !p.EXT ||
					p.BootID != 3 || p.ConfigID != 9 || p.MaxAge != 1800 || p.Date == "" {
					t.Errorf("response headers: %+v (interface %q)", p.Message, p.Interface)
				}
				if tt.st != "ssdp:all" && p.ST != tt.st {
					t.Errorf("ST %q, want %q", p.ST, tt.st)
				}
			}
			sort.Strings(got)
			sort.Strings(tt.want)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("USNs (-want +got):\n%s", d)
			}
		})
	}
}

// startListener runs a Listener on lo over IPv4 until the test ends and
// returns it with a subscription to its cache events.
func startListener(t *testing.T) (*ssdp.Listener, <-chan ssdp.Event) {
	t.Helper()
	l := &ssdp.Listener{Interfaces: []string{"lo"}, Network: "udp4"}
	events, stop := l.Subscribe(256)
	t.Cleanup(stop)
	ctx, cancel := context.WithCancel(context.Background())
	lerr := make(chan error, 1)
	go func() { lerr <- l.ListenAndServe(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-lerr; err != nil {
			t.Errorf("Listener: %v", err)
		}
	})
	time.Sleep(100 * time.Millisecond) // let the listener join before the first alive
	return l, events
}

// TestListenerSeesLifecycle: a Listener sees the whole alive set, then a
// byebye for every USN when the server shuts down.
func TestListenerSeesLifecycle(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	l, events := startListener(t)

	s := newServer()
	sctx, scancel := context.WithCancel(context.Background())
	serr := make(chan error, 1)
	go func() { serr <- s.ListenAndServe(sctx) }()

	added := map[string]bool{}
	timeout := time.After(5 * time.Second)
	for len(added) < 5 {
		select {
		case ev := <-events:
			if ev.Type == ssdp.EventAdded {
				added[ev.Entry.USN] = true
				if ev.Entry.BootID != 3 || ev.Entry.Location == "" || ev.Entry.Interface != "lo" {
					t.Errorf("added entry %+v", ev.Entry)
				}
			}
		case <-timeout:
			t.Fatalf("saw %d of 5 advertisements", len(added))
		}
	}
	if n := len(l.Entries()); n != 5 {
		t.Fatalf("cache holds %d entries, want 5", n)
	}
	scancel()
	if err := <-serr; err != nil {
		t.Fatal(err)
	}
	removed := map[string]bool{}
	for len(removed) < 5 {
		select {
		case ev := <-events:
			if ev.Type == ssdp.EventRemoved {
				removed[ev.Entry.USN] = true
			}
		case <-timeout:
			t.Fatalf("saw %d of 5 byebye", len(removed))
		}
	}
	if n := len(l.Entries()); n != 0 {
		t.Fatalf("cache holds %d entries after byebye, want 0", n)
	}
}

// rawSearch sends one datagram from a fresh socket to the SSDP group on lo and
// returns the responses read within wait.
func rawSearch(t *testing.T, payload string, wait time.Duration) []string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.WriteTo([]byte(payload), &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900}); err != nil {
		t.Fatal(err)
	}
	var out []string
	buf := make([]byte, 9000)
	for {
		pc.SetReadDeadline(time.Now().Add(wait))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			return out
		}
		out = append(out, string(buf[:n]))
	}
}

// TestSearchRules covers the SSDP items of SECURITY.md and UDA's MAN/MX rules
// that can be shown on one host: a multicast search needs MAN and MX, MX is
// capped at 5, garbage gets nothing, and a flood from one source is rate limited.
func TestSearchRules(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	s := newServer()
	s.RateLimit = 5
	startServer(t, s)
	const st = "ST: upnp:rootdevice\r\n"
	tests := []struct {
		name, payload string
		answers       int
	}{
		{"valid", "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n" + st + "\r\n", 1},
		{"no MAN", "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMX: 1\r\n" + st + "\r\n", 0},
		{"wrong MAN", "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:other\"\r\nMX: 1\r\n" + st + "\r\n", 0},
		{"no MX", "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n" + st + "\r\n", 0},
		{"MX 0", "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 0\r\n" + st + "\r\n", 0},
		{"garbage", "M-SEARCH garbage\x00\x01\r\n\r\n", 0},
		{"over 8 KiB", "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n" + st +
			"X-PAD: " + strings.Repeat("x", 9000) + "\r\n\r\n", 0},
		{"lower-case headers", "M-SEARCH * HTTP/1.1\nhost:239.255.255.250:1900\nman:\"ssdp:discover\"\nmx:1\nst:upnp:rootdevice\n\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rawSearch(t, tt.payload, 1500*time.Millisecond)
			if len(got) != tt.answers {
				t.Fatalf("%d answers, want %d: %q", len(got), tt.answers, got)
			}
			for _, r := range got {
				if !strings.HasPrefix(r, "HTTP/1.1 200 OK\r\n") || !strings.Contains(r, "\r\nEXT:\r\n") {
					t.Errorf("answer not strict UDA: %q", r)
				}
			}
		})
	}
	t.Run("rate limit", func(t *testing.T) {
		before := s.Stats()
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		q := []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n" + st + "\r\n")
		for range 200 {
			pc.WriteTo(q, &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900})
		}
		time.Sleep(300 * time.Millisecond)
		after := s.Stats()
		answered := after.Answered - before.Answered
		limited := after.RateLimited - before.RateLimited
		// Burst of twice the rate; the searches of the earlier subtests from
		// the same address may have used up part of it.
		if answered > 10 || limited < 190 {
			t.Fatalf("200 searches: %d answered, %d rate limited; want at most 10 answered", answered, limited)
		}
	})
}

// TestSearchPort: a Server with a SearchPort announces it in ssdp:alive (not
// in byebye), answers a unicast M-SEARCH sent to that port, and refuses a
// port outside 49152-65535. It also checks Packet.To: the group for a
// NOTIFY, our address for a unicast answer. (This is what SEARCHPORT is for:
// here the Listener shares port 1900 with the Server, and the kernel hands a
// unicast datagram to port 1900 to only one of the two sockets.)
func TestSearchPort(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	bad := newServer()
	bad.SearchPort = 1901
	if err := bad.ListenAndServe(context.Background()); err == nil || !strings.Contains(err.Error(), "SearchPort") {
		t.Errorf("SearchPort 1901: %v, want an error", err)
	}

	_, events := startListener(t)

	s := newServer()
	s.SearchPort = 50321
	sctx, scancel := context.WithCancel(context.Background())
	serr := make(chan error, 1)
	go func() { serr <- s.ListenAndServe(sctx) }()
	defer func() { scancel(); <-serr }()

	timeout := time.After(5 * time.Second)
	for alive := 0; alive < 5; {
		select {
		case ev := <-events:
			if ev.Type != ssdp.EventAdded {
				continue
			}
			alive++
			if p := ev.Packet; p.SearchPort != 50321 || p.To != netip.MustParseAddr("239.255.255.250") {
				t.Errorf("alive for %s: SEARCHPORT %d, to %v; want 50321 to the group", p.USN, p.SearchPort, p.To)
			}
		case <-timeout:
			t.Fatal("no alive from the server")
		}
	}

	c := &ssdp.Client{Interfaces: []string{"lo"}, Network: "udp4"}
	uctx, ucancel := context.WithTimeout(context.Background(), 3*time.Second)
	ps, err := c.SearchAll(uctx, ssdp.SearchRequest{Target: "upnp:rootdevice", To: netip.MustParseAddrPort("127.0.0.1:50321")})
	ucancel()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].USN != light.UDN+"::upnp:rootdevice" || ps[0].SearchPort != 50321 ||
		ps[0].To != netip.MustParseAddr("127.0.0.1") || ps[0].From.Port() != 50321 {
		t.Errorf("unicast search to the SearchPort: %d answers: %v", len(ps), ps)
	}

	scancel()
	if err := <-serr; err != nil {
		t.Fatal(err)
	}
	serr <- nil // for the deferred receive
	timeout = time.After(5 * time.Second)
	for removed := 0; removed < 5; {
		select {
		case ev := <-events:
			if ev.Type != ssdp.EventRemoved {
				continue
			}
			removed++
			if ev.Packet.SearchPort != 0 {
				t.Errorf("byebye for %s carries SEARCHPORT %d", ev.Packet.USN, ev.Packet.SearchPort)
			}
		case <-timeout:
			t.Fatal("no byebye from the server")
		}
	}
}

// TestListenerNotifications: Notifications carries every NOTIFY read, a
// byebye for a USN never announced included, which the cache ignores.
func TestListenerNotifications(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	l := &ssdp.Listener{Interfaces: []string{"lo"}, Network: "udp4"}
	events, stop := l.Subscribe(16)
	defer stop()
	notes, stopNotes := l.Notifications(16)
	ctx, cancel := context.WithCancel(context.Background())
	lerr := make(chan error, 1)
	go func() { lerr <- l.ListenAndServe(ctx) }()
	time.Sleep(100 * time.Millisecond) // let the listener join

	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	send := func(nts string) {
		msg := "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: " + nts +
			"\r\nUSN: uuid:feed0000-0000-4000-8000-000000000001::upnp:rootdevice\r\n" +
			"CACHE-CONTROL: max-age=60\r\nLOCATION: http://127.0.0.1:1/d.xml\r\n\r\n"
		if _, err := pc.WriteTo([]byte(msg), &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900}); err != nil {
			t.Fatal(err)
		}
	}
	// receive sends nts every 200 ms (the Listener may not have joined
	// yet) until a notification comes through, and returns it.
	receive := func(nts string) *ssdp.Packet {
		t.Helper()
		resend := time.NewTicker(200 * time.Millisecond)
		defer resend.Stop()
		timeout := time.After(5 * time.Second)
		for send(nts); ; {
			select {
			case p := <-notes:
				return p
			case <-resend.C:
				send(nts)
			case <-timeout:
				t.Fatalf("the %s never came through Notifications", nts)
			}
		}
	}
	if p := receive(ssdp.ByeBye); p.NTS != ssdp.ByeBye || p.Interface != "lo" || p.To != netip.MustParseAddr("239.255.255.250") {
		t.Errorf("notification %+v on %q to %v", p.Message, p.Interface, p.To)
	}
	for p := receive(ssdp.Alive); p.NTS != ssdp.Alive; p = receive(ssdp.Alive) {
		// a repeated byebye still on its way
	}
	// The cache saw only the alive: the byebye was for nothing it held.
	select {
	case ev := <-events:
		if ev.Type != ssdp.EventAdded {
			t.Errorf("first cache event %v, want added", ev.Type)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no cache event for the alive")
	}
	stopNotes()
	stopNotes() // twice is fine
	cancel()
	if err := <-lerr; err != nil {
		t.Fatal(err)
	}
	for range notes { // what was still queued; the channel must then be closed
	}
}

// TestNoInterfaceYet: in a namespace whose only interface is loopback, which
// the default leaves out, a Listener and a Server wait for an interface
// until their context ends, and return ErrNoInterface at once when told not
// to poll.
func TestNoInterfaceYet(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	l := &ssdp.Listener{InterfacePoll: 100 * time.Millisecond}
	s := &ssdp.Server{Devices: []ssdp.Device{light}, InterfacePoll: 100 * time.Millisecond,
		Location: func(a netip.Addr) string { return "http://" + a.String() + "/d.xml" }}
	errs := make(chan error, 2)
	go func() { errs <- l.ListenAndServe(ctx) }()
	go func() { errs <- s.ListenAndServe(ctx) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("waiting for an interface: %v, want nil once the context ends", err)
		}
	}
	if ctx.Err() == nil {
		t.Error("ListenAndServe returned before its context ended")
	}
	l = &ssdp.Listener{InterfacePoll: -1}
	if err := l.ListenAndServe(context.Background()); !errors.Is(err, ssdp.ErrNoInterface) {
		t.Errorf("Listener without polling: %v, want ErrNoInterface", err)
	}
	s = &ssdp.Server{Devices: []ssdp.Device{light}, InterfacePoll: -1,
		Location: func(a netip.Addr) string { return "http://" + a.String() + "/d.xml" }}
	if err := s.ListenAndServe(context.Background()); !errors.Is(err, ssdp.ErrNoInterface) {
		t.Errorf("Server without polling: %v, want ErrNoInterface", err)
	}
	// An interface that is up but has no IPv4 address cannot carry an IPv4
	// announcement either.
	for _, args := range [][]string{{"link", "add", "d0", "type", "veth", "peer", "name", "d1"}, {"link", "set", "d0", "up", "multicast", "on"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	s = &ssdp.Server{Devices: []ssdp.Device{light}, InterfacePoll: -1, Interfaces: []string{"d0"}, Network: "udp4",
		Location: func(a netip.Addr) string { return "http://" + a.String() + "/d.xml" }}
	actx, acancel := context.WithTimeout(context.Background(), 2*time.Second) // fails, not hangs, if it serves
	defer acancel()
	if err := s.ListenAndServe(actx); !errors.Is(err, ssdp.ErrNoInterface) {
		t.Errorf("Server on an interface without an IPv4 address: %v, want ErrNoInterface", err)
	}
}

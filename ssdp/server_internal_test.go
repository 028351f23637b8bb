package ssdp

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seedb72249f9/upnp/internal/clock"
	"github.com/seedb72249f9/upnp/internal/netlab"
)

var testTree = Device{
	UDN:          "uuid:11111111-2222-3333-4444-555555555555",
	Type:         "urn:schemas-upnp-org:device:MediaRenderer:2",
	ServiceTypes: []string{"urn:schemas-upnp-org:service:RenderingControl:2", "urn:schemas-upnp-org:service:AVTransport:2", "urn:schemas-upnp-org:service:AVTransport:2"},
	Devices: []Device{{
		UDN:          "uuid:11111111-2222-3333-4444-666666666666",
		Type:         "urn:schemas-upnp-org:device:Embedded:1",
		ServiceTypes: []string{"urn:schemas-upnp-org:service:ConnectionManager:1"},
	}},
}

func TestAdvertisementSetSize(t *testing.T) {
	set := advertisementSet(testTree)
	// 3 + 2d + k with d = 1 embedded device and k = 2 + 1 distinct service types.
	if want := 3 + 2*1 + 3; len(set) != want {
		t.Fatalf("advertisement set has %d messages, want %d", len(set), want)
	}
	var usns []string
	for _, n := range set {
		usns = append(usns, n.usn)
	}
	want := []string{
		"uuid:11111111-2222-3333-4444-555555555555::upnp:rootdevice",
		"uuid:11111111-2222-3333-4444-555555555555",
		"uuid:11111111-2222-3333-4444-555555555555::urn:schemas-upnp-org:device:MediaRenderer:2",
		"uuid:11111111-2222-3333-4444-555555555555::urn:schemas-upnp-org:service:RenderingControl:2",
		"uuid:11111111-2222-3333-4444-555555555555::urn:schemas-upnp-org:service:AVTransport:2",
		"uuid:11111111-2222-3333-4444-666666666666",
		"uuid:11111111-2222-3333-4444-666666666666::urn:schemas-upnp-org:device:Embedded:1",
		"uuid:11111111-2222-3333-4444-666666666666::urn:schemas-upnp-org:service:ConnectionManager:1",
	}
	if d := cmp.Diff(want, usns); d != "" {
		t.Errorf("USNs (-want +got):\n%s", d)
	}
}

func TestAnswers(t *testing.T) {
	s := &Server{}
	s.sets = [][]notification{advertisementSet(testTree)}
	tests := []struct {
		st   string
		want []answer
	}{
		{"ssdp:all", nil}, // checked by count below
		{"upnp:rootdevice", []answer{{"upnp:rootdevice", testTree.UDN + "::upnp:rootdevice"}}},
		{"uuid:11111111-2222-3333-4444-666666666666", []answer{{"uuid:11111111-2222-3333-4444-666666666666", "uuid:11111111-2222-3333-4444-666666666666"}}},
		// An older version is answered with the version searched for.
		{"urn:schemas-upnp-org:device:MediaRenderer:1", []answer{{"urn:schemas-upnp-org:device:MediaRenderer:1", testTree.UDN + "::urn:schemas-upnp-org:device:MediaRenderer:1"}}},
		{"urn:schemas-upnp-org:device:MediaRenderer:2", []answer{{"urn:schemas-upnp-org:device:MediaRenderer:2", testTree.UDN + "::urn:schemas-upnp-org:device:MediaRenderer:2"}}},
		// A newer version is not answered.
		{"urn:schemas-upnp-org:device:MediaRenderer:3", nil},
		{"urn:schemas-upnp-org:service:AVTransport:1", []answer{{"urn:schemas-upnp-org:service:AVTransport:1", testTree.UDN + "::urn:schemas-upnp-org:service:AVTransport:1"}}},
		// A device type is not a service type.
		{"urn:schemas-upnp-org:service:MediaRenderer:1", nil},
		{"urn:schemas-upnp-org:device:Other:1", nil},
		// uuid: and upnp:rootdevice in any case, and a bare UUID as
		// ParseTarget reads it, answered as advertised.
		{"UUID:11111111-2222-3333-4444-666666666666", []answer{{"uuid:11111111-2222-3333-4444-666666666666", "uuid:11111111-2222-3333-4444-666666666666"}}},
		{"11111111-2222-3333-4444-666666666666", []answer{{"uuid:11111111-2222-3333-4444-666666666666", "uuid:11111111-2222-3333-4444-666666666666"}}},
		{"upnp:RootDevice", []answer{{"upnp:rootdevice", testTree.UDN + "::upnp:rootdevice"}}},
		{"uuid:nobody", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.st, func(t *testing.T) {
			got := s.answers(ParseTarget(tt.st))
			if tt.st == "ssdp:all" {
				if len(got) != 8 {
					t.Fatalf("ssdp:all got %d answers, want 8", len(got))
				}
				return
			}
			if d := cmp.Diff(tt.want, got, cmp.AllowUnexported(answer{})); d != "" {
				t.Errorf("answers (-want +got):\n%s", d)
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	c := clock.NewFake(time.Unix(1000, 0))
	l := limiter{rate: 10, max: 2, now: c.Now}
	a := netip.MustParseAddr("10.0.0.1")
	n := 0
	for range 100 {
		if l.allow(a) {
			n++
		}
	}
	if n != 20 {
		t.Fatalf("burst allowed %d, want 20 (twice the rate)", n)
	}
	c.Advance(500 * time.Millisecond)
	n = 0
	for range 100 {
		if l.allow(a) {
			n++
		}
	}
	if n != 5 {
		t.Fatalf("after 0.5 s allowed %d, want 5", n)
	}
	// The table is bounded: a third source is refused while two are busy...
	if !l.allow(netip.MustParseAddr("10.0.0.2")) {
		t.Fatal("second source refused")
	}
	if l.allow(netip.MustParseAddr("10.0.0.3")) {
		t.Fatal("third source allowed past the table bound")
	}
	// ...and admitted once the others have gone idle.
	c.Advance(10 * time.Second)
	if !l.allow(netip.MustParseAddr("10.0.0.3")) {
		t.Fatal("third source refused after the others went idle")
	}
}

func TestLinkContains(t *testing.T) {
	l := &link{
		v4: []netip.Prefix{netip.MustParsePrefix("192.168.1.10/24")},
		v6: []netip.Prefix{netip.MustParsePrefix("fd00::10/64"), netip.MustParsePrefix("fe80::1/64")},
	}
	for addr, want := range map[string]bool{
		"192.168.1.99":       true,
		"192.168.2.1":        false,
		"8.8.8.8":            false,
		"::ffff:192.168.1.5": true,
		"fd00::99":           true,
		"fd01::1":            false,
		"fe80::abcd%eth0":    true,
		"2001:db8::1":        false,
	} {
		if got := l.contains(netip.MustParseAddr(addr)); got != want {
			t.Errorf("contains(%s) = %v, want %v", addr, got, want)
		}
	}
	if a, _ := l.local(false, netip.MustParseAddr("192.168.1.99")); a != netip.MustParseAddr("192.168.1.10") {
		t.Errorf("local v4 = %v", a)
	}
	if a, _ := l.local(true, netip.Addr{}); a != netip.MustParseAddr("fd00::10") {
		t.Errorf("local v6 prefers ULA, got %v", a)
	}
}

// capture joins the IPv4 SSDP group on lo and returns the NOTIFY messages read
// until no datagram arrives for wait.
type capture struct{ c *conn }

func newCapture(t *testing.T) *capture {
	t.Helper()
	c, err := listenUDP(false, Port, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.join(lo); err != nil {
		t.Fatal(err)
	}
	return &capture{c}
}

func (c *capture) notifies(t *testing.T, wait time.Duration) []*Message {
	t.Helper()
	var out []*Message
	buf := make([]byte, MaxDatagram+1)
	for {
		c.c.pc.SetReadDeadline(time.Now().Add(wait))
		n, _, _, _, err := c.c.read(buf)
		if err != nil {
			return out
		}
		m, err := Parse(buf[:n])
		if err != nil {
			t.Errorf("our own datagram does not parse: %v\n%s", err, buf[:n])
			continue
		}
		if m.Kind == KindNotify {
			out = append(out, m)
		}
	}
}

func countNTS(ms []*Message, nts string) int {
	n := 0
	for _, m := range ms {
		if m.NTS == nts {
			n++
		}
	}
	return n
}

// TestAnnouncementTiming drives a Server with a fake clock: the first set goes
// out within 100 ms, is repeated, is re-sent (and repeated) before max-age/2,
// a new CONFIGID is announced (and repeated), and Shutdown sends byebye for
// every advertisement.
func TestAnnouncementTiming(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	capt := newCapture(t)
	fake := clock.NewFake(time.Unix(1_700_000_000, 0))
	s := &Server{
		Devices:       []Device{testTree},
		Location:      func(a netip.Addr) string { return "http://" + a.String() + ":8080/desc.xml" },
		Interfaces:    []string{"lo"},
		Network:       "udp4",
		MaxAge:        1800 * time.Second,
		BootID:        7,
		ConfigID:      42,
		InterfacePoll: -1,
		clock:         fake,
	}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	const setSize = 8
	if got := capt.notifies(t, 50*time.Millisecond); len(got) != 0 {
		t.Fatalf("%d NOTIFY before the clock moved, want 0", len(got))
	}
	fake.Advance(100 * time.Millisecond)
	first := capt.notifies(t, 100*time.Millisecond)
	if len(first) != setSize || countNTS(first, Alive) != setSize {
		t.Fatalf("first announcement: %d NOTIFY (%d alive), want %d alive", len(first), countNTS(first, Alive), setSize)
	}
	m := first[0]
	if m.Host != "239.255.255.250:1900" || m.MaxAge != 1800 || m.BootID != 7 || m.ConfigID != 42 ||
		m.Location != "http://127.0.0.1:8080/desc.xml" || !strings.Contains(m.Server, "UPnP/2.0") {
		t.Errorf("alive headers wrong: %+v", m)
	}
	fake.Advance(300 * time.Millisecond)
	if got := capt.notifies(t, 100*time.Millisecond); countNTS(got, Alive) != setSize {
		t.Fatalf("repeat: %d alive, want %d", countNTS(got, Alive), setSize)
	}
	// Nothing more until a quarter of max-age; the next round comes before half.
	fake.Advance(449 * time.Second)
	if got := capt.notifies(t, 50*time.Millisecond); len(got) != 0 {
		t.Fatalf("%d NOTIFY before max-age/4", len(got))
	}
	// Re-advertisements are sent Repeat (2) times too, 300 ms apart.
	fake.Advance(451 * time.Second)
	got := capt.notifies(t, 100*time.Millisecond)
	fake.Advance(300 * time.Millisecond)
	got = append(got, capt.notifies(t, 100*time.Millisecond)...)
	if countNTS(got, Alive) != 2*setSize {
		t.Fatalf("re-advertisement before max-age/2: %d alive, want %d (the set twice)", countNTS(got, Alive), 2*setSize)
	}
	if err := s.SetConfigID(43); err != nil {
		t.Fatal(err)
	}
	got = capt.notifies(t, 100*time.Millisecond)
	fake.Advance(300 * time.Millisecond)
	got = append(got, capt.notifies(t, 100*time.Millisecond)...)
	if countNTS(got, Alive) != 2*setSize || got[0].ConfigID != 43 || got[len(got)-1].ConfigID != 43 {
		t.Fatalf("SetConfigID: %d alive (want %d), configID %d", countNTS(got, Alive), 2*setSize, got[0].ConfigID)
	}
	// Shutdown sends the byebyes, marks the server closed, and only then
	// closes the sockets: a repeat whose timer fires in between, or a
	// SetConfigID, must send no alive after the byebye. The moment, held:
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.announceOnce()
	if err := s.SetConfigID(44); err != nil {
		t.Fatal(err)
	}
	if got := capt.notifies(t, 100*time.Millisecond); len(got) != 0 {
		t.Fatalf("%d NOTIFY once closed", len(got))
	}
	s.mu.Lock()
	s.closed = false
	s.mu.Unlock()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got = capt.notifies(t, 100*time.Millisecond)
	if n := countNTS(got, ByeBye); n != 2*setSize {
		t.Fatalf("shutdown sent %d byebye, want %d (the set twice)", n, 2*setSize)
	}

	if fake.Pending() != 0 {
		t.Errorf("%d timers left after Shutdown", fake.Pending())
	}
}

// TestSearchDelayCappedAtFive: a multicast search with MX 120 is answered within
// 5 s (MX is capped), each answer on its own random delay spread over those
// 5 s, none before the clock moves.
func TestSearchDelayCappedAtFive(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	fake := clock.NewFake(time.Unix(1_700_000_000, 0))
	s := &Server{
		Devices:       []Device{testTree},
		Location:      func(a netip.Addr) string { return "http://" + a.String() + ":8080/desc.xml" },
		Interfaces:    []string{"lo"},
		Network:       "udp4",
		InterfacePoll: -1,
		clock:         fake,
	}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	fake.Advance(time.Second) // past the initial announcements
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	q := "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 120\r\nST: ssdp:all\r\n\r\n"
	if _, err := pc.WriteTo([]byte(q), &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900}); err != nil {
		t.Fatal(err)
	}
	// The search is handled on the server's reading goroutine; wait until its
	// eight answers are scheduled (plus the re-advertisement timer).
	for deadline := time.Now().Add(3 * time.Second); fake.Pending() < 9; {
		if time.Now().After(deadline) {
			t.Fatalf("answers never scheduled: %d timers", fake.Pending())
		}
		time.Sleep(5 * time.Millisecond)
	}
	read := func() int {
		n := 0
		buf := make([]byte, 9000)
		for {
			pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return n
			}
			n++
		}
	}
	if n := read(); n != 0 {
		t.Fatalf("%d answers before the clock moved", n)
	}
	// Half a second at a time: all eight within 5 s, spread over them (eight
	// uniform delays all in one of ten slots: one chance in ten million).
	total, slots := 0, 0
	for range 10 {
		fake.Advance(500 * time.Millisecond)
		if n := read(); n > 0 {
			total += n
			slots++
		}
	}
	if total != 8 {
		t.Fatalf("%d answers within 5 s, want all 8", total)
	}
	if slots < 2 {
		t.Errorf("all 8 answers in one half second: the delays are not spread over MX")
	}
	if p := fake.Pending(); p != 1 {
		t.Fatalf("%d timers pending after 5 s, want 1 (re-advertisement)", p)
	}
}

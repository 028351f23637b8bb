package ssdp

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/seedb72249f9/upnp/internal/clock"
	"github.com/seedb72249f9/upnp/internal/netlab"
)

// The tests of this file hold the SSDP items of shared/SECURITY.md that the
// other tests leave out; each names its item.

// TestPendingAnswersCap (SECURITY.md, resource exhaustion: pending search
// answers): answers waiting for their random delay are capped at
// MaxPending; a search whose answers would go over it is dropped whole and
// counted as Overloaded, and once the waiting answers are sent, searches are
// answered again.
func TestPendingAnswersCap(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	fake := clock.NewFake(time.Unix(1_700_000_000, 0))
	s := &Server{
		Devices:       []Device{testTree}, // ssdp:all: 8 answers a search
		Location:      func(a netip.Addr) string { return "http://" + a.String() + ":8080/desc.xml" },
		Interfaces:    []string{"lo"},
		Network:       "udp4",
		InterfacePoll: -1,
		RateLimit:     -1, // the per-source limit is TestLimiter's business
		MaxPending:    20,
		clock:         fake,
	}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	fake.Advance(time.Second) // past the initial announcements; leaves the re-advertisement timer
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	q := []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 5\r\nST: ssdp:all\r\n\r\n")
	group := &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900}
	search := func(n int) ServerStats {
		t.Helper()
		before := s.Stats()
		for range n {
			if _, err := pc.WriteTo(q, group); err != nil {
				t.Fatal(err)
			}
		}
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			st := s.Stats()
			if st.Answered+st.Overloaded-before.Answered-before.Overloaded >= uint64(n) {
				return ServerStats{Answered: st.Answered - before.Answered, Overloaded: st.Overloaded - before.Overloaded}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d searches not handled within 5 s: %+v", n, st)
			}
		}
	}
	read := func() int {
		n := 0
		buf := make([]byte, 9000)
		for {
			pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return n
			}
			n++
		}
	}

	if st := search(5); st.Answered != 2 || st.Overloaded != 3 {
		t.Errorf("5 searches of 8 answers with MaxPending 20: %d answered, %d overloaded; want 2 and 3", st.Answered, st.Overloaded)
	}
	if p := fake.Pending(); p != 2*8+1 {
		t.Errorf("%d timers pending, want 16 answers and the re-advertisement", p)
	}
	fake.Advance(5 * time.Second)
	if n := read(); n != 16 {
		t.Errorf("%d answers sent, want 16", n)
	}
	if st := search(1); st.Answered != 1 || st.Overloaded != 0 {
		t.Errorf("a search once the answers went out: %+v, want it answered", st)
	}
	fake.Advance(5 * time.Second)
	if n := read(); n != 8 {
		t.Errorf("%d answers sent, want 8", n)
	}
}

// TestMulticastTTL (SECURITY.md, SSDP reflection: multicast TTL 2): the
// server's NOTIFYs and the client's M-SEARCHes leave with IP TTL 2, read on
// the wire by a third socket, and Server.TTL changes it.
func TestMulticastTTL(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := listenUDP(false, Port, 0) // SO_REUSEADDR on 1900, beside the server
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := rc.p4.JoinGroup(lo, &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250)}); err != nil {
		t.Fatal(err)
	}
	if err := rc.p4.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst, true); err != nil {
		t.Fatal(err)
	}
	// ttlOf waits for a multicast datagram starting with prefix and holding
	// mark, and returns its TTL.
	ttlOf := func(prefix, mark string) int {
		t.Helper()
		buf := make([]byte, 9000)
		rc.pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			n, cm, _, err := rc.p4.ReadFrom(buf)
			if err != nil {
				t.Fatalf("no %q datagram: %v", prefix, err)
			}
			if cm != nil && cm.Dst.Equal(net.IPv4(239, 255, 255, 250)) && strings.HasPrefix(string(buf[:n]), prefix) &&
				strings.Contains(string(buf[:n]), mark) {
				return cm.TTL
			}
		}
	}
	for _, ttl := range []int{0, 5} {
		s := &Server{
			Devices:       []Device{testTree},
			Location:      func(a netip.Addr) string { return "http://" + a.String() + ":" + strconv.Itoa(8000+ttl) + "/desc.xml" },
			Interfaces:    []string{"lo"},
			Network:       "udp4",
			InterfacePoll: -1,
			TTL:           ttl,
		}
		if err := s.start(); err != nil {
			t.Fatal(err)
		}
		want := ttl
		if want == 0 {
			want = DefaultTTL
		}
		if got := ttlOf("NOTIFY * HTTP/1.1\r\n", ":"+strconv.Itoa(8000+ttl)+"/desc.xml"); got != want {
			t.Errorf("Server{TTL: %d}: NOTIFY with TTL %d, want %d", ttl, got, want)
		}
		s.Shutdown(context.Background())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	searched := make(chan struct{})
	defer func() { cancel(); <-searched }()
	go func() {
		defer close(searched)
		(&Client{Interfaces: []string{"lo"}, Network: "udp4"}).SearchAll(ctx, SearchRequest{Target: RootDevice, MX: 1})
	}()
	if got := ttlOf("M-SEARCH * HTTP/1.1\r\n", ""); got != DefaultTTL {
		t.Errorf("Client: M-SEARCH with TTL %d, want %d", got, DefaultTTL)
	}
	if DefaultTTL != 2 {
		t.Errorf("DefaultTTL is %d, SECURITY.md says 2", DefaultTTL)
	}
}

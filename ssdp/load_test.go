package ssdp_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
	"github.com/seedb72249f9/upnp/ssdp"
	"golang.org/x/net/ipv4"
)

// TestSearchBurst: a thousand responses sent back-to-back, as a LAN full of
// devices answering at once does, all reach the searcher (goupnp loses them
// to its receive buffer).
func TestSearchBurst(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	const n = 1000
	// A fake LAN: one socket on the group that answers any search with n
	// distinct responses, as fast as the kernel takes them.
	pc, err := net.ListenPacket("udp4", "0.0.0.0:1900")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	lo, _ := net.InterfaceByName("lo")
	joinGroup(t, pc, lo)
	sentIn := make(chan time.Duration, 1)
	go func() {
		buf := make([]byte, 2048)
		_, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		start := time.Now()
		for i := range n {
			m := &ssdp.Message{Kind: ssdp.KindResponse, MaxAge: 1800, EXT: true, ST: "upnp:rootdevice",
				USN: fmt.Sprintf("uuid:00000000-0000-0000-0000-%012d::upnp:rootdevice", i), Location: fmt.Sprintf("http://127.0.0.1:%d/d.xml", 10000+i),
				Server: "Linux/1 UPnP/1.0 burst/1", BootID: -1, NextBootID: -1, ConfigID: -1}
			b, _ := m.Append(nil)
			pc.WriteTo(b, from)
		}
		sentIn <- time.Since(start)
	}()
	c := &ssdp.Client{Interfaces: []string{"lo"}, Network: "udp4"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := 0
	for p, err := range c.Search(ctx, ssdp.SearchRequest{Target: ssdp.RootDevice, MX: 1, Sends: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(p.USN, "uuid:00000000-") {
			got++
		}
	}
	t.Logf("%d responses sent in %v, %d received", n, <-sentIn, got)
	if got != n {
		t.Fatalf("received %d of %d responses", got, n)
	}
}

func joinGroup(t *testing.T, pc net.PacketConn, ifi *net.Interface) {
	t.Helper()
	if err := ipv4.NewPacketConn(pc).JoinGroup(ifi, &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250)}); err != nil {
		t.Fatal(err)
	}
}

// TestResponderUnderFlood: 20,000 M-SEARCH at about 10,000 a second from 250
// sources leave the responder rate-limited, with flat memory and no goroutine
// growth, and it still answers a normal search afterwards.
func TestResponderUnderFlood(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	s := newServer()
	startServer(t, s)
	q := []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 5\r\nST: ssdp:all\r\n\r\n")
	var socks []net.PacketConn
	for i := range 250 {
		pc, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.%d.%d:0", 1+i/200, 1+i%200))
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		socks = append(socks, pc)
	}
	group := &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	g0, h0 := runtime.NumGoroutine(), heap()
	// 10 per millisecond, paced by the clock rather than by ticks, which a
	// busy machine drops: each tick sends what is due since the start.
	const total, perMs = 20000, 10
	tick := time.NewTicker(time.Millisecond)
	start := time.Now()
	for i := 0; i < total; {
		<-tick.C
		for due := min(total, int(time.Since(start)/time.Millisecond+1)*perMs); i < due; i++ {
			socks[i%len(socks)].WriteTo(q, group)
		}
	}
	tick.Stop()
	elapsed := time.Since(start)
	// Let the server read what is still queued in its socket buffer.
	accounted := func(st ssdp.ServerStats) uint64 { return st.Answered + st.RateLimited + st.Overloaded }
	for deadline := time.Now().Add(10 * time.Second); accounted(s.Stats()) < total && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	h1 := heap()
	st := s.Stats()
	t.Logf("%d searches in %v (%.0f/s); stats %+v; heap %d KiB -> %d KiB; goroutines %d -> %d",
		total, elapsed.Round(time.Millisecond), total/elapsed.Seconds(), st, h0>>10, h1>>10, g0, runtime.NumGoroutine())
	if st.RateLimited == 0 && st.Overloaded == 0 {
		t.Error("nothing was rate limited or shed under the flood")
	}
	// Every search was read and counted, not lost in a socket buffer: each is
	// answered, rate limited or shed (startServer's searches are the extra).
	if got := accounted(st); got < total {
		t.Errorf("the server accounted for %d of %d searches", got, total)
	}
	if h1 > h0+16<<20 {
		t.Errorf("heap grew from %d KiB to %d KiB", h0>>10, h1>>10)
	}
	if g := runtime.NumGoroutine(); g > g0+5 {
		t.Errorf("goroutines grew from %d to %d", g0, g)
	}
	// A fresh source still gets its answer.
	c := &ssdp.Client{Interfaces: []string{"lo"}, Network: "udp4"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ps, _ := c.SearchAll(ctx, ssdp.SearchRequest{Target: light.UDN, To: netip.MustParseAddrPort("127.0.0.1:1900")})
	if len(ps) != 1 {
		t.Errorf("after the flood a unicast search got %d answers, want 1", len(ps))
	}
}

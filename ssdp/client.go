package ssdp

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"
)

// A Packet is a received Message with where and when it arrived.
type Packet struct {
	*Message
	From      netip.AddrPort // the sender
	To        netip.Addr     // the destination: a group, or our unicast address; invalid when unknown
	Interface string         // the interface it arrived on; "" when unknown
	IfIndex   int            // that interface's index; 0 when unknown
	Local     netip.Addr     // our address on that interface in the sender's family; invalid when unknown
	Time      time.Time      // when it was read
}

// A SearchRequest says what to search for and where.
type SearchRequest struct {
	// Target is the ST: ssdp:all, upnp:rootdevice, uuid:X, or a device or
	// service type. Empty means ssdp:all.
	Target string
	// MX is how many seconds devices may wait before they answer (1 to 5);
	// zero means 2. The search ends MX+1 s after the last send, or when the
	// context is done.
	MX int
	// To, when set, makes the search unicast to that host (port 0 means 1900)
	// instead of multicast on every interface; a unicast search has no MX and
	// ends 2 s after the send.
	To netip.AddrPort
	// Sends is how many times the search is sent; zero means 2.
	Sends int
	// Interval is the pause between two sends; zero means 1 s. A device
	// answers each search it receives in full (libupnp sends every answer
	// twice, 100 ms apart), so a repeat that arrives while the devices are
	// still answering the first doubles the burst they must send at the
	// moment the control point fetches their descriptions; a second later
	// the burst is over, and the repeat still covers a lost datagram.
	Interval time.Duration
}

// A Client searches for devices: the control point half of UDA 1.1/2.0
// section 1.3. The zero Client searches every up, multicast-capable,
// non-loopback interface over IPv4 and IPv6. A Client is safe for concurrent
// use; each Search uses its own sockets.
type Client struct {
	// Interfaces names the interfaces to search on; nil means all usable ones.
	Interfaces []string
	// Network is "udp4", "udp6", or "" for both.
	Network string
	// UserAgent is the USER-AGENT header; zero means "OS/1.0 UPnP/2.0 upnp-go/0.1".
	UserAgent string
	// FriendlyName is sent as CPFN.UPNP.ORG (UDA 2.0); zero means "upnp-go".
	FriendlyName string
	// UUID is sent as CPUUID.UPNP.ORG when set.
	UUID string
	// TTL is the multicast TTL and hop limit; zero means DefaultTTL (2).
	TTL int
	// Logger receives debug lines about dropped input; nil means none.
	Logger *slog.Logger
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// SearchAll runs Search to its end and returns every response. It returns the
// responses gathered so far together with an error when the search failed.
func (c *Client) SearchAll(ctx context.Context, req SearchRequest) ([]*Packet, error) {
	var out []*Packet
	for p, err := range c.Search(ctx, req) {
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Search sends an M-SEARCH and yields each response as it arrives, with the
// interface it came in on. A response repeated by the device (same USN, ST,
// sender and interface) is yielded once. The sequence ends when the search
// window closes or ctx is done; a setup error (no usable interface, socket
// failure) is yielded as the only element. Responses arrive through a
// socket buffer of up to 4 MiB (past net.core.rmem_max only with
// CAP_NET_ADMIN) and a reading goroutine that queues 256, so a loop body
// that is slow for a while loses nothing; one slower than the answers
// arrive for long enough loses the excess, as any UDP reader does.
func (c *Client) Search(ctx context.Context, req SearchRequest) iter.Seq2[*Packet, error] {
	return func(yield func(*Packet, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s, err := c.startSearch(ctx, req)
		if err != nil {
			yield(nil, err)
			return
		}
		defer s.close()
		seen := map[string]struct{}{}
		for {
			select {
			case p := <-s.out:
				key := p.USN + "\x00" + p.ST + "\x00" + p.From.Addr().String() + "\x00" + p.Interface
				if _, dup := seen[key]; dup {
					continue
				}
				seen[key] = struct{}{}
				if !yield(p, nil) {
					return
				}
			case <-s.end:
				// Drain what is already read before ending.
				for {
					select {
					case p := <-s.out:
						key := p.USN + "\x00" + p.ST + "\x00" + p.From.Addr().String() + "\x00" + p.Interface
						if _, dup := seen[key]; dup {
							continue
						}
						seen[key] = struct{}{}
						if !yield(p, nil) {
							return
						}
					default:
						return
					}
				}
			}
		}
	}
}

type search struct {
	conns  []*conn
	links  []*link
	out    chan *Packet
	end    chan struct{}
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

func (s *search) close() {
	s.cancel()
	for _, c := range s.conns {
		c.Close()
	}
	// Let readers blocked on a full channel go.
	go func() {
		for range s.out {
		}
	}()
	s.wg.Wait()
	close(s.out)
}

func (c *Client) startSearch(ctx context.Context, req SearchRequest) (*search, error) {
	v4, v6, err := families(c.Network)
	if err != nil {
		return nil, err
	}
	if req.Target == "" {
		req.Target = All
	}
	if req.MX == 0 {
		req.MX = 2
	}
	if req.MX < 1 || req.MX > 5 {
		return nil, fmt.Errorf("ssdp: MX %d outside 1-5", req.MX)
	}
	if req.Sends <= 0 {
		req.Sends = 2
	}
	if req.Interval <= 0 {
		req.Interval = time.Second
	}
	unicast := req.To.IsValid()
	if unicast {
		if req.To.Port() == 0 {
			req.To = netip.AddrPortFrom(req.To.Addr(), Port)
		}
		v4, v6 = req.To.Addr().Unmap().Is4(), req.To.Addr().Is6() && !req.To.Addr().Is4In6()
	}
	ls, err := links(c.Interfaces)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &search{links: ls, out: make(chan *Packet, 256), end: make(chan struct{}), cancel: cancel}
	fail := func(err error) (*search, error) {
		s.close()
		return nil, err
	}
	for _, fam := range []bool{false, true} {
		if (fam && !v6) || (!fam && !v4) {
			continue
		}
		if !unicast && !anyAddr(ls, fam) {
			continue
		}
		cn, err := listenUDP(fam, 0, c.TTL)
		if err != nil {
			return fail(err)
		}
		s.conns = append(s.conns, cn)
	}
	if len(s.conns) == 0 {
		return fail(fmt.Errorf("ssdp: search: %w", ErrNoInterface))
	}
	for _, cn := range s.conns {
		s.wg.Add(1)
		go s.read(ctx, cn, c.logger())
	}
	window := time.Duration(req.MX+1) * time.Second
	if unicast {
		window = 2 * time.Second
	}
	go func() {
		defer close(s.end)
		sent := 0
		for i := range req.Sends {
			if i > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(req.Interval):
				}
			}
			sent += c.send(s, req, unicast)
		}
		if sent == 0 {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(window):
		}
	}()
	return s, nil
}

func anyAddr(ls []*link, v6 bool) bool {
	for _, l := range ls {
		if len(l.prefixes(v6)) > 0 {
			return true
		}
	}
	return false
}

// send writes the M-SEARCH once on every link (or to the unicast target) and
// returns how many datagrams left.
func (c *Client) send(s *search, req SearchRequest, unicast bool) int {
	ua := c.UserAgent
	if ua == "" {
		ua = runtime.GOOS + "/1.0 UPnP/2.0 upnp-go/0.1"
	}
	cpfn := c.FriendlyName
	if cpfn == "" {
		cpfn = "upnp-go"
	}
	sent := 0
	for _, cn := range s.conns {
		m := &Message{Kind: KindSearch, MAN: Discover, ST: req.Target, Agent: ua, CPFN: cpfn, CPUUID: c.UUID,
			BootID: -1, NextBootID: -1, ConfigID: -1}
		if unicast {
			m.Host = req.To.String()
			b, err := m.Append(nil)
			if err == nil {
				err = cn.writeTo(b, req.To)
			}
			if err != nil {
				c.logger().Debug("ssdp: search", "to", req.To, "err", err)
				continue
			}
			sent++
			continue
		}
		m.MX = req.MX
		groups := []netip.AddrPort{GroupV4}
		if cn.v6 {
			groups = []netip.AddrPort{GroupV6Link, GroupV6Site}
		}
		for _, l := range s.links {
			if len(l.prefixes(cn.v6)) == 0 {
				continue
			}
			src, _ := l.local(cn.v6, netip.Addr{})
			for _, g := range groups {
				m.Host = hostHeader(g)
				b, err := m.Append(nil)
				if err == nil {
					err = cn.writeMulticast(b, &l.ifi, src, g)
				}
				if err != nil {
					c.logger().Debug("ssdp: search", "iface", l.ifi.Name, "group", g, "err", err)
					continue
				}
				sent++
			}
		}
	}
	return sent
}

func (s *search) read(ctx context.Context, cn *conn, log *slog.Logger) {
	defer s.wg.Done()
	byIndex := map[int]*link{}
	for _, l := range s.links {
		byIndex[l.ifi.Index] = l
	}
	buf := make([]byte, MaxDatagram+1)
	for {
		n, src, dst, ifindex, err := cn.read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			continue
		}
		if n > MaxDatagram {
			continue
		}
		m, err := Parse(buf[:n])
		if err != nil || m.Kind != KindResponse {
			log.Debug("ssdp: dropped search response", "from", src, "err", err)
			continue
		}
		p := &Packet{Message: m, From: src, To: dst, IfIndex: ifindex, Time: time.Now()}
		l := byIndex[ifindex]
		if l == nil {
			for _, x := range s.links {
				if x.contains(src.Addr()) {
					l = x
					break
				}
			}
		}
		if l != nil {
			p.IfIndex = l.ifi.Index
			p.Interface = l.ifi.Name
			p.Local, _ = l.local(cn.v6, src.Addr())
		}
		select {
		case s.out <- p:
		case <-ctx.Done():
			return
		}
	}
}

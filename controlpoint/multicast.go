package controlpoint

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/seedb72249f9/upnp/internal/gena"
	"github.com/seedb72249f9/upnp/ssdp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// A MulticastEvent is one multicast event message (UDA 1.1 and later,
// section 4.3.3): a change of variables a device marks multicast="yes",
// sent to every listener on the LAN without a subscription.
type MulticastEvent struct {
	USN    string // uuid:device-UUID::urn:domain:service:type:v
	SVCID  string // the serviceId of the service
	LVL    string // importance, such as upnp:info; "" when absent
	SEQ    uint32 // the service's multicast event key
	BootID int32  // BOOTID.UPNP.ORG; -1 when absent
	// Vars are the variables and their new values. Value is the text: no
	// SCPD is at hand.
	Vars []Var
	// From is the sender, Interface the interface it arrived on ("" when
	// the platform does not tell), Time when it arrived.
	From      netip.AddrPort
	Interface string
	Time      time.Time
}

// Multicast eventing groups: 239.255.255.246 and the IPv6 link-local and
// site-local groups, all on port 7900.
var mcastGroups = []netip.AddrPort{
	netip.MustParseAddrPort(gena.MulticastAddr),
	netip.MustParseAddrPort(gena.MulticastAddrLink6),
	netip.MustParseAddrPort(gena.MulticastAddrSite6),
}

// ListenMulticast joins the multicast eventing groups (239.255.255.246 and
// FF02::130, FF05::130, port 7900) on the Client's interfaces and families
// and yields each event message as it arrives, until ctx is done or the
// loop breaks; then it leaves the groups. Datagrams that are not event
// messages, or are malformed or over 8 KiB, are dropped (and logged at
// debug level); so are those that arrive on other interfaces. A listener
// that cannot start (no usable interface, port 7900 unavailable) is
// yielded as the only element. On Linux the port is shared with other
// listeners of the host.
func (c *Client) ListenMulticast(ctx context.Context) iter.Seq2[*MulticastEvent, error] {
	return func(yield func(*MulticastEvent, error) bool) {
		socks, err := c.listenMulticast()
		if err != nil {
			yield(nil, err)
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		out := make(chan *MulticastEvent)
		var wg sync.WaitGroup
		for _, s := range socks {
			wg.Go(func() { s.read(ctx, out, c) })
		}
		defer func() {
			cancel()
			for _, s := range socks {
				s.pc.Close()
			}
			wg.Wait()
		}()
		for {
			select {
			case ev := <-out:
				if !yield(ev, nil) {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}
}

// mcastSocket is one family's socket on port 7900, joined on some
// interfaces.
type mcastSocket struct {
	pc  net.PacketConn
	p4  *ipv4.PacketConn
	p6  *ipv6.PacketConn
	ifs map[int]string // joined interfaces by index
}

// listenMulticast opens and joins a socket per family.
func (c *Client) listenMulticast() ([]*mcastSocket, error) {
	ifs, err := mcastInterfaces(c.Interfaces)
	if err != nil {
		return nil, err
	}
	var (
		socks []*mcastSocket
		errs  []error
	)
	for _, network := range []string{"udp4", "udp6"} {
		if c.Network != "" && c.Network != network {
			continue
		}
		s, err := joinMulticast(network, ifs)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		socks = append(socks, s)
	}
	if len(socks) == 0 {
		return nil, fmt.Errorf("controlpoint: multicast events: %w", errors.Join(append(errs, ssdp.ErrNoInterface)...))
	}
	return socks, nil
}

func joinMulticast(network string, ifs []net.Interface) (*mcastSocket, error) {
	addr := "0.0.0.0:7900"
	if network == "udp6" {
		addr = "[::]:7900"
	}
	lc := net.ListenConfig{Control: shareMulticastPort}
	pc, err := lc.ListenPacket(context.Background(), network, addr)
	if err != nil {
		return nil, fmt.Errorf("controlpoint: listen %s %s: %w", network, addr, err)
	}
	s := &mcastSocket{pc: pc, ifs: map[int]string{}}
	if network == "udp6" {
		s.p6 = ipv6.NewPacketConn(pc)
		_ = s.p6.SetControlMessage(ipv6.FlagInterface, true)
	} else {
		s.p4 = ipv4.NewPacketConn(pc)
		_ = s.p4.SetControlMessage(ipv4.FlagInterface, true)
	}
	var errs []error
	for i := range ifs {
		ifi := &ifs[i]
		for _, g := range mcastGroups {
			ga := &net.UDPAddr{IP: g.Addr().AsSlice()}
			var err error
			switch {
			case s.p4 != nil && g.Addr().Is4():
				err = s.p4.JoinGroup(ifi, ga)
			case s.p6 != nil && g.Addr().Is6():
				err = s.p6.JoinGroup(ifi, ga)
			default:
				continue
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("controlpoint: join %v on %s: %w", g.Addr(), ifi.Name, err))
				continue
			}
			s.ifs[ifi.Index] = ifi.Name
		}
	}
	if len(s.ifs) == 0 {
		pc.Close()
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// mcastInterfaces resolves the Client's Interfaces: the named ones, which
// must exist and be up, or every up, multicast-capable, non-loopback one.
func mcastInterfaces(names []string) ([]net.Interface, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("controlpoint: listing interfaces: %w", err)
	}
	for _, n := range names {
		if !slices.ContainsFunc(all, func(i net.Interface) bool { return i.Name == n }) {
			return nil, fmt.Errorf("controlpoint: interface %q: %w", n, ssdp.ErrNoInterface)
		}
	}
	var out []net.Interface
	for _, ifi := range all {
		named := slices.Contains(names, ifi.Name)
		if len(names) > 0 && !named || ifi.Flags&net.FlagUp == 0 {
			continue
		}
		if !named && (ifi.Flags&net.FlagMulticast == 0 || ifi.Flags&net.FlagLoopback != 0) {
			continue
		}
		out = append(out, ifi)
	}
	return out, nil
}

// read parses datagrams until the socket closes.
func (s *mcastSocket) read(ctx context.Context, out chan<- *MulticastEvent, c *Client) {
	buf := make([]byte, gena.MaxDatagram+1)
	for {
		var (
			n       int
			ifindex int
			from    net.Addr
			err     error
		)
		if s.p6 != nil {
			var cm *ipv6.ControlMessage
			n, cm, from, err = s.p6.ReadFrom(buf)
			if cm != nil {
				ifindex = cm.IfIndex
			}
		} else {
			var cm *ipv4.ControlMessage
			n, cm, from, err = s.p4.ReadFrom(buf)
			if cm != nil {
				ifindex = cm.IfIndex
			}
		}
		if err != nil {
			return
		}
		iface, ok := s.ifs[ifindex]
		if ifindex != 0 && !ok {
			continue // joined by another socket on another interface
		}
		var src netip.AddrPort
		if ua, ok := from.(*net.UDPAddr); ok {
			src = ua.AddrPort()
			src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		}
		m, err := gena.ParseMulticast(buf[:n])
		if err != nil {
			if !errors.Is(err, gena.ErrNotEvent) {
				c.logger().Debug("controlpoint: multicast event dropped", "from", src, "err", err)
			}
			continue
		}
		ev := &MulticastEvent{USN: m.USN, SVCID: m.SVCID, LVL: m.LVL, SEQ: m.SEQ, BootID: m.BootID,
			Vars: typedVars(nil, m.Props), From: src, Interface: iface, Time: time.Now()}
		select {
		case out <- ev:
		case <-ctx.Done():
			return
		}
	}
}

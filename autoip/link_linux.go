package autoip

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// llMetric is the metric of the 169.254.0.0/16 route added with a
// link-local address.
const llMetric = 1000

var broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// linuxLink is the link on Linux: an AF_PACKET datagram socket for ARP
// (the kernel adds the Ethernet header), rtnetlink for addresses and
// routes, and nclient4, which works on an unconfigured interface, for
// DHCP.
type linuxLink struct {
	ifi     *net.Interface
	mac     [6]byte
	nl      netlink.Link
	arp     *packet.Conn
	timeout time.Duration // of one DHCP attempt
	buf     []byte        // readARP's; one reader at a time

	ups    chan struct{} // see linkUps; nil when netlink would not tell
	nlDone chan struct{} // closing it ends the netlink subscription

	ctx      context.Context // canceled by close; ends DHCP attempts
	cancel   context.CancelFunc
	wg       sync.WaitGroup // DHCP attempts
	isClosed atomic.Bool
}

func openLink(a *Agent) (link, error) {
	ifi, err := net.InterfaceByName(a.Interface)
	if err != nil {
		return nil, fmt.Errorf("autoip: %w", err)
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("autoip: %s: %w", ifi.Name, ErrNoHardwareAddr)
	}
	nl, err := netlink.LinkByIndex(ifi.Index)
	if err != nil {
		return nil, fmt.Errorf("autoip: %s: %w", ifi.Name, err)
	}
	conn, err := packet.Listen(ifi, packet.Datagram, unix.ETH_P_ARP, nil)
	if err != nil {
		return nil, fmt.Errorf("autoip: ARP socket on %s: %w", ifi.Name, err)
	}
	l := &linuxLink{
		ifi:     ifi,
		mac:     [6]byte(ifi.HardwareAddr),
		nl:      nl,
		arp:     conn,
		timeout: a.Timing.withDefaults().DHCPTimeout,
		buf:     make([]byte, 1500),
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.watchLink(nl)
	return l, nil
}

// watchLink subscribes to the kernel's link changes and sends on l.ups when
// the interface comes back: up and running (carrier) after it was not. An
// agent that cannot subscribe still works, without noticing a link flap.
func (l *linuxLink) watchLink(nl netlink.Link) {
	updates := make(chan netlink.LinkUpdate, 16)
	l.nlDone = make(chan struct{})
	err := netlink.LinkSubscribeWithOptions(updates, l.nlDone, netlink.LinkSubscribeOptions{ErrorCallback: func(error) {}})
	if err != nil {
		return
	}
	l.ups = make(chan struct{}, 1)
	running := func(flags uint32) bool { return flags&unix.IFF_UP != 0 && flags&unix.IFF_RUNNING != 0 }
	up := running(nl.Attrs().RawFlags)
	go func() {
		defer close(l.ups)
		for u := range updates { // closed once l.nlDone is
			if int(u.Index) != l.ifi.Index {
				continue
			}
			now := running(u.Flags)
			if now && !up {
				select {
				case l.ups <- struct{}{}:
				default: // one pending is enough
				}
			}
			up = now
		}
	}()
}

func (l *linuxLink) linkUps() <-chan struct{} { return l.ups }

func (l *linuxLink) hardwareAddr() [6]byte { return l.mac }

func (l *linuxLink) sendARP(p arpPacket) error {
	_, err := l.arp.WriteTo(p.marshal(), &packet.Addr{HardwareAddr: broadcast})
	return err
}

func (l *linuxLink) readARP() (arpPacket, error) {
	for {
		n, from, err := l.arp.ReadFrom(l.buf)
		if err != nil {
			return arpPacket{}, err
		}
		// The socket also sees the frames we send; their source is us.
		if a, ok := from.(*packet.Addr); ok && len(a.HardwareAddr) == 6 && [6]byte(a.HardwareAddr) == l.mac {
			continue
		}
		p, err := parseARP(l.buf[:n])
		if err != nil {
			continue
		}
		return p, nil
	}
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
}

func (l *linuxLink) llRoute(a netip.Addr) *netlink.Route {
	return &netlink.Route{
		LinkIndex: l.ifi.Index,
		Dst:       ipNet(LinkLocal),
		Scope:     netlink.SCOPE_LINK,
		Priority:  llMetric,
		Src:       a.AsSlice(),
	}
}

func (l *linuxLink) setLinkLocal(a netip.Addr) error {
	addr := &netlink.Addr{
		IPNet: ipNet(netip.PrefixFrom(a, 16)),
		Scope: unix.RT_SCOPE_LINK,
		Flags: unix.IFA_F_NOPREFIXROUTE,
	}
	if err := netlink.AddrReplace(l.nl, addr); err != nil {
		return fmt.Errorf("autoip: adding %v/16 to %s: %w", a, l.ifi.Name, err)
	}
	if err := netlink.RouteReplace(l.llRoute(a)); err != nil {
		return fmt.Errorf("autoip: adding route %v via %s: %w", LinkLocal, l.ifi.Name, err)
	}
	return nil
}

func (l *linuxLink) clearLinkLocal(a netip.Addr) error {
	// Deleting the address also flushes the route, whose source it is.
	err := netlink.AddrDel(l.nl, &netlink.Addr{IPNet: ipNet(netip.PrefixFrom(a, 16))})
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("autoip: removing %v/16 from %s: %w", a, l.ifi.Name, err)
	}
	if err := netlink.RouteDel(l.llRoute(a)); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("autoip: removing route %v via %s: %w", LinkLocal, l.ifi.Name, err)
	}
	return nil
}

func (l *linuxLink) setLease(ls *Lease) error {
	// The kernel drops the address when the lease ends, even if we die.
	secs := min(max(math.Ceil(ls.Duration.Seconds()), 1), math.MaxUint32-1) // MaxUint32 is forever
	addr := &netlink.Addr{
		IPNet:       ipNet(ls.Addr),
		ValidLft:    int(secs),
		PreferedLft: int(secs),
	}
	if err := netlink.AddrReplace(l.nl, addr); err != nil {
		return fmt.Errorf("autoip: adding %v to %s: %w", ls.Addr, l.ifi.Name, err)
	}
	return nil
}

func (l *linuxLink) clearLease(ls *Lease) error {
	err := netlink.AddrDel(l.nl, &netlink.Addr{IPNet: ipNet(ls.Addr)})
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("autoip: removing %v from %s: %w", ls.Addr, l.ifi.Name, err)
	}
	return nil
}

func (l *linuxLink) dhcp(old *Lease, unicast bool, done func(*Lease, error)) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		done(l.dhcpAttempt(old, unicast))
	}()
}

// dhcpAttempt gets a lease (old nil) or renews old, within l.timeout. The
// client, with its raw socket that sees every IPv4 packet on the link,
// lives only as long as the attempt.
//
// A unicast renewal (RFC 2131 section 4.4.5, RENEWING) goes through an
// ordinary UDP socket bound to the leased address instead: the kernel then
// addresses the frame to the server's MAC, which a raw socket does not (it
// sends to the Ethernet broadcast address even with the server's IP, and
// servers ignore that). When that socket cannot be had, the renewal is
// broadcast as in REBINDING.
func (l *linuxLink) dhcpAttempt(old *Lease, unicast bool) (*Lease, error) {
	ctx, cancel := context.WithTimeout(l.ctx, l.timeout)
	defer cancel()
	const tries = 4 // retransmissions within the timeout
	opts := []nclient4.ClientOpt{nclient4.WithTimeout(max(l.timeout/tries, 100*time.Millisecond)), nclient4.WithRetry(tries)}
	if old != nil && unicast {
		opts = append(opts,
			nclient4.WithHWAddr(l.ifi.HardwareAddr),
			nclient4.WithUnicast(&net.UDPAddr{IP: old.Addr.Addr().AsSlice(), Port: nclient4.ClientPort}),
			nclient4.WithServerAddr(&net.UDPAddr{IP: old.Server.AsSlice(), Port: nclient4.ServerPort}))
	}
	c, err := nclient4.New(l.ifi.Name, opts...)
	if err != nil && old != nil && unicast {
		return l.dhcpAttempt(old, false)
	}
	if err != nil {
		return nil, fmt.Errorf("autoip: DHCP client on %s: %w", l.ifi.Name, err)
	}
	defer c.Close()
	var nl *nclient4.Lease
	if old == nil {
		nl, err = c.Request(ctx)
	} else {
		raw, _ := old.raw.(*nclient4.Lease)
		if raw == nil {
			return nil, errors.New("autoip: renewing a lease that did not come from DHCP")
		}
		nl, err = c.Renew(ctx, raw)
	}
	if err != nil {
		if nak := (*nclient4.ErrNak)(nil); errors.As(err, &nak) {
			return nil, fmt.Errorf("%w: %v", ErrNak, err)
		}
		return nil, fmt.Errorf("autoip: DHCP on %s: %w", l.ifi.Name, err)
	}
	return leaseOf(nl)
}

// leaseOf turns nclient4's lease into ours.
func leaseOf(nl *nclient4.Lease) (*Lease, error) {
	ack := nl.ACK
	ip, ok := netip.AddrFromSlice(ack.YourIPAddr.To4())
	if !ok || ip.IsUnspecified() {
		return nil, fmt.Errorf("autoip: DHCP ACK without an address")
	}
	bits := 32
	if m := ack.SubnetMask(); m != nil {
		if ones, size := m.Size(); size == 32 && ones > 0 {
			bits = ones
		}
	}
	l := &Lease{
		Addr:     netip.PrefixFrom(ip, bits),
		Duration: ack.IPAddressLeaseTime(0),
		Renew:    ack.IPAddressRenewalTime(0),
		Rebind:   ack.IPAddressRebindingTime(0),
		raw:      nl,
	}
	if s, ok := netip.AddrFromSlice(ack.ServerIdentifier().To4()); ok {
		l.Server = s
	}
	if rs := ack.Router(); len(rs) > 0 {
		if r, ok := netip.AddrFromSlice(rs[0].To4()); ok {
			l.Router = r
		}
	}
	return l, nil
}

func (l *linuxLink) release(ls *Lease) error {
	raw, _ := ls.raw.(*nclient4.Lease)
	if raw == nil {
		return nil
	}
	// A DHCPRELEASE is unicast from the leased address (RFC 2131 section
	// 4.4.6): from 0.0.0.0 the server's kernel would drop it as martian. The
	// address is still configured at this point.
	c, err := nclient4.New(l.ifi.Name, nclient4.WithUnicast(&net.UDPAddr{IP: ls.Addr.Addr().AsSlice(), Port: nclient4.ClientPort}))
	if err != nil {
		return fmt.Errorf("autoip: DHCP client on %s: %w", l.ifi.Name, err)
	}
	defer c.Close()
	return c.Release(raw)
}

func (l *linuxLink) closed() bool { return l.isClosed.Load() }

func (l *linuxLink) close() {
	if l.isClosed.Swap(true) {
		return
	}
	l.cancel()
	l.arp.Close()
	close(l.nlDone)
	l.wg.Wait()
}

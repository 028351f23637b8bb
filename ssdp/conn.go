package ssdp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Errors returned by the networking parts of the package.
var (
	// ErrNoInterface means a named interface does not exist, or no interface
	// could carry SSDP for the requested families.
	ErrNoInterface = errors.New("no usable interface")
	// ErrServerClosed is returned by Server.ListenAndServe after Shutdown.
	ErrServerClosed = errors.New("ssdp: server closed")
)

// SSDP multicast groups and port (UDA 1.1 section 1).
var (
	GroupV4     = netip.MustParseAddrPort("239.255.255.250:1900")
	GroupV6Link = netip.MustParseAddrPort("[ff02::c]:1900")
	GroupV6Site = netip.MustParseAddrPort("[ff05::c]:1900")
)

// Port is the SSDP port.
const Port = 1900

// DefaultTTL is the multicast TTL and hop limit used when none is configured.
const DefaultTTL = 2

// readBuffer is the socket receive buffer we ask for: a burst of a thousand
// search responses (about 2 KiB of kernel memory each) must fit.
const readBuffer = 4 << 20

// families returns which IP families a Network value selects.
func families(network string) (v4, v6 bool, err error) {
	switch network {
	case "", "udp":
		return true, true, nil
	case "udp4":
		return true, false, nil
	case "udp6":
		return false, true, nil
	}
	return false, false, fmt.Errorf("ssdp: unknown network %q (want udp4, udp6 or empty)", network)
}

// conn is one UDP socket of one family that reports, for every datagram, the
// interface and destination address it arrived on.
type conn struct {
	v6  bool
	pc  net.PacketConn
	p4  *ipv4.PacketConn
	p6  *ipv6.PacketConn
	cms bool // control messages work on this platform

	wmu sync.Mutex // serialises choosing the multicast interface and writing
}

// listenUDP opens a socket of one family on port (0: ephemeral). SSDP ports are
// shared with other stacks on the host: SO_REUSEADDR (and SO_REUSEPORT where it
// exists) are set before bind.
func listenUDP(v6 bool, port int, ttl int) (*conn, error) {
	network, addr := "udp4", fmt.Sprintf("0.0.0.0:%d", port)
	if v6 {
		network, addr = "udp6", fmt.Sprintf("[::]:%d", port)
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = setSockopts(fd, v6, port != 0) })
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), network, addr)
	if err != nil {
		return nil, fmt.Errorf("ssdp: listen %s %s: %w", network, addr, err)
	}
	if uc, ok := pc.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(readBuffer)
		forceReadBuffer(uc, readBuffer)
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	c := &conn{v6: v6, pc: pc}
	if v6 {
		c.p6 = ipv6.NewPacketConn(pc)
		_ = c.p6.SetMulticastHopLimit(ttl)
		_ = c.p6.SetMulticastLoopback(true)
		c.cms = c.p6.SetControlMessage(ipv6.FlagDst|ipv6.FlagInterface, true) == nil
	} else {
		c.p4 = ipv4.NewPacketConn(pc)
		_ = c.p4.SetMulticastTTL(ttl)
		_ = c.p4.SetMulticastLoopback(true)
		c.cms = c.p4.SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true) == nil
	}
	return c, nil
}

func (c *conn) Close() error { return c.pc.Close() }

// groups returns the multicast groups of c's family.
func (c *conn) groups() []netip.AddrPort {
	if c.v6 {
		return []netip.AddrPort{GroupV6Link, GroupV6Site}
	}
	return []netip.AddrPort{GroupV4}
}

func (c *conn) join(ifi *net.Interface) error {
	var errs []error
	for _, g := range c.groups() {
		ga := &net.UDPAddr{IP: g.Addr().AsSlice()}
		var err error
		if c.v6 {
			err = c.p6.JoinGroup(ifi, ga)
		} else {
			err = c.p4.JoinGroup(ifi, ga)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("ssdp: join %v on %s: %w", g.Addr(), ifi.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (c *conn) leave(ifi *net.Interface) {
	for _, g := range c.groups() {
		ga := &net.UDPAddr{IP: g.Addr().AsSlice()}
		if c.v6 {
			_ = c.p6.LeaveGroup(ifi, ga)
		} else {
			_ = c.p4.LeaveGroup(ifi, ga)
		}
	}
}

// read reads one datagram into b. ifindex and dst are zero when the platform
// gives no control messages.
func (c *conn) read(b []byte) (n int, src netip.AddrPort, dst netip.Addr, ifindex int, err error) {
	var from net.Addr
	if c.v6 {
		var cm *ipv6.ControlMessage
		n, cm, from, err = c.p6.ReadFrom(b)
		if cm != nil {
			ifindex = cm.IfIndex
			dst, _ = netip.AddrFromSlice(cm.Dst)
		}
	} else {
		var cm *ipv4.ControlMessage
		n, cm, from, err = c.p4.ReadFrom(b)
		if cm != nil {
			ifindex = cm.IfIndex
			dst, _ = netip.AddrFromSlice(cm.Dst)
		}
	}
	if err != nil {
		return 0, src, dst, 0, err
	}
	if ua, ok := from.(*net.UDPAddr); ok {
		src = ua.AddrPort()
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	}
	return n, src, dst.Unmap(), ifindex, nil
}

// writeMulticast sends b to group out of interface ifi, from src when src is
// valid. Where the platform takes control messages, the interface and source
// ride on the datagram itself (IP_PKTINFO); elsewhere the socket's multicast
// interface is set under a lock.
func (c *conn) writeMulticast(b []byte, ifi *net.Interface, src netip.Addr, group netip.AddrPort) error {
	dst := net.UDPAddrFromAddrPort(group)
	if c.v6 && group.Addr().IsLinkLocalMulticast() {
		dst.Zone = ifi.Name
	}
	if c.cms {
		var err error
		if c.v6 {
			cm := &ipv6.ControlMessage{IfIndex: ifi.Index}
			if src.IsValid() {
				cm.Src = src.WithZone("").AsSlice()
			}
			_, err = c.p6.WriteTo(b, cm, dst)
		} else {
			cm := &ipv4.ControlMessage{IfIndex: ifi.Index}
			if src.IsValid() {
				cm.Src = src.AsSlice()
			}
			_, err = c.p4.WriteTo(b, cm, dst)
		}
		if err != nil {
			err = fmt.Errorf("ssdp: send to %v via %s from %v: %w", group, ifi.Name, src, err)
		}
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var err error
	if c.v6 {
		err = c.p6.SetMulticastInterface(ifi)
	} else {
		err = c.p4.SetMulticastInterface(ifi)
	}
	if err != nil {
		return fmt.Errorf("ssdp: choose %s for multicast: %w", ifi.Name, err)
	}
	_, err = c.pc.WriteTo(b, dst)
	return err
}

// writeTo sends b to a unicast address.
func (c *conn) writeTo(b []byte, to netip.AddrPort) error {
	_, err := c.pc.WriteTo(b, net.UDPAddrFromAddrPort(to))
	return err
}

package device

import (
	"net"
	"net/netip"
	"sync"

	"github.com/seedb72249f9/upnp/internal/gena"
	"github.com/seedb72249f9/upnp/ssdp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// multicaster sends multicast events (UDA 1.1 section 4.3) for state
// variables marked multicast="yes", on every chosen interface, with TTL and
// hop limit 2.
type multicaster struct {
	s      *Server
	bootID func() int32
	p4     *ipv4.PacketConn
	p6     *ipv6.PacketConn
	g4, g6 *net.UDPAddr

	mu  sync.Mutex
	seq map[*Service]uint32
}

func newMulticaster(s *Server, bootID func() int32) *multicaster {
	m := &multicaster{s: s, bootID: bootID, seq: map[*Service]uint32{},
		g4: net.UDPAddrFromAddrPort(netip.MustParseAddrPort(gena.MulticastAddr)),
		g6: net.UDPAddrFromAddrPort(netip.MustParseAddrPort(gena.MulticastAddrLink6))}
	if s.Network != "6" {
		if pc, err := net.ListenPacket("udp4", "0.0.0.0:0"); err == nil {
			m.p4 = ipv4.NewPacketConn(pc)
			m.p4.SetMulticastTTL(2)
			m.p4.SetMulticastLoopback(true)
		}
	}
	if s.Network != "4" {
		if pc, err := net.ListenPacket("udp6", "[::]:0"); err == nil {
			m.p6 = ipv6.NewPacketConn(pc)
			m.p6.SetMulticastHopLimit(2)
			m.p6.SetMulticastLoopback(true)
		}
	}
	return m
}

func (m *multicaster) close() {
	if m.p4 != nil {
		m.p4.Close()
	}
	if m.p6 != nil {
		m.p6.Close()
	}
}

// send multicasts the properties capture returns, of svc, a service of dev,
// on every chosen interface. capture runs under the lock that numbers the
// events, so that a later SEQ never carries older values than an earlier one
// when two changes race.
func (m *multicaster) send(dev *Device, svc *Service, capture func() []gena.Property) {
	m.mu.Lock()
	seq := m.seq[svc]
	m.seq[svc] = gena.NextSEQ(seq)
	props := capture()
	m.mu.Unlock()
	ev := &gena.MulticastEvent{USN: dev.UDN + "::" + svc.Type, SVCID: svc.id(), LVL: gena.LevelInfo,
		SEQ: seq, BootID: m.bootID(), Props: props}
	ifs, err := chosenInterfaces(m.s.Interfaces)
	if err != nil {
		return
	}
	for _, ifi := range ifs {
		if m.p4 != nil {
			ev.Host = gena.MulticastAddr
			if b, err := gena.AppendMulticast(nil, ev); err == nil {
				m.p4.WriteTo(b, &ipv4.ControlMessage{IfIndex: ifi.Index}, m.g4)
			}
		}
		if m.p6 != nil {
			ev.Host = gena.MulticastAddrLink6
			if b, err := gena.AppendMulticast(nil, ev); err == nil {
				dst := *m.g6
				dst.Zone = ifi.Name
				m.p6.WriteTo(b, &ipv6.ControlMessage{IfIndex: ifi.Index}, &dst)
			}
		}
	}
}

// chosenInterfaces lists the chosen interfaces that carry multicast.
func chosenInterfaces(names []string) ([]net.Interface, error) {
	ifs, err := ssdp.Interfaces(names)
	if err != nil {
		return nil, err
	}
	var out []net.Interface
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagMulticast != 0 {
			out = append(out, ifc.Interface)
		}
	}
	return out, nil
}

// multicast sends a multicast event with the current values of vars, when
// the Server runs.
func (s *Server) multicast(svc *Service, vars []string) {
	s.mu.Lock()
	m := s.mcast
	s.mu.Unlock()
	if m == nil {
		return
	}
	m.send(s.devOf[svc], svc, func() []gena.Property {
		svc.mu.RLock()
		defer svc.mu.RUnlock()
		return properties(svc, vars)
	})
}

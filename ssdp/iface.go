package ssdp

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// link is a snapshot of one usable interface: its identity and its addresses.
type link struct {
	ifi    net.Interface
	v4, v6 []netip.Prefix // addresses with their prefix lengths (a Prefix carries no zone)
}

func (l *link) prefixes(v6 bool) []netip.Prefix {
	if v6 {
		return l.v6
	}
	return l.v4
}

// contains reports whether addr lies inside one of the link's subnets. An IPv6
// link-local source is on the link by definition: it can only arrive on it.
func (l *link) contains(addr netip.Addr) bool {
	addr = addr.Unmap()
	if addr.Is6() && addr.IsLinkLocalUnicast() {
		return true
	}
	for _, p := range l.prefixes(addr.Is6()) {
		if p.Contains(addr.WithZone("")) {
			return true
		}
	}
	return false
}

// local returns the address of ours on this link to name in a LOCATION for a
// peer at peer (which may be invalid for multicast announcements): one in the
// peer's subnet when there is one; for IPv6 a global or ULA address before a
// link-local one.
func (l *link) local(v6 bool, peer netip.Addr) (netip.Addr, bool) {
	a, ok := l.pick(v6, peer)
	if ok && a.IsLinkLocalUnicast() && a.Is6() {
		a = a.WithZone(l.ifi.Name)
	}
	return a, ok
}

func (l *link) pick(v6 bool, peer netip.Addr) (netip.Addr, bool) {
	ps := l.prefixes(v6)
	if len(ps) == 0 {
		return netip.Addr{}, false
	}
	if peer.IsValid() {
		peer = peer.Unmap().WithZone("")
		for _, p := range ps {
			if !p.Addr().IsLinkLocalUnicast() && p.Contains(peer) {
				return p.Addr(), true
			}
		}
		if v6 && peer.IsLinkLocalUnicast() {
			for _, p := range ps {
				if p.Addr().IsLinkLocalUnicast() {
					return p.Addr(), true
				}
			}
		}
	}
	for _, p := range ps {
		if !p.Addr().IsLinkLocalUnicast() {
			return p.Addr(), true
		}
	}
	return ps[0].Addr(), true
}

func (l *link) equal(o *link) bool {
	return l.ifi.Index == o.ifi.Index && l.ifi.Name == o.ifi.Name &&
		slices.Equal(l.v4, o.v4) && slices.Equal(l.v6, o.v6)
}

// usable reports whether an interface can carry SSDP: up, and by default
// multicast-capable and not loopback. A named interface needs only to be up:
// unicast searches and answers work on it even without multicast.
func usable(ifi *net.Interface, named bool) bool {
	if ifi.Flags&net.FlagUp == 0 {
		return false
	}
	return named || ifi.Flags&net.FlagMulticast != 0 && ifi.Flags&net.FlagLoopback == 0
}

// links lists the usable interfaces: the named ones (an unknown name is an
// error), or every up, multicast-capable, non-loopback interface when names is empty.
func links(names []string) ([]*link, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("ssdp: listing interfaces: %w", err)
	}
	for _, n := range names {
		if !slices.ContainsFunc(all, func(i net.Interface) bool { return i.Name == n }) {
			return nil, fmt.Errorf("ssdp: interface %q: %w", n, ErrNoInterface)
		}
	}
	var out []*link
	for i := range all {
		ifi := all[i]
		named := slices.Contains(names, ifi.Name)
		if len(names) > 0 && !named {
			continue
		}
		if !usable(&ifi, named) {
			continue
		}
		l := &link{ifi: ifi}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ones, _ := ipn.Mask.Size()
			ip = ip.Unmap()
			// A loopback address on a real interface cannot be a source or a
			// LOCATION for anyone on that link.
			if ip.IsLoopback() && ifi.Flags&net.FlagLoopback == 0 || ip.IsUnspecified() || ip.IsMulticast() {
				continue
			}
			if ip.Is4() {
				l.v4 = append(l.v4, netip.PrefixFrom(ip, ones))
			} else {
				l.v6 = append(l.v6, netip.PrefixFrom(ip, ones))
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// An Interface is a network interface as this package uses it, with its
// unicast addresses (IPv6 link-local ones carry the interface as zone;
// loopback addresses configured on other interfaces are left out).
type Interface struct {
	net.Interface
	Addrs []netip.Addr
}

// Interfaces lists the interfaces that a Server, Client or Listener with the
// given Interfaces setting uses: the named ones that are up (an unknown name
// is an error wrapping ErrNoInterface), or, for none, every interface that is
// up, multicast-capable and not loopback. Other packages serving beside SSDP
// (HTTP listeners, eventing) use it to stay on the same interfaces.
func Interfaces(names []string) ([]Interface, error) {
	ls, err := links(names)
	if err != nil {
		return nil, err
	}
	out := make([]Interface, 0, len(ls))
	for _, l := range ls {
		ifc := Interface{Interface: l.ifi}
		for _, p := range l.v4 {
			ifc.Addrs = append(ifc.Addrs, p.Addr())
		}
		for _, p := range l.v6 {
			a := p.Addr()
			if a.IsLinkLocalUnicast() {
				a = a.WithZone(l.ifi.Name)
			}
			ifc.Addrs = append(ifc.Addrs, a)
		}
		out = append(out, ifc)
	}
	return out, nil
}

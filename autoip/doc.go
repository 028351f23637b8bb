// Package autoip gives a network interface an IPv4 address the way UPnP
// Device Architecture section 0 "Addressing" asks (UDA 1.0, 1.1 and 2.0):
// DHCP first, and without a DHCP server an IPv4 link-local address in
// 169.254/16 claimed per RFC 3927 "Dynamic Configuration of IPv4 Link-Local
// Addresses".
//
// An [Agent] runs for as long as its context: it asks for a DHCP lease; with
// none it picks a candidate address from a sequence seeded by the
// interface's MAC address ([Candidate]), probes for it with ARP, announces
// it, puts it on the interface and defends it, while it keeps asking for a
// lease in the background and moves to one as soon as it gets it. Leases
// are renewed at T1, by unicast to their server until T2, then by
// broadcast. When the link comes back after going down (on Linux, told by
// netlink), it probes its link-local address again, keeping it meanwhile,
// and checks its lease at once. Every change is an [Event], which a device
// subscribes to in order to follow its address: byebye on the old one,
// alive on the new one (UDA section 1.2.2). When its context ends the agent removes the
// addresses it added and releases its lease.
//
// # RFC 3927 in brief
//
// A candidate is probed with PROBE_NUM ARP probes (sender IP 0.0.0.0), the
// first after a random delay of up to PROBE_WAIT, the next ones PROBE_MIN
// to PROBE_MAX apart; an ARP packet from another host with the candidate as
// sender IP, or another host's probe for the same candidate, is a conflict,
// and the agent moves on to the next candidate. ANNOUNCE_WAIT after the
// last probe the address is claimed: it is configured (scope link, no
// prefix route; the agent adds 169.254.0.0/16 itself, metric 1000) and
// announced ANNOUNCE_NUM times, ANNOUNCE_INTERVAL apart, to link broadcast.
// A conflict on a claimed address is defended once by announcing again; a
// second within DEFEND_INTERVAL makes the agent give the address up and
// start over. After MAX_CONFLICTS conflicts it starts at most one attempt
// per RATE_LIMIT_INTERVAL, so a host that answers every probe, or keeps
// claiming the agent's address, costs a packet a minute (shared/SECURITY.md).
// The agent's own ARP packets and malformed ones are ignored.
//
// # Time to an address
//
// With the default [Timing], a link-local address is usable 4 to 7 seconds
// after probing starts (random PROBE_WAIT up to 1 s, three probes 1 to 2 s
// apart, ANNOUNCE_WAIT 2 s). DHCP first, probing starts when the first
// attempt has waited DHCPTimeout (10 s) in vain, so about 15 to 17 seconds
// from Run; with NoDHCP, 4 to 7. With a DHCP server the lease is usable as
// soon as the server acknowledges it: with dnsmasq, about 3 seconds, the
// time it spends pinging an address before it first offers it. Measured on
// a netlab LAN (TestLANTimings, two runs): link-local 4.8 and 6.0 s with
// NoDHCP, 16.8 and 15.3 s DHCP first; a dnsmasq lease 3.0 s; with timings
// compressed about tenfold (probes 0.1 to 0.2 s apart), link-local 0.6 s.
//
// # Platforms
//
// The agent needs Linux: raw ARP through an AF_PACKET socket
// (github.com/mdlayher/packet), addresses through rtnetlink
// (github.com/vishvananda/netlink), DHCP through
// github.com/insomniacslk/dhcp's nclient4, and the capability CAP_NET_ADMIN
// and CAP_NET_RAW. Elsewhere Run returns [ErrUnsupported]; [Candidate] and
// the rest of the API work everywhere.
package autoip

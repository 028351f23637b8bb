package autoip

import (
	"net"
	"net/netip"
	"strconv"
	"time"
)

// EventType says what happened.
type EventType uint8

const (
	EventProbing     EventType = iota + 1 // probing Addr, a link-local candidate, or the claimed one again after the link came back
	EventConflict                         // another host (Peer) uses or probes for Addr
	EventClaimed                          // Addr, link-local, probed and configured
	EventDefended                         // a conflict on Addr answered with an announcement
	EventRetreated                        // Addr given up: a second conflict within DEFEND_INTERVAL, or one while probing it again
	EventRateLimited                      // MAX_CONFLICTS reached: probing Addr begins RATE_LIMIT_INTERVAL later
	EventNoLease                          // no DHCP lease (Err says why) at start or after one was lost: link-local next
	EventLease                            // a DHCP lease, Addr, obtained and configured
	EventRenewed                          // the lease on Addr renewed
	EventLeaseLost                        // the lease on Addr ended unrenewed or was refused; Addr removed
	EventMoved                            // from the link-local Prev to the lease's Addr; Prev removed
	EventReleased                         // Addr removed because Run is ending (and the lease released)
)

var eventNames = [...]string{
	EventProbing:     "probing",
	EventConflict:    "conflict",
	EventClaimed:     "claimed",
	EventDefended:    "defended",
	EventRetreated:   "retreated",
	EventRateLimited: "rate-limited",
	EventNoLease:     "no-lease",
	EventLease:       "lease",
	EventRenewed:     "renewed",
	EventLeaseLost:   "lease-lost",
	EventMoved:       "moved",
	EventReleased:    "released",
}

// String returns the type's name as the CLI prints it, such as "claimed".
func (t EventType) String() string {
	if int(t) < len(eventNames) && eventNames[t] != "" {
		return eventNames[t]
	}
	return "EventType(" + strconv.Itoa(int(t)) + ")"
}

// MarshalText returns the String form, for JSON.
func (t EventType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Event is a change in the agent's state.
//
// A device follows its address with Current alone: when Current differs
// from the last one it saw, it sends byebye for the old address (unless it
// is zero) and alive for the new one (unless it is zero). That works even
// when a slow subscriber lost events.
type Event struct {
	Type EventType

	// Time is when it happened, on the agent's clock.
	Time time.Time

	// Addr is the address the event is about, with its prefix length:
	// /16 for link-local ones, the subnet's for a lease.
	Addr netip.Prefix

	// Prev is, for EventMoved, the link-local address given up.
	Prev netip.Prefix

	// Current is the address the agent holds on the interface after the
	// event, or the zero Prefix when none.
	Current netip.Prefix

	// Peer is, for EventConflict, EventDefended and EventRetreated, the
	// other host's hardware address.
	Peer net.HardwareAddr

	// Lease is set for EventLease, EventRenewed and EventLeaseLost.
	Lease *Lease

	// Err is, for EventNoLease and EventLeaseLost, what went wrong.
	Err error
}

// Lease is a DHCP lease.
type Lease struct {
	// Addr is the leased address with the subnet mask's length (/32 when
	// the server sent no mask).
	Addr netip.Prefix
	// Server is the DHCP server's identifier.
	Server netip.Addr
	// Router is the first router the server named, if any; the agent adds
	// no routes.
	Router netip.Addr
	// Obtained is when the server acknowledged it, on the agent's clock.
	Obtained time.Time
	// Duration is the lease time; Renew (T1) is when, after Obtained, the
	// agent renews it: the server's value, or half of Duration. Until
	// Rebind (T2: the server's value, or 7/8 of Duration) it asks the
	// server that granted the lease, by unicast; from then on any server,
	// by broadcast (RFC 2131 section 4.4.5).
	Duration, Renew, Rebind time.Duration

	raw any // the DHCP client's own lease, for renewal and release
}

// Expires returns when the lease ends unless renewed.
func (l *Lease) Expires() time.Time { return l.Obtained.Add(l.Duration) }

func (l *Lease) String() string {
	return l.Addr.String() + " from " + l.Server.String() + " for " + l.Duration.String()
}

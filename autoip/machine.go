package autoip

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/seedb72249f9/upnp/internal/clock"
)

// state is where the machine is.
type state uint8

const (
	stIdle      state = iota // not started, or stopped
	stDHCP                   // asking for a lease before any link-local attempt
	stRateLimit              // waiting RATE_LIMIT_INTERVAL; ARP is ignored
	stWait                   // waiting PROBE_WAIT to probe
	stProbe                  // probing; after the last probe, waiting ANNOUNCE_WAIT
	stBound                  // a link-local address claimed and configured
	stLease                  // a DHCP lease configured
)

// renewFloor is the least time between renewal attempts after one failed
// (RFC 2131 section 4.4.5 says 60 s); a lease about to end gets one last
// attempt at its end instead.
const renewFloor = time.Minute

// machine is the agent's logic: RFC 3927 and DHCP first, driven by three
// kinds of input, ARP packets (arpIn), its timers, and DHCP results, and
// acting only through its link and its clock, so that tests drive it with
// a fake of each. All its state is guarded by mu, and so are the link's
// methods it calls.
type machine struct {
	mu     sync.Mutex
	t      Timing
	clk    clock.Clock
	link   link
	mac    [6]byte
	noDHCP bool
	first  netip.Addr
	randN  func(int64) int64
	log    *slog.Logger
	emit   func(Event)
	fatal  func(error)

	state      state
	attempt    int        // link-local attempts begun; the next candidate's index
	cand       netip.Addr // the address being probed, or claimed in stBound
	probes     int        // probes sent for cand
	announces  int        // announcements sent for cand
	conflicts  int        // conflicts counted towards MAX_CONFLICTS
	boundAt    time.Time  // when cand was claimed
	lastDefend time.Time  // the last conflict on the claimed address; zero: none
	reprobe    bool       // probing cand, still configured, again after the link came back
	lease      *Lease     // the configured lease in stLease

	timer   clock.Timer // the ARP timer: probes, announcements, waits
	gen     int         // invalidates ARP timers that were stopped too late
	dhcpT   clock.Timer // DHCP retry or renewal
	dhcpGen int         // invalidates DHCP timers and results
}

func newMachine(a *Agent, l link, fatal func(error)) *machine {
	m := &machine{
		t:      a.Timing.withDefaults(),
		clk:    clock.Or(a.clock),
		link:   l,
		mac:    l.hardwareAddr(),
		noDHCP: a.NoDHCP,
		first:  a.First,
		randN:  a.randN,
		log:    a.logger(),
		emit:   a.publish,
		fatal:  fatal,
	}
	if m.randN == nil {
		m.randN = rand.Int64N
	}
	return m
}

// random returns a duration in [lo, hi].
func (m *machine) random(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(m.randN(int64(hi-lo)+1))
}

// event stamps ev and publishes it; Current is what the machine holds.
func (m *machine) event(ev Event) {
	ev.Time = m.clk.Now()
	switch {
	case m.state == stBound || m.reprobe:
		ev.Current = netip.PrefixFrom(m.cand, 16)
	case m.state == stLease:
		ev.Current = m.lease.Addr
	}
	m.emit(ev)
}

// after runs f after d unless another after or cancel comes first.
func (m *machine) after(d time.Duration, f func()) {
	m.cancel()
	gen := m.gen
	m.timer = m.clk.AfterFunc(d, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.gen != gen {
			return
		}
		m.timer = nil
		f()
	})
}

func (m *machine) cancel() {
	m.gen++
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
}

// dhcpAfter is after for the DHCP timer.
func (m *machine) dhcpAfter(d time.Duration, f func()) {
	m.dhcpCancel()
	gen := m.dhcpGen
	m.dhcpT = m.clk.AfterFunc(d, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.dhcpGen != gen {
			return
		}
		m.dhcpT = nil
		f()
	})
}

// dhcpCancel stops the DHCP timer and makes the result of an attempt
// still running be ignored.
func (m *machine) dhcpCancel() {
	m.dhcpGen++
	if m.dhcpT != nil {
		m.dhcpT.Stop()
		m.dhcpT = nil
	}
}

// start begins: DHCP first, unless NoDHCP.
func (m *machine) start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.noDHCP {
		m.beginLinkLocal()
		return
	}
	m.state = stDHCP
	m.requestLease()
}

// stop cancels everything and removes what the machine configured.
func (m *machine) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cancel()
	m.dhcpCancel()
	switch {
	case m.state == stBound || m.reprobe:
		addr := netip.PrefixFrom(m.cand, 16)
		err := m.link.clearLinkLocal(m.cand)
		m.state, m.reprobe = stIdle, false
		m.event(Event{Type: EventReleased, Addr: addr, Err: err})
	case m.state == stLease:
		l := m.lease
		if err := m.link.release(l); err != nil {
			m.log.Warn("autoip: DHCP release", "lease", l, "err", err)
		}
		err := m.link.clearLease(l)
		m.state, m.lease = stIdle, nil
		m.event(Event{Type: EventReleased, Addr: l.Addr, Lease: l, Err: err})
	}
	m.state = stIdle
}

// requestLease starts a DHCP attempt for a new lease.
func (m *machine) requestLease() {
	m.dhcpCancel()
	gen := m.dhcpGen
	m.link.dhcp(nil, false, func(l *Lease, err error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.dhcpGen != gen || m.state == stIdle {
			return
		}
		m.leaseResult(l, err)
	})
}

// leaseResult handles the answer to requestLease.
func (m *machine) leaseResult(l *Lease, err error) {
	if err == nil && (l == nil || !l.Addr.Addr().Is4()) {
		err = errNoAnswer
	}
	if err != nil {
		if m.state == stDHCP {
			m.event(Event{Type: EventNoLease, Err: err})
			m.beginLinkLocal()
		}
		m.dhcpAfter(m.t.DHCPRetry, m.requestLease)
		return
	}
	m.takeLease(l)
}

// takeLease configures l and leaves link-local behind.
func (m *machine) takeLease(l *Lease) {
	m.fix(l)
	if err := m.link.setLease(l); err != nil {
		m.fail(err)
		return
	}
	m.cancel()
	prev := netip.Prefix{}
	if m.state == stBound || m.reprobe {
		prev = netip.PrefixFrom(m.cand, 16)
	}
	m.state, m.lease, m.reprobe = stLease, l, false
	m.event(Event{Type: EventLease, Addr: l.Addr, Lease: l})
	if prev.IsValid() {
		if err := m.link.clearLinkLocal(prev.Addr()); err != nil {
			m.fail(err)
			return
		}
		m.event(Event{Type: EventMoved, Addr: l.Addr, Prev: prev})
	}
	m.scheduleRenew()
}

// fix stamps a lease with the machine's clock and fills in T1 and T2.
func (m *machine) fix(l *Lease) {
	l.Obtained = m.clk.Now()
	if l.Duration <= 0 {
		l.Duration = time.Hour // RFC 2131 requires the option; be lenient
	}
	if l.Renew <= 0 || l.Renew >= l.Duration {
		l.Renew = l.Duration / 2
	}
	if l.Rebind <= l.Renew || l.Rebind >= l.Duration {
		l.Rebind = max(l.Duration/8*7, l.Renew)
	}
}

func (m *machine) scheduleRenew() {
	m.dhcpAfter(m.lease.Renew, m.renew)
}

// renew starts a DHCP attempt to renew the lease: unicast to its server
// until T2 (RENEWING), then broadcast (REBINDING).
func (m *machine) renew() {
	old := m.lease
	m.renewBy(old.Server.IsValid() && m.clk.Now().Before(old.Obtained.Add(old.Rebind)))
}

// renewBy starts a DHCP attempt to renew the lease, by unicast or not.
func (m *machine) renewBy(unicast bool) {
	old := m.lease
	gen := m.dhcpGen
	m.link.dhcp(old, unicast, func(l *Lease, err error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.dhcpGen != gen || m.state != stLease {
			return
		}
		m.renewResult(l, err)
	})
}

func (m *machine) renewResult(l *Lease, err error) {
	switch {
	case err != nil:
	case l == nil:
		err = errNoAnswer
	case l.Addr.Addr() != m.lease.Addr.Addr():
		err = ErrNak // a server that hands out another address refuses this one
	}
	if err == nil {
		m.fix(l)
		if err := m.link.setLease(l); err != nil {
			m.fail(err)
			return
		}
		m.lease = l
		m.event(Event{Type: EventRenewed, Addr: l.Addr, Lease: l})
		m.scheduleRenew()
		return
	}
	left := m.lease.Expires().Sub(m.clk.Now())
	if errors.Is(err, ErrNak) || left <= 0 {
		m.loseLease(err)
		return
	}
	m.log.Debug("autoip: renewal failed", "lease", m.lease, "err", err)
	next := max(left/2, renewFloor)
	if next >= left {
		m.dhcpAfter(left, func() { m.loseLease(err) })
		return
	}
	m.dhcpAfter(next, m.renew)
}

// loseLease removes the lease's address and starts over: DHCP first.
func (m *machine) loseLease(err error) {
	l := m.lease
	cerr := m.link.clearLease(l)
	m.state, m.lease = stDHCP, nil
	m.event(Event{Type: EventLeaseLost, Addr: l.Addr, Lease: l, Err: err})
	if cerr != nil {
		m.fail(cerr)
		return
	}
	if m.noDHCP { // cannot happen: no lease without DHCP
		m.beginLinkLocal()
		return
	}
	m.requestLease()
}

// beginLinkLocal picks the next candidate and waits to probe it: after
// MAX_CONFLICTS, RATE_LIMIT_INTERVAL first, during which ARP is ignored, so
// that even a host that knows the candidate sequence (it follows from the
// MAC) gets at most one new address per interval out of us.
func (m *machine) beginLinkLocal() {
	m.cand = Candidate(net.HardwareAddr(m.mac[:]), m.attempt)
	if m.attempt == 0 && m.first.IsValid() {
		m.cand = m.first
	}
	m.attempt++
	m.probes, m.announces = 0, 0
	if m.conflicts >= m.t.MaxConflicts {
		m.state = stRateLimit
		m.event(Event{Type: EventRateLimited, Addr: netip.PrefixFrom(m.cand, 16)})
		m.after(m.t.RateLimitInterval, m.waitToProbe)
		return
	}
	m.waitToProbe()
}

// waitToProbe begins the probing process (RFC 3927 section 2.2.1) with a
// random wait of up to PROBE_WAIT.
func (m *machine) waitToProbe() {
	m.state = stWait
	m.event(Event{Type: EventProbing, Addr: netip.PrefixFrom(m.cand, 16)})
	m.after(m.random(0, m.t.ProbeWait), m.sendProbe)
}

func (m *machine) sendProbe() {
	m.state = stProbe
	m.probes++
	m.send(probe(m.mac, m.cand))
	if m.probes < m.t.ProbeNum {
		m.after(m.random(m.t.ProbeMin, m.t.ProbeMax), m.sendProbe)
	} else {
		m.after(m.t.AnnounceWait, m.claim)
	}
}

// claim configures the candidate and announces it.
func (m *machine) claim() {
	if err := m.link.setLinkLocal(m.cand); err != nil {
		m.fail(err)
		return
	}
	m.state, m.reprobe = stBound, false
	m.boundAt = m.clk.Now()
	m.lastDefend = time.Time{}
	m.announce()
	m.event(Event{Type: EventClaimed, Addr: netip.PrefixFrom(m.cand, 16)})
}

func (m *machine) announce() {
	m.announces++
	m.send(announcement(m.mac, m.cand))
	if m.announces < m.t.AnnounceNum {
		m.after(m.t.AnnounceInterval, m.announce)
	}
}

func (m *machine) send(p arpPacket) {
	if err := m.link.sendARP(p); err != nil {
		m.log.Warn("autoip: sending ARP", "packet", p, "err", err)
		return
	}
	m.log.Debug("autoip: sent", "packet", p)
}

// fail ends Run with err.
func (m *machine) fail(err error) {
	m.cancel()
	m.dhcpCancel()
	m.fatal(err)
}

// arpIn handles an ARP packet from the link.
func (m *machine) arpIn(p arpPacket) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p.SenderHW == m.mac || (p.Op != arpRequest && p.Op != arpReply) {
		return // our own, echoed by the packet socket, or not ARP we know
	}
	peer := net.HardwareAddr(p.SenderHW[:])
	addr := netip.PrefixFrom(m.cand, 16)
	switch m.state {
	case stWait, stProbe:
		// RFC 3927 section 2.2.1: the candidate used by another host, or
		// probed for by another host at the same time.
		if p.SenderIP != m.cand && !(p.Op == arpRequest && p.SenderIP.IsUnspecified() && p.TargetIP == m.cand) {
			return
		}
		m.log.Debug("autoip: conflict while probing", "packet", p)
		m.event(Event{Type: EventConflict, Addr: addr, Peer: peer})
		if m.reprobe {
			m.reprobe = false
			m.retreat(peer) // the address is still configured
			return
		}
		m.conflicts++
		m.beginLinkLocal()
	case stBound:
		// Section 2.5: only another host using our address is a conflict.
		if p.SenderIP != m.cand {
			return
		}
		m.log.Debug("autoip: conflict on the claimed address", "packet", p)
		now := m.clk.Now()
		m.event(Event{Type: EventConflict, Addr: addr, Peer: peer})
		if m.lastDefend.IsZero() || now.Sub(m.lastDefend) >= m.t.DefendInterval {
			m.lastDefend = now
			m.send(announcement(m.mac, m.cand))
			m.event(Event{Type: EventDefended, Addr: addr, Peer: peer})
			return
		}
		m.retreat(peer)
	}
}

// linkUp handles the link coming back: the host may be on another network,
// and whatever it sent while the link was down went nowhere. So, as RFC 5227
// section 2.1 asks of a link that becomes active, a claimed address is probed
// again (it stays configured meanwhile, and is given up on a conflict), the
// probes of a candidate start over, a lease is checked at once by broadcast
// (REBINDING: a NAK or an ACK for another address drops it), and a DHCP
// retry that was waiting is made now.
func (m *machine) linkUp() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log.Debug("autoip: link up", "state", m.state)
	switch m.state {
	case stBound:
		m.reprobe = true
		m.probes, m.announces = 0, 0
		m.waitToProbe()
	case stWait, stProbe:
		m.probes = 0
		m.waitToProbe()
	case stLease:
		m.dhcpCancel()
		m.renewBy(false)
		return
	}
	if !m.noDHCP && m.state != stIdle && m.dhcpT != nil {
		m.requestLease() // cancels the waiting retry
	}
}

// retreat gives up the claimed address and starts over with the next
// candidate.
func (m *machine) retreat(peer net.HardwareAddr) {
	m.cancel()
	addr := netip.PrefixFrom(m.cand, 16)
	if err := m.link.clearLinkLocal(m.cand); err != nil {
		m.fail(err)
		return
	}
	// An address held for RATE_LIMIT_INTERVAL ends a storm: count afresh.
	if m.clk.Now().Sub(m.boundAt) >= m.t.RateLimitInterval {
		m.conflicts = 0
	}
	m.conflicts++
	m.state = stWait
	m.event(Event{Type: EventRetreated, Addr: addr, Peer: peer})
	m.beginLinkLocal()
}

package autoip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seedb72249f9/upnp/internal/clock"
)

var (
	testMAC  = [6]byte{0x02, 0x77, 0, 0, 0, 1}
	peerMAC  = [6]byte{0x02, 0x77, 0, 0, 0, 2}
	epoch    = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	errNoSrv = errors.New("no server")
)

func cand(n int) netip.Addr { return Candidate(net.HardwareAddr(testMAC[:]), n) }

// fakeLink records what the machine does.
type fakeLink struct {
	mu       sync.Mutex
	clk      *clock.Fake
	sent     []sentARP
	ops      []string
	dhcpDone func(*Lease, error) // the attempt in flight
	dhcpOld  *Lease
	dhcpAt   []time.Duration // when each attempt began
	// auto, when set, answers each attempt itself, autoDelay later.
	auto      func(old *Lease) (*Lease, error)
	autoDelay time.Duration
	failSet   error
	in        chan arpPacket
	done      chan struct{}
	once      sync.Once
}

type sentARP struct {
	at time.Duration // since epoch
	p  arpPacket
}

func newFakeLink(clk *clock.Fake) *fakeLink {
	return &fakeLink{clk: clk, in: make(chan arpPacket, 16), done: make(chan struct{})}
}

func (f *fakeLink) hardwareAddr() [6]byte { return testMAC }

func (f *fakeLink) sendARP(p arpPacket) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentARP{f.clk.Now().Sub(epoch), p})
	return nil
}

func (f *fakeLink) readARP() (arpPacket, error) {
	select {
	case p := <-f.in:
		return p, nil
	case <-f.done:
		return arpPacket{}, net.ErrClosed
	}
}

func (f *fakeLink) op(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, fmt.Sprintf(format, a...))
}

func (f *fakeLink) setLinkLocal(a netip.Addr) error {
	f.op("set-ll %v", a)
	return f.failSet
}
func (f *fakeLink) clearLinkLocal(a netip.Addr) error { f.op("clear-ll %v", a); return nil }
func (f *fakeLink) setLease(l *Lease) error {
	f.op("set-lease %v %v", l.Addr, l.Duration)
	return f.failSet
}
func (f *fakeLink) clearLease(l *Lease) error { f.op("clear-lease %v", l.Addr); return nil }
func (f *fakeLink) release(l *Lease) error    { f.op("release %v", l.Addr); return nil }

func (f *fakeLink) dhcp(old *Lease, unicast bool, done func(*Lease, error)) {
	switch {
	case old == nil:
		f.op("dhcp request")
	case unicast:
		f.op("dhcp renew %v", old.Addr)
	default:
		f.op("dhcp rebind %v", old.Addr)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dhcpAt = append(f.dhcpAt, f.clk.Now().Sub(epoch))
	if f.auto != nil {
		auto := f.auto
		f.clk.AfterFunc(f.autoDelay, func() { done(auto(old)) })
		return
	}
	f.dhcpDone, f.dhcpOld = done, old
}

func (f *fakeLink) linkUps() <-chan struct{} { return nil } // tests call machine.linkUp

func (f *fakeLink) closed() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

func (f *fakeLink) close() { f.once.Do(func() { close(f.done) }) }

// answer completes the DHCP attempt in flight, as the link's goroutine would.
func (f *fakeLink) answer(t *testing.T, l *Lease, err error) {
	t.Helper()
	f.mu.Lock()
	done := f.dhcpDone
	f.dhcpDone = nil
	f.mu.Unlock()
	if done == nil {
		t.Fatal("no DHCP attempt in flight")
	}
	done(l, err)
}

func (f *fakeLink) takeOps() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ops := f.ops
	f.ops = nil
	return ops
}

func (f *fakeLink) takeSent() []sentARP {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sent
	f.sent = nil
	return s
}

// rig is a machine on a fake link and a fake clock.
type rig struct {
	t      *testing.T
	clk    *clock.Fake
	link   *fakeLink
	m      *machine
	a      *Agent
	events <-chan Event
	fatal  []error
}

// newRig starts a machine. randN picks from [0, n): zero unless set.
func newRig(t *testing.T, a *Agent) *rig {
	t.Helper()
	r := &rig{t: t, clk: clock.NewFake(epoch), a: a}
	r.link = newFakeLink(r.clk)
	a.clock = r.clk
	if a.randN == nil {
		a.randN = func(int64) int64 { return 0 }
	}
	r.events, _ = a.Subscribe(10000)
	r.m = newMachine(a, r.link, func(err error) { r.fatal = append(r.fatal, err) })
	r.m.start()
	return r
}

func (r *rig) advance(d time.Duration) { r.clk.Advance(d) }

// took returns the events so far as "type addr [prev] current@t".
func (r *rig) took() []string {
	var out []string
	for {
		select {
		case ev := <-r.events:
			s := fmt.Sprintf("%v %v", ev.Type, ev.Addr)
			if ev.Prev.IsValid() {
				s += " prev=" + ev.Prev.String()
			}
			if ev.Current.IsValid() {
				s += " cur=" + ev.Current.String()
			}
			s += fmt.Sprintf(" @%v", ev.Time.Sub(epoch))
			out = append(out, s)
		default:
			return out
		}
	}
}

func (r *rig) arp(p arpPacket) { r.m.arpIn(p) }

func ll(a netip.Addr) string { return netip.PrefixFrom(a, 16).String() }

func wantSame(t *testing.T, what string, want, got []string) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// claimNoDHCP brings a NoDHCP rig with fixed randomness to bound on cand(0).
func claimNoDHCP(t *testing.T, timing Timing) *rig {
	t.Helper()
	r := newRig(t, &Agent{NoDHCP: true, Timing: timing})
	r.advance(10 * time.Second)
	if r.m.state != stBound {
		t.Fatalf("state %v after 10 s, want bound; events %v", r.m.state, r.took())
	}
	r.took()
	r.link.takeOps()
	r.link.takeSent()
	return r
}

func TestCandidate(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0x77, 0, 0, 0, 1}
	if Candidate(mac, 0) != Candidate(slices.Clone(mac), 0) {
		t.Error("Candidate is not stable")
	}
	if Candidate(mac, 0) == Candidate(net.HardwareAddr{0x02, 0x77, 0, 0, 0, 2}, 0) {
		t.Error("neighbouring MACs start with the same candidate")
	}
	seen := map[netip.Addr]bool{}
	for n := range 20000 {
		a := Candidate(mac, n)
		if !usable(a) {
			t.Fatalf("Candidate(%v, %d) = %v, outside 169.254.1.0-169.254.254.255", mac, n, a)
		}
		seen[a] = true
	}
	if len(seen) < 15000 { // 20000 draws from 65024: about 17400 distinct
		t.Errorf("only %d distinct candidates in 20000", len(seen))
	}
	for _, a := range []string{"169.254.0.255", "169.254.255.0", "169.253.1.1", "10.0.0.1", "::1"} {
		if usable(netip.MustParseAddr(a)) {
			t.Errorf("usable(%s) = true", a)
		}
	}
}

// TestClaimTimeline: RFC 3927's timeline with the default timings, at both
// ends of the random ranges.
func TestClaimTimeline(t *testing.T) {
	for _, tc := range []struct {
		name           string
		randN          func(int64) int64
		probesAt       []time.Duration
		claimAt        time.Duration
		announcementAt []time.Duration
	}{
		{"shortest", func(int64) int64 { return 0 }, []time.Duration{0, time.Second, 2 * time.Second},
			4 * time.Second, []time.Duration{4 * time.Second, 6 * time.Second}},
		{"longest", func(n int64) int64 { return n - 1 }, []time.Duration{time.Second, 3 * time.Second, 5 * time.Second},
			7 * time.Second, []time.Duration{7 * time.Second, 9 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, &Agent{NoDHCP: true, randN: tc.randN})
			r.advance(time.Minute)
			c := cand(0)
			wantSame(t, "events", []string{
				"probing " + ll(c) + " @0s",
				fmt.Sprintf("claimed %s cur=%s @%v", ll(c), ll(c), tc.claimAt),
			}, r.took())
			wantSame(t, "ops", []string{"set-ll " + c.String()}, r.link.takeOps())
			var want []sentARP
			for _, at := range tc.probesAt {
				want = append(want, sentARP{at, arpPacket{Op: arpRequest, SenderHW: testMAC, SenderIP: netip.IPv4Unspecified(), TargetIP: c}})
			}
			for _, at := range tc.announcementAt {
				want = append(want, sentARP{at, arpPacket{Op: arpRequest, SenderHW: testMAC, SenderIP: c, TargetIP: c}})
			}
			if diff := cmp.Diff(want, r.link.takeSent(), cmp.AllowUnexported(sentARP{}), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("ARP sent (-want +got):\n%s", diff)
			}
			if got := r.a.Addr(); got != netip.PrefixFrom(c, 16) {
				t.Errorf("Addr() = %v", got)
			}
		})
	}
}

func TestFirst(t *testing.T) {
	first := netip.MustParseAddr("169.254.7.7")
	r := newRig(t, &Agent{NoDHCP: true, First: first})
	r.advance(time.Second)
	r.arp(arpPacket{Op: arpReply, SenderHW: peerMAC, SenderIP: first, TargetHW: testMAC})
	r.advance(time.Minute)
	wantSame(t, "events", []string{
		"probing 169.254.7.7/16 @0s",
		"conflict 169.254.7.7/16 @1s",
		"probing " + ll(cand(1)) + " @1s",
		"claimed " + ll(cand(1)) + " cur=" + ll(cand(1)) + " @5s",
	}, r.took())
}

// TestProbeConflicts: what is a conflict while probing (RFC 3927 section
// 2.2.1), in each phase, and what is not.
func TestProbeConflicts(t *testing.T) {
	c := cand(0)
	other := netip.MustParseAddr("169.254.9.9")
	conflicts := map[string]arpPacket{
		"reply from the candidate":   {Op: arpReply, SenderHW: peerMAC, SenderIP: c, TargetHW: testMAC},
		"announcement of it":         {Op: arpRequest, SenderHW: peerMAC, SenderIP: c, TargetIP: c},
		"request from it":            {Op: arpRequest, SenderHW: peerMAC, SenderIP: c, TargetIP: other},
		"simultaneous probe":         {Op: arpRequest, SenderHW: peerMAC, SenderIP: netip.IPv4Unspecified(), TargetIP: c},
		"unsolicited reply about it": {Op: arpReply, SenderHW: peerMAC, SenderIP: c, TargetIP: c},
	}
	harmless := map[string]arpPacket{
		"our own probe, echoed":     probe(testMAC, c),
		"our own announcement":      announcement(testMAC, c),
		"probe for another address": {Op: arpRequest, SenderHW: peerMAC, SenderIP: netip.IPv4Unspecified(), TargetIP: other},
		"request for the candidate": {Op: arpRequest, SenderHW: peerMAC, SenderIP: other, TargetIP: c},
		"reply from another":        {Op: arpReply, SenderHW: peerMAC, SenderIP: other, TargetIP: c},
		"unknown operation":         {Op: 3, SenderHW: peerMAC, SenderIP: c, TargetIP: c},
		"reply with sender 0 for c": {Op: arpReply, SenderHW: peerMAC, SenderIP: netip.IPv4Unspecified(), TargetIP: c},
	}
	// Phases, as offsets with randN 0: probes at 0, 1, 2 s, claim at 4 s.
	// PROBE_WAIT is 1 s here so that "waiting" exists.
	phases := map[string]time.Duration{
		"waiting":        500 * time.Millisecond,
		"probing":        1500 * time.Millisecond,
		"announce wait":  3900 * time.Millisecond,
		"after 1 probe":  time.Second,
		"after 3 probes": 2 * time.Second,
	}
	for phase, at := range phases {
		for name, p := range conflicts {
			t.Run(phase+"/"+name, func(t *testing.T) {
				r := newRig(t, &Agent{NoDHCP: true, randN: func(n int64) int64 {
					if n == int64(time.Second)+1 { // PROBE_WAIT: 0.5 s
						return int64(500 * time.Millisecond)
					}
					return 0
				}})
				// With this randomness: probes at 0.5, 1.5, 2.5 s, claim at 4.5 s.
				r.advance(at)
				r.arp(p)
				if r.m.state == stBound {
					t.Fatalf("bound at %v", at)
				}
				r.advance(time.Minute)
				evs := r.took()
				if len(evs) != 4 || !strings.HasPrefix(evs[1], "conflict "+ll(c)) || !strings.HasPrefix(evs[2], "probing "+ll(cand(1))) ||
					!strings.HasPrefix(evs[3], "claimed "+ll(cand(1))) {
					t.Errorf("events:\n%s", strings.Join(evs, "\n"))
				}
				wantSame(t, "ops", []string{"set-ll " + cand(1).String()}, r.link.takeOps())
			})
		}
	}
	for name, p := range harmless {
		t.Run("harmless/"+name, func(t *testing.T) {
			r := newRig(t, &Agent{NoDHCP: true})
			r.advance(1500 * time.Millisecond)
			r.arp(p)
			r.advance(time.Minute)
			wantSame(t, "ops", []string{"set-ll " + c.String()}, r.link.takeOps())
		})
	}
}

// TestDefend: RFC 3927 section 2.5: one defence per DEFEND_INTERVAL, a
// second conflict within it gives the address up.
func TestDefend(t *testing.T) {
	c := cand(0)
	claim := arpPacket{Op: arpRequest, SenderHW: peerMAC, SenderIP: c, TargetIP: c}
	r := claimNoDHCP(t, Timing{})
	r.arp(claim)
	wantSame(t, "events after the first conflict", []string{
		"conflict " + ll(c) + " cur=" + ll(c) + " @10s",
		"defended " + ll(c) + " cur=" + ll(c) + " @10s",
	}, r.took())
	if s := r.link.takeSent(); len(s) != 1 || s[0].p != announcement(testMAC, c) {
		t.Errorf("defence sent %v, want one announcement", s)
	}
	// A conflict DEFEND_INTERVAL later is defended again.
	r.advance(10 * time.Second)
	r.arp(claim)
	if evs := r.took(); len(evs) != 2 || !strings.HasPrefix(evs[1], "defended") {
		t.Errorf("conflict after DEFEND_INTERVAL: %v", evs)
	}
	// A third within it: retreat.
	r.advance(9 * time.Second)
	r.arp(claim)
	wantSame(t, "events after the second conflict", []string{
		"conflict " + ll(c) + " cur=" + ll(c) + " @29s",
		"retreated " + ll(c) + " @29s",
		"probing " + ll(cand(1)) + " @29s",
	}, r.took())
	wantSame(t, "ops", []string{"clear-ll " + c.String()}, r.link.takeOps())
	if r.a.Addr().IsValid() {
		t.Errorf("Addr() = %v after retreat", r.a.Addr())
	}
	r.advance(time.Minute)
	wantSame(t, "ops", []string{"set-ll " + cand(1).String()}, r.link.takeOps())
	// Packets about other addresses, probes for ours (the kernel answers
	// them) and our own echoes are no conflicts while bound.
	for _, p := range []arpPacket{
		probe(peerMAC, cand(1)),
		announcement(testMAC, cand(1)),
		{Op: arpRequest, SenderHW: peerMAC, SenderIP: c, TargetIP: cand(1)},
		{Op: arpReply, SenderHW: peerMAC, SenderIP: netip.MustParseAddr("10.0.0.1"), TargetIP: cand(1)},
	} {
		r.arp(p)
	}
	r.took()
	if evs := r.took(); len(evs) != 0 || r.m.state != stBound {
		t.Errorf("harmless packets while bound: %v, state %v", evs, r.m.state)
	}
}

// TestConflictStormWhileProbing (SECURITY.md, AutoIP conflict storms): a
// host that answers every probe gets MAX_CONFLICTS fast attempts, then at
// most one per RATE_LIMIT_INTERVAL.
func TestConflictStormWhileProbing(t *testing.T) {
	r := newRig(t, &Agent{NoDHCP: true})
	var starts []time.Duration
	var probes int
	for range 20000 { // ten minutes in 30 ms steps
		r.advance(30 * time.Millisecond)
		for _, s := range r.link.takeSent() {
			if s.p.SenderIP.IsUnspecified() {
				probes++
				if r.m.probes == 1 {
					starts = append(starts, s.at)
				}
				// The attacker answers at once.
				r.arp(arpPacket{Op: arpReply, SenderHW: peerMAC, SenderIP: s.p.TargetIP, TargetHW: testMAC})
			}
		}
	}
	if ops := r.link.takeOps(); len(ops) != 0 {
		t.Errorf("configured an address under attack: %v", ops)
	}
	if r.m.conflicts < 10 {
		t.Fatalf("%d conflicts", r.m.conflicts)
	}
	// The first ten attempts go at probing speed, the rest a minute apart.
	for i := 1; i < len(starts); i++ {
		gap := starts[i] - starts[i-1]
		if i >= 10 && gap < time.Minute {
			t.Errorf("attempt %d began %v after the one before, want at least RATE_LIMIT_INTERVAL", i+1, gap)
		}
		if i < 10 && gap > time.Second {
			t.Errorf("attempt %d began %v after the one before, before any rate limit", i+1, gap)
		}
	}
	// 10 fast ones, then one a minute for the rest of the 600 s.
	if len(starts) > 10+10 || probes != len(starts) {
		t.Errorf("%d attempts and %d probes in 10 minutes", len(starts), probes)
	}
	evs := strings.Join(r.took(), "\n")
	if n := strings.Count(evs, "rate-limited"); n < 5 {
		t.Errorf("%d rate-limited events", n)
	}
}

// TestRateLimitIgnoresARP: the candidate sequence follows from the MAC, so
// an attacker can claim each next candidate before we probe it; while rate
// limited the agent ignores ARP, so that still yields one new address per
// RATE_LIMIT_INTERVAL, not one per packet.
func TestRateLimitIgnoresARP(t *testing.T) {
	r := newRig(t, &Agent{NoDHCP: true, Timing: Timing{MaxConflicts: 2}})
	for range 2 {
		r.arp(arpPacket{Op: arpReply, SenderHW: peerMAC, SenderIP: r.m.cand})
	}
	if r.m.state != stRateLimit {
		t.Fatalf("state %v after MAX_CONFLICTS", r.m.state)
	}
	for n := range 1000 { // every candidate there is to come
		r.arp(arpPacket{Op: arpReply, SenderHW: peerMAC, SenderIP: cand(n)})
		r.arp(probe(peerMAC, cand(n)))
	}
	if r.m.attempt != 3 || r.m.conflicts != 2 {
		t.Errorf("after the flood: attempt %d, %d conflicts; want 3 and 2", r.m.attempt, r.m.conflicts)
	}
	r.advance(time.Minute - time.Millisecond)
	if s := r.link.takeSent(); len(s) != 0 {
		t.Errorf("probed within RATE_LIMIT_INTERVAL: %v", s)
	}
	r.advance(time.Millisecond)
	if s := r.link.takeSent(); len(s) != 1 || s[0].p != probe(testMAC, cand(2)) {
		t.Errorf("sent %v at RATE_LIMIT_INTERVAL, want a probe for candidate 2", s)
	}
	wantSame(t, "events", []string{
		"probing " + ll(cand(0)) + " @0s",
		"conflict " + ll(cand(0)) + " @0s",
		"probing " + ll(cand(1)) + " @0s",
		"conflict " + ll(cand(1)) + " @0s",
		"rate-limited " + ll(cand(2)) + " @0s",
		"probing " + ll(cand(2)) + " @1m0s",
	}, r.took())
}

// TestRetreatStorm: a host that makes us give up each address we claim is
// rate limited too, and an address held for RATE_LIMIT_INTERVAL resets the
// count.
func TestRetreatStorm(t *testing.T) {
	r := claimNoDHCP(t, Timing{MaxConflicts: 3, RateLimitInterval: 30 * time.Second})
	attack := func() {
		c := r.m.cand
		p := arpPacket{Op: arpRequest, SenderHW: peerMAC, SenderIP: c, TargetIP: c}
		r.arp(p)
		r.arp(p)
	}
	var claims []time.Time
	for range 6 {
		attack()
		for r.m.state != stBound {
			r.advance(100 * time.Millisecond)
		}
		claims = append(claims, r.clk.Now())
	}
	// Retreats 1-3 reach MAX_CONFLICTS 3; the attempts after the third wait 30 s.
	for i := 2; i < len(claims); i++ {
		if gap := claims[i].Sub(claims[i-1]); gap < 30*time.Second {
			t.Errorf("claim %d came %v after the one before", i+1, gap)
		}
	}
	if gap := claims[1].Sub(claims[0]); gap > 10*time.Second {
		t.Errorf("claim 2 came %v after claim 1: rate limited too early", gap)
	}
	// Held for RATE_LIMIT_INTERVAL: the next retreat starts a fresh count.
	r.advance(30 * time.Second)
	attack()
	if r.m.conflicts != 1 {
		t.Errorf("conflicts = %d after a long-held address, want 1", r.m.conflicts)
	}
	start := r.clk.Now()
	for r.m.state != stBound {
		r.advance(100 * time.Millisecond)
	}
	if d := r.clk.Now().Sub(start); d > 10*time.Second {
		t.Errorf("claim after the count reset took %v", d)
	}
}

// TestDefenceFlood: a flood of conflicting packets on a bound address costs
// one defence, then the address; no packet storm from us.
func TestDefenceFlood(t *testing.T) {
	r := claimNoDHCP(t, Timing{})
	c := r.m.cand
	for range 10000 {
		r.arp(arpPacket{Op: arpReply, SenderHW: peerMAC, SenderIP: c, TargetHW: testMAC})
	}
	if s := r.link.takeSent(); len(s) != 1 {
		t.Errorf("sent %d packets in answer to the flood, want 1", len(s))
	}
	evs := r.took()
	if strings.Count(strings.Join(evs, "\n"), "defended") != 1 || strings.Count(strings.Join(evs, "\n"), "retreated") != 1 {
		t.Errorf("events: %v", evs)
	}
	// One conflict per packet while probing the next: bounded by the rate limit.
	r.advance(10 * time.Minute)
	if r.m.conflicts > r.m.t.MaxConflicts+1 {
		t.Errorf("%d conflicts", r.m.conflicts)
	}
}

func testLease(addr string, d time.Duration) *Lease {
	return &Lease{Addr: netip.MustParsePrefix(addr), Server: netip.MustParseAddr("10.77.0.12"), Duration: d}
}

// TestDHCPFirst: with a server, the lease is taken and no ARP is sent; it
// is renewed at T1.
func TestDHCPFirst(t *testing.T) {
	r := newRig(t, &Agent{})
	wantSame(t, "ops at start", []string{"dhcp request"}, r.link.takeOps())
	r.advance(300 * time.Millisecond)
	r.link.answer(t, testLease("10.77.0.150/24", time.Hour), nil)
	wantSame(t, "ops", []string{"set-lease 10.77.0.150/24 1h0m0s"}, r.link.takeOps())
	wantSame(t, "events", []string{"lease 10.77.0.150/24 cur=10.77.0.150/24 @300ms"}, r.took())
	r.advance(30*time.Minute - time.Millisecond)
	if len(r.link.takeOps()) != 0 {
		t.Error("renewed before T1")
	}
	r.advance(time.Millisecond)
	wantSame(t, "ops at T1", []string{"dhcp renew 10.77.0.150/24"}, r.link.takeOps())
	r.link.answer(t, testLease("10.77.0.150/24", time.Hour), nil)
	wantSame(t, "ops after renewal", []string{"set-lease 10.77.0.150/24 1h0m0s"}, r.link.takeOps())
	wantSame(t, "events", []string{"renewed 10.77.0.150/24 cur=10.77.0.150/24 @30m0.3s"}, r.took())
	// The server's T1 is honoured.
	r.advance(30 * time.Minute)
	l := testLease("10.77.0.150/24", time.Hour)
	l.Renew = 10 * time.Minute
	r.link.takeOps()
	r.link.answer(t, l, nil)
	r.took()
	r.link.takeOps()
	r.advance(10 * time.Minute)
	wantSame(t, "ops at the server's T1", []string{"dhcp renew 10.77.0.150/24"}, r.link.takeOps())
	if s := r.link.takeSent(); len(s) != 0 {
		t.Errorf("sent ARP with a lease: %v", s)
	}
	r.m.stop()
	wantSame(t, "ops at stop", []string{"release 10.77.0.150/24", "clear-lease 10.77.0.150/24"}, r.link.takeOps())
	if evs := r.took(); len(evs) != 1 || !strings.HasPrefix(evs[0], "released 10.77.0.150/24 @") {
		t.Errorf("events at stop: %v", evs)
	}
	// A result that comes after stop is dropped.
	r.link.answer(t, testLease("10.77.0.150/24", time.Hour), nil)
	if ops, evs := r.link.takeOps(), r.took(); len(ops)+len(evs) != 0 {
		t.Errorf("after stop: %v %v", ops, evs)
	}
}

// TestDHCPLater: without a server the agent goes link-local and retries
// DHCP every DHCPRetry; a lease then moves it.
func TestDHCPLater(t *testing.T) {
	r := newRig(t, &Agent{})
	r.link.takeOps()
	r.advance(10 * time.Second)
	r.link.answer(t, nil, errNoSrv)
	r.advance(time.Minute)
	c := cand(0)
	wantSame(t, "events", []string{
		"no-lease invalid Prefix @10s",
		"probing " + ll(c) + " @10s",
		"claimed " + ll(c) + " cur=" + ll(c) + " @14s",
	}, r.took())
	wantSame(t, "ops", []string{"set-ll " + c.String()}, r.link.takeOps())
	r.advance(5*time.Minute - time.Minute)
	wantSame(t, "ops at the retry", []string{"dhcp request"}, r.link.takeOps())
	r.link.answer(t, nil, errNoSrv) // still none: no event, the next retry
	if evs := r.took(); len(evs) != 0 {
		t.Errorf("events after a failed retry: %v", evs)
	}
	r.advance(5 * time.Minute)
	wantSame(t, "ops at the second retry", []string{"dhcp request"}, r.link.takeOps())
	r.link.takeSent()
	r.link.answer(t, testLease("10.77.0.150/24", time.Hour), nil)
	wantSame(t, "ops", []string{"set-lease 10.77.0.150/24 1h0m0s", "clear-ll " + c.String()}, r.link.takeOps())
	wantSame(t, "events", []string{
		"lease 10.77.0.150/24 cur=10.77.0.150/24 @10m10s",
		"moved 10.77.0.150/24 prev=" + ll(c) + " cur=10.77.0.150/24 @10m10s",
	}, r.took())
	// Conflicts on the old address no longer matter.
	r.arp(arpPacket{Op: arpRequest, SenderHW: peerMAC, SenderIP: c, TargetIP: c})
	r.advance(time.Minute)
	if s, evs := r.link.takeSent(), r.took(); len(s)+len(evs) != 0 {
		t.Errorf("after the move: sent %v, events %v", s, evs)
	}
}

// TestDHCPWhileProbing: a lease that comes while probing stops the probe.
func TestDHCPWhileProbing(t *testing.T) {
	r := newRig(t, &Agent{Timing: Timing{DHCPRetry: 2 * time.Second, DHCPTimeout: time.Second}})
	r.link.answer(t, nil, errNoSrv)
	r.advance(2 * time.Second) // probes at 0 and 1 s; the retry at 2 s
	if r.m.state != stProbe {
		t.Fatalf("state %v", r.m.state)
	}
	r.link.answer(t, testLease("10.77.0.150/24", time.Hour), nil)
	r.advance(time.Minute)
	wantSame(t, "ops", []string{"dhcp request", "dhcp request", "set-lease 10.77.0.150/24 1h0m0s"}, r.link.takeOps())
	evs := r.took()
	if len(evs) != 3 || !strings.HasPrefix(evs[2], "lease ") {
		t.Errorf("events: %v", evs)
	}
}

// TestRenewalFails: failed renewals retry at half the time left, at least
// a minute apart; at the end the lease is lost and DHCP starts over, then
// link-local.
func TestRenewalFails(t *testing.T) {
	r := newRig(t, &Agent{})
	r.link.answer(t, testLease("10.77.0.150/24", 10*time.Minute), nil)
	r.took()
	r.link.takeOps()
	r.link.auto = func(*Lease) (*Lease, error) { return nil, errNoSrv }
	r.link.autoDelay = time.Second
	r.link.dhcpAt = nil
	r.advance(11 * time.Minute)
	// T1 at 5 m, answers 1 s later; then half the time left: 7m30.5s; then
	// 1m14.25s later; then the 1 min floor; then, with 12.25 s left, the end.
	// The first two ask the server (unicast); from T2, 8m45s, any server.
	wantSame(t, "attempts", []string{"5m0s", "7m30.5s", "8m45.75s", "9m46.75s", "10m0s"},
		strings.Fields(strings.Trim(fmt.Sprint(r.link.dhcpAt), "[]")))
	wantSame(t, "ops", []string{
		"dhcp renew 10.77.0.150/24", "dhcp renew 10.77.0.150/24", "dhcp rebind 10.77.0.150/24", "dhcp rebind 10.77.0.150/24",
		"clear-lease 10.77.0.150/24", "dhcp request", "set-ll " + cand(0).String(),
	}, r.link.takeOps())
	wantSame(t, "events", []string{
		"lease-lost 10.77.0.150/24 @10m0s",
		"no-lease invalid Prefix @10m1s",
		"probing " + ll(cand(0)) + " @10m1s",
		"claimed " + ll(cand(0)) + " cur=" + ll(cand(0)) + " @10m5s",
	}, r.took())
}

// TestRenewalNak: a NAK, or an ACK for another address, drops the lease at
// once.
func TestRenewalNak(t *testing.T) {
	for name, answer := range map[string]func() (*Lease, error){
		"nak":           func() (*Lease, error) { return nil, fmt.Errorf("x: %w", ErrNak) },
		"other address": func() (*Lease, error) { return testLease("10.77.0.151/24", time.Hour), nil },
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, &Agent{})
			r.link.answer(t, testLease("10.77.0.150/24", time.Hour), nil)
			r.advance(30 * time.Minute)
			r.took()
			r.link.takeOps()
			l, err := answer()
			r.link.answer(t, l, err)
			wantSame(t, "ops", []string{"clear-lease 10.77.0.150/24", "dhcp request"}, r.link.takeOps())
			if evs := r.took(); len(evs) != 1 || !strings.HasPrefix(evs[0], "lease-lost 10.77.0.150/24 @30m0s") {
				t.Errorf("events %v", evs)
			}
		})
	}
}

// TestStopBound: stopping removes the link-local address; late timers do
// nothing.
func TestStopBound(t *testing.T) {
	r := claimNoDHCP(t, Timing{})
	c := r.m.cand
	r.m.stop()
	wantSame(t, "ops", []string{"clear-ll " + c.String()}, r.link.takeOps())
	wantSame(t, "events", []string{"released " + ll(c) + " @10s"}, r.took())
	r.arp(announcement(peerMAC, c))
	r.advance(time.Hour)
	if ops, s, evs := r.link.takeOps(), r.link.takeSent(), r.took(); len(ops)+len(s)+len(evs) != 0 || r.clk.Pending() != 0 {
		t.Errorf("after stop: %v %v %v, %d timers", ops, s, evs, r.clk.Pending())
	}
}

// TestSetFails: the kernel refusing an address is fatal.
func TestSetFails(t *testing.T) {
	r := newRig(t, &Agent{NoDHCP: true})
	r.link.failSet = errors.New("EPERM")
	r.advance(time.Minute)
	if len(r.fatal) != 1 || r.fatal[0].Error() != "EPERM" {
		t.Errorf("fatal = %v", r.fatal)
	}
	if r.clk.Pending() != 0 {
		t.Errorf("%d timers left", r.clk.Pending())
	}
}

// TestSlowSubscriber: a subscriber that never reads costs events, counted,
// never the agent's progress.
func TestSlowSubscriber(t *testing.T) {
	a := &Agent{NoDHCP: true, Timing: Timing{MaxConflicts: 1000}}
	slow, _ := a.Subscribe(0)
	r := newRig(t, a)
	for range 40 { // conflicts while probing: two events each
		r.advance(time.Second)
		r.arp(arpPacket{Op: arpReply, SenderHW: peerMAC, SenderIP: r.m.cand})
	}
	if len(slow) != 16 || a.Dropped() == 0 {
		t.Errorf("slow subscriber holds %d events, %d dropped", len(slow), a.Dropped())
	}
	if len(r.took()) < 40 {
		t.Error("the fast subscriber lost events")
	}
}

// TestRun drives Run on a fake link: events flow, packets from the link
// reach the machine, and ending the context removes the address and closes
// the subscriptions.
func TestRun(t *testing.T) {
	clk := clock.NewFake(epoch)
	fl := newFakeLink(clk)
	a := &Agent{NoDHCP: true, clock: clk, randN: func(int64) int64 { return 0 },
		open: func(*Agent) (link, error) { return fl, nil }}
	events, _ := a.Subscribe(100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	if ev := <-events; ev.Type != EventProbing {
		t.Fatalf("first event %v", ev.Type)
	}
	if err := a.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v", err)
	}
	fl.in <- arpPacket{Op: arpReply, SenderHW: peerMAC, SenderIP: cand(0)} // through the reader goroutine
	if ev := <-events; ev.Type != EventConflict {
		t.Fatalf("event %v, want conflict", ev.Type)
	}
	<-events // probing cand(1)
	clk.Advance(time.Minute)
	ev := <-events
	if ev.Type != EventClaimed || a.Addr() != netip.PrefixFrom(cand(1), 16) || ev.Current != a.Addr() {
		t.Fatalf("event %v %v, Addr() %v", ev.Type, ev.Addr, a.Addr())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	var rest []EventType
	for ev := range events { // closed by Run
		rest = append(rest, ev.Type)
	}
	if !slices.Equal(rest, []EventType{EventReleased}) || a.Addr().IsValid() {
		t.Errorf("after cancel: %v, Addr() %v", rest, a.Addr())
	}
	if !fl.closed() {
		t.Error("link left open")
	}
}

func TestRunErrors(t *testing.T) {
	a := &Agent{First: netip.MustParseAddr("169.254.0.1"), open: func(*Agent) (link, error) { t.Fatal("opened"); return nil, nil }}
	if err := a.Run(context.Background()); err == nil {
		t.Error("Run with First outside the range succeeded")
	}
	fl := newFakeLink(clock.NewFake(epoch))
	fl.failSet = errors.New("EPERM")
	a = &Agent{NoDHCP: true, clock: fl.clk, open: func(*Agent) (link, error) { return fl, nil }}
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background()) }()
	for fl.clk.Pending() == 0 {
		time.Sleep(time.Millisecond)
	}
	fl.clk.Advance(time.Minute)
	if err := <-done; err == nil || err.Error() != "EPERM" {
		t.Errorf("Run = %v, want EPERM", err)
	}
}

func TestEventTypeString(t *testing.T) {
	for typ := EventProbing; typ <= EventReleased; typ++ {
		if s := typ.String(); strings.HasPrefix(s, "EventType(") {
			t.Errorf("%d has no name", typ)
		}
	}
	if s := EventType(99).String(); s != "EventType(99)" {
		t.Error(s)
	}
}

// TestRenewalRebind: renewals ask the lease's server until T2, the server's
// value when it sent one, and any server from then on; a lease that names no
// server is renewed by broadcast from the start.
func TestRenewalRebind(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server bool
		rebind time.Duration
		want   []string
	}{
		{"server's T2", true, 6 * time.Minute, []string{"renew", "rebind", "rebind", "rebind"}},
		{"default T2", true, 0, []string{"renew", "renew", "rebind", "rebind"}},
		{"no server", false, 0, []string{"rebind", "rebind", "rebind", "rebind"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, &Agent{})
			l := testLease("10.77.0.150/24", 10*time.Minute)
			l.Rebind = tc.rebind
			if !tc.server {
				l.Server = netip.Addr{}
			}
			r.link.answer(t, l, nil)
			r.took()
			r.link.takeOps()
			r.link.auto = func(*Lease) (*Lease, error) { return nil, errNoSrv }
			r.link.autoDelay = time.Second
			r.advance(10*time.Minute - time.Second)
			var got []string
			for _, op := range r.link.takeOps() {
				if f := strings.Fields(op); len(f) == 3 && f[0] == "dhcp" {
					got = append(got, f[1])
				}
			}
			wantSame(t, "renewals", tc.want, got)
		})
	}
}

// TestLinkUpBound: when the link comes back, the claimed address is probed
// again while it stays configured (Current keeps it), then announced again;
// a conflict during those probes gives it up for the next candidate.
func TestLinkUpBound(t *testing.T) {
	c := cand(0)
	t.Run("no conflict", func(t *testing.T) {
		r := claimNoDHCP(t, Timing{})
		r.m.linkUp()
		r.advance(10 * time.Second)
		wantSame(t, "events", []string{
			"probing " + ll(c) + " cur=" + ll(c) + " @10s",
			"claimed " + ll(c) + " cur=" + ll(c) + " @14s",
		}, r.took())
		wantSame(t, "ops", []string{"set-ll " + c.String()}, r.link.takeOps())
		var got []arpPacket
		for _, s := range r.link.takeSent() {
			got = append(got, s.p)
		}
		want := []arpPacket{probe(testMAC, c), probe(testMAC, c), probe(testMAC, c),
			announcement(testMAC, c), announcement(testMAC, c)}
		if !slices.Equal(got, want) {
			t.Errorf("sent %v, want 3 probes and 2 announcements", got)
		}
		if r.a.Addr() != netip.PrefixFrom(c, 16) {
			t.Errorf("Addr() = %v", r.a.Addr())
		}
	})
	t.Run("conflict", func(t *testing.T) {
		r := claimNoDHCP(t, Timing{})
		r.m.linkUp()
		r.advance(time.Second) // the first probe is out
		r.arp(arpPacket{Op: arpReply, SenderHW: peerMAC, SenderIP: c, TargetIP: c})
		wantSame(t, "events", []string{
			"probing " + ll(c) + " cur=" + ll(c) + " @10s",
			"conflict " + ll(c) + " cur=" + ll(c) + " @11s",
			"retreated " + ll(c) + " @11s",
			"probing " + ll(cand(1)) + " @11s",
		}, r.took())
		wantSame(t, "ops", []string{"clear-ll " + c.String()}, r.link.takeOps())
		r.advance(10 * time.Second)
		if evs := r.took(); len(evs) != 1 || !strings.HasPrefix(evs[0], "claimed "+ll(cand(1))) {
			t.Errorf("events %v, want the second candidate claimed", evs)
		}
	})
	t.Run("stop while probing again", func(t *testing.T) {
		r := claimNoDHCP(t, Timing{})
		r.m.linkUp()
		r.took()
		r.m.stop()
		wantSame(t, "ops", []string{"clear-ll " + c.String()}, r.link.takeOps())
		wantSame(t, "events", []string{"released " + ll(c) + " @10s"}, r.took())
	})
}

// TestLinkUpProbing: probes sent while the link was down count for nothing,
// so they start over.
func TestLinkUpProbing(t *testing.T) {
	r := newRig(t, &Agent{NoDHCP: true})
	r.advance(1500 * time.Millisecond) // probes at 0 and 1 s
	r.m.linkUp()
	r.advance(10 * time.Second)
	n := 0
	for _, s := range r.link.takeSent() {
		if s.p == probe(testMAC, cand(0)) {
			n++
		}
	}
	if n != 5 {
		t.Errorf("%d probes, want 2 before the link came back and 3 after", n)
	}
	if evs := r.took(); len(evs) != 3 || !strings.HasPrefix(evs[2], "claimed "+ll(cand(0))+" cur="+ll(cand(0))+" @5.5s") {
		t.Errorf("events %v", evs)
	}
}

// TestLinkUpDHCP: with a lease, the link coming back checks it at once by
// broadcast; on link-local, a DHCP retry that was waiting is made at once.
func TestLinkUpDHCP(t *testing.T) {
	t.Run("lease", func(t *testing.T) {
		r := newRig(t, &Agent{})
		r.link.answer(t, testLease("10.77.0.150/24", time.Hour), nil)
		r.advance(5 * time.Minute)
		r.took()
		r.link.takeOps()
		r.m.linkUp()
		wantSame(t, "ops", []string{"dhcp rebind 10.77.0.150/24"}, r.link.takeOps())
		r.link.answer(t, testLease("10.77.0.150/24", time.Hour), nil)
		if evs := r.took(); len(evs) != 1 || !strings.HasPrefix(evs[0], "renewed 10.77.0.150/24") {
			t.Errorf("events %v", evs)
		}
		wantSame(t, "ops", []string{"set-lease 10.77.0.150/24 1h0m0s"}, r.link.takeOps())
		// The next renewal is at T1 of the new lease, not of the old one.
		r.advance(29 * time.Minute)
		if ops := r.link.takeOps(); len(ops) != 0 {
			t.Errorf("ops before the new T1: %v", ops)
		}
	})
	t.Run("link-local", func(t *testing.T) {
		r := newRig(t, &Agent{})
		r.link.answer(t, nil, errNoSrv)
		r.advance(10 * time.Second) // claimed; the retry waits DHCPRetry
		r.link.takeOps()
		r.m.linkUp()
		if ops := r.link.takeOps(); len(ops) != 1 || ops[0] != "dhcp request" {
			t.Errorf("ops %v, want a DHCP request at once", ops)
		}
	})
}

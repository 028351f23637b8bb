package ssdp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seedb72249f9/upnp/internal/clock"
)

// A Device is one device of a tree to advertise: a root device or an embedded one.
type Device struct {
	UDN          string   // "uuid:..."; required
	Type         string   // device type, e.g. "urn:schemas-upnp-org:device:BinaryLight:1"; required
	ServiceTypes []string // types of the services this device holds; duplicates are advertised once
	Devices      []Device // embedded devices
}

// notification is one (NT, USN) pair of the advertisement set.
type notification struct {
	nt, usn string
	udn     string // the device it belongs to
	target  Target
}

// advertisementSet returns the 3+2d+k notifications UDA 1.1 section 1.2 asks of
// a root device with d embedded devices and k distinct service types.
func advertisementSet(root Device) []notification {
	set := []notification{{nt: RootDevice, usn: root.UDN + "::" + RootDevice, udn: root.UDN}}
	var walk func(d Device)
	walk = func(d Device) {
		set = append(set,
			notification{nt: d.UDN, usn: d.UDN, udn: d.UDN},
			notification{nt: d.Type, usn: d.UDN + "::" + d.Type, udn: d.UDN})
		seen := map[string]bool{}
		for _, st := range d.ServiceTypes {
			if seen[st] {
				continue
			}
			seen[st] = true
			set = append(set, notification{nt: st, usn: d.UDN + "::" + st, udn: d.UDN})
		}
		for _, e := range d.Devices {
			walk(e)
		}
	}
	walk(root)
	for i := range set {
		set[i].target = ParseTarget(set[i].nt)
	}
	return set
}

// A Server advertises root devices with SSDP and answers searches for them:
// the device half of UDA 1.1/2.0 section 1. It sends ssdp:alive at start and
// before half of max-age has passed, ssdp:update and a new BOOTID when the
// interfaces it serves gain addresses, and ssdp:byebye on Shutdown.
//
// Searches are answered only from sources inside a subnet of the interface
// they arrived on, at most RateLimit per second per source, after a random delay
// within MX that never holds up other work.
//
// Set the fields before ListenAndServe and do not change them afterwards; use
// SetConfigID to announce a changed description. A Server is safe for
// concurrent use by its methods.
type Server struct {
	// Devices are the root devices to advertise. Required.
	Devices []Device
	// Location returns the LOCATION URL of the description as seen from a peer
	// that reaches us at local, one of our addresses. IPv6 link-local addresses
	// come without a zone: the zone is the peer's business. Required.
	Location func(local netip.Addr) string

	// Interfaces names the interfaces to serve; nil means every interface that
	// is up, multicast-capable and not loopback, including ones that appear later.
	Interfaces []string
	// Network is "udp4", "udp6", or "" for both.
	Network string
	// Product is the product token of the SERVER header ("name/version");
	// zero means "upnp-go/0.1".
	Product string
	// MaxAge is the CACHE-CONTROL max-age; zero means 1800 s.
	MaxAge time.Duration
	// BootID is BOOTID.UPNP.ORG at start; it must grow across restarts. Zero
	// means the current Unix time in seconds, which does for restarts in
	// different seconds; a device that may restart faster (a crash loop)
	// should keep a counter instead (device.Server.BootIDFile), or control
	// points will not see the restart as a reboot.
	BootID int32
	// ConfigID is CONFIGID.UPNP.ORG (0 to 16777215): the configId of the descriptions.
	ConfigID int32
	// SearchPort, when non-zero, is an extra port (49152-65535) on which unicast
	// M-SEARCH are answered and which is announced as SEARCHPORT.UPNP.ORG.
	SearchPort int
	// TTL is the multicast TTL and hop limit; zero means DefaultTTL (2).
	TTL int
	// Repeat is how many times each announcement is sent; zero means 2.
	Repeat int
	// RateLimit is how many searches per second one source may have answered,
	// with bursts up to twice that; zero means 10, negative means no limit.
	RateLimit int
	// MaxPending caps the answers waiting for their random delay; searches
	// beyond it are dropped. Zero means 4096.
	MaxPending int
	// InterfacePoll is how often interfaces and addresses are re-read; zero
	// means 5 s, negative means never.
	InterfacePoll time.Duration
	// BootIDChanged, when set, is called with the new BOOTID.UPNP.ORG when
	// the server moves to it (it rejoined the network: an interface or
	// address appeared again, UDA 1.2.4), before any message carries it. A
	// device that keeps its BOOTID across restarts saves it here, so that
	// the next start announces a larger one. It runs with the server's lock
	// held and must not call the Server's methods.
	BootIDChanged func(bootID int32)
	// Logger receives debug lines about dropped input; nil means none.
	Logger *slog.Logger

	clock clock.Clock // nil: real time; tests inject a fake one

	mu       sync.Mutex
	running  bool
	closed   bool
	conns    []*conn       // sockets on Port, one per family: they join the groups and send
	search   []*conn       // sockets on SearchPort, unicast searches only
	links    map[int]*link // by ifindex
	bootID   int32
	configID int32
	sets     [][]notification
	timers   map[clock.Timer]struct{}
	started  bool // the first announcement has been scheduled
	// announced: an ssdp:alive has gone out on some address; until then an
	// interface that appears is a first join, not a rejoin (no new BOOTID)
	announced bool
	limiter   limiter
	pending   atomic.Int64
	wg        sync.WaitGroup
	stats     serverStats
	done      chan struct{}
}

// ServerStats counts what a Server did with the searches it received.
type ServerStats struct {
	Answered     uint64 // searches answered
	Responses    uint64 // response datagrams sent
	Notifies     uint64 // NOTIFY datagrams sent
	RateLimited  uint64 // searches dropped by the per-source rate limit
	Foreign      uint64 // searches dropped because the source was outside the interface's subnets
	Invalid      uint64 // datagrams that did not parse, or searches without MAN or MX
	Overloaded   uint64 // searches dropped because MaxPending answers were waiting
	SendFailures uint64 // datagrams the kernel refused
}

type serverStats struct {
	answered, responses, notifies, rateLimited, foreign, invalid, overloaded, sendFailures atomic.Uint64
}

// Stats returns the counters so far.
func (s *Server) Stats() ServerStats {
	t := &s.stats
	return ServerStats{t.answered.Load(), t.responses.Load(), t.notifies.Load(), t.rateLimited.Load(),
		t.foreign.Load(), t.invalid.Load(), t.overloaded.Load(), t.sendFailures.Load()}
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Server) maxAge() int {
	if s.MaxAge <= 0 {
		return 1800
	}
	return int(s.MaxAge / time.Second)
}

func (s *Server) serverHeader() string {
	p := s.Product
	if p == "" {
		p = "upnp-go/0.1"
	}
	return runtime.GOOS + "/1.0 UPnP/2.0 " + p
}

// ListenAndServe opens the SSDP sockets on the chosen interfaces, announces the
// devices and answers searches until ctx is done (then it sends ssdp:byebye and
// returns nil) or Shutdown is called (then it returns ErrServerClosed). It
// returns an error at once when the configuration is invalid or a named
// interface does not exist. When no interface is usable yet (all down, or
// none with an address in the served families), it waits for one and
// announces as soon as it appears, with the BOOTID it started with; with
// InterfacePoll negative it returns ErrNoInterface instead. An interface or
// address that appears after the first announcement is a rejoin: the server
// announces it with the next BOOTID (UDA 1.2.4).
func (s *Server) ListenAndServe(ctx context.Context) error {
	if err := s.start(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return s.Shutdown(sctx)
	case <-s.done:
		return ErrServerClosed
	}
}

func (s *Server) start() error {
	if len(s.Devices) == 0 || s.Location == nil {
		return errors.New("ssdp: Server needs Devices and Location")
	}
	for _, d := range s.Devices {
		if d.UDN == "" || d.Type == "" {
			return errors.New("ssdp: every Device needs UDN and Type")
		}
	}
	if s.ConfigID < 0 || s.ConfigID > 1<<24-1 {
		return fmt.Errorf("ssdp: ConfigID %d outside 0-16777215", s.ConfigID)
	}
	if s.SearchPort != 0 && (s.SearchPort < 49152 || s.SearchPort > 65535) {
		return fmt.Errorf("ssdp: SearchPort %d outside 49152-65535", s.SearchPort)
	}
	v4, v6, err := families(s.Network)
	if err != nil {
		return err
	}
	// A misspelt interface name fails before any socket is bound.
	if _, err := links(s.Interfaces); err != nil {
		return err
	}
	s.mu.Lock()
	if s.running || s.closed {
		s.mu.Unlock()
		return errors.New("ssdp: Server already started")
	}
	s.running = true
	s.clock = clock.Or(s.clock)
	s.done = make(chan struct{})
	s.bootID = s.BootID
	if s.bootID == 0 {
		s.bootID = int32(s.clock.Now().Unix() & 0x7fffffff)
	}
	s.configID = s.ConfigID
	s.links = map[int]*link{}
	s.timers = map[clock.Timer]struct{}{}
	s.limiter = limiter{rate: float64(s.RateLimit), max: 4096, now: s.clock.Now}
	if s.RateLimit == 0 {
		s.limiter.rate = 10
	}
	for _, d := range s.Devices {
		s.sets = append(s.sets, advertisementSet(d))
	}
	s.mu.Unlock()

	fams := []bool{}
	if v4 {
		fams = append(fams, false)
	}
	if v6 {
		fams = append(fams, true)
	}
	for _, fam := range fams {
		c, err := listenUDP(fam, Port, s.TTL)
		if err != nil {
			s.closeConns()
			return err
		}
		s.conns = append(s.conns, c)
		if s.SearchPort != 0 {
			c, err := listenUDP(fam, s.SearchPort, s.TTL)
			if err != nil {
				s.closeConns()
				return err
			}
			s.search = append(s.search, c)
		}
	}
	if err := s.refreshLinks(); err != nil {
		s.closeConns()
		return err
	}
	s.mu.Lock()
	if !s.hasAddress() {
		if s.poll() < 0 {
			s.mu.Unlock()
			s.closeConns()
			return fmt.Errorf("ssdp: %w", ErrNoInterface)
		}
		s.logger().Info("ssdp: no usable interface yet; waiting for one", "interfaces", s.Interfaces)
	}
	s.started = true
	s.after(time.Duration(rand.Int64N(int64(100*time.Millisecond))), func() { s.announce(s.repeat()) })
	if p := s.poll(); p > 0 {
		s.schedulePoll(p)
	}
	s.mu.Unlock()
	for _, c := range append(s.conns, s.search...) {
		s.wg.Add(1)
		go s.readLoop(c)
	}
	return nil
}

func (s *Server) repeat() int {
	if s.Repeat <= 0 {
		return 2
	}
	return s.Repeat
}

func (s *Server) poll() time.Duration {
	if s.InterfacePoll == 0 {
		return 5 * time.Second
	}
	return s.InterfacePoll
}

func (s *Server) schedulePoll(p time.Duration) {
	s.after(p, func() {
		if err := s.refreshLinks(); err != nil {
			s.logger().Debug("ssdp: interface poll", "err", err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			s.schedulePoll(p)
		}
	})
}

// after schedules f on the server's clock; s.mu must be held. Timers are
// forgotten once they fire and stopped by Shutdown.
func (s *Server) after(d time.Duration, f func()) {
	if s.closed {
		return
	}
	var t clock.Timer
	t = s.clock.AfterFunc(d, func() {
		s.mu.Lock()
		_, live := s.timers[t]
		delete(s.timers, t)
		s.mu.Unlock()
		if live {
			f()
		}
	})
	s.timers[t] = struct{}{}
}

func (s *Server) closeConns() {
	for _, c := range append(s.conns, s.search...) {
		c.Close()
	}
}

// refreshLinks re-reads the interfaces, joins new ones, leaves vanished ones
// and announces address changes (UDA 1.1 section 1.2.4: ssdp:update on the
// links that stay, a new BOOTID, then ssdp:alive everywhere).
func (s *Server) refreshLinks() error {
	cur, err := links(s.Interfaces)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	next := map[int]*link{}
	var changed, lost []*link
	for _, l := range cur {
		next[l.ifi.Index] = l
		old, ok := s.links[l.ifi.Index]
		if ok && old.equal(l) {
			continue
		}
		if ok {
			lost = append(lost, old)
		}
		changed = append(changed, l)
		for _, c := range s.conns {
			if err := c.join(&l.ifi); err != nil && len(l.prefixes(c.v6)) > 0 {
				s.logger().Debug("ssdp: join", "err", err)
			}
		}
	}
	for idx, old := range s.links {
		if _, ok := next[idx]; !ok {
			for _, c := range s.conns {
				c.leave(&old.ifi)
			}
		}
	}
	var kept []*link
	for idx, l := range next {
		if _, ok := s.links[idx]; ok && !containsLink(changed, l) {
			kept = append(kept, l)
		}
	}
	s.links = next
	if !s.started || len(changed) == 0 {
		return nil
	}
	s.logger().Debug("ssdp: interfaces changed", "changed", linkNames(changed), "lost", linkNames(lost), "kept", linkNames(kept))
	if !s.announced {
		// The first interface with an address: a first join, announced
		// with the BOOTID the server started with.
		s.scheduleAnnounce(s.repeat())
		return nil
	}
	// Announce the change: byebye where an address went away, update on the
	// links that stay, then a fresh boot everywhere.
	if s.BootIDChanged != nil {
		s.BootIDChanged(s.bootID + 1)
	}
	for _, l := range lost {
		s.sendSet(l, ByeBye, 0)
	}
	if len(kept) > 0 {
		for _, l := range kept {
			s.sendSet(l, Update, s.bootID+1)
		}
	}
	s.bootID++
	s.scheduleAnnounce(s.repeat())
	return nil
}

func linkNames(ls []*link) []string {
	var out []string
	for _, l := range ls {
		out = append(out, fmt.Sprintf("%s%v%v", l.ifi.Name, l.v4, l.v6))
	}
	return out
}

func containsLink(ls []*link, l *link) bool {
	for _, x := range ls {
		if x.ifi.Index == l.ifi.Index {
			return true
		}
	}
	return false
}

// scheduleAnnounce sends the alive set now and n-1 more times, 300 ms apart;
// s.mu must be held.
func (s *Server) scheduleAnnounce(n int) {
	for i := range n {
		s.after(time.Duration(i)*300*time.Millisecond, func() { s.announceOnce() })
	}
}

// announce sends the alive set n times, then schedules the next
// re-advertisement at a random moment between a quarter and a half of max-age.
func (s *Server) announce(n int) {
	s.announceOnce()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 1; i < n; i++ {
		s.after(time.Duration(i)*300*time.Millisecond, s.announceOnce)
	}
	ma := time.Duration(s.maxAge()) * time.Second
	next := ma/4 + time.Duration(rand.Int64N(int64(ma/4)))
	s.after(next, func() { s.announce(s.repeat()) })
}

func (s *Server) announceOnce() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return // a timer that fired as Shutdown ran: no alive after the byebye
	}
	for _, l := range s.links {
		s.sendSet(l, Alive, 0)
	}
	s.announced = s.announced || s.hasAddress()
}

// hasAddress reports whether some link has an address in a family the
// server serves, so that an announcement reaches somewhere; s.mu held or
// not yet shared.
func (s *Server) hasAddress() bool {
	for _, l := range s.links {
		for _, c := range s.conns {
			if len(l.prefixes(c.v6)) > 0 {
				return true
			}
		}
	}
	return false
}

// SetConfigID records that the descriptions changed and announces the new
// CONFIGID.UPNP.ORG with a round of ssdp:alive.
func (s *Server) SetConfigID(id int32) error {
	if id < 0 || id > 1<<24-1 {
		return fmt.Errorf("ssdp: ConfigID %d outside 0-16777215", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.configID = id
	if s.started && !s.closed {
		for _, l := range s.links {
			s.sendSet(l, Alive, 0)
		}
		for i := 1; i < s.repeat(); i++ {
			s.after(time.Duration(i)*300*time.Millisecond, s.announceOnce)
		}
	}
	return nil
}

// CurrentBootID returns the BOOTID.UPNP.ORG the server currently announces.
func (s *Server) CurrentBootID() int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bootID
}

// sendSet multicasts the whole advertisement set with the given NTS on one link,
// in every family that has an address there; s.mu must be held.
func (s *Server) sendSet(l *link, nts string, nextBoot int32) {
	buf := make([]byte, 0, 512)
	for _, c := range s.conns {
		local, ok := l.local(c.v6, netip.Addr{})
		if !ok {
			continue
		}
		loc := s.Location(local.WithZone(""))
		groups := []netip.AddrPort{GroupV4}
		if c.v6 {
			groups = []netip.AddrPort{GroupV6Link}
			if !local.IsLinkLocalUnicast() {
				groups = append(groups, GroupV6Site)
			}
		}
		for _, g := range groups {
			for _, set := range s.sets {
				for _, n := range set {
					m := s.notify(n, nts, loc, g, nextBoot)
					var err error
					buf, err = m.Append(buf[:0])
					if err == nil {
						src := local
						if nts == ByeBye {
							// A byebye names no LOCATION, and it may be said
							// for an address that is already gone: let the
							// kernel pick the source.
							src = netip.Addr{}
						}
						err = c.writeMulticast(buf, &l.ifi, src, g)
					}
					if err != nil {
						s.stats.sendFailures.Add(1)
						s.logger().Debug("ssdp: notify", "iface", l.ifi.Name, "err", err)
						continue
					}
					s.stats.notifies.Add(1)
				}
			}
		}
	}
}

func hostHeader(g netip.AddrPort) string {
	if g.Addr().Is4() {
		return g.String()
	}
	switch g.Addr() {
	case GroupV6Link.Addr():
		return "[FF02::C]:1900"
	case GroupV6Site.Addr():
		return "[FF05::C]:1900"
	}
	return g.String()
}

func (s *Server) notify(n notification, nts, loc string, g netip.AddrPort, nextBoot int32) *Message {
	m := &Message{Kind: KindNotify, Host: hostHeader(g), NT: n.nt, NTS: nts, USN: n.usn,
		BootID: s.bootID, ConfigID: s.configID, NextBootID: -1, SearchPort: s.SearchPort}
	switch nts {
	case Alive:
		m.MaxAge = s.maxAge()
		m.Location = loc
		m.Server = s.serverHeader()
	case Update:
		m.Location = loc
		m.NextBootID = nextBoot
	case ByeBye:
		m.SearchPort = 0
	}
	return m
}

// Shutdown sends ssdp:byebye for every advertisement on every interface, stops
// answering and closes the sockets. ctx bounds how long it waits for the
// reading goroutines. It returns ctx's error if that runs out first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.running || s.closed {
		s.closed = true
		s.mu.Unlock()
		return nil
	}
	for t := range s.timers {
		t.Stop()
	}
	s.timers = nil
	if s.started {
		for range 2 {
			for _, l := range s.links {
				s.sendSet(l, ByeBye, 0)
			}
		}
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.closeConns()
	waited := make(chan struct{})
	go func() { s.wg.Wait(); close(waited) }()
	select {
	case <-waited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) readLoop(c *conn) {
	defer s.wg.Done()
	buf := make([]byte, MaxDatagram+1)
	// Searches are parsed without an allocation each: handle keeps no
	// string of m past its return (answers copy the ST they keep).
	var p Parser
	var m Message
	for {
		n, src, dst, ifindex, err := c.read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.logger().Debug("ssdp: read", "err", err)
			continue
		}
		if n > MaxDatagram {
			s.stats.invalid.Add(1)
			continue
		}
		s.handle(c, &p, &m, buf[:n], src, dst, ifindex)
	}
}

// handle answers one datagram if it is a search we should answer, parsing it
// with p into m.
func (s *Server) handle(c *conn, p *Parser, m *Message, b []byte, src netip.AddrPort, dst netip.Addr, ifindex int) {
	if len(b) < 9 || string(b[:9]) != "M-SEARCH " {
		return // NOTIFY from other devices, or noise: not ours to answer
	}
	if err := p.Parse(m, b); err != nil {
		s.stats.invalid.Add(1)
		s.logger().Debug("ssdp: bad search", "from", src, "err", err)
		return
	}
	multicast := !dst.IsValid() || dst.IsMulticast()
	if m.MAN != Discover && m.MAN != "ssdp:discover" {
		s.stats.invalid.Add(1)
		return
	}
	mx := m.MX
	if multicast {
		if mx < 1 {
			s.stats.invalid.Add(1)
			return
		}
		mx = min(mx, 5)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	l := s.arrivalLink(ifindex, src.Addr())
	if l == nil || !l.contains(src.Addr()) {
		s.mu.Unlock()
		s.stats.foreign.Add(1)
		s.logger().Debug("ssdp: search from outside the interface's subnets", "from", src)
		return
	}
	if !s.limiter.allow(src.Addr()) {
		s.mu.Unlock()
		s.stats.rateLimited.Add(1)
		return
	}
	// strings.Clone: an answer may keep the ST, which must not hold the
	// Parser's buffer for the seconds it waits.
	answers := s.answers(ParseTarget(strings.Clone(m.ST)))
	if len(answers) == 0 {
		s.mu.Unlock()
		return
	}
	local, ok := l.local(c.v6, src.Addr())
	if !ok {
		s.mu.Unlock()
		return
	}
	maxPending := int64(s.MaxPending)
	if maxPending <= 0 {
		maxPending = 4096
	}
	if s.pending.Load()+int64(len(answers)) > maxPending {
		s.mu.Unlock()
		s.stats.overloaded.Add(1)
		return
	}
	s.stats.answered.Add(1)
	loc := s.Location(local.WithZone(""))
	to := src
	if src.Addr().Is6() && src.Addr().IsLinkLocalUnicast() && src.Addr().Zone() == "" {
		to = netip.AddrPortFrom(src.Addr().WithZone(l.ifi.Name), src.Port())
	}
	for _, a := range answers {
		var delay time.Duration
		if multicast {
			delay = time.Duration(rand.Int64N(int64(time.Duration(mx) * time.Second)))
		}
		resp := s.response(a, loc)
		s.pending.Add(1)
		s.after(delay, func() {
			defer s.pending.Add(-1)
			b, err := resp.Append(make([]byte, 0, 512))
			if err == nil {
				err = c.writeTo(b, to)
			}
			if err != nil {
				s.stats.sendFailures.Add(1)
				return
			}
			s.stats.responses.Add(1)
		})
	}
	s.mu.Unlock()
}

// arrivalLink finds the link a datagram arrived on: by interface index, or,
// where the platform does not say, the link whose subnets hold the source.
func (s *Server) arrivalLink(ifindex int, src netip.Addr) *link {
	if ifindex != 0 {
		return s.links[ifindex]
	}
	for _, l := range s.links {
		if l.contains(src) {
			return l
		}
	}
	return nil
}

// answer is one response to send: the ST to answer with and its USN.
type answer struct{ st, usn string }

// answers lists the responses a search for t gets (UDA 1.1 section 1.3.2): the
// whole set for ssdp:all; otherwise each matching advertisement, answering a
// search for an older version of a type with the version searched for.
func (s *Server) answers(t Target) []answer {
	var out []answer
	for _, set := range s.sets {
		for _, n := range set {
			switch {
			case t.Kind == TargetAll:
				out = append(out, answer{n.nt, n.usn})
			case t.Kind == TargetDevice || t.Kind == TargetService:
				if n.target.Kind == t.Kind && t.Matches(n.target) {
					out = append(out, answer{t.Raw, n.udn + "::" + t.Raw})
				}
			case t.Kind == TargetRoot || t.Kind == TargetUUID:
				// In any case, as Matches compares them: a UUID is hex.
				if n.target.Kind == t.Kind && t.Matches(n.target) {
					out = append(out, answer{n.nt, n.usn})
				}
			case t.Raw != "" && t.Raw == n.nt:
				out = append(out, answer{n.nt, n.usn})
			}
		}
	}
	return out
}

func (s *Server) response(a answer, loc string) *Message {
	return &Message{Kind: KindResponse, MaxAge: s.maxAge(), Date: s.clock.Now().UTC().Format(http.TimeFormat),
		EXT: true, Location: loc, Server: s.serverHeader(), ST: a.st, USN: a.usn,
		BootID: s.bootID, ConfigID: s.configID, NextBootID: -1, SearchPort: s.SearchPort}
}

// limiter is a per-source token bucket with a bounded table.
type limiter struct {
	rate    float64 // tokens per second; <0: unlimited
	max     int
	now     func() time.Time
	buckets map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func (l *limiter) allow(src netip.Addr) bool {
	if l.rate < 0 {
		return true
	}
	now := l.now()
	burst := 2 * l.rate
	if l.buckets == nil {
		l.buckets = map[netip.Addr]*bucket{}
	}
	b := l.buckets[src]
	if b == nil {
		if len(l.buckets) >= l.max {
			// Forget sources whose bucket has refilled: they are idle.
			for a, x := range l.buckets {
				if x.tokens+now.Sub(x.last).Seconds()*l.rate >= burst {
					delete(l.buckets, a)
				}
			}
			if len(l.buckets) >= l.max {
				return false
			}
		}
		b = &bucket{tokens: burst, last: now}
		l.buckets[src] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

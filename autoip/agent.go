package autoip

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/seedb72249f9/upnp/internal/clock"
)

// LinkLocal is the IPv4 link-local prefix, 169.254.0.0/16 (RFC 3927). Its
// first and last 256 addresses are reserved; candidates come from
// 169.254.1.0-169.254.254.255.
var LinkLocal = netip.MustParsePrefix("169.254.0.0/16")

// Candidate returns the n-th link-local address (n from 0) in the sequence
// seeded by mac: always the same for the same mac and n, so a host tries the
// same addresses after a restart, and spread over the 65024 usable
// addresses, so two hosts rarely start with the same one (RFC 3927 section
// 2.1). It is safe for concurrent use.
func Candidate(mac net.HardwareAddr, n int) netip.Addr {
	h := sha256.New()
	h.Write(mac)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
	v := binary.BigEndian.Uint32(h.Sum(nil)) % (254 * 256)
	return netip.AddrFrom4([4]byte{169, 254, byte(1 + v/256), byte(v % 256)})
}

// usable reports whether a is in 169.254.1.0-169.254.254.255.
func usable(a netip.Addr) bool {
	if !a.Is4() || !LinkLocal.Contains(a) {
		return false
	}
	b := a.As4()
	return b[2] != 0 && b[2] != 255
}

// Timing holds the RFC 3927 constants (section 9) and the DHCP times. Each
// zero field means the default shown; tests shrink them.
type Timing struct {
	ProbeWait         time.Duration // longest random wait before the first probe; 1 s
	ProbeNum          int           // probes per candidate; 3
	ProbeMin          time.Duration // least time between probes; 1 s
	ProbeMax          time.Duration // most time between probes; 2 s
	AnnounceWait      time.Duration // from the last probe to the claim; 2 s
	AnnounceNum       int           // announcements of a claimed address; 2
	AnnounceInterval  time.Duration // between announcements; 2 s
	MaxConflicts      int           // conflicts before rate limiting; 10
	RateLimitInterval time.Duration // between attempts once rate limited; 60 s
	DefendInterval    time.Duration // a second conflict within it gives the address up; 10 s

	// DHCPTimeout is how long one attempt to get a lease waits for a
	// server, at start and on each retry; 10 s.
	DHCPTimeout time.Duration
	// DHCPRetry is the time between attempts to get a lease while the
	// agent has none; 5 min.
	DHCPRetry time.Duration
}

// withDefaults returns t with its zero fields set to the defaults.
func (t Timing) withDefaults() Timing {
	dur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	num := func(n *int, def int) {
		if *n <= 0 {
			*n = def
		}
	}
	dur(&t.ProbeWait, time.Second)
	num(&t.ProbeNum, 3)
	dur(&t.ProbeMin, time.Second)
	dur(&t.ProbeMax, 2*time.Second)
	if t.ProbeMax < t.ProbeMin {
		t.ProbeMax = t.ProbeMin
	}
	dur(&t.AnnounceWait, 2*time.Second)
	num(&t.AnnounceNum, 2)
	dur(&t.AnnounceInterval, 2*time.Second)
	num(&t.MaxConflicts, 10)
	dur(&t.RateLimitInterval, time.Minute)
	dur(&t.DefendInterval, 10*time.Second)
	dur(&t.DHCPTimeout, 10*time.Second)
	dur(&t.DHCPRetry, 5*time.Minute)
	return t
}

// Agent keeps an IPv4 address on one interface: a DHCP lease when a server
// answers, else an RFC 3927 link-local address. Set its fields, then call
// Run; they must not change while it runs. Subscribe, Addr and Dropped are
// safe for concurrent use, also while Run runs.
type Agent struct {
	// Interface is the interface's name, such as "eth0". Required.
	Interface string

	// NoDHCP skips DHCP: the agent claims a link-local address at once and
	// never asks for a lease. False means DHCP first.
	NoDHCP bool

	// First is the link-local address to try first, such as the one the
	// host claimed last time (RFC 3927 section 2.1); it must be in
	// 169.254.1.0-169.254.254.255. The zero Addr means Candidate(mac, 0).
	// After a conflict the agent goes on with Candidate(mac, 1), 2, ...
	First netip.Addr

	// Timing holds the protocol's times; its zero value is RFC 3927's.
	Timing Timing

	// Logger gets a debug line per packet sent or conflict seen, and
	// warnings for failed sends. Nil means no logging.
	Logger *slog.Logger

	clock clock.Clock                // nil means the real clock; tests set a fake
	randN func(n int64) int64        // nil means math/rand/v2; tests fix it
	open  func(*Agent) (link, error) // nil means openLink; tests set a fake

	mu      sync.Mutex
	running bool
	subs    map[*subscription]struct{}
	current netip.Prefix
	dropped uint64
}

type subscription struct{ ch chan Event }

// Subscribe returns a channel of the agent's events with room for size of
// them (at least 16) and a function that ends the subscription and closes
// the channel. Events that find the channel full are dropped and counted in
// Dropped: the agent never waits for a subscriber. A subscriber that may
// fall behind should act on Event.Current, or on Addr, rather than on each
// event. Run closes every subscription's channel when it returns.
func (a *Agent) Subscribe(size int) (<-chan Event, func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.subs == nil {
		a.subs = make(map[*subscription]struct{})
	}
	s := &subscription{ch: make(chan Event, max(size, 16))}
	a.subs[s] = struct{}{}
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			if _, ok := a.subs[s]; ok {
				delete(a.subs, s)
				close(s.ch)
			}
		})
	}
}

// Addr returns the address the agent holds on the interface, with its
// prefix length: a lease's, a claimed link-local one, or the zero Prefix
// when it holds none (yet).
func (a *Agent) Addr() netip.Prefix {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.current
}

// Dropped returns how many events were dropped for slow subscribers.
func (a *Agent) Dropped() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dropped
}

// publish records ev.Current and hands ev to every subscriber without
// blocking.
func (a *Agent) publish(ev Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.current = ev.Current
	for s := range a.subs {
		select {
		case s.ch <- ev:
		default:
			a.dropped++
		}
	}
}

func (a *Agent) closeSubs() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for s := range a.subs {
		close(s.ch)
		delete(a.subs, s)
	}
	a.current = netip.Prefix{}
}

// Run runs the agent until ctx is done, then removes the addresses it
// added, releases its lease and returns nil. It returns an error at once
// when the interface does not exist or has no Ethernet address
// (ErrNoHardwareAddr), when the sockets cannot be opened (it needs
// CAP_NET_RAW and CAP_NET_ADMIN), on systems other than Linux
// (ErrUnsupported), and when the same Agent already runs (ErrRunning); and
// it stops with an error when the kernel refuses an address.
func (a *Agent) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.running {
		a.mu.Unlock()
		return ErrRunning
	}
	a.running = true
	a.mu.Unlock()
	defer func() {
		a.closeSubs()
		a.mu.Lock()
		a.running = false
		a.mu.Unlock()
	}()

	if a.First.IsValid() && !usable(a.First) {
		return fmt.Errorf("autoip: First %v is not in 169.254.1.0-169.254.254.255", a.First)
	}
	open := a.open
	if open == nil {
		open = openLink
	}
	l, err := open(a)
	if err != nil {
		return err
	}
	fatal := make(chan error, 1)
	m := newMachine(a, l, func(err error) {
		select {
		case fatal <- err:
		default:
		}
	})

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			p, err := l.readARP()
			if err != nil {
				if l.closed() {
					return
				}
				a.logger().Debug("autoip: reading ARP", "err", err)
				time.Sleep(100 * time.Millisecond) // a link going down; don't spin
				continue
			}
			m.arpIn(p)
		}
	}()

	if ups := l.linkUps(); ups != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ups {
				m.linkUp()
			}
		}()
	}
	m.start()
	select {
	case <-ctx.Done():
	case err = <-fatal:
	}
	m.stop()
	l.close()
	wg.Wait()
	return err
}

func (a *Agent) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// link is the agent's I/O on one interface: openLink implements it with
// raw sockets, netlink and a DHCP client on Linux; tests with a recorder.
// Every method but readARP is called with the machine's lock held, so none
// may call back into the machine synchronously.
type link interface {
	// hardwareAddr is the interface's MAC address.
	hardwareAddr() [6]byte
	// sendARP sends p to link broadcast.
	sendARP(p arpPacket) error
	// readARP blocks for the next ARP packet from another host, skipping
	// malformed ones; it fails once close was called.
	readARP() (arpPacket, error)
	// setLinkLocal puts a on the interface (scope link, no prefix route,
	// plus the 169.254/16 route); clearLinkLocal removes both.
	setLinkLocal(a netip.Addr) error
	clearLinkLocal(a netip.Addr) error
	// setLease puts or updates the lease's address, valid until the
	// lease's end; clearLease removes it.
	setLease(l *Lease) error
	clearLease(l *Lease) error
	// dhcp starts, in the background, an attempt to get a lease (l nil) or
	// to renew l, and calls done with the result: at most DHCPTimeout later,
	// never from inside dhcp itself. A renewal with unicast set asks l's
	// server from l's address; otherwise the attempt is broadcast.
	dhcp(l *Lease, unicast bool, done func(*Lease, error))
	// release tells the server that l is no longer used.
	release(l *Lease) error
	// linkUps returns a channel that receives a value each time the link
	// comes back (its carrier returns after a loss, or it is set up again),
	// closed by close; nil where the link cannot tell.
	linkUps() <-chan struct{}
	// closed reports whether close was called; close ends readARP and
	// cancels DHCP attempts.
	closed() bool
	close()
}

package ssdp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/seedb72249f9/upnp/internal/clock"
)

// An EventType says what changed in a Listener's cache.
type EventType uint8

// The event types. One message makes one event, except that a message that
// changes CONFIGID.UPNP.ORG along with a reboot or an ssdp:update makes an
// EventConfig after its EventRebooted or EventUpdated.
const (
	EventAdded     EventType = iota + 1 // a USN seen for the first time
	EventRefreshed                      // an alive or response that changed nothing
	EventChanged                        // LOCATION, SERVER or max-age changed
	EventRebooted                       // BOOTID.UPNP.ORG changed without an ssdp:update
	EventConfig                         // CONFIGID.UPNP.ORG changed: re-fetch the description
	EventUpdated                        // ssdp:update announced the next BOOTID
	EventRemoved                        // ssdp:byebye
	EventExpired                        // max-age passed without a refresh
)

var eventNames = [...]string{"", "added", "refreshed", "changed", "rebooted", "config", "updated", "removed", "expired"}

func (t EventType) String() string {
	if int(t) < len(eventNames) && t != 0 {
		return eventNames[t]
	}
	return fmt.Sprintf("EventType(%d)", t)
}

// An Entry is what a Listener knows of one USN as seen through one route: an
// interface and an IP family. A device announcing itself over IPv4 and IPv6,
// or on two interfaces, has one entry per route, each with its own LOCATION.
type Entry struct {
	USN       string
	NT        string // the NT or ST it was announced under
	Location  string
	Server    string
	MaxAge    int   // seconds
	BootID    int32 // -1 when the device sends none
	ConfigID  int32 // -1 when the device sends none
	From      netip.AddrPort
	Interface string
	Expires   time.Time
}

// An Event is one change to a Listener's cache.
type Event struct {
	Type  EventType
	Entry Entry
	// Packet is the datagram that caused the event; nil for EventExpired.
	Packet *Packet
}

// A Listener joins the SSDP groups, keeps a cache of advertisements keyed by
// USN and route (interface and IP family) from ssdp:alive, ssdp:byebye, ssdp:update and the search responses given
// to Observe, expires entries at max-age, and tells subscribers about every
// change. The cache and each subscriber's queue are bounded: a flood of fake
// announcements cannot grow memory without bound, and a slow subscriber loses
// its own events (counted in Dropped) without ever holding up the socket.
//
// Set the fields before ListenAndServe. A Listener is safe for concurrent use.
type Listener struct {
	// Interfaces names the interfaces to listen on; nil means every up,
	// multicast-capable, non-loopback one, including ones that appear later.
	Interfaces []string
	// Network is "udp4", "udp6", or "" for both.
	Network string
	// MaxEntries caps the cache; zero means 4096. Announcements of new USNs
	// beyond it are dropped until entries expire.
	MaxEntries int
	// MaxPerHost caps the entries one sender address may hold; zero means 512.
	MaxPerHost int
	// MaxAgeCap caps the max-age believed; zero means 24 h.
	MaxAgeCap time.Duration
	// InterfacePoll is how often interfaces are re-read; zero means 5 s,
	// negative means never.
	InterfacePoll time.Duration
	// Logger receives debug lines about dropped input; nil means none.
	Logger *slog.Logger

	clock clock.Clock

	mu      sync.Mutex
	entries map[string]*Entry
	perHost map[netip.Addr]int
	subs    queues[Event]   // Subscribe's
	notes   queues[*Packet] // Notifications'
	sweep   clock.Timer
	sweepAt time.Time
	links   map[int]*link
	conns   []*conn
	dropped uint64
	wg      sync.WaitGroup
}

// queues are the subscribers' bounded channels of one kind; the Listener's
// mutex guards them.
type queues[T any] map[chan T]struct{}

// add makes a queue with room for size values (minimum 16) and returns it
// with the function that ends it; mu, which the caller holds now, guards q.
func (q queues[T]) add(mu *sync.Mutex, size int) (<-chan T, func()) {
	ch := make(chan T, max(size, 16))
	q[ch] = struct{}{}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			if _, ok := q[ch]; ok { // ListenAndServe may have closed it already
				delete(q, ch)
				close(ch)
			}
		})
	}
}

// send offers v to every queue without waiting and returns how many were
// full.
func (q queues[T]) send(v T) (dropped uint64) {
	for ch := range q {
		select {
		case ch <- v:
		default:
			dropped++
		}
	}
	return dropped
}

// closeAll ends every queue.
func (q queues[T]) closeAll() {
	for ch := range q {
		delete(q, ch)
		close(ch)
	}
}

func (l *Listener) init() {
	if l.entries == nil {
		l.entries = map[string]*Entry{}
		l.perHost = map[netip.Addr]int{}
		l.subs = queues[Event]{}
		l.notes = queues[*Packet]{}
		l.clock = clock.Or(l.clock)
	}
}

// Subscribe returns a channel of cache events with room for size events
// (minimum 16) and a function that ends the subscription and closes the channel,
// as ListenAndServe does when its context ends. Events that find the channel
// full are dropped and counted in Dropped.
func (l *Listener) Subscribe(size int) (<-chan Event, func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	return l.subs.add(&l.mu, size)
}

// Notifications returns a channel of every NOTIFY the Listener reads from its
// sockets, as read and before the cache sees it, whether or not it changes
// the cache: a byebye or ssdp:update for a USN never announced, an
// announcement the cache limits refuse, one without a USN. It is what a
// tool that shows SSDP traffic wants; Subscribe is what a program that keeps
// track of devices wants. The channel has room for size packets (minimum
// 16); packets that find it full are dropped and counted in Dropped. The
// function ends the subscription and closes the channel, as ListenAndServe
// does when its context ends (not when it fails to start). Packets given to
// Observe are not sent here.
func (l *Listener) Notifications(size int) (<-chan *Packet, func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	return l.notes.add(&l.mu, size)
}

// Dropped returns how many events and notifications were dropped for slow
// subscribers and how many announcements the cache limits refused.
func (l *Listener) Dropped() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Entries returns a copy of the cache.
func (l *Listener) Entries() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Entry, 0, len(l.entries))
	for _, e := range l.entries {
		out = append(out, *e)
	}
	return out
}

// Lookup returns the entries for usn, one per route it was seen on.
func (l *Listener) Lookup(usn string) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Entry
	for _, e := range l.entries {
		if e.USN == usn {
			out = append(out, *e)
		}
	}
	return out
}

// Key identifies the advertisement e is the latest of, as the Listener
// keys its cache: by USN, interface and IP family, not by sender, so that
// a device whose address changed is the same advertisement.
func (e Entry) Key() string { return entryKey(e.USN, e.Interface, e.From.Addr()) }

// entryKey is the cache key: USN, interface and family.
func entryKey(usn, iface string, from netip.Addr) string {
	fam := "4"
	if from.Is6() && !from.Is4In6() {
		fam = "6"
	}
	return usn + "\x00" + iface + "\x00" + fam
}

// Observe feeds a received NOTIFY or search response into the cache, as if the
// Listener had read it itself. M-SEARCH packets are ignored.
func (l *Listener) Observe(p *Packet) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	l.observe(p)
}

func (l *Listener) observe(p *Packet) {
	m := p.Message
	if m == nil || m.USN == "" {
		return
	}
	nt, nts := m.NT, m.NTS
	switch m.Kind {
	case KindResponse:
		nt, nts = m.ST, Alive
	case KindNotify:
	default:
		return
	}
	now := l.clock.Now()
	key := entryKey(m.USN, p.Interface, p.From.Addr())
	e, known := l.entries[key]
	switch nts {
	case ByeBye:
		if known {
			l.remove(e)
			l.publish(Event{Type: EventRemoved, Entry: *e, Packet: p})
		}
		return
	case Update:
		if known && m.NextBootID >= 0 {
			e.BootID = m.NextBootID
			config := m.ConfigID >= 0 && e.ConfigID >= 0 && m.ConfigID != e.ConfigID
			if m.ConfigID >= 0 {
				e.ConfigID = m.ConfigID
			}
			l.publish(Event{Type: EventUpdated, Entry: *e, Packet: p})
			if config {
				l.publish(Event{Type: EventConfig, Entry: *e, Packet: p})
			}
		}
		return
	case Alive:
	default:
		return
	}
	maxAge := time.Duration(m.MaxAge) * time.Second
	if maxAge <= 0 {
		maxAge = 1800 * time.Second
	}
	capAge := l.MaxAgeCap
	if capAge <= 0 {
		capAge = 24 * time.Hour
	}
	maxAge = min(maxAge, capAge)
	// The entry holds its own copies of the strings, not the Message's, which
	// would keep the whole datagram (see Parse); an unchanged one is kept.
	var old Entry
	if known {
		old = *e
	}
	next := Entry{USN: keep(old.USN, m.USN), NT: keep(old.NT, nt), Location: keep(old.Location, m.Location),
		Server: keep(old.Server, m.Server), MaxAge: int(maxAge / time.Second), BootID: m.BootID,
		ConfigID: m.ConfigID, From: p.From, Interface: keep(old.Interface, p.Interface), Expires: now.Add(maxAge)}
	if !known {
		maxEntries, maxHost := l.MaxEntries, l.MaxPerHost
		if maxEntries <= 0 {
			maxEntries = 4096
		}
		if maxHost <= 0 {
			maxHost = 512
		}
		host := p.From.Addr()
		if len(l.entries) >= maxEntries || l.perHost[host] >= maxHost {
			l.dropped++
			return
		}
		e = &next
		l.entries[key] = e
		l.perHost[host]++
		l.schedule(e.Expires)
		l.publish(Event{Type: EventAdded, Entry: *e, Packet: p})
		return
	}
	typ := EventRefreshed
	config := e.ConfigID >= 0 && next.ConfigID >= 0 && e.ConfigID != next.ConfigID
	switch {
	case e.BootID >= 0 && next.BootID >= 0 && e.BootID != next.BootID:
		typ = EventRebooted
	case config:
		typ, config = EventConfig, false
	case e.Location != next.Location || e.Server != next.Server || e.MaxAge != next.MaxAge:
		typ = EventChanged
	}
	if e.From.Addr() != next.From.Addr() {
		l.perHost[e.From.Addr()]--
		if l.perHost[e.From.Addr()] <= 0 {
			delete(l.perHost, e.From.Addr())
		}
		l.perHost[next.From.Addr()]++
	}
	*e = next
	l.schedule(e.Expires)
	l.publish(Event{Type: typ, Entry: *e, Packet: p})
	if config {
		// A reboot that also changed the description: a subscriber that
		// re-fetches descriptions on EventConfig alone must hear of it.
		l.publish(Event{Type: EventConfig, Entry: *e, Packet: p})
	}
}

// keep returns old if it equals s, else a copy of s.
func keep(old, s string) string {
	if old == s {
		return old
	}
	return strings.Clone(s)
}

func (l *Listener) remove(e *Entry) {
	delete(l.entries, e.Key())
	h := e.From.Addr()
	if l.perHost[h]--; l.perHost[h] <= 0 {
		delete(l.perHost, h)
	}
}

func (l *Listener) publish(ev Event) {
	l.dropped += l.subs.send(ev)
}

// schedule makes sure an expiry sweep runs no later than at; l.mu held.
func (l *Listener) schedule(at time.Time) {
	if l.sweep != nil && !l.sweepAt.After(at) {
		return
	}
	if l.sweep != nil {
		l.sweep.Stop()
	}
	l.sweepAt = at
	l.sweep = l.clock.AfterFunc(at.Sub(l.clock.Now()), l.expire)
}

func (l *Listener) expire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep = nil
	now := l.clock.Now()
	var next time.Time
	for _, e := range l.entries {
		if !e.Expires.After(now) {
			l.remove(e)
			l.publish(Event{Type: EventExpired, Entry: *e})
			continue
		}
		if next.IsZero() || e.Expires.Before(next) {
			next = e.Expires
		}
	}
	if !next.IsZero() {
		l.schedule(next)
	}
}

// ListenAndServe joins the SSDP groups on the chosen interfaces and feeds every
// NOTIFY into the cache until ctx is done; then it closes the sockets, ends
// every subscription and returns nil. It returns an error at once when a
// named interface does not exist. When no interface is usable yet, it waits
// for one, as it picks up interfaces that come up later; with InterfacePoll
// negative it returns ErrNoInterface instead.
func (l *Listener) ListenAndServe(ctx context.Context) error {
	v4, v6, err := families(l.Network)
	if err != nil {
		return err
	}
	// A misspelt interface name fails before any socket is bound.
	if _, err := links(l.Interfaces); err != nil {
		return err
	}
	l.mu.Lock()
	l.init()
	l.links = map[int]*link{}
	l.mu.Unlock()
	for _, fam := range []bool{false, true} {
		if (fam && !v6) || (!fam && !v4) {
			continue
		}
		c, err := listenUDP(fam, Port, 0)
		if err != nil {
			l.closeConns()
			return err
		}
		l.conns = append(l.conns, c)
	}
	if err := l.refreshLinks(); err != nil {
		l.closeConns()
		return err
	}
	if len(l.links) == 0 {
		if l.InterfacePoll < 0 {
			l.closeConns()
			return fmt.Errorf("ssdp: listen: %w", ErrNoInterface)
		}
		l.logger().Info("ssdp: no usable interface yet; waiting for one", "interfaces", l.Interfaces)
	}
	for _, c := range l.conns {
		l.wg.Add(1)
		go l.readLoop(c)
	}
	poll := l.InterfacePoll
	if poll == 0 {
		poll = 5 * time.Second
	}
	var tick <-chan time.Time
	if poll > 0 {
		t := time.NewTicker(poll)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			l.closeConns()
			l.wg.Wait()
			l.mu.Lock()
			if l.sweep != nil {
				l.sweep.Stop()
				l.sweep = nil
			}
			l.subs.closeAll()
			l.notes.closeAll()
			l.mu.Unlock()
			return nil
		case <-tick:
			if err := l.refreshLinks(); err != nil {
				l.logger().Debug("ssdp: interface poll", "err", err)
			}
		}
	}
}

func (l *Listener) logger() *slog.Logger {
	if l.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Logger
}

func (l *Listener) closeConns() {
	for _, c := range l.conns {
		c.Close()
	}
}

func (l *Listener) refreshLinks() error {
	cur, err := links(l.Interfaces)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	next := map[int]*link{}
	for _, k := range cur {
		next[k.ifi.Index] = k
		if _, ok := l.links[k.ifi.Index]; ok {
			continue
		}
		for _, c := range l.conns {
			if err := c.join(&k.ifi); err != nil {
				l.logger().Debug("ssdp: join", "err", err)
			}
		}
	}
	for idx, old := range l.links {
		if _, ok := next[idx]; !ok {
			for _, c := range l.conns {
				c.leave(&old.ifi)
			}
		}
	}
	l.links = next
	return nil
}

func (l *Listener) readLoop(c *conn) {
	defer l.wg.Done()
	buf := make([]byte, MaxDatagram+1)
	for {
		n, src, dst, ifindex, err := c.read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if n > MaxDatagram || n < 7 || string(buf[:7]) != "NOTIFY " {
			continue
		}
		m, err := Parse(buf[:n])
		if err != nil {
			l.logger().Debug("ssdp: bad notify", "from", src, "err", err)
			continue
		}
		p := &Packet{Message: m, From: src, To: dst, IfIndex: ifindex, Time: time.Now()}
		l.mu.Lock()
		if k := l.links[ifindex]; k != nil {
			p.Interface = k.ifi.Name
			p.Local, _ = k.local(c.v6, src.Addr())
		} else if ifindex != 0 {
			l.mu.Unlock()
			continue // an interface we do not listen on
		}
		l.dropped += l.notes.send(p)
		l.observe(p)
		l.mu.Unlock()
	}
}

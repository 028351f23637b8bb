package controlpoint

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/seedb72249f9/upnp/ssdp"
)

// A RegistryEventType says what happened to a device in a Registry.
type RegistryEventType uint8

const (
	DeviceAdded    RegistryEventType = iota + 1 // described for the first time
	DeviceUpdated                               // re-described after its CONFIGID changed
	DeviceRebooted                              // re-described after its BOOTID changed
	DeviceRemoved                               // ssdp:byebye, or every advertisement expired
)

var registryEventNames = [...]string{"", "added", "updated", "rebooted", "removed"}

func (t RegistryEventType) String() string {
	if t != 0 && int(t) < len(registryEventNames) {
		return registryEventNames[t]
	}
	return fmt.Sprintf("RegistryEventType(%d)", t)
}

// A RegistryEvent is one change in a Registry: the device as it now is, or
// as it was for DeviceRemoved.
type RegistryEvent struct {
	Type   RegistryEventType
	Device *Device
}

// Defaults of the Registry fields.
const (
	DefaultMaxDevices     = 256
	DefaultSearchInterval = 5 * time.Minute
	// failureBackoff is how long a LOCATION that could not be described is
	// left alone before an announcement may try it again.
	failureBackoff = 30 * time.Second
	// retryBackoff is how long a device whose re-description (after a
	// reboot or a new CONFIGID) failed is left alone before its next
	// announcement tries again.
	retryBackoff = 2 * time.Second
	// maxUSNs caps the advertisements tracked per device (3+2d+k of them).
	maxUSNs = 256
)

// A Registry is a live view of the devices on the LAN (UDA section 1.2 and
// 1.3): it listens for advertisements, searches now and then, describes each
// new LOCATION, re-describes a device whose CONFIGID or BOOTID changes, and
// forgets it at ssdp:byebye or when its advertisements expire. A device
// reachable at two LOCATIONs (IPv4 and IPv6, or two interfaces) is in the
// registry once per LOCATION. A device whose address changes is followed:
// each advertisement that comes again, on the same interface and IP family,
// with a new LOCATION moves there, and the old LOCATION goes when it has no
// advertisement left, whether or not a byebye came from the old address. A
// re-description that fails (the device announced itself before it served
// HTTP again) keeps the old description and is tried again at a later
// announcement.
//
// The registry is bounded: at most MaxDevices LOCATIONs (described or not)
// are kept, and its ssdp.Listener's own caps apply, so a flood of fake
// announcements costs bounded memory and at most MaxDevices fetches.
// Subscribers have bounded queues; a slow one loses events (counted in
// Dropped) and never holds up the registry.
//
// Set the fields before Run. The zero Registry is ready to use; it is safe
// for concurrent use.
type Registry struct {
	// Client describes devices and searches; nil means a zero Client. Its
	// Interfaces and Network are also where the registry listens.
	Client *Client
	// Target is what the periodic searches look for; zero means
	// upnp:rootdevice.
	Target string
	// SearchInterval is the time between searches; zero means
	// DefaultSearchInterval, negative means only one search, at start.
	SearchInterval time.Duration
	// MaxDevices caps the LOCATIONs kept; zero means DefaultMaxDevices.
	MaxDevices int
	// Logger receives debug lines; nil means the Client's.
	Logger *slog.Logger

	mu      sync.Mutex
	ctx     context.Context // Run's, for fetches
	entries map[string]*regEntry
	usnLoc  map[string]string // Entry.Key -> LOCATION
	subs    map[chan RegistryEvent]struct{}
	dropped uint64
	wg      sync.WaitGroup
	now     func() time.Time
}

type regEntry struct {
	loc      string
	dev      *Device
	usns     map[string]string // Entry.Key -> USN, of the advertisements naming loc
	bootID   int32
	configID int32
	fetching bool
	again    RegistryEventType // a re-fetch asked for while fetching
	retry    RegistryEventType // a re-fetch that failed, to try again
	failed   time.Time
	last     ssdp.Entry // the latest advertisement
}

func (r *Registry) client() *Client {
	if r.Client == nil {
		r.Client = &Client{}
	}
	return r.Client
}

func (r *Registry) init() {
	if r.entries == nil {
		r.entries = map[string]*regEntry{}
		r.usnLoc = map[string]string{}
		r.subs = map[chan RegistryEvent]struct{}{}
		if r.now == nil {
			r.now = time.Now
		}
		if r.ctx == nil {
			r.ctx = context.Background()
		}
	}
}

func (r *Registry) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return r.client().logger()
}

// Run listens and searches until ctx is done, then returns nil after every
// subscription is closed. It returns an error at once when it cannot
// listen (a named interface that does not exist, port 1900 unavailable);
// when no interface is usable yet, it waits for one (see ssdp.Listener).
func (r *Registry) Run(ctx context.Context) error {
	c := r.client()
	r.mu.Lock()
	r.init()
	r.ctx = ctx
	r.mu.Unlock()
	l := &ssdp.Listener{Interfaces: c.Interfaces, Network: c.Network, Logger: c.Logger}
	events, stop := l.Subscribe(1024)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- l.ListenAndServe(ctx) }()
	go r.searchLoop(ctx, l)
	var err error
loop:
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				break loop
			}
			r.handle(ev)
		case err = <-errc:
			break loop
		}
	}
	cancel()
	r.wg.Wait()
	r.mu.Lock()
	for ch := range r.subs {
		delete(r.subs, ch)
		close(ch)
	}
	r.mu.Unlock()
	return err
}

func (r *Registry) searchLoop(ctx context.Context, l *ssdp.Listener) {
	c := r.client()
	sc := &ssdp.Client{Interfaces: c.Interfaces, Network: c.Network, Logger: c.Logger}
	target := r.Target
	if target == "" {
		target = ssdp.RootDevice
	}
	every := r.SearchInterval
	if every == 0 {
		every = DefaultSearchInterval
	}
	for {
		for p, err := range sc.Search(ctx, ssdp.SearchRequest{Target: target}) {
			if err != nil {
				r.logger().Debug("controlpoint: registry search", "err", err)
				break
			}
			l.Observe(p)
		}
		if every < 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// Subscribe returns a channel of registry events with room for size events
// (at least 16), and a function that ends the subscription and closes the
// channel. Events that find the channel full are dropped and counted in
// Dropped.
func (r *Registry) Subscribe(size int) (<-chan RegistryEvent, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.init()
	ch := make(chan RegistryEvent, max(size, 16))
	r.subs[ch] = struct{}{}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if _, ok := r.subs[ch]; ok {
				delete(r.subs, ch)
				close(ch)
			}
		})
	}
}

// Dropped returns how many events slow subscribers lost and how many
// LOCATIONs the MaxDevices cap refused.
func (r *Registry) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Devices returns the described devices.
func (r *Registry) Devices() []*Device {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Device
	for _, e := range r.entries {
		if e.dev != nil {
			out = append(out, e.dev)
		}
	}
	return out
}

// Lookup returns the described devices that key designates: a UDN, a
// friendly name, a device type or a service type (see Device.Matches).
func (r *Registry) Lookup(key string) []*Device {
	var out []*Device
	for _, d := range r.Devices() {
		if d.Matches(key) {
			out = append(out, d)
		}
	}
	return out
}

// known reports whether the registry holds svc's device under some
// LOCATION, described or still being described.
func (r *Registry) known(svc *Service) bool {
	if svc.owner == nil || svc.owner.Root == nil {
		return false
	}
	udn := svc.owner.Root.Device.UDN
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.entries {
		if e.dev != nil && e.dev.Root.Device.UDN == udn {
			return true
		}
		for _, usn := range e.usns {
			if u, _ := ssdp.SplitUSN(usn); u == udn {
				return true
			}
		}
	}
	return false
}

func (r *Registry) publish(ev RegistryEvent) {
	for ch := range r.subs {
		select {
		case ch <- ev:
		default:
			r.dropped++
		}
	}
}

// handle applies one change of the listener's cache.
func (r *Registry) handle(ev ssdp.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.init()
	en := ev.Entry
	ukey := en.Key()
	switch ev.Type {
	case ssdp.EventRemoved, ssdp.EventExpired:
		loc, ok := r.usnLoc[ukey]
		if !ok {
			return
		}
		delete(r.usnLoc, ukey)
		e := r.entries[loc]
		if e == nil {
			return
		}
		delete(e.usns, ukey)
		root := e.dev != nil && (en.USN == e.dev.Root.Device.UDN || en.USN == e.dev.Root.Device.UDN+"::"+ssdp.RootDevice)
		if len(e.usns) == 0 || (ev.Type == ssdp.EventRemoved && root) {
			r.remove(e)
		}
		return
	case ssdp.EventUpdated:
		return
	}
	loc := strings.TrimSpace(en.Location)
	if loc == "" {
		return
	}
	if old, ok := r.usnLoc[ukey]; ok && old != loc {
		if e := r.entries[old]; e != nil {
			delete(e.usns, ukey)
			if len(e.usns) == 0 {
				r.remove(e)
			}
		}
	}
	e := r.entries[loc]
	if e == nil {
		max := r.MaxDevices
		if max <= 0 {
			max = DefaultMaxDevices
		}
		if len(r.entries) >= max {
			r.dropped++
			return
		}
		e = &regEntry{loc: loc, usns: map[string]string{}, bootID: en.BootID, configID: en.ConfigID}
		r.entries[loc] = e
	}
	if _, ok := e.usns[ukey]; ok || len(e.usns) < maxUSNs {
		e.usns[ukey] = en.USN
		r.usnLoc[ukey] = loc
	}
	e.last = en
	var why RegistryEventType
	switch {
	case e.dev == nil:
		why = DeviceAdded
		if !e.failed.IsZero() && r.now().Sub(e.failed) < failureBackoff {
			return
		}
	case en.BootID >= 0 && e.bootID >= 0 && en.BootID != e.bootID:
		why = DeviceRebooted
	case en.ConfigID >= 0 && e.configID >= 0 && en.ConfigID != e.configID:
		why = DeviceUpdated
	case e.retry != 0 && r.now().Sub(e.failed) >= retryBackoff:
		why = e.retry // the device announces itself: it may answer now
	default:
		return
	}
	e.bootID, e.configID = en.BootID, en.ConfigID
	if e.fetching {
		if why == DeviceAdded {
			return // the fetch under way is the one asked for
		}
		if e.again == 0 || why == DeviceRebooted {
			e.again = why
		}
		return
	}
	r.fetch(e, why)
}

func (r *Registry) remove(e *regEntry) {
	delete(r.entries, e.loc)
	for k := range e.usns {
		if r.usnLoc[k] == e.loc {
			delete(r.usnLoc, k)
		}
	}
	if e.dev != nil {
		r.publish(RegistryEvent{Type: DeviceRemoved, Device: e.dev})
	}
}

// fetch describes e in the background; r.mu held.
func (r *Registry) fetch(e *regEntry, why RegistryEventType) {
	e.fetching = true
	en := e.last
	ctx := r.ctx
	r.wg.Go(func() {
		d := &Device{Location: e.loc, USN: en.USN, Server: en.Server, BootID: en.BootID, ConfigID: en.ConfigID,
			Addr: en.From.Addr().Unmap(), Interface: en.Interface, Found: r.now()}
		u, err := url.Parse(e.loc)
		if err == nil {
			_, err = r.client().describe(ctx, u, d)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		e.fetching = false
		if r.entries[e.loc] != e { // removed meanwhile
			return
		}
		if err != nil {
			r.logger().Debug("controlpoint: registry describe", "location", e.loc, "err", err)
			e.failed = r.now() // an old description, if any, stays
			if e.dev != nil {  // but is out of date: describe it again later
				for _, w := range []RegistryEventType{why, e.again} {
					if w != 0 && (e.retry == 0 || w == DeviceRebooted) {
						e.retry = w
					}
				}
			}
			e.again = 0
			return
		}
		if e.dev == nil {
			why = DeviceAdded
		}
		e.dev, e.failed, e.retry = d, time.Time{}, 0
		r.publish(RegistryEvent{Type: why, Device: d})
		if again := e.again; again != 0 {
			e.again = 0
			r.fetch(e, again)
		}
	})
}

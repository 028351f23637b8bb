package controlpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/seedb72249f9/upnp/internal/gena"
)

// DefaultSubscriptionTimeout is the subscription duration asked for when
// Subscription.Timeout is zero: UDA's recommended 1800 s.
const DefaultSubscriptionTimeout = 1800 * time.Second

// ErrNotEvented means a service has no event URL to subscribe to.
var ErrNotEvented = errors.New("controlpoint: service has no event URL")

// ErrDeviceGone means a Subscription's device left the network: its
// Registry removed it (ssdp:byebye, or every advertisement expired), and
// the subscription could not be renewed or made again after the time the
// device last granted had run out.
var ErrDeviceGone = errors.New("controlpoint: device gone")

// Bounds of a subscription's buffers.
const (
	maxEarly   = 16  // NOTIFYs kept before the SUBSCRIBE response names the SID
	maxHeld    = 16  // NOTIFYs kept while an earlier SEQ is missing
	eventQueue = 128 // events waiting for the handler
	maxBackoff = 30 * time.Second
	gapWait    = time.Second // how long a missing SEQ may take to arrive
)

// An Event is one event message of a subscription (UDA section 4.3). The
// event with SEQ 0 is the initial one, with every variable the subscription
// covers; after a resubscription, events start again at SEQ 0 with a new SID.
type Event struct {
	Service *Service
	SID     string
	SEQ     uint32
	Time    time.Time // when it arrived
	Vars    []Var     // in message order, repeats included
}

// A Var is one evented state variable and its new value.
type Var struct {
	Name string
	// Value is the text decoded with the data type the SCPD gives the
	// variable (see upnp.DataType): bool, uint8, string and so on. It is the
	// text itself when the SCPD is missing or does not list the variable,
	// or when the text does not decode.
	Value any
	// Text is the value as it came, unescaped.
	Text string
}

// Value returns the value of the last variable called name in e.
func (e *Event) Value(name string) (any, bool) {
	for i := len(e.Vars) - 1; i >= 0; i-- {
		if e.Vars[i].Name == name {
			return e.Vars[i].Value, true
		}
	}
	return nil, false
}

// A Subscription receives the events of one service (UDA section 4,
// Eventing). Set the fields and call Run, which subscribes, calls Handler
// with each event and keeps the subscription alive until its context ends.
//
// Run serves the callback on the Client's callback server for the local
// address that reaches the device (one HTTP server per Client and local
// address, shared by all its subscriptions), asks for the subscription with
// a fresh, unguessable callback path, buffers NOTIFYs that arrive before the
// SUBSCRIBE response, renews at half the granted time, and delivers events
// in SEQ order. It subscribes again, with a new callback path, when a SEQ
// goes missing for a second, when the handler falls eventQueue events
// behind, when a renewal fails (412 after a reboot, or no answer), when the
// Registry reports that the device rebooted or moved to another address,
// and when Resubscribe is called; failed attempts are retried with a
// growing delay of up to 30 s. With a Registry, it gives up with
// ErrDeviceGone once the device has left (see Run).
//
// A NOTIFY is refused when it comes from another address than the
// device's (403; any address is allowed when the Client allows foreign
// hosts), has no NT or NTS (400), a wrong NT or NTS, an unknown SID or a
// bad SEQ (412), or a body over 64 KiB (413) or not a property set (400).
// A device may send its first NOTIFY before its SUBSCRIBE answer, which
// names the SID, has been read: until then up to 16 NOTIFYs with any SID
// are answered 200 and held, and those whose SID turns out wrong are
// dropped.
//
// The zero Subscription is not usable: Service and Handler are required.
// A Subscription runs once at a time; Resubscribe is safe to call from any
// goroutine.
type Subscription struct {
	// Client makes the requests and runs the callback server; nil means a
	// zero Client of the Subscription's own.
	Client *Client
	// Service is the service to subscribe to. Required.
	Service *Service
	// StateVars, when set, asks for events about these variables only
	// (UDA 2.0 STATEVAR). Devices of UDA 1.x ignore it.
	StateVars []string
	// Timeout is the subscription duration asked for; zero means
	// DefaultSubscriptionTimeout. The device grants what it wants.
	Timeout time.Duration
	// Handler is called with each event, in SEQ order, one at a time, from
	// the goroutine that called Run. Required. While it runs, up to
	// eventQueue events wait; beyond that Run subscribes again.
	Handler func(*Event)
	// Registry, when set, is watched for the device's reboots: a
	// DeviceRebooted event for the device's UDN, or a DeviceAdded with
	// another BOOTID.UPNP.ORG, makes Run subscribe again at once, to the
	// service as the new description gives it (at its new address, if it
	// moved). It is also how Run learns that the device has gone, and
	// ends with ErrDeviceGone instead of retrying for ever.
	Registry *Registry

	mu    sync.Mutex
	resub chan struct{}
}

// Resubscribe makes a running Run drop its subscription and subscribe
// again: for a device known to have rebooted, by a BOOTID.UPNP.ORG seen
// elsewhere.
func (s *Subscription) Resubscribe() {
	select {
	case s.resubChan() <- struct{}{}:
	default:
	}
}

func (s *Subscription) resubChan() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.resub == nil {
		s.resub = make(chan struct{}, 1)
	}
	return s.resub
}

// Subscribe runs a Subscription to svc's events with handler until ctx is
// done; see Subscription.Run.
func (c *Client) Subscribe(ctx context.Context, svc *Service, handler func(*Event)) error {
	return (&Subscription{Client: c, Service: svc, Handler: handler}).Run(ctx)
}

// Run subscribes and calls Handler with each event until ctx is done, then
// unsubscribes (waiting at most 2 s for the device) and returns nil. A
// SUBSCRIBE under way when ctx ends goes on for up to 2 s, so that a
// subscription the device grants meanwhile is cancelled too; if that was
// the first one, Run returns an error wrapping ctx's cause.
//
// It returns an error at once when the first SUBSCRIBE fails: the service
// has no event URL (ErrNotEvented), the URL is not on the device's host
// (ErrForeignHost), the device refuses (*HTTPError, such as 412 Precondition
// Failed), does not answer in time, or answers without a SID. Later failures
// are retried until ctx is done, except that with a Registry, once the
// Registry has removed the device and the time last granted has run out,
// the next failure (or the removal, if it comes later) ends Run with an
// error that wraps ErrDeviceGone and the last failure. Without a Registry
// Run cannot tell a device that is gone from one that is unreachable for a
// while, and keeps trying.
func (s *Subscription) Run(ctx context.Context) error {
	svc := s.Service
	if svc == nil || s.Handler == nil {
		return errors.New("controlpoint: Subscription needs a Service and a Handler")
	}
	if svc.EventSubURL == "" {
		return fmt.Errorf("%w: %s", ErrNotEvented, svc.Type)
	}
	c := s.Client
	if c == nil {
		c = &Client{}
	}
	c.init()
	local, err := localAddr(svc)
	if err != nil {
		return err
	}
	cb, err := c.callbacks.acquire(c, local)
	if err != nil {
		return err
	}
	defer func() { c.callbacks.release(cb) }() // cb changes when the device moves

	var reboots <-chan RegistryEvent
	if s.Registry != nil {
		ch, stop := s.Registry.Subscribe(8)
		defer stop()
		reboots = ch
	}
	resub := s.resubChan()
	select { // a Resubscribe from before Run is moot
	case <-resub:
	default:
	}

	a, err := s.subscribe(ctx, c, cb, svc)
	if err != nil {
		return err
	}
	renew := time.NewTimer(renewAfter(a.granted))
	defer renew.Stop()
	var (
		delay   time.Duration // before the next attempt, while a is nil
		retry   <-chan time.Time
		lapse   = time.Now().Add(a.granted) // when the device forgets the last grant
		removed bool                        // the Registry removed the device
		lastErr error                       // of the last failed renewal or attempt
	)
	// gone reports whether the device has left: removed from the Registry
	// (and not back under another LOCATION) after its grant ran out.
	gone := func() error {
		if !removed || time.Now().Before(lapse) || s.Registry.known(svc) {
			return nil
		}
		if lastErr == nil {
			return fmt.Errorf("%w: %s", ErrDeviceGone, svc.Type)
		}
		return fmt.Errorf("%w: %s: %w", ErrDeviceGone, svc.Type, lastErr)
	}
	// drop ends a: it delivers the events already in order, stops routing
	// its callback path and, if bye, unsubscribes in the background.
	var bg sync.WaitGroup
	defer bg.Wait()
	drop := func(bye bool) {
		s.drain(a)
		cb.remove(a)
		if bye {
			old := a
			bg.Go(func() { s.unsubscribe(ctx, c, old) })
		}
		a = nil
		renew.Stop()
		retry = time.After(delay)
	}
	// registryEvent follows the Registry: the device's reboot or move makes
	// a new subscription, to the service as described now; its removal may
	// mean it is gone.
	registryEvent := func(ev RegistryEvent) error {
		if !sameDevice(ev.Device, svc) {
			return nil
		}
		if ev.Type == DeviceRemoved {
			removed = !s.Registry.known(svc)
			if a == nil {
				return gone()
			}
			return nil
		}
		removed = false
		if !rebooted(ev, svc) {
			return nil
		}
		if a != nil {
			// A reboot forgot the subscription, but a new BOOTID also
			// follows a change of address or interface: say goodbye.
			drop(true)
		}
		if n := ev.Device.serviceLike(svc); n != nil {
			svc = n
			// The device may have moved: call back on our address that
			// reaches it now.
			if l, err := localAddr(svc); err == nil && l != local {
				if ncb, err := c.callbacks.acquire(c, l); err == nil {
					c.callbacks.release(cb)
					cb, local = ncb, l
				} else {
					c.logger().Debug("controlpoint: callback server", "local", l, "err", err)
				}
			}
		}
		delay = 0
		retry = time.After(0)
		return nil
	}
	for {
		var events <-chan *Event
		var gap <-chan struct{}
		if a != nil {
			events, gap = a.events, a.gap
		}
		select {
		case <-ctx.Done():
			if a != nil {
				cb.remove(a)
				s.unsubscribe(ctx, c, a)
			}
			return nil
		case ev := <-events:
			s.Handler(ev)
		case <-gap:
			c.logger().Debug("controlpoint: events lost, subscribing again", "service", svc.Type, "sid", a.sid)
			drop(true)
		case <-renew.C:
			if ctx.Err() != nil {
				continue // ending: select picked the timer over ctx.Done; renewing is wasted
			}
			if granted, err := s.renew(ctx, c, a); err != nil {
				c.logger().Debug("controlpoint: renewal failed, subscribing again", "service", svc.Type, "sid", a.sid, "err", err)
				lastErr = err
				if err := gone(); err != nil {
					drop(false) // nobody left to unsubscribe from
					return err
				}
				var he *HTTPError
				drop(!errors.As(err, &he) || he.StatusCode != http.StatusPreconditionFailed)
			} else {
				a.granted = granted
				lapse = time.Now().Add(granted)
				renew.Reset(renewAfter(granted))
			}
		case <-resub:
			if a != nil {
				drop(true)
			}
		case ev, ok := <-reboots:
			if !ok {
				reboots = nil
				continue
			}
			if err := registryEvent(ev); err != nil {
				return err
			}
		case <-retry:
			// The Registry may already know where the device went: look
			// before trying the old URL, which can take Client.Timeout.
			for pending := true; pending && reboots != nil; {
				select {
				case ev, ok := <-reboots:
					if !ok {
						reboots = nil
					} else if err := registryEvent(ev); err != nil {
						return err
					}
				default:
					pending = false
				}
			}
			retry = nil // this attempt is the one a reboot asks for
			var err error
			if a, err = s.subscribe(ctx, c, cb, svc); err != nil {
				c.logger().Debug("controlpoint: subscribe", "service", svc.Type, "err", err)
				lastErr = err
				if err := gone(); err != nil {
					return err
				}
				delay = min(max(2*delay, 500*time.Millisecond), maxBackoff)
				retry = time.After(delay)
				continue
			}
			delay = 0
			lapse = time.Now().Add(a.granted)
			renew.Reset(renewAfter(a.granted))
		}
	}
}

// drain delivers the events a has already put in order.
func (s *Subscription) drain(a *attempt) {
	for {
		select {
		case ev := <-a.events:
			s.Handler(ev)
		default:
			return
		}
	}
}

// renewAfter is when to renew a subscription granted for d: half way.
func renewAfter(d time.Duration) time.Duration {
	return max(d/2, 250*time.Millisecond)
}

// sameDevice reports whether d is svc's device: the same root UDN.
func sameDevice(d *Device, svc *Service) bool {
	old := svc.owner
	return old != nil && old.Root != nil && d != nil && d.Root != nil && d.Root.Device.UDN == old.Root.Device.UDN
}

// rebooted reports whether ev says that svc's device booted again: a
// DeviceRebooted, or a DeviceAdded with another BOOTID.UPNP.ORG (a device
// that says byebye before it restarts is removed from the Registry, then
// added again).
func rebooted(ev RegistryEvent, svc *Service) bool {
	old, d := svc.owner, ev.Device
	if old == nil || old.Root == nil || d == nil || d.Root == nil || d.Root.Device.UDN != old.Root.Device.UDN {
		return false
	}
	return ev.Type == DeviceRebooted || ev.Type == DeviceAdded && old.BootID >= 0 && d.BootID >= 0 && d.BootID != old.BootID
}

// serviceLike returns d's service with svc's ID and type, or nil.
func (d *Device) serviceLike(svc *Service) *Service {
	for _, n := range d.Services {
		if n.ID == svc.ID && n.Type == svc.Type && n.EventSubURL != "" {
			return n
		}
	}
	return nil
}

// localAddr returns our address that reaches svc's device: the one it was
// discovered or described through, else the source address the routing
// table picks for the event URL's host (a UDP "connection", which sends
// nothing). A link-local IPv6 address carries its zone.
func localAddr(svc *Service) (netip.Addr, error) {
	if d := svc.owner; d != nil && d.Local.IsValid() {
		a := d.Local.Unmap()
		if a.Is6() && a.IsLinkLocalUnicast() && a.Zone() == "" && d.Interface != "" {
			a = a.WithZone(d.Interface)
		}
		return a, nil
	}
	u, err := url.Parse(svc.EventSubURL)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("controlpoint: event URL: %w", err)
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	conn, err := net.Dial("udp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("controlpoint: no local address reaches %s: %w", u.Host, err)
	}
	defer conn.Close()
	a := conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	if z := u.Hostname(); a.Is6() && a.IsLinkLocalUnicast() && strings.Contains(z, "%") {
		a = a.WithZone(z[strings.IndexByte(z, '%')+1:])
	}
	return a, nil
}

func (s *Subscription) timeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultSubscriptionTimeout
	}
	return s.Timeout
}

// genaRequest sends a SUBSCRIBE or UNSUBSCRIBE under the same-host rule,
// on a connection of its own, and returns the response with its body read
// and closed.
func (c *Client) genaRequest(ctx context.Context, method string, svc *Service, h map[string]string) (*http.Response, error) {
	u, err := url.Parse(svc.EventSubURL)
	if err != nil {
		return nil, fmt.Errorf("controlpoint: %s %s: %w", method, svc.EventSubURL, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("controlpoint: %s %s: %w", method, u.Redacted(), err)
	}
	for k, v := range h {
		req.Header[k] = []string{v} // as written: some stacks match header names exactly
	}
	req.Close = true // subscriptions are rare: keep no idle connection
	var allow netip.Addr
	if svc.owner != nil {
		allow = svc.owner.Addr
	}
	resp, cancel, err := c.do(req, allow)
	defer cancel()
	if err != nil {
		return nil, fmt.Errorf("controlpoint: %s %s: %w", method, u.Redacted(), err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{Method: method, URL: u.Redacted(), StatusCode: resp.StatusCode, Status: resp.Status}
	}
	return resp, nil
}

// subscribe makes one subscription: a new callback path, routed before the
// request goes out so that an early NOTIFY is kept.
func (s *Subscription) subscribe(ctx context.Context, c *Client, cb *callbackServer, svc *Service) (*attempt, error) {
	a := newAttempt(svc, c.AllowForeignHosts)
	cb.add(a)
	h := map[string]string{
		"CALLBACK": "<" + cb.base + a.token + ">",
		"NT":       gena.NT,
		"TIMEOUT":  gena.FormatTimeout(s.timeout()),
	}
	if len(s.StateVars) > 0 {
		h["STATEVAR"] = gena.FormatStateVars(s.StateVars)
	}
	// A SUBSCRIBE cut off when ctx ends may have been granted already, and
	// only the answer's SID can cancel it: the request outlives ctx by up to
	// subscribeGrace, and a grant that comes in then is cancelled at once.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(subscribeGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-rctx.Done():
		}
	})
	defer stop()
	resp, err := c.genaRequest(rctx, "SUBSCRIBE", svc, h)
	if err != nil {
		cb.remove(a)
		return nil, err
	}
	sid, err := gena.ParseSID(resp.Header.Get("SID"))
	if err != nil {
		cb.remove(a)
		return nil, fmt.Errorf("controlpoint: SUBSCRIBE %s: answer without a usable SID: %w", svc.EventSubURL, err)
	}
	a.granted = grantedTimeout(resp, s.timeout())
	a.start(sid)
	if err := context.Cause(ctx); err != nil {
		cb.remove(a)
		s.unsubscribe(ctx, c, a)
		return nil, fmt.Errorf("controlpoint: SUBSCRIBE %s: %w", svc.EventSubURL, err)
	}
	return a, nil
}

// subscribeGrace is how long a SUBSCRIBE under way may go on after its
// context ends, for the SID that lets it be cancelled.
const subscribeGrace = 2 * time.Second

// renew renews a's subscription and returns the time granted.
func (s *Subscription) renew(ctx context.Context, c *Client, a *attempt) (time.Duration, error) {
	resp, err := c.genaRequest(ctx, "SUBSCRIBE", a.svc, map[string]string{
		"SID":     a.sid,
		"TIMEOUT": gena.FormatTimeout(s.timeout()),
	})
	if err != nil {
		return 0, err
	}
	return grantedTimeout(resp, s.timeout()), nil
}

// unsubscribe ends a's subscription, best effort, within 2 s.
func (s *Subscription) unsubscribe(ctx context.Context, c *Client, a *attempt) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if _, err := c.genaRequest(ctx, "UNSUBSCRIBE", a.svc, map[string]string{"SID": a.sid}); err != nil {
		c.logger().Debug("controlpoint: unsubscribe", "sid", a.sid, "err", err)
	}
}

// grantedTimeout reads the TIMEOUT of a SUBSCRIBE response; a missing, bad
// or infinite one counts as what was asked for.
func grantedTimeout(resp *http.Response, asked time.Duration) time.Duration {
	d, infinite, err := gena.ParseTimeout(resp.Header.Get("TIMEOUT"))
	if err != nil || infinite || d <= 0 {
		return asked
	}
	return d
}

// notification is a NOTIFY that passed the header checks.
type notification struct {
	sid   string
	seq   uint32
	props []gena.Property
	time  time.Time
}

// An attempt is one subscription as the device knows it: one SID, one
// callback path. It puts the NOTIFYs for that path in SEQ order.
type attempt struct {
	svc     *Service
	token   string
	sender  netip.Addr // the device's address; invalid when any sender goes
	events  chan *Event
	gap     chan struct{} // signalled once, when events are lost
	granted time.Duration // Run's

	mu     sync.Mutex
	sid    string // "" until the SUBSCRIBE response is in
	next   uint32 // the SEQ expected next
	early  []notification
	lost   bool // early NOTIFYs were dropped
	held   map[uint32]notification
	timer  *time.Timer // runs while held is not empty
	broken bool        // events were lost: everything is dropped
	closed bool
}

func newAttempt(svc *Service, anySender bool) *attempt {
	a := &attempt{svc: svc, token: randomToken(), events: make(chan *Event, eventQueue), gap: make(chan struct{}, 1)}
	if svc.owner != nil && !anySender {
		a.sender = svc.owner.Addr
	}
	return a
}

// start records the SID and goes through the NOTIFYs that came before it.
func (a *attempt) start(sid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sid = sid
	for _, n := range a.early {
		if n.sid == sid {
			a.sequence(n)
		}
	}
	a.early = nil
	if a.lost {
		a.fail()
	}
}

// accept takes a NOTIFY for a's callback path and returns the HTTP status
// to answer.
func (a *attempt) accept(n notification) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.closed:
		return http.StatusPreconditionFailed
	case a.sid == "":
		if len(a.early) < maxEarly {
			a.early = append(a.early, n)
		} else {
			a.lost = true
		}
		return http.StatusOK
	case n.sid != a.sid:
		return http.StatusPreconditionFailed
	}
	a.sequence(n)
	return http.StatusOK
}

// sequence puts n in order: delivered if it is the next, held if it is
// ahead, ignored if it was seen; a.mu held.
func (a *attempt) sequence(n notification) {
	if a.broken {
		return
	}
	switch ahead := n.seq - a.next; {
	case ahead == 0:
		a.emit(n)
		for {
			m, ok := a.held[a.next]
			if !ok {
				break
			}
			delete(a.held, a.next)
			a.emit(m)
		}
		if len(a.held) == 0 && a.timer != nil {
			a.timer.Stop()
			a.timer = nil
		}
	case ahead < 1<<31: // a SEQ is missing, for now
		if len(a.held) >= maxHeld {
			a.fail()
			return
		}
		if a.held == nil {
			a.held = map[uint32]notification{}
		}
		a.held[n.seq] = n
		if a.timer == nil {
			a.timer = time.AfterFunc(gapWait, func() {
				a.mu.Lock()
				defer a.mu.Unlock()
				if len(a.held) > 0 {
					a.fail()
				}
			})
		}
	default: // a repeat of an event delivered already
	}
}

// emit queues n as an event; a.mu held.
func (a *attempt) emit(n notification) {
	a.next = gena.NextSEQ(n.seq)
	if a.broken {
		return
	}
	ev := &Event{Service: a.svc, SID: n.sid, SEQ: n.seq, Time: n.time, Vars: typedVars(a.svc, n.props)}
	select {
	case a.events <- ev:
	default:
		a.fail() // the handler is too far behind
	}
}

// fail marks a as having lost events and tells Run; a.mu held.
func (a *attempt) fail() {
	if a.broken {
		return
	}
	a.broken = true
	a.held = nil
	select {
	case a.gap <- struct{}{}:
	default:
	}
}

func (a *attempt) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	a.early, a.held = nil, nil
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
}

// typedVars decodes props with the data types of svc's SCPD.
func typedVars(svc *Service, props []gena.Property) []Var {
	vars := make([]Var, len(props))
	for i, p := range props {
		vars[i] = Var{Name: p.Name, Value: decodeVar(svc, p.Name, p.Value), Text: p.Value}
	}
	return vars
}

func decodeVar(svc *Service, name, text string) any {
	if svc == nil || svc.SCPD == nil {
		return text
	}
	sv := svc.SCPD.StateVariable(name)
	if sv == nil || !sv.DataType.Valid() {
		return text
	}
	if v, err := sv.DataType.Decode(text); err == nil {
		return v
	}
	return text
}

package device

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/seedb72249f9/upnp/internal/gena"
)

// Eventing limits and defaults (SECURITY.md).
const (
	// DefaultMaxTimeout is the longest subscription granted by default.
	DefaultMaxTimeout = 1800 * time.Second
	// DefaultMaxSubscriptions caps subscriptions per Server by default.
	DefaultMaxSubscriptions = 1024
	// DefaultMaxPerRequester caps subscriptions per control point address by default.
	DefaultMaxPerRequester = 32
	// QueuedEvents is how many events may wait for one subscriber. When a
	// subscriber falls further behind, new changes are merged into the last
	// waiting event: it gets fewer events but always the latest state, and
	// memory stays bounded. A subscriber whose deliveries fail is dropped.
	QueuedEvents = 10
)

// initialEventDelay is how long the initial event waits after the SUBSCRIBE
// response has been sent.
const initialEventDelay = 100 * time.Millisecond

// A CallbackPolicy says which CALLBACK URLs a SUBSCRIBE may name
// (CallStranger, CVE-2020-12695).
type CallbackPolicy uint8

const (
	// CallbackSameHost accepts only IP literals equal to the subscriber's own
	// address: the default.
	CallbackSameHost CallbackPolicy = iota
	// CallbackSameSubnet also accepts IP literals in the subnet of the
	// interface the SUBSCRIBE arrived on.
	CallbackSameSubnet
)

// Eventing configures GENA on a Server; the zero value is the safe default.
type Eventing struct {
	// MaxTimeout is the longest subscription granted; zero means 1800 s.
	// Subscriptions are never infinite.
	MaxTimeout time.Duration
	// MaxSubscriptions caps all subscriptions; zero means 1024.
	MaxSubscriptions int
	// MaxPerRequester caps the subscriptions of one control point address;
	// zero means 32.
	MaxPerRequester int
	// Callbacks is the CALLBACK policy; zero means CallbackSameHost.
	Callbacks CallbackPolicy
	// Timeout bounds one NOTIFY delivery; zero means 5 s.
	Timeout time.Duration
}

// publisher holds a Server's subscriptions.
type publisher struct {
	s      *Server
	cfg    Eventing
	client *http.Client

	mu     sync.Mutex
	subs   map[string]*subscription // by SID
	byHost map[netip.Addr]int
	closed bool

	// Moderated variables (moderate.go); modMu is taken after a
	// Service's mu, never before.
	modMu     sync.Mutex
	mods      map[modKey]*modState
	modClosed bool
}

// subscription is one control point's subscription to one service.
type subscription struct {
	sid       string
	svc       *Service
	vars      []string // evented variables it gets; nil means all
	callbacks []*url.URL
	host      netip.Addr
	expires   time.Time
	seq       uint32

	qmu     sync.Mutex
	pending [][]gena.Property // events waiting, oldest first
	wake    chan struct{}     // signalled when pending grows
	done    chan struct{}     // closed when the subscription ends
}

// push queues an event, merging it into the last waiting one when the queue
// is full.
func (sub *subscription) push(props []gena.Property) {
	sub.qmu.Lock()
	if len(sub.pending) < QueuedEvents {
		sub.pending = append(sub.pending, props)
	} else {
		last := slices.Clone(sub.pending[len(sub.pending)-1])
		for _, p := range props {
			if i := slices.IndexFunc(last, func(q gena.Property) bool { return q.Name == p.Name }); i >= 0 {
				last[i] = p
			} else {
				last = append(last, p)
			}
		}
		sub.pending[len(sub.pending)-1] = last
	}
	sub.qmu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

// pop takes the oldest waiting event, or nil.
func (sub *subscription) pop() []gena.Property {
	sub.qmu.Lock()
	defer sub.qmu.Unlock()
	if len(sub.pending) == 0 {
		return nil
	}
	p := sub.pending[0]
	sub.pending = sub.pending[1:]
	return p
}

func (s *Server) events() *publisher {
	s.evOnce.Do(func() {
		cfg := s.Eventing
		if cfg.MaxTimeout <= 0 {
			cfg.MaxTimeout = DefaultMaxTimeout
		}
		if cfg.MaxSubscriptions <= 0 {
			cfg.MaxSubscriptions = DefaultMaxSubscriptions
		}
		if cfg.MaxPerRequester <= 0 {
			cfg.MaxPerRequester = DefaultMaxPerRequester
		}
		if cfg.Timeout <= 0 {
			cfg.Timeout = 5 * time.Second
		}
		p := &publisher{s: s, cfg: cfg, subs: map[string]*subscription{}, byHost: map[netip.Addr]int{}}
		p.client = &http.Client{
			Timeout: cfg.Timeout,
			// A callback is an IP literal checked when the subscription was
			// made; never follow a redirect elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			// A subscription uses one connection at a time: every
			// subscription of a control point may keep its own alive, or
			// most NOTIFYs to one that holds several would open a new
			// connection (about twice the CPU per NOTIFY).
			Transport: &http.Transport{
				Proxy:               nil,
				DialContext:         (&net.Dialer{Timeout: cfg.Timeout, Control: dialIPOnly}).DialContext,
				MaxIdleConnsPerHost: cfg.MaxPerRequester,
				IdleConnTimeout:     30 * time.Second,
			},
		}
		s.evPub = p
	})
	return s.evPub
}

// dialIPOnly refuses to dial anything but the IP literal in the address.
func dialIPOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return fmt.Errorf("device: callback %q is not an IP address", address)
	}
	return nil
}

// evented lists the service's evented variables.
func evented(svc *Service) []string {
	var out []string
	for _, v := range svc.SCPD.StateVariables {
		if v.SendEvents {
			out = append(out, v.Name)
		}
	}
	return out
}

// event handles SUBSCRIBE and UNSUBSCRIBE on a service's event URL (UDA 4.1).
func (s *Server) event(w http.ResponseWriter, r *http.Request, x *served) {
	p := s.events()
	sid := r.Header.Get("SID")
	nt := r.Header.Get("NT")
	callback := r.Header.Get("CALLBACK")
	remote, _ := netip.ParseAddrPort(r.RemoteAddr)
	requester := remote.Addr().Unmap().WithZone("")
	switch r.Method {
	case "SUBSCRIBE":
		if sid != "" {
			if nt != "" || callback != "" {
				http.Error(w, "SID with NT or CALLBACK", http.StatusBadRequest)
				return
			}
			p.renew(w, r, x, sid)
			return
		}
		if nt != "upnp:event" {
			http.Error(w, "NT must be upnp:event", http.StatusPreconditionFailed)
			return
		}
		p.subscribe(w, r, x, callback, requester)
	case "UNSUBSCRIBE":
		if sid == "" {
			http.Error(w, "SID required", http.StatusPreconditionFailed)
			return
		}
		if nt != "" || callback != "" {
			http.Error(w, "SID with NT or CALLBACK", http.StatusBadRequest)
			return
		}
		if !p.cancel(sid, x.svc) {
			http.Error(w, "no such subscription", http.StatusPreconditionFailed)
			return
		}
		w.WriteHeader(http.StatusOK)
	default:
		w.Header().Set("Allow", "SUBSCRIBE, UNSUBSCRIBE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// grant returns the timeout to grant for a TIMEOUT header.
func (p *publisher) grant(h string) time.Duration {
	d, infinite, err := gena.ParseTimeout(h)
	if err != nil || infinite || d <= 0 || d > p.cfg.MaxTimeout {
		return p.cfg.MaxTimeout
	}
	return d
}

// callbacksAllowed applies the CallStranger policy to the parsed callbacks.
func (p *publisher) callbacksAllowed(r *http.Request, cbs []*url.URL, requester netip.Addr) bool {
	var subnet netip.Prefix
	if p.cfg.Callbacks == CallbackSameSubnet {
		subnet = localSubnet(r)
	}
	for _, u := range cbs {
		a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]"))
		if err != nil {
			return false // hostnames would need DNS: never
		}
		a = a.Unmap().WithZone("")
		if a == requester {
			continue
		}
		if subnet.IsValid() && subnet.Contains(a) {
			continue
		}
		return false
	}
	return true
}

// localSubnet returns the subnet of the local address a request arrived on.
func localSubnet(r *http.Request) netip.Prefix {
	la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return netip.Prefix{}
	}
	ta, ok := la.(*net.TCPAddr)
	if !ok {
		return netip.Prefix{}
	}
	local := ta.AddrPort().Addr().Unmap()
	ifs, _ := net.Interfaces()
	for _, ifi := range ifs {
		as, _ := ifi.Addrs()
		for _, a := range as {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, _ := netip.AddrFromSlice(ipn.IP)
			if ip.Unmap() == local.WithZone("") {
				ones, _ := ipn.Mask.Size()
				return netip.PrefixFrom(local.WithZone(""), ones).Masked()
			}
		}
	}
	return netip.Prefix{}
}

func (p *publisher) subscribe(w http.ResponseWriter, r *http.Request, x *served, callback string, requester netip.Addr) {
	cbs, err := gena.ParseCallback(callback)
	if err != nil || len(cbs) == 0 || !p.callbacksAllowed(r, cbs, requester) {
		p.s.logger().Info("subscription refused: callback", "callback", callback, "from", r.RemoteAddr)
		http.Error(w, "CALLBACK refused", http.StatusPreconditionFailed)
		return
	}
	// A link-local callback can only be reached through the interface the
	// SUBSCRIBE came in on: give it that zone, or the NOTIFY cannot be sent.
	if remote, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && remote.Addr().Zone() != "" {
		for _, u := range cbs {
			if a, err := netip.ParseAddr(u.Hostname()); err == nil && a.Is6() && a.IsLinkLocalUnicast() {
				host := "[" + a.WithZone(remote.Addr().Zone()).String() + "]"
				if port := u.Port(); port != "" {
					host += ":" + port
				}
				u.Host = host
			}
		}
	}
	all := evented(x.svc)
	var vars []string
	var accepted string
	if h := r.Header.Get("STATEVAR"); h != "" {
		for _, v := range gena.ParseStateVars(h) {
			if !slices.Contains(all, v) {
				http.Error(w, "STATEVAR names a variable that is not evented", http.StatusPreconditionFailed)
				return
			}
			if !slices.Contains(vars, v) {
				vars = append(vars, v)
			}
		}
		accepted = strings.Join(vars, ",")
	}
	timeout := p.grant(r.Header.Get("TIMEOUT"))
	sub := &subscription{sid: gena.NewSID(), svc: x.svc, vars: vars, callbacks: cbs, host: requester,
		expires: time.Now().Add(timeout), wake: make(chan struct{}, 1), done: make(chan struct{})}
	p.mu.Lock()
	p.sweep()
	if p.closed || len(p.subs) >= p.cfg.MaxSubscriptions || p.byHost[requester] >= p.cfg.MaxPerRequester {
		p.mu.Unlock()
		http.Error(w, "too many subscriptions", http.StatusServiceUnavailable)
		return
	}
	p.subs[sub.sid] = sub
	p.byHost[requester]++
	// The initial event carries every variable the subscription covers, with
	// SEQ 0; it is queued before any later change can be.
	x.svc.mu.RLock()
	sub.push(properties(x.svc, sub.varsOr(all)))
	x.svc.mu.RUnlock()
	p.mu.Unlock()
	h := w.Header()
	h.Set("SID", sub.sid)
	h.Set("TIMEOUT", gena.FormatTimeout(timeout))
	h.Set("Server", p.s.serverHeader())
	if accepted != "" {
		h.Set("ACCEPTED-STATEVAR", accepted)
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	p.s.logger().Info("subscribed", "service", x.svc.id(), "sid", sub.sid, "callback", callback, "timeout", timeout)
	go p.deliver(sub)
}

func (sub *subscription) varsOr(all []string) []string {
	if sub.vars == nil {
		return all
	}
	return sub.vars
}

func (p *publisher) renew(w http.ResponseWriter, r *http.Request, x *served, sid string) {
	timeout := p.grant(r.Header.Get("TIMEOUT"))
	p.mu.Lock()
	sub, ok := p.subs[sid]
	if ok && (sub.svc != x.svc || time.Now().After(sub.expires)) {
		ok = false
	}
	if ok {
		sub.expires = time.Now().Add(timeout)
	}
	p.mu.Unlock()
	if !ok {
		http.Error(w, "no such subscription", http.StatusPreconditionFailed)
		return
	}
	w.Header().Set("SID", sid)
	w.Header().Set("TIMEOUT", gena.FormatTimeout(timeout))
	w.Header().Set("Server", p.s.serverHeader())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// cancel ends a subscription of svc; it reports whether there was one.
func (p *publisher) cancel(sid string, svc *Service) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	sub, ok := p.subs[sid]
	if !ok || (svc != nil && sub.svc != svc) {
		return false
	}
	p.drop(sub)
	return true
}

// sweep drops expired subscriptions; p.mu must be held.
func (p *publisher) sweep() {
	now := time.Now()
	for _, sub := range p.subs {
		if now.After(sub.expires) {
			p.drop(sub)
		}
	}
}

// drop removes sub; p.mu must be held.
func (p *publisher) drop(sub *subscription) {
	if _, ok := p.subs[sub.sid]; !ok {
		return
	}
	delete(p.subs, sub.sid)
	if p.byHost[sub.host]--; p.byHost[sub.host] <= 0 {
		delete(p.byHost, sub.host)
	}
	close(sub.done)
}

// publish queues an event with the changed variables for every subscriber of
// svc whose subscription covers them. Every subscriber of a change gets the
// same content, captured now.
func (p *publisher) publish(svc *Service, changed []string) {
	if len(svc.Moderation) == 0 {
		ev, mc := split(svc, changed)
		if len(mc) > 0 {
			p.s.multicast(svc, mc)
		}
		if len(ev) == 0 {
			return
		}
		// The values are captured under p.mu, so that events are queued
		// in the order their values were set: capturing first, a Set could
		// queue an older value after a later Set's newer one, and leave
		// subscribers stale.
		p.mu.Lock()
		svc.mu.RLock()
		props := properties(svc, ev)
		svc.mu.RUnlock()
		p.fanoutLocked(svc, props)
		p.mu.Unlock()
		return
	}
	p.mu.Lock()
	svc.mu.Lock()
	ev, mc := split(svc, p.moderate(svc, changed))
	props := properties(svc, ev)
	svc.mu.Unlock()
	if len(props) > 0 {
		p.fanoutLocked(svc, props)
	}
	p.mu.Unlock()
	if len(mc) > 0 {
		p.s.multicast(svc, mc)
	}
}

// split sorts changed variables into those evented to subscribers and those
// multicast.
func split(svc *Service, changed []string) (ev, mc []string) {
	for _, name := range changed {
		v := svc.SCPD.StateVariable(name)
		if v != nil && v.SendEvents {
			ev = append(ev, name)
		}
		if v != nil && v.Multicast {
			mc = append(mc, name)
		}
	}
	return ev, mc
}

// fanoutLocked queues props for every subscriber of svc whose subscription
// covers them. p.mu must be held from before the values were captured (see
// publish); locks are taken in the order p.mu, svc.mu, p.modMu.
func (p *publisher) fanoutLocked(svc *Service, props []gena.Property) {
	now := time.Now()
	for _, sub := range p.subs {
		if sub.svc != svc {
			continue
		}
		if now.After(sub.expires) {
			p.drop(sub)
			continue
		}
		mine := props
		if sub.vars != nil {
			mine = nil
			for _, pr := range props {
				if slices.Contains(sub.vars, pr.Name) {
					mine = append(mine, pr)
				}
			}
			if len(mine) == 0 {
				continue
			}
		}
		sub.push(mine)
	}
}

// properties captures the current values of vars; svc.mu must be held for reading.
func properties(svc *Service, vars []string) []gena.Property {
	props := make([]gena.Property, 0, len(vars))
	for _, v := range vars {
		props = append(props, gena.Property{Name: v, Value: svc.values[v]})
	}
	return props
}

// deliver sends sub's events in order until it ends, or expires unrenewed.
// A delivery that fails on every callback URL counts as a failure; three in a
// row end the subscription. SEQ advances with every message, delivered or
// not.
func (p *publisher) deliver(sub *subscription) {
	// The initial event follows the SUBSCRIBE response (UDA 4.1.2), but GUPnP
	// control points drop a NOTIFY that overtakes their reading of that
	// response and only catch up at the next change: give them a moment.
	select {
	case <-sub.done:
		return
	case <-time.After(initialEventDelay):
	}
	// A subscriber that vanished without UNSUBSCRIBE must not keep this
	// goroutine and its queue: drop the subscription when it expires, even if
	// no SUBSCRIBE or change comes to sweep it.
	expiry := time.NewTimer(p.untilExpiry(sub))
	defer expiry.Stop()
	failures := 0
	for {
		props := sub.pop()
		if props == nil {
			select {
			case <-sub.done:
				return
			case <-sub.wake:
				continue
			case <-expiry.C:
				if d := p.untilExpiry(sub); d > 0 {
					expiry.Reset(d) // renewed meanwhile
					continue
				}
				p.s.logger().Info("subscription expired", "sid", sub.sid)
				p.mu.Lock()
				p.drop(sub)
				p.mu.Unlock()
				return
			}
		}
		select {
		case <-sub.done:
			return
		default:
		}
		body, err := gena.AppendPropertySet(nil, props)
		if err != nil {
			p.s.logger().Error("device: event body", "sid", sub.sid, "err", err)
			continue
		}
		ok := false
		for _, cb := range sub.callbacks {
			err := p.notify(cb, sub, body)
			if err == nil {
				ok = true
				break
			}
			p.s.logger().Debug("device: NOTIFY failed", "sid", sub.sid, "seq", sub.seq, "callback", cb, "err", err)
		}
		sub.seq = gena.NextSEQ(sub.seq)
		if ok {
			failures = 0
			continue
		}
		if failures++; failures >= 3 {
			p.s.logger().Info("subscriber dropped: deliveries failed", "sid", sub.sid)
			p.mu.Lock()
			p.drop(sub)
			p.mu.Unlock()
			return
		}
	}
}

func (p *publisher) notify(cb *url.URL, sub *subscription, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Timeout)
	defer cancel()
	go func() {
		select {
		case <-sub.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, "NOTIFY", cb.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	h := req.Header
	h.Set("Content-Type", `text/xml; charset="utf-8"`)
	h.Set("NT", "upnp:event")
	h.Set("NTS", "upnp:propchange")
	h.Set("SID", sub.sid)
	h.Set("SEQ", strconv.FormatUint(uint64(sub.seq), 10))
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return errors.New("device: NOTIFY answered " + resp.Status)
	}
	return nil
}

// untilExpiry returns how long sub has left; at most 0 once it expired.
func (p *publisher) untilExpiry(sub *subscription) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Until(sub.expires)
}

// Close ends every event subscription, without further NOTIFY, and stops the
// timers of moderated variables, so that no goroutine of s is left; new
// SUBSCRIBEs get 503. ListenAndServe does it when it returns; call Close when
// a Server mounted in a mux of your own stops serving. It returns nil.
func (s *Server) Close() error {
	s.events().close()
	return nil
}

// open lets subscriptions and moderated events in again after close, for a
// Server whose ListenAndServe runs again.
func (p *publisher) open() {
	p.modMu.Lock()
	p.modClosed = false
	p.modMu.Unlock()
	p.mu.Lock()
	p.closed = false
	p.mu.Unlock()
}

// close ends every subscription and stops the timers of moderated variables.
func (p *publisher) close() {
	p.stopModeration()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, sub := range p.subs {
		p.drop(sub)
	}
	// Kept-alive NOTIFY connections would hold two goroutines each (and
	// one of the subscriber's) until IdleConnTimeout.
	p.client.CloseIdleConnections()
}

package device

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Moderation rate-limits the events of one state variable, as the
// maximumRate and minimumDelta of UDA 1.1 (2.3 and 4.3) describe. It applies
// to unicast and multicast events alike; the state itself always holds the
// latest value, and initial events carry it whatever the moderation. The
// zero value moderates nothing.
type Moderation struct {
	// MaximumRate is the shortest time between two events carrying the
	// variable; zero means no limit. A change inside the interval is not
	// lost: when the interval ends, the variable's latest value is evented
	// (unless it is back to the value last evented).
	MaximumRate time.Duration
	// MinimumDelta, for a numeric variable, is how far its value must move
	// from the value last evented to be evented; zero means any change. A
	// smaller change is kept in the state, not evented; changes that add up
	// to MinimumDelta are. It is ignored when a value does not parse as a
	// number.
	MinimumDelta float64
}

func (m Moderation) active() bool { return m.MaximumRate > 0 || m.MinimumDelta > 0 }

// modKey names one moderated variable of one service.
type modKey struct {
	svc  *Service
	name string
}

// modState is what the publisher knows of a moderated variable; guarded by
// publisher.modMu.
type modState struct {
	last  time.Time   // when it was last evented
	timer *time.Timer // pending event at the end of the interval, or nil
}

// noteBase remembers old as the value last evented of a moderated variable
// that has not been evented yet, so that MinimumDelta counts from the value
// subscribers hold; s.mu must be held for writing.
func (s *Service) noteBase(name, old string) {
	if !s.Moderation[name].active() {
		return
	}
	if _, ok := s.evBase[name]; ok {
		return
	}
	if s.evBase == nil {
		s.evBase = map[string]string{}
	}
	s.evBase[name] = old
}

// moved reports whether cur differs enough from base, the value last
// evented, to be evented under m.
func (m Moderation) moved(base, cur string) bool {
	if cur == base {
		return false
	}
	if m.MinimumDelta <= 0 {
		return true
	}
	b, err1 := strconv.ParseFloat(strings.TrimSpace(base), 64)
	c, err2 := strconv.ParseFloat(strings.TrimSpace(cur), 64)
	if err1 != nil || err2 != nil {
		return true
	}
	return math.Abs(c-b) >= m.MinimumDelta
}

// moderate returns the changed variables to event now, in order: the
// unmoderated ones and the moderated ones allowed now. A rate-moderated
// variable changed inside its interval gets a timer that events its latest
// value when the interval ends. svc.mu must be held for writing.
func (p *publisher) moderate(svc *Service, changed []string) []string {
	out := make([]string, 0, len(changed))
	now := time.Now()
	p.modMu.Lock()
	defer p.modMu.Unlock()
	for _, name := range changed {
		m := svc.Moderation[name]
		if !m.active() {
			out = append(out, name)
			continue
		}
		cur := svc.values[name]
		if base, ok := svc.evBase[name]; ok && !m.moved(base, cur) {
			continue // a pending timer, if any, will look again
		}
		if m.MaximumRate <= 0 {
			svc.noteEvented(name, cur)
			out = append(out, name)
			continue
		}
		if p.mods == nil {
			p.mods = map[modKey]*modState{}
		}
		k := modKey{svc, name}
		st := p.mods[k]
		if st == nil {
			st = &modState{}
			p.mods[k] = st
		}
		switch {
		case st.timer != nil:
			// The pending event will carry the latest value.
		case st.last.IsZero() || now.Sub(st.last) >= m.MaximumRate:
			st.last = now
			svc.noteEvented(name, cur)
			out = append(out, name)
		case !p.modClosed:
			st.timer = time.AfterFunc(st.last.Add(m.MaximumRate).Sub(now), func() { p.flushModerated(svc, name) })
		}
	}
	return out
}

// noteEvented records the value of a moderated variable being evented; s.mu
// must be held for writing.
func (s *Service) noteEvented(name, value string) {
	if s.evBase == nil {
		s.evBase = map[string]string{}
	}
	s.evBase[name] = value
}

// flushModerated events the latest value of a rate-moderated variable at
// the end of its interval, unless it is no longer worth an event.
func (p *publisher) flushModerated(svc *Service, name string) {
	m := svc.Moderation[name]
	p.mu.Lock() // held from capture to queueing, as in publish
	svc.mu.Lock()
	p.modMu.Lock()
	st := p.mods[modKey{svc, name}]
	if st == nil || p.modClosed {
		p.modMu.Unlock()
		svc.mu.Unlock()
		p.mu.Unlock()
		return
	}
	st.timer = nil
	cur := svc.values[name]
	send := true
	if base, ok := svc.evBase[name]; ok {
		send = m.moved(base, cur)
	}
	if send {
		st.last = time.Now()
		svc.noteEvented(name, cur)
	}
	p.modMu.Unlock()
	if !send {
		svc.mu.Unlock()
		p.mu.Unlock()
		return
	}
	ev, mc := split(svc, []string{name})
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

// stopModeration stops every pending moderated event; none is sent after.
func (p *publisher) stopModeration() {
	p.modMu.Lock()
	defer p.modMu.Unlock()
	p.modClosed = true
	for _, st := range p.mods {
		if st.timer != nil {
			st.timer.Stop()
			st.timer = nil
		}
	}
}

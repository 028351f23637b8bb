package controlpoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/gena"
	"github.com/seedb72249f9/upnp/internal/netlab"
)

// fakeDevice is a GENA publisher driven by the test: it grants
// subscriptions and records them, and the test sends the NOTIFYs.
type fakeDevice struct {
	ts *httptest.Server

	mu          sync.Mutex
	subs        []fakeSub // SUBSCRIBEs without SID, in order
	renewals    int
	unsubs      []string
	timeout     string // TIMEOUT granted; "" means Second-300
	subStatus   int    // status of new subscriptions; 0 means 200
	renewStatus int    // status of renewals; 0 means 200
	noSID       bool
	before      func(cb, sid string) // runs before the SUBSCRIBE response
	changed     chan struct{}
}

type fakeSub struct{ callback, sid, statevar string }

func newFakeDevice(t *testing.T) *fakeDevice {
	f := &fakeDevice{changed: make(chan struct{}, 100)}
	f.ts = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fakeDevice) serve(w http.ResponseWriter, r *http.Request) {
	defer func() {
		select {
		case f.changed <- struct{}{}:
		default:
		}
	}()
	f.mu.Lock()
	timeout := f.timeout
	if timeout == "" {
		timeout = "Second-300"
	}
	switch {
	case r.Method == "UNSUBSCRIBE":
		f.unsubs = append(f.unsubs, r.Header.Get("SID"))
		f.mu.Unlock()
		return
	case r.Method == "SUBSCRIBE" && r.Header.Get("SID") != "":
		f.renewals++
		status := f.renewStatus
		f.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("SID", r.Header.Get("SID"))
		w.Header().Set("TIMEOUT", timeout)
		return
	case r.Method == "SUBSCRIBE":
		sid := fmt.Sprintf("uuid:fake-%d", len(f.subs)+1)
		cb := strings.Trim(r.Header.Get("CALLBACK"), "<>")
		f.subs = append(f.subs, fakeSub{cb, sid, r.Header.Get("STATEVAR")})
		status, noSID, before := f.subStatus, f.noSID, f.before
		f.mu.Unlock()
		if r.Header.Get("NT") != "upnp:event" {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		if before != nil {
			before(cb, sid)
		}
		if !noSID {
			w.Header().Set("SID", sid)
		}
		w.Header().Set("TIMEOUT", timeout)
		return
	}
	f.mu.Unlock()
	w.WriteHeader(http.StatusMethodNotAllowed)
}

// hangDeadline bounds every wait for something that must happen: long
// enough for a loaded machine under -race, so that it only catches hangs.
const hangDeadline = 20 * time.Second

// sub waits for the i-th new subscription.
func (f *fakeDevice) sub(t *testing.T, i int) fakeSub {
	t.Helper()
	var s fakeSub
	f.await(t, fmt.Sprintf("subscription #%d", i+1), func() bool {
		if len(f.subs) > i {
			s = f.subs[i]
			return true
		}
		return false
	})
	return s
}

// await waits until cond, called with f.mu held, is true: it looks again
// each time the device answers a request.
func (f *fakeDevice) await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(hangDeadline)
	for {
		f.mu.Lock()
		ok := cond()
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-f.changed:
		case <-time.After(50 * time.Millisecond): // a change signalled while the channel was full
		case <-deadline:
			t.Fatalf("the device did not see %s within %v", what, hangDeadline)
		}
	}
}

// unsubscribed waits until the device has seen an UNSUBSCRIBE for each of
// sids.
func (f *fakeDevice) unsubscribed(t *testing.T, sids ...string) {
	t.Helper()
	f.await(t, fmt.Sprintf("UNSUBSCRIBE of %v", sids), func() bool {
		for _, sid := range sids {
			if !slices.Contains(f.unsubs, sid) {
				return false
			}
		}
		return true
	})
}

// established waits until the subscription attempt behind the callback URL
// callback knows its SID: its SUBSCRIBE response has been read, so that a
// NOTIFY with another SID is refused instead of kept for later.
func established(t *testing.T, c *Client, callback string) {
	t.Helper()
	token := callback[strings.LastIndexByte(callback, '/')+1:]
	known := func() bool {
		c.callbacks.mu.Lock()
		defer c.callbacks.mu.Unlock()
		for _, s := range c.callbacks.servers {
			s.mu.Lock()
			a := s.routes[token]
			s.mu.Unlock()
			if a != nil {
				a.mu.Lock()
				defer a.mu.Unlock()
				return a.sid != ""
			}
		}
		return false
	}
	waitFor(t, "the SUBSCRIBE response of "+callback, known)
}

// waitFor waits until cond is true and fails the test if that takes
// longer than hangDeadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !eventually(cond) {
		t.Fatalf("no %s within %v", what, hangDeadline)
	}
}

// eventually reports whether cond becomes true within hangDeadline,
// looking every millisecond.
func eventually(cond func() bool) bool {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(hangDeadline)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			return cond()
		}
	}
	return true
}

func (f *fakeDevice) counts() (subs, renewals int, unsubs []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs), f.renewals, append([]string(nil), f.unsubs...)
}

const fakeSCPD = `<?xml version="1.0"?><scpd xmlns="urn:schemas-upnp-org:service-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<serviceStateTable>
<stateVariable sendEvents="yes"><name>Status</name><dataType>boolean</dataType></stateVariable>
<stateVariable sendEvents="yes"><name>Count</name><dataType>ui4</dataType></stateVariable>
</serviceStateTable></scpd>`

func (f *fakeDevice) service(t *testing.T) *Service {
	scpd, err := upnp.ParseSCPD([]byte(fakeSCPD))
	if err != nil {
		t.Fatal(err)
	}
	lo := netip.MustParseAddr("127.0.0.1")
	d := &Device{Root: &upnp.Root{Device: upnp.Device{UDN: "uuid:fake"}}, Addr: lo, Local: lo, BootID: -1, ConfigID: -1}
	svc := &Service{Type: "urn:x:service:Fake:1", ID: "urn:x:serviceId:Fake", EventSubURL: f.ts.URL + "/evt", SCPD: scpd, owner: d}
	d.Services = []*Service{svc}
	return svc
}

// sendNotify sends a NOTIFY from the address from ("" for any) and returns
// the status.
func sendNotify(t *testing.T, from, url string, h map[string]string, body string) int {
	t.Helper()
	d := &net.Dialer{Timeout: 2 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	req, err := http.NewRequest("NOTIFY", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = []string{v}
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("NOTIFY: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func propset(kv ...string) string {
	var props []gena.Property
	for i := 0; i+1 < len(kv); i += 2 {
		props = append(props, gena.Property{Name: kv[i], Value: kv[i+1]})
	}
	b, err := gena.AppendPropertySet(nil, props)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func headers(sid string, seq any) map[string]string {
	return map[string]string{"NT": "upnp:event", "NTS": "upnp:propchange", "SID": sid, "SEQ": fmt.Sprint(seq),
		"CONTENT-TYPE": `text/xml; charset="utf-8"`}
}

// running starts a subscription and returns its events and a stop
// function that cancels it and returns Run's result.
func running(t *testing.T, s *Subscription) (<-chan *Event, func() error) {
	t.Helper()
	events := make(chan *Event, 1000)
	s.Handler = func(ev *Event) { events <- ev }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(hangDeadline):
				err = fmt.Errorf("Run did not return within %v of cancel", hangDeadline)
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return events, stop
}

func next(t *testing.T, events <-chan *Event) *Event {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(hangDeadline):
		t.Fatal("no event")
	}
	return nil
}

func quiet(t *testing.T, events <-chan *Event) {
	t.Helper()
	select {
	case ev := <-events:
		t.Fatalf("unexpected event SEQ %d %+v", ev.SEQ, ev.Vars)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestNotifyChecks: every GENA check of SECURITY.md on the control point
// side, against a subscription the test drives by hand.
func TestNotifyChecks(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	f := newFakeDevice(t)
	c := &Client{}
	events, stop := running(t, &Subscription{Client: c, Service: f.service(t), StateVars: []string{"Status"}})
	sub := f.sub(t, 0)
	if sub.statevar != "Status" {
		t.Errorf("STATEVAR %q", sub.statevar)
	}
	// Until the SUBSCRIBE response names the SID, a NOTIFY of any SID is
	// kept (TestEarlyNotify): the checks below are those of a subscription
	// whose SID is known.
	established(t, c, sub.callback)
	body := propset("Status", "1", "Count", "7")
	without := func(k string) map[string]string {
		h := headers(sub.sid, 0)
		delete(h, k)
		return h
	}
	with := func(k, v string) map[string]string {
		h := headers(sub.sid, 0)
		h[k] = v
		return h
	}
	bad := []struct {
		name   string
		from   string
		url    string
		h      map[string]string
		body   string
		status int
	}{
		{"unknown SID", "", sub.callback, headers("uuid:fake-99", 0), body, 412},
		{"no SID", "", sub.callback, without("SID"), body, 412},
		{"SID not a uuid", "", sub.callback, with("SID", "fake-1"), body, 412},
		{"no NT", "", sub.callback, without("NT"), body, 400},
		{"no NTS", "", sub.callback, without("NTS"), body, 400},
		{"wrong NT", "", sub.callback, with("NT", "upnp:other"), body, 412},
		{"wrong NTS", "", sub.callback, with("NTS", "ssdp:alive"), body, 412},
		{"no SEQ", "", sub.callback, without("SEQ"), body, 412},
		{"SEQ not a number", "", sub.callback, with("SEQ", "one"), body, 412},
		{"negative SEQ", "", sub.callback, with("SEQ", "-1"), body, 412},
		{"SEQ over 32 bits", "", sub.callback, with("SEQ", "4294967296"), body, 412},
		{"unknown callback path", "", sub.callback + "x", headers(sub.sid, 0), body, 412},
		{"wrong sender", "127.0.0.2", sub.callback, headers(sub.sid, 0), body, 403},
		{"body not a property set", "", sub.callback, headers(sub.sid, 0), "<html/>", 400},
		{"body too large", "", sub.callback, headers(sub.sid, 0), propset("Status", strings.Repeat("x", 70<<10)), 413},
		{"XML bomb", "", sub.callback, headers(sub.sid, 0), `<!DOCTYPE x [<!ENTITY a "aaaa">]><e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"/>`, 400},
	}
	for _, b := range bad {
		if got := sendNotify(t, b.from, b.url, b.h, b.body); got != b.status {
			t.Errorf("%s: status %d, want %d", b.name, got, b.status)
		}
	}
	quiet(t, events)

	// The real initial event, typed from the SCPD.
	if got := sendNotify(t, "", sub.callback, headers(sub.sid, 0), body); got != 200 {
		t.Fatalf("initial event: %d", got)
	}
	ev := next(t, events)
	if ev.SEQ != 0 || ev.SID != sub.sid || len(ev.Vars) != 2 || ev.Vars[0].Value != true || ev.Vars[1].Value != uint32(7) || ev.Vars[1].Text != "7" {
		t.Fatalf("initial event %+v", ev)
	}
	// A spoofed SEQ 1 from another host does not take the place of the real one.
	if got := sendNotify(t, "127.0.0.2", sub.callback, headers(sub.sid, 1), propset("Count", "666")); got != 403 {
		t.Errorf("spoofed event: %d", got)
	}
	sendNotify(t, "", sub.callback, headers(sub.sid, 1), propset("Count", "8"))
	if ev := next(t, events); ev.SEQ != 1 || ev.Vars[0].Value != uint32(8) {
		t.Fatalf("SEQ 1: %+v", ev)
	}
	// A repeat is ignored; events out of order are put in order. SEQ 2
	// follows SEQ 3 at once: a SEQ missing for gapWait means lost events.
	sendNotify(t, "", sub.callback, headers(sub.sid, 1), propset("Count", "8"))
	sendNotify(t, "", sub.callback, headers(sub.sid, 3), propset("Count", "10"))
	sendNotify(t, "", sub.callback, headers(sub.sid, 2), propset("Count", "9"))
	for _, want := range []uint32{2, 3} {
		if ev := next(t, events); ev.SEQ != want {
			t.Fatalf("SEQ %d, want %d", ev.SEQ, want)
		}
	}
	// A gap that stays open means lost events: unsubscribe, subscribe anew.
	sendNotify(t, "", sub.callback, headers(sub.sid, 5), propset("Count", "12"))
	second := f.sub(t, 1)
	if second.callback == sub.callback {
		t.Errorf("the new subscription reuses the callback path %s", sub.callback)
	}
	f.unsubscribed(t, sub.sid) // in the background, before the end
	quiet(t, events)
	if got := sendNotify(t, "", sub.callback, headers(sub.sid, 4), propset("Count", "11")); got != 412 {
		t.Errorf("late event on the old subscription: %d, want 412", got)
	}
	sendNotify(t, "", second.callback, headers(second.sid, 0), propset("Status", "0", "Count", "12"))
	if ev := next(t, events); ev.SEQ != 0 || ev.SID != second.sid {
		t.Fatalf("after resubscription: %+v", ev)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	_, _, unsubs := f.counts()
	if strings.Join(unsubs, " ") != sub.sid+" "+second.sid {
		t.Errorf("UNSUBSCRIBEs %v, want the first after the gap and the second at the end", unsubs)
	}
}

// TestEarlyNotify: NOTIFYs that arrive before the SUBSCRIBE response are
// kept and delivered in order once the SID is known; one with another SID
// is dropped.
func TestEarlyNotify(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	f := newFakeDevice(t)
	f.before = func(cb, sid string) {
		for _, n := range []struct {
			sid string
			seq int
		}{{sid, 1}, {"uuid:someone-else", 0}, {sid, 0}} {
			if got := sendNotify(&testing.T{}, "", cb, headers(n.sid, n.seq), propset("Count", fmt.Sprint(n.seq))); got != 200 {
				panic(fmt.Sprintf("early NOTIFY: %d", got))
			}
		}
	}
	events, _ := running(t, &Subscription{Client: &Client{}, Service: f.service(t)})
	for _, want := range []uint32{0, 1} {
		if ev := next(t, events); ev.SEQ != want || ev.SID != "uuid:fake-1" {
			t.Fatalf("event %+v, want SEQ %d", ev, want)
		}
	}
	quiet(t, events)
}

// TestRenewal: renewals go at half the granted time; a 412 answer (the
// device forgot us) leads to a new subscription without UNSUBSCRIBE.
func TestRenewal(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	f := newFakeDevice(t)
	f.timeout = "Second-1"
	_, stop := running(t, &Subscription{Client: &Client{}, Service: f.service(t), Timeout: 5 * time.Second})
	f.sub(t, 0)
	f.await(t, "two renewals", func() bool { return f.renewals >= 2 })
	if subs, renewals, _ := f.counts(); subs != 1 {
		t.Fatalf("%d subscriptions after %d renewals of a 1 s grant, want 1", subs, renewals)
	}
	f.mu.Lock()
	f.renewStatus = 412
	f.mu.Unlock()
	f.sub(t, 1)
	if _, _, unsubs := f.counts(); len(unsubs) != 0 {
		t.Errorf("UNSUBSCRIBE %v for a subscription the device forgot", unsubs)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestSubscribeErrors: a first SUBSCRIBE that fails is Run's error, and
// leaves no callback server behind.
func TestSubscribeErrors(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	f := newFakeDevice(t)
	c := &Client{}
	run := func(svc *Service) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return (&Subscription{Client: c, Service: svc, Handler: func(*Event) {}}).Run(ctx)
	}
	f.subStatus = 412
	var he *HTTPError
	if err := run(f.service(t)); !errors.As(err, &he) || he.StatusCode != 412 || he.Method != "SUBSCRIBE" {
		t.Errorf("412: %v", err)
	}
	f.subStatus, f.noSID = 0, true
	if err := run(f.service(t)); err == nil || !strings.Contains(err.Error(), "SID") {
		t.Errorf("no SID: %v", err)
	}
	foreign := f.service(t)
	foreign.owner.Addr = netip.MustParseAddr("127.0.0.2")
	if err := run(foreign); !errors.Is(err, ErrForeignHost) {
		t.Errorf("foreign event URL: %v", err)
	}
	none := f.service(t)
	none.EventSubURL = ""
	if err := run(none); !errors.Is(err, ErrNotEvented) {
		t.Errorf("no event URL: %v", err)
	}
	if err := (&Subscription{}).Run(context.Background()); err == nil {
		t.Error("a zero Subscription runs")
	}
	c.callbacks.mu.Lock()
	n := len(c.callbacks.servers)
	c.callbacks.mu.Unlock()
	if n != 0 {
		t.Errorf("%d callback servers left", n)
	}
}

// TestSilentDevice: a device that accepts SUBSCRIBE, connects to the
// callback and never sends anything (minidlna 1.3.0) costs nothing once
// the subscription ends: Run returns, every subscription the device granted
// is cancelled, the idle connections are closed, and goroutines do not
// grow. Rounds alternate between ending an established subscription (Run
// returns nil) and ending Run while the device holds the answer to its
// first SUBSCRIBE: the answer comes in within the 2 s the SUBSCRIBE may
// outlive its context, so Run cancels that grant and returns an error
// wrapping the context's cause.
func TestSilentDevice(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	f := newFakeDevice(t)
	f.timeout = "Second-1" // a renewal every 500 ms shows Run past its first SUBSCRIBE
	var (
		mu    sync.Mutex
		conns []net.Conn
		hold  chan struct{} // when set, the SUBSCRIBE answer waits until it is closed
		held  chan string   // told the SID of the SUBSCRIBE held
	)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	f.before = func(cb, sid string) {
		// The idle connection is open before the control point learns
		// the SID.
		host := strings.TrimPrefix(cb, "http://")
		host = host[:strings.IndexByte(host, '/')]
		c, err := net.Dial("tcp", host)
		mu.Lock()
		if err == nil {
			conns = append(conns, c)
		}
		h, tell := hold, held
		mu.Unlock()
		if err != nil {
			t.Errorf("connecting to the callback %s: %v", cb, err)
		}
		if h != nil {
			tell <- sid
			<-h
		}
	}
	c := &Client{}
	svc := f.service(t)
	stopped := errors.New("the test ends the subscription")
	start := func() (stop func() time.Time, done <-chan error) {
		ctx, cancel := context.WithCancelCause(context.Background())
		s := &Subscription{Client: c, Service: svc, Handler: func(ev *Event) {
			t.Errorf("an event from the silent device: SEQ %d %+v", ev.SEQ, ev.Vars)
		}}
		d := make(chan error, 1)
		go func() { d <- s.Run(ctx) }()
		t.Cleanup(func() { cancel(nil) })
		return func() time.Time { cancel(stopped); return time.Now() }, d
	}
	var slowest time.Duration // from cancel to Run's return: a figure, not a check
	wait := func(done <-chan error, since time.Time) error {
		t.Helper()
		select {
		case err := <-done:
			slowest = max(slowest, time.Since(since))
			return err
		case <-time.After(hangDeadline):
			t.Fatalf("Run did not return within %v of cancel", hangDeadline)
			return nil
		}
	}
	subsSoFar := func() int {
		n, _, _ := f.counts()
		return n
	}
	var expired []string // SIDs granted after the SUBSCRIBE had given up
	establishedRound := func() {
		n0 := subsSoFar()
		_, renewals, _ := f.counts()
		stop, done := start()
		f.sub(t, n0)
		f.await(t, "a renewal", func() bool { return f.renewals > renewals })
		if err := wait(done, stop()); err != nil {
			t.Fatalf("Run ended after its subscription was established: %v, want nil", err)
		}
	}
	cancelled := 0
	underWayRound := func() {
		h, tell := make(chan struct{}), make(chan string, 1)
		mu.Lock()
		hold, held = h, tell
		mu.Unlock()
		stop, done := start()
		var sid string
		select {
		case sid = <-tell:
		case <-time.After(hangDeadline):
			t.Fatalf("no SUBSCRIBE within %v", hangDeadline)
		}
		mu.Lock()
		hold, held = nil, nil
		mu.Unlock()
		since := stop() // ctx ends while the device holds its answer
		close(h)
		switch err := wait(done, since); {
		case errors.Is(err, stopped):
			cancelled++ // the grant came in within the grace, and was cancelled
		case errors.Is(err, context.Canceled):
			// The answer took longer than the 2 s grace (a starved
			// machine): the SUBSCRIBE gave up, and has no SID to cancel.
			t.Logf("SUBSCRIBE gave up before the answer: %v", err)
			expired = append(expired, sid)
		default:
			t.Fatalf("Run ended during its first SUBSCRIBE: %v, want an error wrapping the context's cause", err)
		}
	}
	establishedRound()
	before := runtime.NumGoroutine()
	for range 10 {
		underWayRound()
		establishedRound()
	}
	if cancelled == 0 {
		t.Errorf("no grant that came in after the context ended was cancelled (%d SUBSCRIBEs gave up)", len(expired))
	}
	t.Logf("Run returned at most %v after cancel; %d of 10 grants during cancel were cancelled", slowest.Round(time.Millisecond), cancelled)

	// Every subscription granted is cancelled, once.
	f.mu.Lock()
	var want []string
	for _, s := range f.subs {
		if !slices.Contains(expired, s.sid) {
			want = append(want, s.sid)
		}
	}
	f.mu.Unlock()
	f.unsubscribed(t, want...)
	if _, _, unsubs := f.counts(); len(unsubs) != len(want) {
		t.Errorf("UNSUBSCRIBEs %v, want one each of %v", unsubs, want)
	}
	// The idle connections are closed, and the goroutines that served them
	// are gone.
	mu.Lock()
	idle := slices.Clone(conns)
	mu.Unlock()
	if subs, _, _ := f.counts(); len(idle) != subs {
		t.Errorf("%d idle connections for %d SUBSCRIBEs", len(idle), subs)
	}
	for _, conn := range idle {
		conn.SetReadDeadline(time.Now().Add(hangDeadline))
		var b [1]byte
		if _, err := conn.Read(b[:]); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("an idle connection to a callback server of a finished Run: read %v", err)
		}
	}
	if !eventually(func() bool { return runtime.NumGoroutine() <= before+2 }) {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines %d -> %d after 20 more silent subscriptions\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	}
}

// TestHandlerBehind: a handler that falls more than eventQueue events
// behind makes Run subscribe again rather than drop events silently.
func TestHandlerBehind(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	f := newFakeDevice(t)
	release := make(chan struct{})
	var got []uint32
	var mu sync.Mutex
	s := &Subscription{Client: &Client{}, Service: f.service(t), Handler: func(ev *Event) {
		<-release
		mu.Lock()
		got = append(got, ev.SEQ)
		mu.Unlock()
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	sub := f.sub(t, 0)
	for seq := range eventQueue + 3 {
		sendNotify(t, "", sub.callback, headers(sub.sid, seq), propset("Count", fmt.Sprint(seq)))
	}
	close(release)
	f.sub(t, 1)
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	for i, seq := range got {
		if seq != uint32(i) {
			t.Fatalf("events out of order: %v", got)
		}
	}
	if len(got) < eventQueue {
		t.Errorf("%d events delivered before the resubscription, want at least %d", len(got), eventQueue)
	}
}

// TestSEQWrap: after 4294967295 comes 1.
func TestSEQWrap(t *testing.T) {
	a := newAttempt(&Service{}, true)
	a.start("uuid:x")
	a.next = 4294967295
	a.accept(notification{sid: "uuid:x", seq: 1})
	a.accept(notification{sid: "uuid:x", seq: 4294967295})
	for _, want := range []uint32{4294967295, 1} {
		select {
		case ev := <-a.events:
			if ev.SEQ != want {
				t.Fatalf("SEQ %d, want %d", ev.SEQ, want)
			}
		default:
			t.Fatalf("no event SEQ %d", want)
		}
	}
	a.close()
}

//go:build linux

package device_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/internal/netlab"
	"github.com/seedb72249f9/upnp/internal/soap"
	"github.com/seedb72249f9/upnp/ssdp"
)

// floodSource is one flooding host: a socket on its own loopback address
// that counts and checks the answers it gets.
type floodSource struct {
	pc   net.PacketConn
	addr netip.Addr

	mu         sync.Mutex
	answers    int       // answers to the flood's searches
	uuid       int       // answers to a search for the UDN
	lastAnswer time.Time // when the last answer came
	bad        []string
}

// read counts the answers until the socket is closed.
func (f *floodSource) read(wantLocation string) {
	buf := make([]byte, ssdp.MaxDatagram+1)
	for {
		n, _, err := f.pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		now := time.Now()
		m, err := ssdp.Parse(buf[:n])
		var problem string
		switch {
		case err != nil:
			problem = err.Error()
		case m.Kind != ssdp.KindResponse || !m.EXT || m.MaxAge <= 0 || m.BootID < 0 || m.ConfigID < 0:
			problem = fmt.Sprintf("not a UDA response: %+v", m)
		case m.ST != ssdp.RootDevice && m.ST != floodDeviceType && m.ST != loadUDN:
			problem = "answer with ST " + m.ST
		case m.ST == loadUDN && m.USN != loadUDN, m.ST != loadUDN && m.USN != loadUDN+"::"+m.ST:
			problem = fmt.Sprintf("ST %s with USN %s", m.ST, m.USN)
		case m.Location != wantLocation:
			problem = "LOCATION " + m.Location
		}
		f.mu.Lock()
		switch {
		case problem != "":
			f.bad = append(f.bad, problem)
		case m.ST == loadUDN:
			f.uuid++
		default:
			f.answers++
			f.lastAnswer = now
		}
		f.mu.Unlock()
	}
}

const floodDeviceType = "urn:schemas-upnp-org:device:BinaryLight:1"

func mSearch(st string) []byte {
	return []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: " + st + "\r\n\r\n")
}

// TestLoadSearchFloodWhileServing: a whole device (SSDP, HTTP, GENA) under
// 10,000 M-SEARCH a second from 249 source addresses for a few seconds. Its
// answers stay within the per-source rate limit (burst 20, then 10 a
// second) and are well formed with the right ST, USN and LOCATION; meanwhile
// a control point's SOAP calls all succeed and a subscriber gets every change
// in order; the heap stays flat and no goroutine is left. Once the device
// has worked through the flood, it answers a new host's searches again, and
// a flooding host's once its bucket refills.
func TestLoadSearchFloodWhileServing(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	const (
		rate      = 10000 // M-SEARCH per second
		nSources  = 249   // 127.0.0.2 to 127.0.0.250
		limit     = 10    // ssdp.Server's default RateLimit
		burst     = 2 * limit
		floodMX   = 1 // seconds
		eventWait = 10 * time.Second
	)
	flood := 3 * time.Second
	if testing.Short() || netlab.RaceEnabled {
		flood = 2 * time.Second
	}
	logMachine(t)
	gStart := runtime.NumGoroutine()
	d, svc := loadDevice()
	s := &device.Server{Device: d}
	base, stop := serveLoad(t, s)
	location := base + "/desc.xml"
	warm := &soapClient{http: &http.Client{}, base: base}
	if err := loadCall(warm, 0, 0); err != nil {
		t.Fatal(err)
	}
	g0 := settleGoroutines(0, 200*time.Millisecond)
	h0 := liveHeap()

	// The subscriber, and a changer that sets Counter to 1, 2, 3... each
	// once the previous change has arrived: no change may be lost.
	events := newEventLog()
	sink := httptest.NewServer(events)
	genaClient := &http.Client{Timeout: 10 * time.Second}
	sid, err := subscribe(genaClient, base, sink.URL+"/cb")
	if err != nil {
		t.Fatal(err)
	}
	waitValue := func(v uint64) bool {
		deadline := time.After(eventWait)
		for {
			if last, n := events.last(); n > 0 && last >= v {
				return true
			}
			select {
			case <-events.got:
			case <-deadline:
				return false
			}
		}
	}
	if !waitValue(0) {
		t.Fatal("no initial event")
	}

	var (
		stopWork  = make(chan struct{})
		work      sync.WaitGroup
		lastSet   atomic.Uint64
		eventLat  []time.Duration
		eventLost error
		soapLat   []time.Duration
		soapFails []error
	)
	work.Add(2)
	go func() {
		defer work.Done()
		for k := uint64(1); ; k++ {
			select {
			case <-stopWork:
				return
			case <-time.After(10 * time.Millisecond):
			}
			t0 := time.Now()
			if err := svc.Set("Counter", k); err != nil {
				eventLost = err
				return
			}
			lastSet.Store(k)
			if !waitValue(k) {
				eventLost = fmt.Errorf("change %d not delivered within %v", k, eventWait)
				return
			}
			eventLat = append(eventLat, time.Since(t0))
		}
	}()
	go func() {
		defer work.Done()
		c := &soapClient{http: &http.Client{Timeout: 10 * time.Second}, base: base}
		defer c.http.CloseIdleConnections()
		for i := 0; ; i++ {
			select {
			case <-stopWork:
				return
			default:
			}
			t0 := time.Now()
			err := loadCall(c, i, i)
			if err == nil && i%4 == 2 {
				// This client alone sets Target: GetStatus must follow.
				var out []soap.Arg
				if out, err = c.call(powerURL, power, "GetStatus"); err == nil {
					err = wantArgs("GetStatus", out, soap.Arg{Name: "ResultStatus", Value: strconv.Itoa(i % 2)})
				}
			}
			soapLat = append(soapLat, time.Since(t0))
			if err != nil {
				soapFails = append(soapFails, fmt.Errorf("call %d: %w", i, err))
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()

	// The flooding hosts.
	sources := make([]*floodSource, nSources)
	var readers sync.WaitGroup
	for i := range sources {
		a := netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i)})
		pc, err := net.ListenPacket("udp4", netip.AddrPortFrom(a, 0).String())
		if err != nil {
			t.Fatal(err)
		}
		sources[i] = &floodSource{pc: pc, addr: a}
		readers.Add(1)
		go func() { defer readers.Done(); sources[i].read(location) }()
	}
	closeSources := sync.OnceFunc(func() {
		for _, f := range sources {
			f.pc.Close()
		}
		readers.Wait()
	})
	defer closeSources()
	queries := [][]byte{mSearch(ssdp.RootDevice), mSearch(floodDeviceType)}
	group := &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900}

	// The runtime keeps the descriptor of every goroutine it has had at
	// once (each answer's timer runs on one): track the peak.
	var peakG atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if n := int64(runtime.NumGoroutine()); n > peakG.Load() {
				peakG.Store(n)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	var sent, sendErrs int
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	for {
		el := (<-tick.C).Sub(start)
		// Catch up with the rate when ticks come late: every search of
		// the flood is sent.
		for want := int(min(el, flood).Seconds() * rate); sent < want; sent++ {
			if _, err := sources[sent%nSources].pc.WriteTo(queries[sent/nSources%2], group); err != nil {
				sendErrs++
			}
		}
		if el >= flood {
			break
		}
	}
	tick.Stop()
	floodTime := time.Since(start)
	hDuring := liveHeap()
	gDuring := runtime.NumGoroutine()

	// Once it has worked through what the flood left in its socket, the
	// device answers a new host, multicast and unicast, and a flooding host
	// whose bucket has refilled. Each search is tried from the end of the
	// flood until answered.
	floodEnd := start.Add(floodTime)
	c := &ssdp.Client{Interfaces: []string{"lo"}, Network: "udp4"}
	type recovery struct {
		name     string
		attempts int
		sent     time.Duration // the answered search, from the end of the flood
		answered time.Duration // its answer
		err      error
	}
	recoveries := []*recovery{{name: "new host, multicast"}, {name: "new host, unicast"}, {name: "flooding host, multicast"}}
	attempt := func(r *recovery) error {
		r.sent = time.Since(floodEnd)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var req ssdp.SearchRequest
		switch r.name {
		case "new host, multicast":
			req = ssdp.SearchRequest{Target: ssdp.RootDevice, MX: 1, Sends: 1}
		case "new host, unicast":
			req = ssdp.SearchRequest{Target: loadUDN, To: netip.MustParseAddrPort("127.0.0.1:1900")}
		default:
			f := sources[0]
			f.mu.Lock()
			before := f.uuid
			f.mu.Unlock()
			if _, err := f.pc.WriteTo(mSearch(loadUDN), group); err != nil {
				return err
			}
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				f.mu.Lock()
				n := f.uuid
				f.mu.Unlock()
				if n > before {
					r.answered = time.Since(floodEnd)
					return nil
				}
			}
			return errors.New("no answer within MX + 1 s")
		}
		ps, err := c.SearchAll(ctx, req)
		if err != nil {
			return err
		}
		wantUSN := loadUDN + "::" + ssdp.RootDevice
		if req.Target == loadUDN {
			wantUSN = loadUDN
		}
		if len(ps) != 1 || ps[0].USN != wantUSN || ps[0].Location != location || ps[0].ST != req.Target {
			return fmt.Errorf("%d answers: %v", len(ps), ps)
		}
		r.answered = ps[0].Time.Sub(floodEnd)
		return nil
	}
	var searches sync.WaitGroup
	for _, r := range recoveries {
		searches.Add(1)
		go func() {
			defer searches.Done()
			for {
				r.attempts++
				if r.err = attempt(r); r.err == nil {
					return
				}
				if time.Since(floodEnd) > 30*time.Second {
					return
				}
			}
		}()
	}
	// Meanwhile the answers still waiting for their delay (at most MX) go
	// out, and SOAP and events go on.
	time.Sleep(floodMX*time.Second + 500*time.Millisecond)
	close(stopWork)
	work.Wait()
	close(stopSampling)
	<-sampled
	searches.Wait()
	closeSources()

	// Unsubscribe and hang up: the device must be back where it started.
	if st, err := genaStatus(genaClient, base, "UNSUBSCRIBE", sid); err != nil || st != 200 {
		t.Errorf("UNSUBSCRIBE: %d %v", st, err)
	}
	genaClient.CloseIdleConnections()
	warm.http.CloseIdleConnections()
	sink.Close()
	g1 := settleGoroutines(g0, 10*time.Second)
	h1 := liveHeap()

	// Figures.
	var perSource []int
	total, bad := 0, 0
	for _, f := range sources {
		perSource = append(perSource, f.answers)
		total += f.answers
		bad += len(f.bad)
	}
	slices.Sort(perSource)
	t.Logf("flood: %d M-SEARCH in %v (%.0f/s) from %d sources, %d send errors", sent, floodTime.Round(time.Millisecond),
		float64(sent)/floodTime.Seconds(), nSources, sendErrs)
	t.Logf("answers: %d in all; per source min %d, median %d, max %d (limit: %d + %d/s); %d malformed or wrong",
		total, perSource[0], perSource[len(perSource)/2], perSource[len(perSource)-1], burst, limit, bad)
	for _, r := range recoveries {
		t.Logf("after the flood: a search from a %s, sent %v after its end (attempt %d), answered at %v",
			r.name, r.sent.Round(time.Millisecond), r.attempts, r.answered.Round(time.Millisecond))
	}
	t.Logf("SOAP meanwhile: %d calls, %d failed; latency %s", len(soapLat), len(soapFails), percentiles(soapLat))
	t.Logf("events meanwhile: %d changes, each delivered before the next; Set to arrival %s", lastSet.Load(), percentiles(eventLat))
	t.Logf("heap: %d KiB before, %d KiB at the end of the flood, %d KiB after; goroutines %d before, %d at the end of the flood (peak %d), %d after",
		h0>>10, hDuring>>10, h1>>10, g0, gDuring, peakG.Load(), g1)

	// Assertions.
	for _, f := range sources {
		f.mu.Lock()
		// The bucket of a source starts full at its first search and gains
		// limit tokens a second; the last search answered was handled
		// before its answer arrived.
		allowed := burst + int(float64(limit)*f.lastAnswer.Sub(start).Seconds()) + 1
		switch {
		case len(f.bad) > 0:
			t.Errorf("%v: %d bad answers, first: %s", f.addr, len(f.bad), f.bad[0])
		case f.answers > allowed:
			t.Errorf("%v: %d answers, more than the rate limit allows (%d)", f.addr, f.answers, allowed)
		case f.answers == 0:
			t.Errorf("%v: no answer at all", f.addr)
		}
		f.mu.Unlock()
	}
	for _, r := range recoveries {
		if r.err != nil {
			t.Errorf("after the flood, a search from a %s was not answered in %d attempts: %v", r.name, r.attempts, r.err)
		}
	}
	if n := sources[0].uuid; n < 1 || n > recoveries[2].attempts {
		t.Errorf("a flooding host searching %d times after the flood got %d answers", recoveries[2].attempts, n)
	}
	if len(soapFails) > 0 {
		t.Errorf("%d of %d SOAP calls failed during the flood: %v", len(soapFails), len(soapLat), errors.Join(soapFails[:min(5, len(soapFails))]...))
	}
	if len(soapLat) == 0 {
		t.Error("no SOAP call was made during the flood")
	}
	if eventLost != nil {
		t.Errorf("eventing during the flood: %v", eventLost)
	}
	if err := events.check(sid, ptr(lastSet.Load()), lastSet.Load(), nil); err != nil {
		t.Errorf("subscriber: %v", err)
	}
	if lastSet.Load() == 0 {
		t.Error("no change was evented during the flood")
	}
	// Pending answers are capped (4096 of about 500 B). Once they are
	// sent, what the flood leaves is the limiter's table (a bucket per
	// source), the pending-answer table at its peak size (Go maps do not
	// shrink), about 300 KiB, and what the runtime keeps of the goroutines
	// it had at once (under 1 KiB each). 1 MiB more would be 35 B per search.
	if hDuring > h0+16<<20 {
		t.Errorf("heap grew from %d KiB to %d KiB during the flood", h0>>10, hDuring>>10)
	}
	if allowed := h0 + 1<<20 + uint64(peakG.Load())<<10; h1 > allowed {
		t.Errorf("heap grew from %d KiB to %d KiB after the flood (allowed %d KiB with a peak of %d goroutines)", h0>>10, h1>>10, allowed>>10, peakG.Load())
	}
	if g1 > g0+goroutineSlack {
		t.Errorf("goroutines: %d before the flood, %d after\n%s", g0, g1, goroutineDump())
	}

	stop()
	if g := settleGoroutines(gStart, 10*time.Second); g > gStart+goroutineSlack {
		t.Errorf("goroutines: %d before the device started, %d after it stopped\n%s", gStart, g, goroutineDump())
	}
}

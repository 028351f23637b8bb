package controlpoint_test

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
	"github.com/seedb72249f9/upnp/internal/netlab"
)

// lanLight runs the example light with SSDP and HTTP on lo, at a fixed
// port, until stop is called; a restart is the same light booted again.
type lanLight struct {
	t      *testing.T
	port   int
	boot   string
	maxSub time.Duration

	mu     sync.Mutex
	srv    *device.Server
	cancel context.CancelFunc
	done   chan error
}

func newLANLight(t *testing.T, maxSub time.Duration) *lanLight {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	l := &lanLight{t: t, port: port, boot: filepath.Join(t.TempDir(), "bootid"), maxSub: maxSub}
	l.start()
	t.Cleanup(l.stop)
	return l
}

func (l *lanLight) start() {
	l.t.Helper()
	s := &device.Server{Device: binarylight.New("LAN Light", lightUDN), Interfaces: []string{"lo"}, Network: "4",
		Port: l.port, BootIDFile: l.boot, Eventing: device.Eventing{MaxTimeout: l.maxSub}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	for i := 0; len(s.Addrs()) == 0; i++ {
		if i == 200 {
			l.t.Fatal("the light did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	l.mu.Lock()
	l.srv, l.cancel, l.done = s, cancel, done
	l.mu.Unlock()
}

func (l *lanLight) stop() {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.cancel = nil
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (l *lanLight) location() string { return "http://127.0.0.1:" + strconv.Itoa(l.port) + "/desc.xml" }

type watcher struct {
	events chan *controlpoint.Event
	stop   func() error
}

func watch(t *testing.T, s *controlpoint.Subscription) *watcher {
	t.Helper()
	w := &watcher{events: make(chan *controlpoint.Event, 100)}
	s.Handler = func(ev *controlpoint.Event) { w.events <- ev }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	var err error
	w.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Error("Run did not return within 5 s of cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { w.stop() })
	return w
}

// next returns the next event, which must have the given SEQ and Status.
func (w *watcher) next(t *testing.T, seq uint32, status bool) *controlpoint.Event {
	t.Helper()
	select {
	case ev := <-w.events:
		if v, _ := ev.Value("Status"); ev.SEQ != seq || v != status {
			t.Fatalf("event SEQ %d Status %v (%+v), want SEQ %d Status %v", ev.SEQ, v, ev.Vars, seq, status)
		}
		return ev
	case <-time.After(20 * time.Second): // only catches hangs
		t.Fatalf("no event SEQ %d", seq)
	}
	return nil
}

func switchLight(t *testing.T, c *controlpoint.Client, d *controlpoint.Device, on bool) {
	t.Helper()
	if _, err := c.Invoke(context.Background(), d.Service("SwitchPower"), "SetTarget", map[string]any{"newTargetValue": on}); err != nil {
		t.Fatal(err)
	}
}

// TestSubscribeLight: our control point gets our light's events, typed,
// across renewals of a subscription the light grants for 2 s only, and
// after the light restarts (its renewal fails and Run subscribes again).
// Cancelling unsubscribes.
func TestSubscribeLight(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	light := newLANLight(t, 2*time.Second)
	c := &controlpoint.Client{}
	d, err := c.Describe(context.Background(), light.location())
	if err != nil {
		t.Fatal(err)
	}
	w := watch(t, &controlpoint.Subscription{Client: c, Service: d.Service("SwitchPower")})
	first := w.next(t, 0, false)
	switchLight(t, c, d, true)
	w.next(t, 1, true)
	time.Sleep(4500 * time.Millisecond) // four renewals at least
	switchLight(t, c, d, false)
	if ev := w.next(t, 2, false); ev.SID != first.SID {
		t.Errorf("SID changed across renewals: %s -> %s", first.SID, ev.SID)
	}

	light.stop()
	light.start()
	ev := w.next(t, 0, false) // the new light is off, and says so first
	if ev.SID == first.SID {
		t.Errorf("same SID %s after the restart", ev.SID)
	}
	switchLight(t, c, d, true)
	w.next(t, 1, true)
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	// The light forgot the subscription: one more change reaches no one.
	switchLight(t, c, d, false)
	select {
	case ev := <-w.events:
		t.Errorf("event after the end: %+v", ev)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestSubscribeRegistryReboot: with a Registry, a reboot of the light is
// noticed from its new BOOTID.UPNP.ORG and the subscription is made again at
// once, long before a renewal would fail.
func TestSubscribeRegistryReboot(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	light := newLANLight(t, 0) // grants 1800 s: renewals cannot be what notices
	c := &controlpoint.Client{Interfaces: []string{"lo"}, Network: "udp4"}
	reg := &controlpoint.Registry{Client: c, SearchInterval: -1}
	added, stopReg := reg.Subscribe(16)
	defer stopReg()
	ctx, cancel := context.WithCancel(context.Background())
	regDone := make(chan error, 1)
	go func() { regDone <- reg.Run(ctx) }()
	defer func() { cancel(); <-regDone }()
	var d *controlpoint.Device
	for d == nil {
		select {
		case ev := <-added:
			if ev.Type == controlpoint.DeviceAdded && ev.Device.Root.Device.UDN == lightUDN {
				d = ev.Device
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the registry did not find the light")
		}
	}
	w := watch(t, &controlpoint.Subscription{Client: c, Service: d.Service("SwitchPower"), Registry: reg})
	first := w.next(t, 0, false)
	switchLight(t, c, d, true)
	w.next(t, 1, true)
	light.stop()
	light.start()
	start := time.Now()
	if ev := w.next(t, 0, false); ev.SID == first.SID {
		t.Errorf("same SID after the reboot")
	}
	// The grant is 1800 s: within w.next's deadline, only the reboot can
	// have made the new subscription.
	t.Logf("subscribed again %v after the restart", time.Since(start).Round(time.Millisecond))
}

// TestSubscribeUnsubscribes: the light sees UNSUBSCRIBE when the context
// ends, and a Resubscribe makes a new subscription.
func TestSubscribeUnsubscribes(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	s := &device.Server{Device: binarylight.New("Counted", lightUDN)}
	seen := newCounting(s)
	srv := &http.Server{Handler: seen}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	c := &controlpoint.Client{}
	d, err := c.Describe(context.Background(), "http://"+ln.Addr().String()+"/desc.xml")
	if err != nil {
		t.Fatal(err)
	}
	sub := &controlpoint.Subscription{Client: c, Service: d.Service("Dimming")}
	w := watch(t, sub)
	ev := <-w.events
	if v, _ := ev.Value("LoadLevelStatus"); v != uint8(0) {
		t.Errorf("LoadLevelStatus %#v", v)
	}
	if v, _ := ev.Value("StepDelta"); v != uint8(10) {
		t.Errorf("StepDelta %#v", v)
	}
	sub.Resubscribe()
	select {
	case ev2 := <-w.events:
		if ev2.SEQ != 0 || ev2.SID == ev.SID {
			t.Errorf("after Resubscribe: %+v", ev2)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event after Resubscribe")
	}
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	var methods []string
	for len(seen.n) > 0 {
		if m := <-seen.n; !strings.HasPrefix(m, "GET") && !strings.HasPrefix(m, "POST") {
			methods = append(methods, strings.Fields(m)[0])
		}
	}
	if got := strings.Join(methods, " "); got != "SUBSCRIBE UNSUBSCRIBE SUBSCRIBE UNSUBSCRIBE" &&
		got != "SUBSCRIBE SUBSCRIBE UNSUBSCRIBE UNSUBSCRIBE" {
		t.Errorf("requests: %s", got)
	}
}

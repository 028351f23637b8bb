package device_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
	"github.com/seedb72249f9/upnp/internal/netlab"
)

// The tests of this file hold the items of shared/SECURITY.md that the other
// device tests leave out; each names its item.

// secRecorder is a GENA callback server that records the NOTIFYs it gets.
// When hold is set, the first NOTIFY is held until hold is closed.
type secRecorder struct {
	*httptest.Server
	first chan struct{} // closed when the first NOTIFY arrives
	hold  chan struct{}

	mu   sync.Mutex
	once sync.Once
	got  []notification
}

// newSecRecorder starts a recorder listening on addr ("127.0.0.1:0" or
// another loopback address).
func newSecRecorder(t *testing.T, addr string, hold bool) *secRecorder {
	t.Helper()
	k := &secRecorder{first: make(chan struct{})}
	if hold {
		k.hold = make(chan struct{})
	}
	k.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seq, _ := strconv.Atoi(r.Header.Get("SEQ"))
		k.mu.Lock()
		k.got = append(k.got, notification{r.Header.Get("SID"), r.Header.Get("NT"), r.Header.Get("NTS"), seq, string(b)})
		k.mu.Unlock()
		first := false
		k.once.Do(func() { first = true; close(k.first) })
		if first && k.hold != nil {
			select {
			case <-k.hold:
			case <-r.Context().Done():
			}
		}
	}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	k.Listener.Close()
	k.Listener = ln
	k.Start()
	t.Cleanup(k.Close)
	return k
}

func (k *secRecorder) notifications() []notification {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]notification(nil), k.got...)
}

// TestCallbackSameSubnet (SECURITY.md, CallStranger, the option): with
// CallbackSameSubnet a CALLBACK may name another host of the subnet of the
// interface the SUBSCRIBE arrived on (lo's 127.0.0.0/8 here), and nothing
// else; the default, CallbackSameHost, refuses that neighbour. Only the
// accepted subscription ever reaches the neighbour.
func TestCallbackSameSubnet(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	neighbour := newSecRecorder(t, "127.0.0.2:0", false) // the SUBSCRIBE comes from 127.0.0.1
	_, port, _ := net.SplitHostPort(neighbour.Listener.Addr().String())
	var accepted string
	tests := []struct {
		name     string
		policy   device.CallbackPolicy
		callback string
		want     int
	}{
		{"same host: a neighbour", device.CallbackSameHost, "<" + neighbour.URL + "/a>", 412},
		{"same subnet: a neighbour", device.CallbackSameSubnet, "<" + neighbour.URL + "/b>", 200},
		{"same subnet: outside the subnet", device.CallbackSameSubnet, "<http://192.0.2.1:" + port + "/c>", 412},
		{"same subnet: a neighbour, then outside", device.CallbackSameSubnet, "<" + neighbour.URL + "/d><http://192.0.2.1:" + port + "/d>", 412},
		{"same subnet: a host name", device.CallbackSameSubnet, "<http://localhost:" + port + "/e>", 412},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &device.Server{Device: binarylight.New("Evented", lightUDN), Eventing: device.Eventing{Callbacks: tt.policy}}
			ts := httptest.NewServer(s)
			defer ts.Close()
			t.Cleanup(func() { s.Close() }) // after the initial event below
			resp := genaReq(t, "SUBSCRIBE", ts.URL+powerEvent, map[string]string{"CALLBACK": tt.callback, "NT": "upnp:event"})
			if resp.StatusCode != tt.want {
				t.Fatalf("SUBSCRIBE: status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 200 {
				accepted = resp.Header.Get("SID")
				select {
				case <-neighbour.first:
				case <-time.After(5 * time.Second):
					t.Fatal("the accepted subscription's initial event never reached the neighbour")
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond) // past the initial-event delay of any subscription
	got := neighbour.notifications()
	if len(got) != 1 || got[0].sid != accepted || !strings.HasSuffix(got[0].body, "</e:propertyset>") {
		t.Errorf("the neighbour got %d NOTIFYs %+v, want only the accepted subscription's (SID %s)", len(got), got, accepted)
	}
}

// TestHostPortChecked (SECURITY.md, DNS rebinding): Host must be the IP
// literal of the connection's local address with its port: the right
// address with another port, or none (port 80), or a host name that resolves
// to the device, gets 400 like any other.
func TestHostPortChecked(t *testing.T) {
	_, ts := newLight(t)
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	tests := []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + port, 200},
		{"127.0.0.1:" + strconv.Itoa(p+1), 400},
		{"127.0.0.1", 400},
		{"127.0.0.1:0" + port, 400},
		{"localhost:" + port, 400},
		{"127.1:" + port, 400},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			req, _ := http.NewRequest("GET", ts.URL+"/desc.xml", nil)
			req.Host = tt.host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("Host %q: status %d, want %d", tt.host, resp.StatusCode, tt.want)
			}
		})
	}
}

// TestSubscriptionCapGlobal (SECURITY.md, resource exhaustion: subscriptions,
// global cap): beyond MaxSubscriptions, whoever asks, a SUBSCRIBE gets 503;
// an UNSUBSCRIBE makes room again.
func TestSubscriptionCapGlobal(t *testing.T) {
	s := &device.Server{Device: binarylight.New("Evented", lightUDN), Eventing: device.Eventing{MaxSubscriptions: 3, MaxPerRequester: 100}}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()
	k := newSink(t)
	subscribe := func(event string) *http.Response {
		return genaReq(t, "SUBSCRIBE", ts.URL+event, map[string]string{"CALLBACK": "<" + k.URL + ">", "NT": "upnp:event"})
	}
	var sids []string
	for i, event := range []string{powerEvent, dimEvent, powerEvent} {
		resp := subscribe(event)
		if resp.StatusCode != 200 {
			t.Fatalf("subscription %d: status %d", i+1, resp.StatusCode)
		}
		sids = append(sids, resp.Header.Get("SID"))
	}
	for _, event := range []string{powerEvent, dimEvent} {
		if resp := subscribe(event); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("subscription over the cap to %s: status %d, want 503", event, resp.StatusCode)
		}
	}
	if resp := genaReq(t, "UNSUBSCRIBE", ts.URL+dimEvent, map[string]string{"SID": sids[1]}); resp.StatusCode != 200 {
		t.Fatalf("UNSUBSCRIBE: %d", resp.StatusCode)
	}
	if resp := subscribe(dimEvent); resp.StatusCode != 200 {
		t.Errorf("subscription after an UNSUBSCRIBE: status %d, want 200", resp.StatusCode)
	}
}

// TestQueuedEventsPerSubscriber (SECURITY.md, sizes: 10 queued events per
// subscriber): while a subscriber's callback holds the initial NOTIFY, 30
// changes leave exactly device.QueuedEvents events waiting for it, the last
// one carrying the latest state; when the callback answers they arrive
// with consecutive SEQs.
func TestQueuedEventsPerSubscriber(t *testing.T) {
	s := &device.Server{Device: binarylight.New("Evented", lightUDN), Eventing: device.Eventing{Timeout: 30 * time.Second}}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()
	k := newSecRecorder(t, "127.0.0.1:0", true)
	resp := genaReq(t, "SUBSCRIBE", ts.URL+dimEvent, map[string]string{"CALLBACK": "<" + k.URL + ">", "NT": "upnp:event", "STATEVAR": "LoadLevelStatus"})
	if resp.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %d", resp.StatusCode)
	}
	select {
	case <-k.first:
	case <-time.After(5 * time.Second):
		t.Fatal("no initial NOTIFY")
	}
	const changes = 30
	dim := s.Device.Services[1]
	for i := 1; i <= changes; i++ {
		if err := dim.Set("LoadLevelStatus", i); err != nil {
			t.Fatal(err)
		}
	}
	close(k.hold)
	last := fmt.Sprintf("<LoadLevelStatus>%d</LoadLevelStatus>", changes)
	var got []notification
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got = k.notifications()
		if len(got) > 0 && strings.Contains(got[len(got)-1].body, last) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the latest state never arrived; got %d NOTIFYs", len(got))
		}
	}
	time.Sleep(200 * time.Millisecond) // anything after the latest state would be a bug
	got = k.notifications()
	if len(got) != 1+device.QueuedEvents {
		t.Fatalf("%d NOTIFYs, want the initial one and %d queued", len(got), device.QueuedEvents)
	}
	for i, n := range got {
		want := i // SEQ i carries change i, up to the last queued event
		if i == device.QueuedEvents {
			want = changes // changes 10..30 merged into it
		}
		if n.seq != i || (i > 0 && !strings.Contains(n.body, fmt.Sprintf("<LoadLevelStatus>%d</LoadLevelStatus>", want))) {
			t.Errorf("NOTIFY %d: SEQ %d, body %s; want SEQ %d with LoadLevelStatus %d", i, n.seq, n.body, i, want)
		}
	}
}

// secServe runs s with ListenAndServe on lo (IPv4) until the test ends and
// returns its address.
func secServe(t *testing.T, s *device.Server) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	})
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if a := s.Addrs(); len(a) > 0 {
			return a[0].String()
		}
	}
	t.Fatal("the device did not start listening within 5 s")
	return ""
}

// TestListenerHeaderLimits (SECURITY.md, sizes: HTTP headers 8 KiB and
// ReadHeaderTimeout 5 s) on the listeners ListenAndServe opens: headers over
// the cap get 431, a peer that never finishes its headers is cut off, and
// neither holds up a well-behaved request meanwhile.
func TestListenerHeaderLimits(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	addr := secServe(t, &device.Server{Device: binarylight.New("Hardened", lightUDN), Interfaces: []string{"lo"}, Network: "4"})
	get := func(pad int) int {
		req, _ := http.NewRequest("GET", "http://"+addr+"/desc.xml", nil)
		if pad > 0 {
			req.Header.Set("X-Pad", strings.Repeat("p", pad))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	t.Run("headers", func(t *testing.T) {
		if got := get(6 << 10); got != 200 {
			t.Errorf("6 KiB of headers: status %d, want 200", got)
		}
		// net/http allows 4 KiB of slack over MaxHeaderBytes.
		if got := get(16 << 10); got != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("16 KiB of headers: status %d, want 431", got)
		}
	})
	t.Run("slow headers", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		if _, err := fmt.Fprintf(c, "GET /desc.xml HTTP/1.1\r\nHost: %s\r\n", addr); err != nil { // never ends
			t.Fatal(err)
		}
		if got := get(0); got != 200 {
			t.Errorf("a request beside the slow one: status %d, want 200", got)
		}
		c.SetReadDeadline(time.Now().Add(4 * device.ReadHeaderTimeout)) // bounds the test, not the device
		line, err := bufio.NewReader(c).ReadString('\n')
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the connection with unfinished headers is still open after %v", time.Since(start).Round(time.Millisecond))
		}
		t.Logf("unfinished headers: connection ended after %v (ReadHeaderTimeout %v); read %q, %v",
			time.Since(start).Round(time.Millisecond), device.ReadHeaderTimeout, line, err)
	})
}

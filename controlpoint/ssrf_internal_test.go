package controlpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/ssdp"
)

const tinyDesc = `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<device><deviceType>urn:x:device:T:1</deviceType><friendlyName>T</friendlyName><manufacturer>m</manufacturer><modelName>n</modelName><UDN>uuid:t</UDN></device></root>`

func packet(loc, from string) *ssdp.Packet {
	return &ssdp.Packet{Message: &ssdp.Message{Kind: ssdp.KindResponse, ST: ssdp.RootDevice, USN: "uuid:t::upnp:rootdevice",
		Location: loc, BootID: -1, ConfigID: -1, NextBootID: -1}, From: netip.MustParseAddrPort(from), Time: time.Now()}
}

// hits counts requests to a handler.
func hits(h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	return ts, &n
}

func TestSSRF(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tinyDesc) }
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		from     string // the SSDP sender; "" means the server's own address
		loc      func(ts string) string
		client   func() *Client
		wantErr  error
		wantHits int32
	}{
		{name: "same host", handler: ok, wantHits: 1},
		{name: "LOCATION on another host than the sender", handler: ok, from: "127.0.0.2:1900", wantErr: ErrForeignHost},
		{name: "LOCATION with a host name", handler: ok, loc: func(ts string) string { return strings.Replace(ts, "127.0.0.1", "localhost", 1) },
			wantErr: ErrForeignHost},
		{name: "foreign host allowed by option", handler: ok, from: "127.0.0.2:1900", client: func() *Client { return &Client{AllowForeignHosts: true} }, wantHits: 1},
		{name: "redirect", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere.xml", http.StatusFound)
		}, wantErr: ErrRedirect, wantHits: 1},
		{name: "redirect to the same host", handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/d.xml" {
				http.Redirect(w, r, "/other.xml", http.StatusMovedPermanently)
				return
			}
			ok(w, r)
		}, wantErr: ErrRedirect, wantHits: 1},
		{name: "huge description", handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `<?xml version="1.0"?><root>`)
			pad := strings.Repeat("<!-- padding -->", 1024)
			for range 200 { // 3 MiB
				if _, err := io.WriteString(w, pad); err != nil {
					return
				}
			}
		}, wantErr: upnp.ErrTooLarge, wantHits: 1},
		{name: "endless description", handler: func(w http.ResponseWriter, r *http.Request) {
			pad := strings.Repeat("x", 64<<10)
			for {
				if _, err := io.WriteString(w, pad); err != nil {
					return
				}
			}
		}, wantErr: upnp.ErrTooLarge, wantHits: 1},
		// These two never end by themselves: only the Client's Timeout
		// ends the exchange, or the test would hang. The Timeout is long
		// enough for the request to reach the handler on a busy machine.
		{name: "slow description", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<?xml"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, client: func() *Client { return &Client{Timeout: 2 * time.Second} }, wantErr: context.DeadlineExceeded, wantHits: 1},
		{name: "no answer", handler: func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, client: func() *Client { return &Client{Timeout: 2 * time.Second} }, wantErr: context.DeadlineExceeded, wantHits: 1},
		{name: "404 is not retried", handler: http.NotFound, wantErr: &HTTPError{}, wantHits: 1},
		{name: "503 is retried once", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}, wantErr: &HTTPError{}, wantHits: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A handler's request context also ends with the subtest, so
			// that a describe that hangs fails the test instead of
			// holding up ts.Close.
			stop := make(chan struct{})
			ts, n := hits(func(w http.ResponseWriter, r *http.Request) {
				ctx, cancel := context.WithCancel(r.Context())
				defer cancel()
				go func() {
					select {
					case <-stop:
						cancel()
					case <-ctx.Done():
					}
				}()
				tt.handler(w, r.WithContext(ctx))
			})
			defer ts.Close()
			defer close(stop)
			loc := ts.URL + "/d.xml"
			if tt.loc != nil {
				loc = tt.loc(loc)
			}
			from := tt.from
			if from == "" {
				from = strings.TrimPrefix(ts.URL, "http://")
			}
			c := &Client{}
			if tt.client != nil {
				c = tt.client()
			}
			type result struct {
				d   *Device
				err error
			}
			res := make(chan result, 1)
			start := time.Now()
			go func() {
				d, err := c.describePacket(context.Background(), packet(loc, from))
				res <- result{d, err}
			}()
			var d *Device
			var err error
			select {
			case r := <-res:
				d, err = r.d, r.err
			case <-time.After(hangDeadline):
				t.Fatalf("describe has not returned after %v: it hangs", hangDeadline)
			}
			t.Logf("describe returned after %v", time.Since(start).Round(time.Millisecond))
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil || d == nil || d.Root.Device.UDN != "uuid:t" {
					t.Fatalf("describe = %v, %v", d, err)
				}
			case *HTTPError:
				var he *HTTPError
				if !errors.As(err, &he) {
					t.Fatalf("err = %v, want an HTTPError", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
				var de *DescribeError
				if !errors.As(err, &de) || de.Location != loc {
					t.Errorf("err = %#v, want a DescribeError for %s", err, loc)
				}
			}
			// A request the client gave up on may reach the handler
			// after describe has returned.
			eventually(func() bool { return n.Load() >= tt.wantHits })
			if got := n.Load(); got != tt.wantHits {
				t.Errorf("server saw %d requests, want %d", got, tt.wantHits)
			}
		})
	}
}

// TestDialCheck: the dialer itself refuses an address other than the
// allowed one, whatever the URL said.
func TestDialCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	ctx := context.WithValue(context.Background(), allowKey{}, netip.MustParseAddr("127.0.0.2"))
	if _, err := dial(ctx, "tcp", ln.Addr().String()); !errors.Is(err, ErrForeignHost) {
		t.Errorf("dial to a foreign address: %v, want ErrForeignHost", err)
	}
	ctx = context.WithValue(context.Background(), allowKey{}, netip.MustParseAddr("::ffff:127.0.0.1"))
	c, err := dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial to the allowed address: %v", err)
	}
	c.Close()
	// And through the Client: a URL check bypassed (an allowed literal that
	// the dialer sees differently) still cannot connect.
	cl := &Client{}
	cl.init()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", "http://"+ln.Addr().String()+"/", nil)
	req = req.WithContext(context.WithValue(req.Context(), allowKey{}, netip.MustParseAddr("127.0.0.9")))
	if _, err := cl.http.Do(req); !errors.Is(err, ErrForeignHost) {
		t.Errorf("transport dial to a foreign address: %v, want ErrForeignHost", err)
	}
}

// TestControlURLForeign: Invoke refuses a control URL off the device's host.
func TestControlURLForeign(t *testing.T) {
	ts, n := hits(func(w http.ResponseWriter, r *http.Request) {})
	defer ts.Close()
	d := &Device{Addr: netip.MustParseAddr("127.0.0.2")}
	svc := &Service{Type: "urn:x:service:Y:1", ControlURL: ts.URL + "/ctl", owner: d}
	_, err := (&Client{}).Invoke(context.Background(), svc, "Z", nil)
	if !errors.Is(err, ErrForeignHost) || n.Load() != 0 {
		t.Errorf("Invoke = %v with %d requests, want ErrForeignHost and none", err, n.Load())
	}
}

// TestRegistryFlood: ten thousand announcements of distinct LOCATIONs leave
// the registry at its cap, with a bounded number of goroutines.
func TestRegistryFlood(t *testing.T) {
	r := &Registry{Client: &Client{Timeout: 200 * time.Millisecond}, MaxDevices: 64}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.mu.Lock()
	r.init()
	r.ctx = ctx
	r.mu.Unlock()
	before := runtime.NumGoroutine()
	peak := 0
	for i := range 10000 {
		loc := fmt.Sprintf("http://127.0.0.1:1/d%d.xml", i)
		r.handle(ssdp.Event{Type: ssdp.EventAdded, Entry: ssdp.Entry{USN: fmt.Sprintf("uuid:f%d::upnp:rootdevice", i),
			Location: loc, From: netip.MustParseAddrPort("127.0.0.1:1900"), BootID: -1, ConfigID: -1}})
		peak = max(peak, runtime.NumGoroutine())
	}
	r.mu.Lock()
	n, m := len(r.entries), len(r.usnLoc)
	r.mu.Unlock()
	if n != 64 || m != 64 {
		t.Errorf("%d entries, %d USNs after the flood, want 64", n, m)
	}
	if r.Dropped() != 10000-64 {
		t.Errorf("Dropped = %d, want %d", r.Dropped(), 10000-64)
	}
	if peak-before > 64+16 {
		t.Errorf("goroutines grew by %d during the flood", peak-before)
	}
	cancel()
	r.wg.Wait()
	if len(r.Devices()) != 0 {
		t.Errorf("fake devices described: %d", len(r.Devices()))
	}
}

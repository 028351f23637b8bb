package controlpoint

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

// The tests of this file hold the control point items of shared/SECURITY.md
// that the other tests leave out; each names its item.

const secSCPD = `<?xml version="1.0"?><scpd xmlns="urn:schemas-upnp-org:service-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<serviceStateTable><stateVariable sendEvents="no"><name>X</name><dataType>string</dataType></stateVariable></serviceStateTable></scpd>`

// secDesc is a description of device i with services SCPDs of its own.
func secDesc(i, services int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<device><deviceType>urn:x:device:T:1</deviceType><friendlyName>T%d</friendlyName><manufacturer>m</manufacturer><modelName>n</modelName><UDN>uuid:t-%d</UDN><serviceList>`, i, i)
	for j := range services {
		fmt.Fprintf(&b, `<service><serviceType>urn:x:service:S%d:1</serviceType><serviceId>urn:x:serviceId:S%d</serviceId><SCPDURL>/s-%d-%d.xml</SCPDURL><controlURL>/c</controlURL><eventSubURL>/e</eventSubURL></service>`, j, j, i, j)
	}
	b.WriteString(`</serviceList></device></root>`)
	return b.String()
}

// TestMaxFetches (SECURITY.md, resource exhaustion: concurrent description
// fetches): however many devices are described at once, the descriptions
// and SCPDs in flight never exceed MaxFetches (DefaultMaxFetches when zero),
// and every device is still described.
func TestMaxFetches(t *testing.T) {
	for _, tt := range []struct {
		max, devices int
	}{{3, 12}, {0, 40}} {
		t.Run(fmt.Sprintf("MaxFetches=%d", tt.max), func(t *testing.T) {
			var inFlight, peak atomic.Int32
			ts, _ := hits(func(w http.ResponseWriter, r *http.Request) {
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(30 * time.Millisecond)
				var i, j int
				if _, err := fmt.Sscanf(r.URL.Path, "/d-%d.xml", &i); err == nil {
					io.WriteString(w, secDesc(i, 3))
				} else if _, err := fmt.Sscanf(r.URL.Path, "/s-%d-%d.xml", &i, &j); err == nil {
					io.WriteString(w, secSCPD)
				} else {
					http.NotFound(w, r)
				}
			})
			defer ts.Close()
			c := &Client{MaxFetches: tt.max}
			defer func() { c.http.CloseIdleConnections() }()
			var wg sync.WaitGroup
			errs := make(chan error, tt.devices)
			for i := range tt.devices {
				wg.Go(func() {
					d, err := c.describePacket(context.Background(), packet(fmt.Sprintf("%s/d-%d.xml", ts.URL, i), strings.TrimPrefix(ts.URL, "http://")))
					if err == nil && (len(d.Services) != 3 || d.Services[2].SCPD == nil) {
						err = fmt.Errorf("device %d: services not described: %+v", i, d.Services)
					}
					if err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			limit := tt.max
			if limit == 0 {
				limit = DefaultMaxFetches
			}
			t.Logf("%d devices with 3 SCPDs each: at most %d fetches in flight (cap %d)", tt.devices, peak.Load(), limit)
			if p := int(peak.Load()); p > limit || p < 2 {
				t.Errorf("%d fetches in flight at the peak, want between 2 and %d", p, limit)
			}
		})
	}
}

// TestResponseHeaderCap (SECURITY.md, sizes: HTTP headers 8 KiB, on the
// control point): a device answering with more than 8 KiB of headers gets
// an error, not a control point reading on.
func TestResponseHeaderCap(t *testing.T) {
	ts, n := hits(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Pad", strings.Repeat("p", 16<<10))
		io.WriteString(w, tinyDesc)
	})
	defer ts.Close()
	c := &Client{}
	_, err := c.describePacket(context.Background(), packet(ts.URL+"/d.xml", strings.TrimPrefix(ts.URL, "http://")))
	var de *DescribeError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "exceeded") {
		t.Fatalf("describe = %v, want a DescribeError about the headers", err)
	}
	t.Logf("%d requests; %v", n.Load(), err)
}

// TestCallbackServerLimits (SECURITY.md, sizes: HTTP headers 8 KiB and
// ReadHeaderTimeout 5 s, on the control point's GENA callback server): a
// NOTIFY with more than 8 KiB of headers gets 431, and a peer that never
// finishes its headers is cut off while a real NOTIFY goes through.
func TestCallbackServerLimits(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	f := newFakeDevice(t)
	events, stop := running(t, &Subscription{Client: &Client{}, Service: f.service(t)})
	defer stop()
	sub := f.sub(t, 0)
	h := headers(sub.sid, 0)
	h["X-Pad"] = strings.Repeat("p", 16<<10)
	if got := sendNotify(t, "", sub.callback, h, propset("Status", "1")); got != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("NOTIFY with 16 KiB of headers: status %d, want 431", got)
	}
	quiet(t, events)

	host := strings.TrimPrefix(sub.callback, "http://")
	host = host[:strings.IndexByte(host, '/')]
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := fmt.Fprintf(conn, "NOTIFY %s HTTP/1.1\r\nHost: %s\r\n", sub.callback, host); err != nil { // never ends
		t.Fatal(err)
	}
	if got := sendNotify(t, "", sub.callback, headers(sub.sid, 0), propset("Status", "1")); got != 200 {
		t.Errorf("a NOTIFY beside the slow peer: status %d, want 200", got)
	}
	if ev := next(t, events); ev.SEQ != 0 {
		t.Errorf("event SEQ %d, want 0", ev.SEQ)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // bounds the test, not the server
	line, err := bufio.NewReader(conn).ReadString('\n')
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the connection with unfinished headers is still open after %v", time.Since(start).Round(time.Millisecond))
	}
	t.Logf("unfinished headers: connection ended after %v; read %q, %v", time.Since(start).Round(time.Millisecond), line, err)
}

// TestClientDefaultTimeout (SECURITY.md, sizes: client total 5 s): with
// Timeout zero, a fetch from a device that accepts the connection and never
// answers ends with context.DeadlineExceeded after DefaultTimeout.
func TestClientDefaultTimeout(t *testing.T) {
	release := make(chan struct{})
	ts, _ := hits(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer ts.Close()
	defer close(release)
	if DefaultTimeout != 5*time.Second {
		t.Errorf("DefaultTimeout is %v, SECURITY.md says 5 s", DefaultTimeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*DefaultTimeout) // bounds the test
	defer cancel()
	start := time.Now()
	_, err := (&Client{}).describePacket(ctx, packet(ts.URL+"/d.xml", strings.TrimPrefix(ts.URL, "http://")))
	if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Fatalf("describe = %v (test context: %v), want the client's own deadline", err, ctx.Err())
	}
	t.Logf("a device that never answers: given up after %v", time.Since(start).Round(time.Millisecond))
}

package device_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
	"github.com/seedb72249f9/upnp/internal/gena"
	"github.com/seedb72249f9/upnp/internal/netlab"
)

// The fan-out benchmarks subscribe a thousand callback servers on loopback
// to the example light and time one state change until every subscriber
// has its NOTIFY, against a bare parallel fan-out of the same NOTIFY to the
// same servers in the same run (the ceiling):
//
//	go test -run '^$' -bench Fanout -benchtime 200x ./device
//
// They run in a network namespace of their own (netlab.Isolate).

const fanout = 1000

// receivers are the subscribers' callback servers, one listener each, as
// if each were a control point of its own.
type receivers struct {
	urls    []string
	servers []*http.Server
	conns   atomic.Int64 // connections accepted

	mu     sync.Mutex
	want   int64
	got    atomic.Int64
	done   chan struct{}
	closed bool
}

func newReceivers(tb testing.TB, n int, keepAlive bool) *receivers {
	r := &receivers{}
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			io.Copy(io.Discard, req.Body)
			if !keepAlive {
				w.Header().Set("Connection", "close")
			}
			w.WriteHeader(http.StatusOK)
			r.arrived()
		}), ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				r.conns.Add(1)
			}
		}}
		go srv.Serve(ln)
		r.servers = append(r.servers, srv)
		r.urls = append(r.urls, "http://"+ln.Addr().String()+"/cb")
	}
	tb.Cleanup(func() {
		for _, s := range r.servers {
			s.Close()
		}
	})
	return r
}

// expect arms the receivers for want NOTIFYs and returns a channel closed
// when they are in.
func (r *receivers) expect(want int) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.want, r.closed = int64(want), false
	r.got.Store(0)
	r.done = make(chan struct{})
	return r.done
}

func (r *receivers) arrived() {
	n := r.got.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if n >= r.want && !r.closed {
		r.closed = true
		close(r.done)
	}
}

func (r *receivers) wait(tb testing.TB, done <-chan struct{}, what string) {
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		tb.Fatalf("%s: %d of %d NOTIFYs after 30 s", what, r.got.Load(), r.want)
	}
}

// fanoutLight serves the light with room for every subscriber.
func fanoutLight(tb testing.TB, timeout time.Duration) (*device.Device, *httptest.Server) {
	d := binarylight.New("Fan-out", lightUDN)
	s := &device.Server{Device: d, Eventing: device.Eventing{MaxSubscriptions: 4 * fanout, MaxPerRequester: 4 * fanout, Timeout: timeout}}
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	tb.Cleanup(func() { s.Close() })
	return d, ts
}

// subscribeAll subscribes every URL to the light's SwitchPower and waits for
// the initial events.
func subscribeAll(tb testing.TB, ts *httptest.Server, r *receivers, urls []string) {
	done := r.expect(len(urls))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	for _, u := range urls {
		req, _ := http.NewRequest("SUBSCRIBE", ts.URL+powerEvent, nil)
		req.Header.Set("CALLBACK", "<"+u+">")
		req.Header.Set("NT", "upnp:event")
		req.Header.Set("TIMEOUT", "Second-1800")
		resp, err := client.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			tb.Fatalf("SUBSCRIBE: %s", resp.Status)
		}
	}
	r.wait(tb, done, "initial events")
}

// ceiling sends body to every URL at once, one goroutine each, with a
// client like the device's (keep-alive, 2 idle connections per host).
func ceiling(client *http.Client, urls []string, body []byte, seq int) {
	for _, u := range urls {
		go func() {
			req, _ := http.NewRequest("NOTIFY", u, strings.NewReader(string(body)))
			req.Header.Set("Content-Type", gena.ContentType)
			req.Header.Set("NT", gena.NT)
			req.Header.Set("NTS", gena.NTS)
			req.Header.Set("SID", "uuid:00000000-0000-4000-8000-000000000000")
			req.Header.Set("SEQ", strconv.Itoa(seq))
			resp, err := client.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
}

// BenchmarkFanout times one change of the light's Status until all 1000
// subscribers have its NOTIFY (device-ms/op), and the bare fan-out of the
// same NOTIFY to the same servers (ceiling-ms/op), alternately in each
// iteration; ratio is ceiling time over device time (1 is as fast as the
// ceiling, and the target is at least 0.7).
func BenchmarkFanout(b *testing.B) {
	if !isolateB(b) {
		return
	}
	d, ts := fanoutLight(b, 0)
	power := d.Services[0]
	r := newReceivers(b, fanout, true)
	subscribeAll(b, ts, r, r.urls)
	body, _ := gena.AppendPropertySet(nil, []gena.Property{{Name: "Status", Value: "1"}})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second}}
	defer client.CloseIdleConnections()
	// Warm both paths: connections, goroutine stacks.
	for i := range 3 {
		done := r.expect(fanout)
		power.Set("Status", i%2 == 0, "Target", i%2 == 0)
		r.wait(b, done, "warm-up device")
		done = r.expect(fanout)
		ceiling(client, r.urls, body, i)
		r.wait(b, done, "warm-up ceiling")
	}
	var dev, ceil time.Duration
	b.ResetTimer()
	for i := range b.N {
		on := i%2 == 1
		done := r.expect(fanout)
		start := time.Now()
		power.Set("Status", on, "Target", on)
		r.wait(b, done, "device")
		dev += time.Since(start)

		done = r.expect(fanout)
		start = time.Now()
		ceiling(client, r.urls, body, i)
		r.wait(b, done, "ceiling")
		ceil += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(dev.Microseconds())/1000/float64(b.N), "device-ms/op")
	b.ReportMetric(float64(ceil.Microseconds())/1000/float64(b.N), "ceiling-ms/op")
	b.ReportMetric(float64(ceil)/float64(dev), "ratio")
	b.ReportMetric(float64(r.conns.Load()), "conns")
}

// BenchmarkFanoutStuck: one more subscriber accepts the NOTIFY connection
// and never reads from it (and the device waits a minute for it); the time
// until the 1000 others have a change (stuck-ms/op) is compared, in the
// same iterations, with the time until the same 1000 have it when the
// extra subscriber is an ordinary one in a second light (free-ms/op).
func BenchmarkFanoutStuck(b *testing.B) {
	if !isolateB(b) {
		return
	}
	stuckLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer stuckLn.Close()
	var (
		mu   sync.Mutex
		held []net.Conn
	)
	go func() {
		for {
			c, err := stuckLn.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // never read
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()

	stuckDev, stuckTS := fanoutLight(b, time.Minute)
	freeDev, freeTS := fanoutLight(b, time.Minute)
	r := newReceivers(b, fanout+1, true)
	subscribeAll(b, stuckTS, r, r.urls[:fanout])
	subscribeAll(b, freeTS, r, r.urls)
	// The stuck subscriber of the first light.
	req, _ := http.NewRequest("SUBSCRIBE", stuckTS.URL+powerEvent, nil)
	req.Header.Set("CALLBACK", "<http://"+stuckLn.Addr().String()+"/cb>")
	req.Header.Set("NT", "upnp:event")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("SUBSCRIBE: %v %v", resp, err)
	}
	resp.Body.Close()

	var stuck, free time.Duration
	for i := range 3 + b.N {
		if i == 3 {
			b.ResetTimer()
			stuck, free = 0, 0
		}
		on := i%2 == 0 // the lights start off
		done := r.expect(fanout)
		start := time.Now()
		stuckDev.Services[0].Set("Status", on, "Target", on)
		r.wait(b, done, "stuck light")
		stuck += time.Since(start)

		done = r.expect(fanout + 1)
		start = time.Now()
		freeDev.Services[0].Set("Status", on, "Target", on)
		r.wait(b, done, "free light")
		free += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(stuck.Microseconds())/1000/float64(b.N), "stuck-ms/op")
	b.ReportMetric(float64(free.Microseconds())/1000/float64(b.N), "free-ms/op")
}

// TestSubscriptionMemory measures what one subscription costs the device:
// heap and goroutine stack, once its initial event is delivered, with
// subscribers that close each connection (so no idle connection is
// counted).
func TestSubscriptionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures 1000 subscriptions")
	}
	if !netlab.Isolate(t) {
		return
	}
	_, ts := fanoutLight(t, 0)
	r := newReceivers(t, fanout, false)
	settle := func() runtime.MemStats {
		time.Sleep(200 * time.Millisecond)
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m
	}
	before := settle()
	g0 := runtime.NumGoroutine()
	subscribeAll(t, ts, r, r.urls)
	after := settle()
	g1 := runtime.NumGoroutine()
	heap := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / fanout
	stack := (int64(after.StackInuse) - int64(before.StackInuse)) / fanout
	t.Logf("per subscription: %d B heap, %d B stack, %.2f goroutines (%d subscriptions)",
		heap, stack, float64(g1-g0)/fanout, fanout)
	if heap+stack > 64<<10 {
		t.Errorf("a subscription costs %d B", heap+stack)
	}
}

// isolateB is netlab.Isolate for a benchmark: it runs only inside a network
// namespace of its own, where loopback is the only interface.
func isolateB(b *testing.B) bool {
	ifs, _ := net.Interfaces()
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagLoopback == 0 {
			b.Skip("run inside `unshare --net` (see the comment at the top of fanout_bench_test.go)")
			return false
		}
	}
	return true
}

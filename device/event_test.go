package device_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
)

// notification is one NOTIFY a test callback received.
type notification struct {
	sid, nt, nts string
	seq          int
	body         string
}

// sink is a GENA callback server on loopback that records NOTIFYs.
type sink struct {
	*httptest.Server
	mu    sync.Mutex
	got   []notification
	block chan struct{} // when set, requests hang until it is closed
}

func newSink(t *testing.T) *sink {
	k := &sink{}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k.block != nil {
			select {
			case <-k.block:
			case <-r.Context().Done():
			}
			return
		}
		b, _ := io.ReadAll(r.Body)
		seq, _ := strconv.Atoi(r.Header.Get("SEQ"))
		k.mu.Lock()
		k.got = append(k.got, notification{r.Header.Get("SID"), r.Header.Get("NT"), r.Header.Get("NTS"), seq, string(b)})
		k.mu.Unlock()
	}))
	t.Cleanup(k.Close)
	return k
}

func (k *sink) wait(t *testing.T, n int) []notification {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		k.mu.Lock()
		if len(k.got) >= n {
			out := append([]notification(nil), k.got...)
			k.mu.Unlock()
			return out
		}
		k.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	t.Fatalf("got %d NOTIFY, want %d: %+v", len(k.got), n, k.got)
	return nil
}

func genaReq(t *testing.T, method, url string, h map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

const (
	powerEvent = "/dev/0/SwitchPower/event"
	dimEvent   = "/dev/0/Dimming/event"
)

func TestSubscribeAndNotify(t *testing.T) {
	s := &device.Server{Device: binarylight.New("Evented", lightUDN)}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close() // ends the subscriptions' delivery goroutines
	k := newSink(t)
	resp := genaReq(t, "SUBSCRIBE", ts.URL+powerEvent, map[string]string{
		"CALLBACK": "<" + k.URL + "/cb>", "NT": "upnp:event", "TIMEOUT": "Second-infinite"})
	sid := resp.Header.Get("SID")
	if resp.StatusCode != 200 || !strings.HasPrefix(sid, "uuid:") || len(sid) != 41 || resp.Header.Get("TIMEOUT") != "Second-1800" {
		t.Fatalf("SUBSCRIBE: %d SID %q TIMEOUT %q", resp.StatusCode, sid, resp.Header.Get("TIMEOUT"))
	}
	first := k.wait(t, 1)[0]
	if first.seq != 0 || first.sid != sid || first.nt != "upnp:event" || first.nts != "upnp:propchange" ||
		!strings.Contains(first.body, "<Status>0</Status>") || strings.Contains(first.body, "Target") {
		t.Fatalf("initial event: %+v", first)
	}
	status, _ := soapCall(t, ts.URL+powerURL, `"`+power+`#SetTarget"`, envelope(power, "SetTarget", "<newTargetValue>1</newTargetValue>"))
	if status != 200 {
		t.Fatal(status)
	}
	second := k.wait(t, 2)[1]
	if second.seq != 1 || !strings.Contains(second.body, "<Status>1</Status>") {
		t.Fatalf("change event: %+v", second)
	}

	tests := []struct {
		name   string
		method string
		h      map[string]string
		want   int
	}{
		{"renew", "SUBSCRIBE", map[string]string{"SID": sid, "TIMEOUT": "Second-60"}, 200},
		{"renew with CALLBACK", "SUBSCRIBE", map[string]string{"SID": sid, "CALLBACK": "<" + k.URL + ">"}, 400},
		{"renew with NT", "SUBSCRIBE", map[string]string{"SID": sid, "NT": "upnp:event"}, 400},
		{"renew unknown SID", "SUBSCRIBE", map[string]string{"SID": "uuid:00000000-0000-4000-8000-000000000000"}, 412},
		{"no CALLBACK", "SUBSCRIBE", map[string]string{"NT": "upnp:event"}, 412},
		{"wrong NT", "SUBSCRIBE", map[string]string{"NT": "upnp:other", "CALLBACK": "<" + k.URL + ">"}, 412},
		{"CallStranger: another host", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": "<http://192.0.2.1:80/x>"}, 412},
		{"CallStranger: hostname", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": "<http://localhost:80/x>"}, 412},
		{"CallStranger: seven URLs", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": strings.Repeat("<"+k.URL+">", 7)}, 412},
		{"CallStranger: long URL", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": "<" + k.URL + "/" + strings.Repeat("a", 300) + ">"}, 412},
		{"not http", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": "<https://127.0.0.1/>"}, 412},
		{"unknown STATEVAR", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": "<" + k.URL + ">", "STATEVAR": "Nope"}, 412},
		{"unevented STATEVAR", "SUBSCRIBE", map[string]string{"NT": "upnp:event", "CALLBACK": "<" + k.URL + ">", "STATEVAR": "Target"}, 412},
		{"UNSUBSCRIBE with NT", "UNSUBSCRIBE", map[string]string{"SID": sid, "NT": "upnp:event"}, 400},
		{"UNSUBSCRIBE", "UNSUBSCRIBE", map[string]string{"SID": sid}, 200},
		{"UNSUBSCRIBE again", "UNSUBSCRIBE", map[string]string{"SID": sid}, 412},
		{"renew after UNSUBSCRIBE", "SUBSCRIBE", map[string]string{"SID": sid}, 412},
		{"GET", "GET", nil, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := genaReq(t, tt.method, ts.URL+powerEvent, tt.h)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.name == "renew" && resp.Header.Get("TIMEOUT") != "Second-60" {
				t.Errorf("renewal TIMEOUT %q", resp.Header.Get("TIMEOUT"))
			}
		})
	}
}

func TestStateVarSubset(t *testing.T) {
	s := &device.Server{Device: binarylight.New("Evented", lightUDN)}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close() // ends the subscriptions' delivery goroutines
	k := newSink(t)
	resp := genaReq(t, "SUBSCRIBE", ts.URL+dimEvent, map[string]string{
		"CALLBACK": "<" + k.URL + ">", "NT": "upnp:event", "STATEVAR": " LoadLevelStatus "})
	if resp.StatusCode != 200 || resp.Header.Get("ACCEPTED-STATEVAR") != "LoadLevelStatus" {
		t.Fatalf("SUBSCRIBE: %d ACCEPTED-STATEVAR %q", resp.StatusCode, resp.Header.Get("ACCEPTED-STATEVAR"))
	}
	first := k.wait(t, 1)[0]
	if !strings.Contains(first.body, "LoadLevelStatus") || strings.Contains(first.body, "StepDelta") {
		t.Fatalf("initial event has more than the subset: %s", first.body)
	}
	dim := s.Device.Services[1]
	dim.Set("StepDelta", 20) // evented, but not subscribed to
	dim.Set("LoadLevelStatus", 70)
	second := k.wait(t, 2)[1]
	if second.seq != 1 || !strings.Contains(second.body, "<LoadLevelStatus>70</LoadLevelStatus>") || strings.Contains(second.body, "StepDelta") {
		t.Fatalf("second event: %+v", second)
	}
}

// TestSlowSubscriber (SECURITY.md, resource exhaustion): a subscriber whose
// callback never answers is dropped after its deliveries time out, without
// delaying the healthy subscriber, which gets consecutive SEQs and ends with
// the latest state even when changes come faster than it reads (changes are
// merged once ten events wait).
func TestSlowSubscriber(t *testing.T) {
	s := &device.Server{Device: binarylight.New("Evented", lightUDN), Eventing: device.Eventing{Timeout: 200 * time.Millisecond}}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close() // ends the subscriptions' delivery goroutines
	good, slow := newSink(t), newSink(t)
	slow.block = make(chan struct{})
	defer close(slow.block)
	sub := func(k *sink) string {
		resp := genaReq(t, "SUBSCRIBE", ts.URL+dimEvent, map[string]string{"CALLBACK": "<" + k.URL + ">", "NT": "upnp:event"})
		if resp.StatusCode != 200 {
			t.Fatal(resp.StatusCode)
		}
		return resp.Header.Get("SID")
	}
	slowSID := sub(slow)
	sub(good)
	dim := s.Device.Services[1]
	const changes = 30
	for i := 1; i <= changes; i++ {
		if err := dim.Set("LoadLevelStatus", i); err != nil {
			t.Fatal(err)
		}
	}
	var got []notification
	for deadline := time.Now().Add(5 * time.Second); ; {
		got = good.wait(t, 1)
		if strings.Contains(got[len(got)-1].body, "<LoadLevelStatus>30</LoadLevelStatus>") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the healthy subscriber never got the latest state; last: %+v", got[len(got)-1])
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, n := range got {
		if n.seq != i {
			t.Fatalf("event %d has SEQ %d", i, n.seq)
		}
	}
	if len(got) > changes+1 {
		t.Errorf("%d events for %d changes", len(got), changes)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if resp := genaReq(t, "SUBSCRIBE", ts.URL+dimEvent, map[string]string{"SID": slowSID}); resp.StatusCode == 412 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stuck subscriber was never dropped")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSubscriptionCaps(t *testing.T) {
	s := &device.Server{Device: binarylight.New("Evented", lightUDN), Eventing: device.Eventing{MaxPerRequester: 2}}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close() // ends the subscriptions' delivery goroutines
	k := newSink(t)
	for i, want := range []int{200, 200, 503} {
		resp := genaReq(t, "SUBSCRIBE", ts.URL+powerEvent, map[string]string{"CALLBACK": "<" + k.URL + ">", "NT": "upnp:event"})
		if resp.StatusCode != want {
			t.Errorf("subscription %d: status %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	_ = context.Background
}

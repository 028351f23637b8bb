package device_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
	"github.com/seedb72249f9/upnp/internal/netlab"
)

// deliverers counts the goroutines delivering events to a subscription.
func deliverers() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "upnp/device.(*publisher).deliver(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestExpiredSubscriptionEnds (SECURITY.md, resource exhaustion): a
// subscriber that vanishes without UNSUBSCRIBE costs nothing once its
// subscription expires, even when no later SUBSCRIBE or change comes to sweep
// it: its delivery goroutine ends. A subscription renewed meanwhile lives on
// and still gets events, and ends in turn when its renewals stop.
func TestExpiredSubscriptionEnds(t *testing.T) {
	s := &device.Server{Device: binarylight.New("Evented", lightUDN)}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()
	gone, kept := newSink(t), newSink(t)
	// The goroutines of earlier tests' subscriptions end when their
	// servers close; wait for that, so that the counts below are ours.
	for deadline := time.Now().Add(5 * time.Second); deliverers() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d delivery goroutines of earlier tests still run", deliverers())
		}
	}
	subscribe := func(k *sink, timeout string) string {
		resp := genaReq(t, "SUBSCRIBE", ts.URL+powerEvent, map[string]string{
			"CALLBACK": "<" + k.URL + ">", "NT": "upnp:event", "TIMEOUT": timeout})
		if resp.StatusCode != 200 || resp.Header.Get("TIMEOUT") != timeout {
			t.Fatalf("SUBSCRIBE: %d TIMEOUT %q", resp.StatusCode, resp.Header.Get("TIMEOUT"))
		}
		return resp.Header.Get("SID")
	}
	sid := subscribe(kept, "Second-3") // renewed well within its time, even on a busy machine
	goneAt := time.Now()
	subscribe(gone, "Second-1")
	gone.wait(t, 1)
	kept.wait(t, 1)
	// On a busy machine the 1 s subscription may already have expired.
	if n := deliverers(); n != 2 && (n != 1 || time.Since(goneAt) < time.Second) {
		t.Fatalf("%d delivery goroutines for 2 subscriptions", n)
	}

	// Renew one subscription until the other's goroutine is gone.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if resp := genaReq(t, "SUBSCRIBE", ts.URL+powerEvent, map[string]string{"SID": sid, "TIMEOUT": "Second-3"}); resp.StatusCode != 200 {
			t.Fatalf("renewal: %d", resp.StatusCode)
		}
		if deliverers() <= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired subscription's delivery goroutine still runs 10 s after it expired")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := deliverers(); n != 1 {
		t.Fatalf("%d delivery goroutines left, want the renewed one's", n)
	}
	if err := s.Device.Services[0].Set("Target", true, "Status", true); err != nil {
		t.Fatal(err)
	}
	if got := kept.wait(t, 2)[1]; got.sid != sid || !strings.Contains(got.body, "<Status>1</Status>") {
		t.Fatalf("renewed subscription's event: %+v", got)
	}
	gone.mu.Lock()
	n := len(gone.got)
	gone.mu.Unlock()
	if n != 1 {
		t.Errorf("the expired subscriber got %d NOTIFYs, want only the initial one", n)
	}

	// Without renewals it ends too.
	for deadline := time.Now().Add(10 * time.Second); deliverers() > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the unrenewed subscription's delivery goroutine still runs after it expired")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRestartAcceptsSubscriptions: a Server whose ListenAndServe returns and
// runs again (a device restarting in-process) accepts subscriptions and
// delivers events in its second run as in its first; the end of the first
// run closed eventing, and it must not stay closed.
func TestRestartAcceptsSubscriptions(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	s := &device.Server{Device: binarylight.New("Restarted", lightUDN), Interfaces: []string{"lo"}, Network: "4"}
	for run := 1; run <= 2; run++ {
		k := newSink(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.ListenAndServe(ctx) }()
		var addr string
		for deadline := time.Now().Add(5 * time.Second); addr == ""; time.Sleep(10 * time.Millisecond) {
			if a := s.Addrs(); len(a) > 0 {
				addr = a[0].String()
			} else if time.Now().After(deadline) {
				t.Fatalf("run %d: no listener after 5 s", run)
			}
		}
		resp := genaReq(t, "SUBSCRIBE", "http://"+addr+powerEvent, map[string]string{"CALLBACK": "<" + k.URL + ">", "NT": "upnp:event"})
		if resp.StatusCode != http.StatusOK {
			t.Errorf("run %d: SUBSCRIBE answered %d, want 200", run, resp.StatusCode)
		} else if got := k.wait(t, 1)[0]; got.sid != resp.Header.Get("SID") {
			t.Errorf("run %d: initial event for SID %q, want %q", run, got.sid, resp.Header.Get("SID"))
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("run %d: ListenAndServe: %v", run, err)
		}
	}
}

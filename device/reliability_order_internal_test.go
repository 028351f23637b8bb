package device

import (
	"runtime"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp"
)

// TestEventOrderConcurrentSet: two Sets of one variable from two goroutines
// reach subscribers in the order the values were set, so that subscribers
// end with the value the service holds. The event's content used to be
// captured before the subscribers' queues were locked: a Set that captured
// the old value and then waited for the lock could queue it after a later
// Set had queued the new one, leaving every subscriber with a stale state
// until the next change (seen under load with concurrent SOAP clients).
//
// The interleaving is forced: with one P, the test holds the publisher's
// lock while a first Set runs up to it, then releases the lock and makes a
// second Set, which takes the lock before the first (woken, not yet running)
// goroutine does.
func TestEventOrderConcurrentSet(t *testing.T) {
	scpd, err := upnp.ParseSCPD([]byte(`<scpd xmlns="urn:schemas-upnp-org:service-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<serviceStateTable><stateVariable sendEvents="yes"><name>Counter</name><dataType>ui4</dataType></stateVariable></serviceStateTable></scpd>`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		moderation map[string]Moderation
	}{
		{"unmoderated", nil},
		{"moderated", map[string]Moderation{"Counter": {MinimumDelta: 1}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			svc := &Service{Type: "urn:example-com:service:Order:1", SCPD: scpd, Moderation: tt.moderation}
			s := &Server{Device: &Device{Type: "urn:example-com:device:Order:1", FriendlyName: "Order", Manufacturer: "m",
				ModelName: "n", UDN: "uuid:0f0f0f0f-1111-4222-8333-0000000000d3", Services: []*Service{svc}}}
			if err := s.init(); err != nil {
				t.Fatal(err)
			}
			p := s.events()
			defer p.close()
			// A subscription without a delivery goroutine: its queue keeps
			// what the Sets publish.
			sub := &subscription{sid: "uuid:0f0f0f0f-1111-4222-8333-0000000000d4", svc: svc, expires: time.Now().Add(time.Hour),
				wake: make(chan struct{}, 1), done: make(chan struct{})}
			p.mu.Lock()
			p.subs[sub.sid] = sub
			p.mu.Unlock()

			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			p.mu.Lock()
			first := make(chan error, 1)
			go func() { first <- svc.Set("Counter", 1) }()
			time.Sleep(20 * time.Millisecond) // the first Set runs until it waits for p.mu
			p.mu.Unlock()
			if err := svc.Set("Counter", 2); err != nil {
				t.Fatal(err)
			}
			if err := <-first; err != nil {
				t.Fatal(err)
			}

			sub.qmu.Lock()
			defer sub.qmu.Unlock()
			var got []string
			for _, ev := range sub.pending {
				for _, pr := range ev {
					got = append(got, pr.Value)
				}
			}
			if want := svc.Value("Counter"); len(got) == 0 || got[len(got)-1] != want {
				t.Errorf("events queued %v: the subscriber ends with %v, the service holds %s", got, got[max(0, len(got)-1):], want)
			}
		})
	}
}

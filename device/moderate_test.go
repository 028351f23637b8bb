package device_test

import (
	"math"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/internal/gena"
)

const meterEvent = "/dev/0/Meter/event"

// newMeter serves a device with one service whose evented variables are
// Level (i4), Temp (r8), Name (string) and LastChange (string).
func newMeter(t *testing.T, mod map[string]device.Moderation) (*device.Service, *device.Server, string) {
	t.Helper()
	svc := &device.Service{
		Type: "urn:schemas-upnp-org:service:Meter:1",
		SCPD: &upnp.SCPD{SpecVersion: upnp.SpecVersion{Major: 1, Minor: 1}, StateVariables: []upnp.StateVariable{
			{Name: "Level", DataType: upnp.TypeI4, SendEvents: true},
			{Name: "Temp", DataType: upnp.TypeR8, SendEvents: true},
			{Name: "Name", DataType: upnp.TypeString, SendEvents: true},
			{Name: "LastChange", DataType: upnp.TypeString, SendEvents: true},
		}},
		Moderation: mod,
	}
	s := &device.Server{Device: &device.Device{
		Type: "urn:schemas-upnp-org:device:Meter:1", FriendlyName: "Meter", Manufacturer: "upnp-go", ModelName: "Meter",
		UDN: "uuid:0f0f0f0f-1111-4222-8333-666666666666", Services: []*device.Service{svc},
	}}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { device.CloseEvents(s) })
	return svc, s, ts.URL
}

// subscribeMeter subscribes a new sink and waits for the initial event.
func subscribeMeter(t *testing.T, url string) *sink {
	t.Helper()
	k := newSink(t)
	resp := genaReq(t, "SUBSCRIBE", url+meterEvent, map[string]string{
		"CALLBACK": "<" + k.URL + "/cb>", "NT": "upnp:event", "TIMEOUT": "Second-300"})
	if resp.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %d", resp.StatusCode)
	}
	k.wait(t, 1)
	return k
}

// props parses the events a sink got, by name, in order.
func props(t *testing.T, ns []notification) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, n := range ns {
		ps, err := gena.ParsePropertySet([]byte(n.body))
		if err != nil {
			t.Fatalf("event %d: %v", n.seq, err)
		}
		m := map[string]string{}
		for _, p := range ps {
			m[p.Name] = p.Value
		}
		out = append(out, m)
	}
	return out
}

// settle waits until the sink has had no new NOTIFY for quiet and returns
// what it got.
func (k *sink) settle(quiet time.Duration) []notification {
	n := -1
	for {
		k.mu.Lock()
		m := len(k.got)
		k.mu.Unlock()
		if m == n {
			break
		}
		n = m
		time.Sleep(quiet)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.got)
}

func TestMaximumRate(t *testing.T) {
	const rate = 150 * time.Millisecond
	svc, _, url := newMeter(t, map[string]device.Moderation{"Level": {MaximumRate: rate}})
	k := subscribeMeter(t, url)
	start := time.Now()
	for i := 1; i <= 20; i++ {
		if err := svc.Set("Level", i); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Events are at least rate apart, the first at start at the earliest,
	// the last one rate after the last Set at the latest.
	elapsed := time.Since(start)
	got := props(t, k.settle(3*rate))
	changes := got[1:]
	t.Logf("%d events in %v: %v", len(changes), elapsed, changes)
	limit := int(math.Ceil(float64(elapsed)/float64(rate))) + 1
	if len(changes) == 0 || len(changes) > limit {
		t.Fatalf("%d events after the initial one in %v, want 1 to %d: %v", len(changes), elapsed, limit, changes)
	}
	if last := changes[len(changes)-1]; last["Level"] != "20" {
		t.Fatalf("last event %v, want Level 20", last)
	}
	if len(changes) == 20 {
		t.Fatal("not moderated")
	}
	if svc.Value("Level") != "20" {
		t.Fatalf("state %q", svc.Value("Level"))
	}

	// An unmoderated variable set during the interval is evented at once,
	// alone; the moderated one follows when the interval ends.
	svc.Set("Level", 21)
	svc.Set("Level", 22, "Name", "x")
	got = props(t, k.settle(3*rate))[len(got):]
	if len(got) != 3 || got[0]["Level"] != "21" || got[1]["Name"] != "x" || got[1]["Level"] != "" || got[2]["Level"] != "22" {
		t.Fatalf("events %v, want Level 21, Name x, Level 22", got)
	}
}

func TestMinimumDelta(t *testing.T) {
	svc, _, url := newMeter(t, map[string]device.Moderation{"Temp": {MinimumDelta: 1}})
	k := subscribeMeter(t, url)
	for _, v := range []float64{0.2, 0.5, 0.9} {
		if err := svc.Set("Temp", v); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Set("Name", "unmoderated"); err != nil {
		t.Fatal(err)
	}
	svc.Set("Temp", 1.5) // 1.5 from the initial 0
	svc.Set("Temp", 2)   // 0.5 from 1.5
	svc.Set("Temp", 2.6) // 1.1 from 1.5
	got := props(t, k.settle(200*time.Millisecond))[1:]
	want := []map[string]string{{"Name": "unmoderated"}, {"Temp": "1.5"}, {"Temp": "2.6"}}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		for name, v := range want[i] {
			if got[i][name] != v || len(got[i]) != 1 {
				t.Fatalf("event %d: %v, want %v", i, got[i], want[i])
			}
		}
	}
	if v, _ := svc.Get("Temp"); v != 2.6 {
		t.Fatalf("state %v", v)
	}
	// A new subscriber gets the state, whatever the moderation.
	if first := props(t, subscribeMeter(t, url).settle(50*time.Millisecond))[0]; first["Temp"] != "2.6" {
		t.Fatalf("initial event %v", first)
	}
}

func TestModerationStopsOnClose(t *testing.T) {
	const rate = 300 * time.Millisecond
	svc, s, url := newMeter(t, map[string]device.Moderation{"Level": {MaximumRate: rate}})
	k := subscribeMeter(t, url)
	svc.Set("Level", 1)
	svc.Set("Level", 2) // pending until the interval ends
	k.wait(t, 2)
	device.CloseEvents(s)
	time.Sleep(2 * rate)
	if got := k.settle(50 * time.Millisecond); len(got) != 2 {
		t.Fatalf("%d events after close, want 2", len(got))
	}
	if err := svc.Set("Level", 3); err != nil { // no timer, no panic
		t.Fatal(err)
	}
}

func TestLastChange(t *testing.T) {
	svc, _, url := newMeter(t, nil)
	k := subscribeMeter(t, url)
	lc := &device.LastChange{Service: svc, Namespace: device.LastChangeRCS, Interval: 300 * time.Millisecond}
	for _, c := range []struct {
		id                   uint32
		name, value, channel string
	}{
		{0, "Volume", "10", "Master"},
		{0, "Mute", "1", "Master"},
		{1, "Volume", "5", "Master"},
		{0, "Volume", "20", "Master"},
		{0, "Volume", "7", "LF"},
		{0, "PresetNameList", `a&b<"c">`, ""},
	} {
		if err := lc.Change(c.id, c.name, c.value, c.channel); err != nil {
			t.Fatal(err)
		}
	}
	if err := lc.Change(0, "bad name", "x", ""); err == nil {
		t.Fatal("bad name accepted")
	}
	got := props(t, k.settle(500*time.Millisecond))[1:]
	if len(got) != 1 {
		t.Fatalf("%d events, want 1: %v", len(got), got)
	}
	changes, err := gena.ParseLastChange(got[0]["LastChange"])
	if err != nil {
		t.Fatal(err)
	}
	want := []gena.InstanceChange{
		{InstanceID: "0", Vars: []gena.VarChange{
			{Name: "Volume", Value: "20", Channel: "Master"},
			{Name: "Mute", Value: "1", Channel: "Master"},
			{Name: "Volume", Value: "7", Channel: "LF"},
			{Name: "PresetNameList", Value: `a&b<"c">`},
		}},
		{InstanceID: "1", Vars: []gena.VarChange{{Name: "Volume", Value: "5", Channel: "Master"}}},
	}
	if len(changes) != len(want) {
		t.Fatalf("LastChange %+v, want %+v", changes, want)
	}
	for i := range want {
		if changes[i].InstanceID != want[i].InstanceID || !slices.Equal(changes[i].Vars, want[i].Vars) {
			t.Fatalf("LastChange %+v, want %+v", changes, want)
		}
	}

	// Later changes start a new aggregate; Flush sends it at once.
	lc.Change(3, "Loudness", "1", "Master")
	if err := lc.Flush(); err != nil {
		t.Fatal(err)
	}
	ns := k.wait(t, 3)
	last := props(t, ns[2:])[0]["LastChange"]
	if changes, err := gena.ParseLastChange(last); err != nil || len(changes) != 1 || changes[0].InstanceID != "3" {
		t.Fatalf("second LastChange %q: %+v %v", last, changes, err)
	}
	if svc.Value("LastChange") != last {
		t.Fatal("state differs from the event")
	}
}

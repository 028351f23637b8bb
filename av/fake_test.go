package av_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/av"
	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/device"
)

// fakeRenderer serves gmediarender's SCPDs with our device package and
// records what it is asked, to check the arguments sent and the reading of
// answers gmediarender never gives.
type fakeRenderer struct {
	mu   sync.Mutex
	args map[string]map[string]any // the last in arguments, by action
	out  map[string]map[string]any // answers, by action
}

func (f *fakeRenderer) serve(t *testing.T) *av.Renderer {
	t.Helper()
	f.args = map[string]map[string]any{}
	scpd := func(name string) *upnp.SCPD {
		b, err := os.ReadFile("../testdata/descriptions/gmediarender-MediaRenderer1/" + name + "-1.scpd.xml")
		if err != nil {
			t.Fatal(err)
		}
		s, err := upnp.ParseSCPD(b)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	handler := func(action string) device.Handler {
		return func(ctx context.Context, r *device.Request) (map[string]any, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.args[action] = r.Args
			return f.out[action], nil
		}
	}
	handlers := func(actions ...string) map[string]device.Handler {
		m := map[string]device.Handler{}
		for _, a := range actions {
			m[a] = handler(a)
		}
		return m
	}
	s := &device.Server{Device: &device.Device{
		Type: av.MediaRenderer1, FriendlyName: "fake renderer", Manufacturer: "test", ModelName: "fake",
		UDN: "uuid:a1b2c3d4-0000-4000-8000-000000000001",
		Services: []*device.Service{
			{Type: av.AVTransport1, SCPD: scpd("AVTransport"), Handlers: handlers("SetAVTransportURI", "Play", "Seek", "GetPositionInfo", "GetTransportInfo")},
			{Type: av.RenderingControl1, SCPD: scpd("RenderingControl"), Handlers: handlers("GetMute", "SetVolume")},
		},
	}}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	c := &controlpoint.Client{}
	dev, err := c.Describe(context.Background(), ts.URL+"/desc.xml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := av.NewRenderer(c, dev)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFakeRenderer(t *testing.T) {
	f := &fakeRenderer{out: map[string]map[string]any{
		"GetPositionInfo": {"Track": uint32(2), "TrackDuration": "0:03:25.500", "TrackMetaData": "", "TrackURI": "http://x/a.mp3",
			"RelTime": "NOT_IMPLEMENTED", "AbsTime": "NOT_IMPLEMENTED", "RelCount": int32(2147483647), "AbsCount": int32(2147483647)},
		"GetTransportInfo": {"CurrentTransportState": "STOPPED", "CurrentTransportStatus": "ERROR_OCCURRED", "CurrentSpeed": "1"},
		"GetMute":          {"CurrentMute": true},
	}}
	r := f.serve(t)
	ctx := context.Background()

	const uri = "http://10.0.0.2:8000/a b.mp3"
	if err := r.Load(ctx, uri, av.Metadata("a", uri, "audio/mpeg", "")); err != nil {
		t.Fatal(err)
	}
	if a := f.args["SetAVTransportURI"]; a["CurrentURI"] != uri || a["InstanceID"] != uint32(0) || a["CurrentURIMetaData"] == "" {
		t.Errorf("SetAVTransportURI got %v", a)
	}
	if err := r.Play(ctx); err != nil || f.args["Play"]["Speed"] != "1" {
		t.Errorf("Play: %v, sent %v", err, f.args["Play"])
	}
	if err := r.Seek(ctx, 90*time.Second+400*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if a := f.args["Seek"]; a["Unit"] != "REL_TIME" || a["Target"] != "0:01:30" {
		t.Errorf("Seek sent %v", a)
	}
	if err := r.Seek(ctx, -time.Second); err == nil {
		t.Error("Seek to a negative position = nil error")
	}
	p, err := r.Position(ctx)
	if want := (av.Position{Track: 2, Duration: 3*time.Minute + 25500*time.Millisecond, URI: "http://x/a.mp3"}); err != nil || p != want {
		t.Errorf("Position = %+v, %v; want %+v (NOT_IMPLEMENTED read as 0)", p, err, want)
	}
	if s, err := r.State(ctx); s != av.Stopped || !errors.Is(err, av.ErrPlayback) {
		t.Errorf("State = %q, %v; want STOPPED, ErrPlayback", s, err)
	}
	if m, err := r.Mute(ctx); err != nil || !m {
		t.Errorf("Mute = %v, %v", m, err)
	}
	if err := r.SetVolume(ctx, 101); !errors.Is(err, controlpoint.ErrArgument) {
		t.Errorf("SetVolume(101) = %v; want ErrArgument from the SCPD's range", err)
	}
	if f.args["SetVolume"] != nil {
		t.Errorf("SetVolume(101) reached the renderer: %v", f.args["SetVolume"])
	}
	// An action the renderer does not implement is its UPnP fault.
	if err := r.Pause(ctx); !errors.Is(err, &upnp.Error{Code: upnp.CodeOptionalActionNotImplemented}) {
		t.Errorf("Pause on a renderer without it: %v", err)
	}
}

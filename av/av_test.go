package av_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/av"
	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/internal/netlab"
	"github.com/seedb72249f9/upnp/ssdp"
)

// TestMain lets the interop test run the renderer role in a host of a
// netlab LAN.
func TestMain(m *testing.M) {
	netlab.Main(m, map[string]netlab.Role{"render": roleRender})
}

// TestInteropGmediarender drives a real gmediarender (GStreamer playing
// into a fakesink in real time) from h1, which also serves the sound it
// plays: load, play, pause, seek, stop, volume and mute, each checked by
// reading the renderer's state back.
func TestInteropGmediarender(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 2})
	lan.StartPeer(t, "gmediarender", lan.Host(2))
	p := lan.Host(1).Start(t, "render")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	err := p.Wait(ctx)
	lines := p.Lines()
	for _, l := range lines {
		if strings.HasPrefix(l, "FAIL") {
			t.Error(l)
		}
	}
	if err != nil {
		t.Fatalf("render role: %v\n%s", err, strings.Join(lines, "\n"))
	}
	t.Logf("render role:\n%s", strings.Join(lines, "\n"))
}

// wav returns a mono 16-bit 8 kHz WAV file of a 440 Hz tone.
func wav(d time.Duration) []byte {
	const rate = 8000
	n := int(d.Seconds() * rate)
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1)) // PCM
	w(uint16(1)) // mono
	w(uint32(rate))
	w(uint32(2 * rate))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(2 * n))
	for i := range n {
		w(int16(3000 * math.Sin(2*math.Pi*440*float64(i)/rate)))
	}
	return b.Bytes()
}

// roleRender runs in h1: it serves a 20 s tone and plays it on the renderer
// it finds, printing each step and "FAIL" lines for what went wrong.
func roleRender(ctx context.Context, _ []string) int {
	failed := false
	fail := func(format string, a ...any) {
		failed = true
		fmt.Printf("FAIL "+format+"\n", a...)
	}
	sound := wav(20 * time.Second)
	var fetched atomic.Int32
	ln, err := net.Listen("tcp4", "10.77.0.11:0")
	if err != nil {
		fail("listen: %v", err)
		return 1
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Header().Set("Content-Type", "audio/wav")
		http.ServeContent(w, r, "tone.wav", time.Time{}, bytes.NewReader(sound))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/tone.wav"

	cp := &controlpoint.Client{Interfaces: []string{"lan0"}, Network: "udp4"}
	var r *av.Renderer
	for r == nil && ctx.Err() == nil { // gmediarender may still be starting
		fctx, cancel := context.WithTimeout(ctx, 4*time.Second)
		for found, err := range av.Discover(fctx, cp, ssdp.SearchRequest{MX: 1}) {
			if err == nil {
				r = found
				break
			}
		}
		cancel()
	}
	if r == nil {
		fail("no renderer found")
		return 1
	}
	fmt.Println("found", r.Device.Root.Device.FriendlyName, r.Transport.Type, r.Rendering != nil)

	// wait polls the transport state until it is want.
	wait := func(want string) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			s, err := r.State(ctx)
			if err == nil && s == want {
				fmt.Println("state", s)
				return
			}
			if time.Now().After(deadline) {
				fail("state %q, %v; want %s", s, err, want)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// elapsed polls the position until it is at least min.
	elapsed := func(min time.Duration) av.Position {
		deadline := time.Now().Add(10 * time.Second)
		for {
			p, err := r.Position(ctx)
			if err == nil && p.Elapsed >= min {
				fmt.Printf("position %v of %v, track %d, %s\n", p.Elapsed, p.Duration, p.Track, p.URI)
				return p
			}
			if time.Now().After(deadline) {
				fail("position %+v, %v; want at least %v", p, err, min)
				return p
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	if err := r.Load(ctx, url, av.Metadata("Lab tone <&>", url, "audio/wav", "")); err != nil {
		fail("Load: %v", err)
	}
	if err := r.Play(ctx); err != nil {
		fail("Play: %v", err)
	}
	wait(av.Playing)
	p := elapsed(time.Second)
	if p.URI != url || p.Duration < 19*time.Second || p.Duration > 21*time.Second {
		fail("position %+v: want the tone's URI and a 20 s duration", p)
	}
	if fetched.Load() == 0 {
		fail("the renderer never fetched %s", url)
	}
	if err := r.Pause(ctx); err != nil {
		fail("Pause: %v", err)
	}
	wait(av.PausedPlayback)
	if err := r.Seek(ctx, 12*time.Second); err != nil {
		fail("Seek: %v", err)
	}
	if err := r.Play(ctx); err != nil {
		fail("Play after Seek: %v", err)
	}
	wait(av.Playing)
	elapsed(12 * time.Second)
	if err := r.Stop(ctx); err != nil {
		fail("Stop: %v", err)
	}
	wait(av.Stopped)

	if err := r.SetVolume(ctx, 40); err != nil {
		fail("SetVolume: %v", err)
	}
	if v, err := r.Volume(ctx); err != nil || v != 40 {
		fail("Volume = %d, %v; want 40", v, err)
	}
	if err := r.SetVolume(ctx, 1000); err == nil {
		fail("SetVolume(1000) accepted")
	} else {
		fmt.Println("volume 1000:", err)
	}
	for _, m := range []bool{true, false} {
		if err := r.SetMute(ctx, m); err != nil {
			fail("SetMute(%v): %v", m, err)
		}
		if got, err := r.Mute(ctx); err != nil || got != m {
			fail("Mute = %v, %v; want %v", got, err, m)
		}
	}
	if err := r.Pause(ctx); err == nil {
		fail("Pause while stopped accepted")
	} else if !errors.Is(err, av.ErrTransition) {
		fmt.Println("pause while stopped (not 701):", err)
	}
	if failed {
		return 1
	}
	return 0
}

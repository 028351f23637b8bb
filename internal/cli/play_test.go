//go:build linux

package cli

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

// writeTone writes a mono 16-bit 8 kHz WAV file of a 440 Hz tone.
func writeTone(t *testing.T, d time.Duration) string {
	t.Helper()
	const rate = 8000
	n := int(d.Seconds() * rate)
	var b bytes.Buffer
	for _, v := range []any{[4]byte{'R', 'I', 'F', 'F'}, uint32(36 + 2*n), [8]byte{'W', 'A', 'V', 'E', 'f', 'm', 't', ' '},
		uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16),
		[4]byte{'d', 'a', 't', 'a'}, uint32(2 * n)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	for i := range n {
		binary.Write(&b, binary.LittleEndian, int16(3000*math.Sin(2*math.Pi*440*float64(i)/rate)))
	}
	name := filepath.Join(t.TempDir(), "lab tone.wav")
	if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestPlayInterop: "upnp play" serves a local file to a real gmediarender
// and follows it to the end; Ctrl-C stops the renderer; a file is served to
// the renderer only.
func TestPlayInterop(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 3})
	lan.StartPeer(t, "gmediarender", lan.Host(2))
	const loc = "http://10.77.0.12:49494/description.xml"
	short, long := writeTone(t, 3*time.Second), writeTone(t, 60*time.Second)

	t.Run("to the end", func(t *testing.T) {
		code, out := upnpIn(t, lan.Host(1), "play", "-i", "lan0", "-4", "--volume", "30", "upnplab renderer h2", short)
		if code != ExitOK {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		for _, want := range []string{"playing http://10.77.0.11:", "/lab%20tone.wav on upnplab renderer h2", "state PLAYING", "state STOPPED"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if code, out := upnpIn(t, lan.Host(1), "call", loc, "RenderingControl", "GetVolume", "InstanceID=0", "Channel=Master"); code != ExitOK || !strings.Contains(out, "CurrentVolume=30") {
			t.Errorf("volume after --volume 30: exit %d\n%s", code, out)
		}
	})

	t.Run("Ctrl-C stops the renderer", func(t *testing.T) {
		p := lan.Host(1).Start(t, "upnp", "play", "-i", "lan0", "-4", loc, long)
		waitLine(t, p, "state PLAYING")
		// While it plays, the file is served to the renderer only.
		var url string
		for _, l := range p.Lines() {
			if rest, ok := strings.CutPrefix(l, "playing "); ok {
				url, _, _ = strings.Cut(rest, " ")
			}
		}
		if got := lan.Host(3).Exec(t, "sh", "-c", "curl -s -o /dev/null -w '%{http_code}' '"+url+"' || true"); got != "403" {
			t.Errorf("another host fetching %s got %q, want 403", url, got)
		}
		if err := p.Stop(); err != nil {
			t.Errorf("play after Ctrl-C: %v\n%s", err, strings.Join(p.Lines(), "\n"))
		}
		if out := strings.Join(p.Lines(), "\n"); !strings.Contains(out, "stopped") {
			t.Errorf("no \"stopped\" after Ctrl-C:\n%s", out)
		}
		code, out := upnpIn(t, lan.Host(1), "call", loc, "AVTransport", "GetTransportInfo", "InstanceID=0")
		if code != ExitOK || !strings.Contains(out, "CurrentTransportState=STOPPED") {
			t.Errorf("renderer after Ctrl-C: exit %d\n%s", code, out)
		}
	})

	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"play"}, {"play", loc}, {"play", loc, short, "--detach"}, {"play", loc, short, "--volume", "70000"}} {
			var out bytes.Buffer
			if code := Main(t.Context(), args, &out, &out); code != ExitUsage {
				t.Errorf("%q: exit %d, want %d\n%s", args, code, ExitUsage, out.String())
			}
		}
	})
}

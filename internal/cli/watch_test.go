package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

// lockedBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor waits until b holds want.
func waitFor(t *testing.T, b *lockedBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output lacks %q:\n%s", want, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startWatch runs "upnp watch args..." until the returned function cancels
// it and returns its exit code.
func startWatch(t *testing.T, args ...string) (out, errOut *lockedBuffer, stop func() int) {
	t.Helper()
	out, errOut = &lockedBuffer{}, &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- Main(ctx, append([]string{"watch"}, args...), out, errOut) }()
	stop = func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(5 * time.Second):
			t.Fatal("watch did not end within 5 s of Ctrl-C")
		}
		return -1
	}
	t.Cleanup(func() { cancel() })
	return out, errOut, stop
}

func TestWatchCommand(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	loc := httpLight(t)
	t.Run("text", func(t *testing.T) {
		out, errOut, stop := startWatch(t, loc, "SwitchPower")
		waitFor(t, out, " SwitchPower:1 SEQ 0 Status=0\n")
		if code, _, e := run(t, "call", loc, "SwitchPower", "SetTarget", "newTargetValue=1"); code != 0 {
			t.Fatal(e)
		}
		waitFor(t, out, " SwitchPower:1 SEQ 1 Status=1\n")
		if code := stop(); code != ExitOK {
			t.Errorf("exit %d: %s", code, errOut)
		}
		if strings.Contains(out.String(), "Dimming") {
			t.Errorf("events of a service not asked for:\n%s", out)
		}
		run(t, "call", loc, "SwitchPower", "SetTarget", "newTargetValue=0")
	})
	t.Run("json", func(t *testing.T) {
		out, errOut, stop := startWatch(t, loc, "--json")
		waitFor(t, out, `"service_id":"urn:upnp-org:serviceId:Dimming","seq":0,`)
		waitFor(t, out, `"service_id":"urn:upnp-org:serviceId:SwitchPower","seq":0,`)
		run(t, "call", loc, "Dimming", "SetLoadLevelTarget", "newLoadlevelTarget=42")
		waitFor(t, out, `"seq":1,"variables":{"LoadLevelStatus":42}}`)
		if code := stop(); code != ExitOK {
			t.Errorf("exit %d: %s", code, errOut)
		}
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var ev map[string]any
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			if len(ev) != 5 || ev["udn"] != "uuid:"+lightUUID || ev["time"] == "" {
				t.Errorf("event %v", ev)
			}
			if ev["service_id"] == "urn:upnp-org:serviceId:SwitchPower" && ev["seq"] == 0.0 {
				if vars := ev["variables"].(map[string]any); vars["Status"] != false {
					t.Errorf("SwitchPower initial event %v", ev)
				}
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			code int
			want string
		}{
			{nil, ExitUsage, "watch needs TARGET"},
			{[]string{loc, "ContentDirectory"}, ExitNotFound, `no service "ContentDirectory"`},
			{[]string{strings.Replace(loc, "desc.xml", "none.xml", 1)}, ExitError, "404"},
		} {
			code, _, errOut := run(t, append([]string{"watch"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("watch %v: exit %d, %q; want %d, %q", tt.args, code, errOut, tt.code, tt.want)
			}
		}
	})
}

package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
	"github.com/seedb72249f9/upnp/internal/netlab"
)

// loLight runs the example light with SSDP on lo until the test ends.
func loLight(t *testing.T, name string) {
	t.Helper()
	s := &device.Server{Device: binarylight.New(name, "uuid:"+lightUUID), Interfaces: []string{"lo"}, Network: "4"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for range 100 {
		if len(s.Addrs()) > 0 {
			time.Sleep(100 * time.Millisecond)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the light did not start")
}

func TestScanCommand(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	loLight(t, "Loopback Light")
	code, out, errOut := run(t, "scan", "-i", "lo", "-4", "--timeout", "2s", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1:\n%s", len(lines), out)
	}
	var d deviceJSON
	if err := json.Unmarshal([]byte(lines[0]), &d); err != nil {
		t.Fatal(err)
	}
	if d.UDN != "uuid:"+lightUUID || d.FriendlyName != "Loopback Light" || d.DeviceType != "urn:schemas-upnp-org:device:BinaryLight:1" ||
		d.Manufacturer != "upnp-go" || d.ModelName != "BinaryLight" || d.ModelNumber != "1" || d.Interface != "lo" ||
		!strings.HasPrefix(d.Location, "http://127.0.0.1:") || len(d.Services) != 2 || d.Devices == nil ||
		d.Services[0].ServiceType != "urn:schemas-upnp-org:service:SwitchPower:1" || d.Services[0].ServiceID != "urn:upnp-org:serviceId:SwitchPower" ||
		!strings.HasPrefix(d.Services[0].ControlURL, "http://127.0.0.1:") || d.Services[0].SCPDURL == "" || d.Services[0].EventSubURL == "" {
		t.Errorf("scan --json: %+v", d)
	}
	// The JSON has exactly the documented keys.
	var raw map[string]any
	json.Unmarshal([]byte(lines[0]), &raw)
	for _, k := range []string{"udn", "friendly_name", "device_type", "manufacturer", "model_name", "model_number", "location", "interface", "services", "devices"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("no %q in %s", k, lines[0])
		}
	}

	start := time.Now()
	code, out, errOut = run(t, "scan", "-i", "lo", "-4", "--timeout", "2s")
	if code != ExitOK || !strings.Contains(out, "Loopback Light") || !strings.Contains(out, "BinaryLight:1") ||
		!strings.Contains(out, "upnp-go / BinaryLight") || !strings.Contains(out, "uuid:"+lightUUID) || strings.Contains(out, "\r") {
		t.Errorf("scan: exit %d\n%s%s", code, out, errOut)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("scan --timeout 2s took %v", time.Since(start))
	}
	code, _, errOut = run(t, "scan", "-i", "lo", "-4", "--timeout", "2s", "--target", "urn:schemas-upnp-org:device:Nothing:1")
	if code != ExitNotFound {
		t.Errorf("scan for nothing: exit %d: %s", code, errOut)
	}

	// TARGET by friendly name and by UDN, searched on lo.
	code, out, errOut = run(t, "describe", "-i", "lo", "-4", "loopback light")
	if code != ExitOK || !strings.Contains(out, `Device "Loopback Light"`) {
		t.Errorf("describe by name: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, "call", "-i", "lo", "-4", "uuid:"+lightUUID, "SwitchPower", "GetStatus")
	if code != ExitOK || out != "ResultStatus=0\n" {
		t.Errorf("call by UDN: exit %d %q %s", code, out, errOut)
	}
	code, out, errOut = run(t, "call", "--to", "127.0.0.1", lightUUID, "SwitchPower", "GetStatus")
	if code != ExitOK || out != "ResultStatus=0\n" {
		t.Errorf("call by unicast search: exit %d %q %s", code, out, errOut)
	}
	code, _, errOut = run(t, "call", "-i", "lo", "-4", "--timeout", "1500ms", "No Such Light", "SwitchPower", "GetStatus")
	if code != ExitNotFound {
		t.Errorf("call on a missing device: exit %d: %s", code, errOut)
	}
}

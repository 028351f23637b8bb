//go:build linux

package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

// upnpIn runs the command line in h and returns its exit code and output.
func upnpIn(t *testing.T, h *netlab.Host, args ...string) (int, string) {
	t.Helper()
	p := h.Start(t, "upnp", args...)
	out := runToEnd(t, p)
	return p.ExitCode(), out
}

// TestControlPointInterop: "upnp scan" on one host lists our light and the
// real minidlna, gmediarender and miniupnpd with the right names, and
// "upnp call" works on each, with miniupnpd's faults as exit code 3.
func TestControlPointInterop(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 5})
	light := lan.Host(1).Start(t, "upnp", "serve", "light", "-i", "lan0", "--port", "49200", "--uuid", lightUUID, "--name", "Lab Light")
	lan.StartPeer(t, "minidlna", lan.Host(2))
	lan.StartPeer(t, "gmediarender", lan.Host(3))
	lan.StartPeer(t, "miniupnpd", lan.Host(4))
	waitLine(t, light, "serving")
	time.Sleep(1500 * time.Millisecond) // the daemons bind their sockets
	cp := lan.Host(5)

	want := map[string]struct{ name, typ, loc, iface string }{
		"uuid:" + lightUUID:                         {"Lab Light", "urn:schemas-upnp-org:device:BinaryLight:1", "http://10.77.0.11:49200/desc.xml", "lan0"},
		"uuid:4d696e69-444c-164e-9d41-027700000002": {"upnplab minidlna h2", "urn:schemas-upnp-org:device:MediaServer:1", "http://10.77.0.12:8200/rootDesc.xml", "lan0"},
		"uuid:a1b2c3d4-0000-4000-8000-027700000003": {"upnplab renderer h3", "urn:schemas-upnp-org:device:MediaRenderer:1", "http://10.77.0.13:49494/description.xml", "lan0"},
		"uuid:3d3cec3a-8cf0-11e0-98ee-027700000004": {"upnplab IGD h4", "urn:schemas-upnp-org:device:InternetGatewayDevice:2", "http://10.77.0.14:5000/rootDesc.xml", "lan0"},
	}
	t.Run("scan --json", func(t *testing.T) {
		code, out := upnpIn(t, cp, "scan", "-i", "lan0", "-4", "--timeout", "4s", "--json")
		if code != ExitOK {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		seen := map[string]bool{}
		for _, line := range strings.Split(out, "\n") {
			if !strings.HasPrefix(line, "{") {
				continue
			}
			var d deviceJSON
			if err := json.Unmarshal([]byte(line), &d); err != nil {
				t.Fatalf("bad JSON %q: %v", line, err)
			}
			w, ok := want[d.UDN]
			if !ok {
				t.Errorf("unexpected device %s %q", d.UDN, d.FriendlyName)
				continue
			}
			seen[d.UDN] = true
			if d.FriendlyName != w.name || d.DeviceType != w.typ || d.Location != w.loc || d.Interface != w.iface || len(d.Services) == 0 {
				t.Errorf("%s: %+v", w.name, d)
			}
			for _, s := range d.Services {
				if s.Error != "" {
					t.Errorf("%s: %s: %s", w.name, s.ServiceType, s.Error)
				}
			}
		}
		if len(seen) != len(want) {
			t.Errorf("found %d of %d devices:\n%s", len(seen), len(want), out)
		}
	})
	t.Run("scan table", func(t *testing.T) {
		code, out := upnpIn(t, cp, "scan", "-i", "lan0", "--timeout", "3s")
		if code != ExitOK {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w.name) {
				t.Errorf("table lacks %q:\n%s", w.name, out)
			}
		}
	})

	const igd = "http://10.77.0.14:5000/rootDesc.xml"
	calls := []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"light on", []string{"Lab Light", "SwitchPower", "SetTarget", "newTargetValue=1"}, ExitOK, nil},
		{"light status", []string{"uuid:" + lightUUID, "SwitchPower", "GetStatus"}, ExitOK, []string{"ResultStatus=1"}},
		{"minidlna Browse", []string{"upnplab minidlna h2", "ContentDirectory", "Browse", "ObjectID=0", "BrowseFlag=BrowseDirectChildren",
			"Filter=*", "StartingIndex=0", "RequestedCount=10", "SortCriteria="}, ExitOK, []string{"Result=<DIDL-Lite", "NumberReturned=", "TotalMatches=", "UpdateID="}},
		{"minidlna GetSystemUpdateID", []string{"http://10.77.0.12:8200/rootDesc.xml", "urn:schemas-upnp-org:service:ContentDirectory:1", "GetSystemUpdateID", "--json"}, ExitOK, []string{`{"Id":`}},
		{"gmediarender SetVolume", []string{"upnplab renderer h3", "RenderingControl", "SetVolume", "InstanceID=0", "Channel=Master", "DesiredVolume=40"}, ExitOK, nil},
		{"gmediarender GetVolume", []string{"http://10.77.0.13:49494/description.xml", "RenderingControl:1", "GetVolume", "InstanceID=0", "Channel=Master"}, ExitOK, []string{"CurrentVolume=40"}},
		{"gmediarender SetAVTransportURI", []string{"upnplab renderer h3", "AVTransport", "SetAVTransportURI", "InstanceID=0",
			"CurrentURI=http://10.77.0.12:8200/MediaItems/none.mp3", "CurrentURIMetaData="}, ExitOK, nil},
		{"gmediarender Play", []string{"upnplab renderer h3", "AVTransport", "Play", "InstanceID=0", "Speed=1"}, ExitOK, nil},
		{"gmediarender GetTransportInfo", []string{"upnplab renderer h3", "AVTransport", "GetTransportInfo", "InstanceID=0", "--json"}, ExitOK,
			[]string{`"CurrentTransportState":`}},
		{"miniupnpd GetExternalIPAddress", []string{"upnplab IGD h4", "WANIPConnection", "GetExternalIPAddress"}, ExitOK, []string{"NewExternalIPAddress=1.2.3.4"}},
		{"miniupnpd AddPortMapping", []string{igd, "WANIPConnection", "AddPortMapping", "NewRemoteHost=", "NewExternalPort=8080", "NewProtocol=TCP",
			"NewInternalPort=8080", "NewInternalClient=10.77.0.15", "NewEnabled=1", "NewPortMappingDescription=upnp-go test", "NewLeaseDuration=3600"}, ExitOK, nil},
		{"miniupnpd GetGenericPortMappingEntry", []string{igd, "WANIPConnection", "GetGenericPortMappingEntry", "NewPortMappingIndex=0"}, ExitOK,
			[]string{"NewExternalPort=8080", "NewProtocol=TCP", "NewInternalClient=10.77.0.15", "NewPortMappingDescription=upnp-go test"}},
		{"miniupnpd 718 for another host", []string{igd, "WANIPConnection", "AddPortMapping", "NewRemoteHost=", "NewExternalPort=8081", "NewProtocol=TCP",
			"NewInternalPort=8081", "NewInternalClient=10.77.0.99", "NewEnabled=1", "NewPortMappingDescription=x", "NewLeaseDuration=3600"}, ExitFault, []string{"UPnP error 718"}},
		{"miniupnpd 606 for port 80", []string{igd, "WANIPConnection", "AddPortMapping", "NewRemoteHost=", "NewExternalPort=80", "NewProtocol=TCP",
			"NewInternalPort=80", "NewInternalClient=10.77.0.15", "NewEnabled=1", "NewPortMappingDescription=x", "NewLeaseDuration=3600"}, ExitFault, []string{"UPnP error 606"}},
		{"miniupnpd DeletePortMapping", []string{igd, "WANIPConnection", "DeletePortMapping", "NewRemoteHost=", "NewExternalPort=8080", "NewProtocol=TCP"}, ExitOK, nil},
		{"miniupnpd 713 after delete", []string{igd, "WANIPConnection", "GetGenericPortMappingEntry", "NewPortMappingIndex=0"}, ExitFault, []string{"UPnP error 713"}},
		{"no such service", []string{igd, "ContentDirectory", "Browse"}, ExitNotFound, nil},
	}
	for _, c := range calls {
		t.Run("call "+c.name, func(t *testing.T) {
			code, out := upnpIn(t, cp, append([]string{"call", "-i", "lan0", "-4"}, c.args...)...)
			if code != c.code {
				t.Errorf("exit %d, want %d:\n%s", code, c.code, out)
			}
			for _, w := range c.out {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("describe miniupnpd", func(t *testing.T) {
		code, out := upnpIn(t, cp, "describe", "-i", "lan0", "upnplab IGD h4")
		if code != ExitOK || !strings.Contains(out, "AddPortMapping(NewRemoteHost string, NewExternalPort ui2") ||
			!strings.Contains(out, "PortMappingProtocol string {TCP, UDP}") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
}

//go:build linux

package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

// waitOut waits until a process has printed a line holding every one of
// want, and returns that line.
func waitOut(t *testing.T, p *netlab.Proc, d time.Duration, want ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for line := range p.Follow(ctx) {
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			return line
		}
	}
	t.Fatalf("%s printed no line with %q within %v:\n%s", p, want, d, strings.Join(p.Lines(), "\n"))
	return ""
}

// stopWatch ends a "upnp watch" as Ctrl-C would and checks that it exits
// cleanly and soon.
func stopWatch(t *testing.T, p *netlab.Proc) {
	t.Helper()
	start := time.Now()
	p.Stop()
	if code := p.ExitCode(); code != ExitOK {
		t.Errorf("%s: exit %d after SIGTERM:\n%s", p, code, strings.Join(p.Lines(), "\n"))
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("%s took %v to end", p, d)
	}
}

// TestWatchInterop: "upnp watch" on real devices shows the initial event and
// the events that "upnp call" causes (gmediarender's SetVolume, miniupnpd's
// AddPortMapping), waits quietly on minidlna (which never sends an event)
// and ends cleanly on SIGTERM; gupnp-event-dumper gets our light's events.
func TestWatchInterop(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 5})
	light := lan.Host(1).Start(t, "upnp", "serve", "light", "-i", "lan0", "--port", "49200", "--uuid", lightUUID, "--name", "Lab Light")
	lan.StartPeer(t, "minidlna", lan.Host(2))
	lan.StartPeer(t, "gmediarender", lan.Host(3))
	lan.StartPeer(t, "miniupnpd", lan.Host(4))
	waitLine(t, light, "serving")
	time.Sleep(1500 * time.Millisecond) // the daemons bind their sockets
	cp := lan.Host(5)
	const (
		lightLoc = "http://10.77.0.11:49200/desc.xml"
		dlna     = "http://10.77.0.12:8200/rootDesc.xml"
		renderer = "http://10.77.0.13:49494/description.xml"
		igd      = "http://10.77.0.14:5000/rootDesc.xml"
	)

	t.Run("gmediarender SetVolume", func(t *testing.T) {
		w := cp.Start(t, "upnp", "watch", "-i", "lan0", renderer)
		waitOut(t, w, 10*time.Second, "RenderingControl:1 SEQ 0 LastChange=", `Volume val=\"`)
		waitOut(t, w, 5*time.Second, "AVTransport:1 SEQ 0 LastChange=", "TransportState")
		waitOut(t, w, 5*time.Second, "ConnectionManager:1 SEQ 0 LastChange=", "SinkProtocolInfo val=")
		if code, out := upnpIn(t, cp, "call", "-i", "lan0", renderer, "RenderingControl", "SetVolume",
			"InstanceID=0", "Channel=Master", "DesiredVolume=37"); code != ExitOK {
			t.Fatalf("SetVolume: exit %d: %s", code, out)
		}
		waitOut(t, w, 10*time.Second, "RenderingControl:1 SEQ 1 LastChange=", `Volume val=\"37\" channel=\"Master\"`)
		stopWatch(t, w)
	})

	t.Run("gmediarender --json", func(t *testing.T) {
		w := cp.Start(t, "upnp", "watch", "-i", "lan0", "--json", "upnplab renderer h3", "RenderingControl")
		waitOut(t, w, 10*time.Second, `{"time":"`, `"udn":"uuid:a1b2c3d4-0000-4000-8000-027700000003","service_id":"urn:upnp-org:serviceId:RenderingControl","seq":0,"variables":{"LastChange":"`)
		upnpIn(t, cp, "call", "-i", "lan0", renderer, "RenderingControl", "SetVolume", "InstanceID=0", "Channel=Master", "DesiredVolume=38")
		waitOut(t, w, 10*time.Second, `"seq":1,"variables":{"LastChange":"`, `Volume val=\"38\"`)
		stopWatch(t, w)
	})

	t.Run("miniupnpd AddPortMapping", func(t *testing.T) {
		w := cp.Start(t, "upnp", "watch", "-i", "lan0", igd, "WANIPConnection")
		waitOut(t, w, 10*time.Second, "WANIPConnection:2 SEQ 0 ", "PortMappingNumberOfEntries=0", "ExternalIPAddress=1.2.3.4")
		if code, out := upnpIn(t, cp, "call", "-i", "lan0", igd, "WANIPConnection", "AddPortMapping", "NewRemoteHost=", "NewExternalPort=8090",
			"NewProtocol=TCP", "NewInternalPort=8090", "NewInternalClient=10.77.0.15", "NewEnabled=1",
			"NewPortMappingDescription=watch test", "NewLeaseDuration=3600"); code != ExitOK {
			t.Fatalf("AddPortMapping: exit %d: %s", code, out)
		}
		waitOut(t, w, 10*time.Second, "WANIPConnection:2 SEQ 1 ", "PortMappingNumberOfEntries=1")
		upnpIn(t, cp, "call", "-i", "lan0", igd, "WANIPConnection", "DeletePortMapping", "NewRemoteHost=", "NewExternalPort=8090", "NewProtocol=TCP")
		waitOut(t, w, 10*time.Second, "WANIPConnection:2 SEQ 2 ", "PortMappingNumberOfEntries=0")
		stopWatch(t, w)
	})

	t.Run("miniupnpd every service", func(t *testing.T) {
		w := cp.Start(t, "upnp", "watch", "-i", "lan0", "--json", "upnplab IGD h4")
		waitOut(t, w, 10*time.Second, `"service_id":"urn:upnp-org:serviceId:WANIPConn1","seq":0`)
		waitOut(t, w, 10*time.Second, `"service_id":"urn:upnp-org:serviceId:WANCommonIFC1","seq":0`)
		stopWatch(t, w)
	})

	t.Run("minidlna sends nothing", func(t *testing.T) {
		w := cp.Start(t, "upnp", "watch", "-i", "lan0", dlna)
		time.Sleep(3 * time.Second)
		for _, line := range w.Lines() {
			if strings.Contains(line, " SEQ ") || strings.Contains(line, "upnp watch:") {
				t.Errorf("from minidlna: %s", line)
			}
		}
		stopWatch(t, w)
	})

	t.Run("our light", func(t *testing.T) {
		w := cp.Start(t, "upnp", "watch", "-i", "lan0", "Lab Light")
		waitOut(t, w, 10*time.Second, "SwitchPower:1 SEQ 0 Status=0")
		waitOut(t, w, 5*time.Second, "Dimming:1 SEQ 0 LoadLevelStatus=0 StepDelta=10")
		upnpIn(t, cp, "call", "-i", "lan0", lightLoc, "Dimming", "SetLoadLevelTarget", "newLoadlevelTarget=60")
		waitOut(t, w, 5*time.Second, "Dimming:1 SEQ 1 LoadLevelStatus=60")
		stopWatch(t, w)
	})

	t.Run("our light over IPv6 link-local", func(t *testing.T) {
		w := cp.Start(t, "upnp", "watch", "-i", "lan0", "-6", "Lab Light", "SwitchPower")
		waitOut(t, light, 10*time.Second, "subscribed", "serviceId:SwitchPower", "callback=<http://[fe80::77:ff:fe00:5]:")
		waitOut(t, w, 10*time.Second, "SwitchPower:1 SEQ 0 Status=0")
		upnpIn(t, cp, "call", "-i", "lan0", "-6", "Lab Light", "SwitchPower", "SetTarget", "newTargetValue=1")
		waitOut(t, w, 5*time.Second, "SwitchPower:1 SEQ 1 Status=1")
		upnpIn(t, cp, "call", "-i", "lan0", lightLoc, "SwitchPower", "SetTarget", "newTargetValue=0")
		waitOut(t, w, 5*time.Second, "SwitchPower:1 SEQ 2 Status=0")
		stopWatch(t, w)
	})

	t.Run("gupnp-event-dumper", func(t *testing.T) {
		dumper := cp.StartCommand(t, need(t, "gupnp-event-dumper"))
		waitOut(t, light, 15*time.Second, "subscribed", "serviceId:SwitchPower", "callback=<http://10.77.0.15:", "ServiceProxy")
		// GUPnP drops an event that arrives before it has read the SUBSCRIBE
		// response (our initial event follows the response at once), and
		// subscribes again when a later SEQ shows it missed one; so a change
		// shows up either as such or in the next initial event. Each change
		// below is a new chance; every one that shows must be right.
		seen := map[string]int{}
		levels := map[string]bool{"0": true, "60": true} // every level the light has had
		changed := false                                 // a level set here was seen
		for i := range 8 {
			on := []string{"1", "0"}[i%2]
			level := strconv.Itoa(20 + i)
			levels[level] = true
			from := len(dumper.Lines())
			upnpIn(t, lan.Host(2), "call", "-i", "lan0", lightLoc, "SwitchPower", "SetTarget", "newTargetValue="+on)
			upnpIn(t, lan.Host(2), "call", "-i", "lan0", lightLoc, "Dimming", "SetLoadLevelTarget", "newLoadlevelTarget="+level)
			time.Sleep(time.Second)
			for _, line := range dumper.Lines()[from:] {
				f := strings.Split(line, "|")
				if len(f) != 5 || f[1] != "uuid:"+lightUUID {
					continue
				}
				seen[f[3]]++
				switch f[3] {
				case "Status":
					if f[4] != "TRUE" && f[4] != "FALSE" {
						t.Errorf("bad Status: %s", line)
					}
				case "LoadLevelStatus":
					if !levels[f[4]] {
						t.Errorf("a level the light never had: %s", line)
					}
					changed = changed || strings.HasPrefix(f[4], "2")
				}
			}
			if seen["Status"] > 0 && changed {
				break
			}
		}
		if seen["Status"] == 0 || !changed {
			t.Errorf("gupnp-event-dumper printed no change of the light:\n%s", strings.Join(dumper.Lines(), "\n"))
		}
		t.Logf("events seen by gupnp-event-dumper: %v", seen)
	})
}

// TestCallStranger: SUBSCRIBEs from host A whose CALLBACK points at host C
// (CVE-2020-12695) get 412 from our light on host B, and C's listener sees
// no connection at all; a SUBSCRIBE from C itself, with C's own callback,
// is accepted and reaches the same listener, which proves it listens.
func TestCallStranger(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 3})
	need(t, "curl")
	light := lan.Host(2).Start(t, "upnp", "serve", "light", "-i", "lan0", "--port", "49200", "--uuid", lightUUID)
	victim := lan.Host(3).StartCommand(t, "/usr/bin/python3", "-u", "-c", `
import socket
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 8099))
s.listen(16)
print("listening", flush=True)
while True:
    c, a = s.accept()
    print("connection from", a[0], flush=True)
    c.settimeout(2)
    try:
        print("request", c.recv(200).split(b"\r\n")[0].decode(), flush=True)
    except Exception:
        pass
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    c.close()
`)
	waitLine(t, light, "serving")
	waitLine(t, victim, "listening")
	const event = "http://10.77.0.12:49200/dev/0/SwitchPower/event"
	subscribe := func(h *netlab.Host, callback string) string {
		return strings.TrimSpace(h.Exec(t, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "-X", "SUBSCRIBE",
			"-H", "CALLBACK: "+callback, "-H", "NT: upnp:event", "-H", "TIMEOUT: Second-60", event))
	}
	long := "http://10.77.0.13:8099/" + strings.Repeat("a", 250)
	var seven []string
	for i := range 7 {
		seven = append(seven, fmt.Sprintf("<http://10.77.0.11:8099/%d>", i))
	}
	attacker := lan.Host(1)
	for _, cb := range []string{
		"<http://10.77.0.13:8099/x>",                            // another host on the segment
		"<http://10.77.0.11:8099/a> <http://10.77.0.13:8099/b>", // ours, then another
		"<http://[fe80::77:ff:fe00:3]:8099/x>",                  // C by its link-local address
		"<http://[::ffff:10.77.0.13]:8099/x>",                   // C as a mapped address
		"<http://h3.lan:8099/x>",                                // a host name: never resolved
		"<http://0x0a4d000d:8099/x>",                            // C in hex
		"<" + long + ">",                                        // longer than 256 bytes
		strings.Join(seven, ""),                                 // more than 6 URLs
	} {
		if got := subscribe(attacker, cb); got != "412" {
			t.Errorf("CALLBACK %.60s: status %s, want 412", cb, got)
		}
	}
	time.Sleep(2 * time.Second)
	for _, line := range victim.Lines() {
		if strings.HasPrefix(line, "connection") {
			t.Errorf("the victim got a connection: %s", line)
		}
	}
	// The control: C subscribes for itself, and the light calls C back.
	if got := subscribe(lan.Host(3), "<http://10.77.0.13:8099/mine>"); got != "200" {
		t.Fatalf("C's own subscription: %s", got)
	}
	waitOut(t, victim, 5*time.Second, "connection from", "10.77.0.12")
	waitOut(t, victim, 5*time.Second, "request NOTIFY /mine HTTP/1.1")
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
	"github.com/seedb72249f9/upnp/ssdp"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, ExitUsage, "usage: upnp"},
		{[]string{"help"}, ExitOK, "Commands:"},
		{[]string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`},
		{[]string{"search", "--bogus"}, ExitUsage, "unknown flag"},
		{[]string{"search", "-4", "-6"}, ExitUsage, "exclude each other"},
		{[]string{"search", "--mx", "9"}, ExitUsage, "outside 1-5"},
		{[]string{"search", "a", "b"}, ExitUsage, "at most one"},
		{[]string{"search", "--to", "not-an-ip"}, ExitUsage, "not an IP"},
		{[]string{"listen", "x"}, ExitUsage, "no arguments"},
		{[]string{"search", "-i", "no-such-if0", "--timeout", "1s"}, ExitError, "no usable interface"},
		// -i repeats: the second name reaches the library too.
		{[]string{"search", "-i", "lo", "--interface", "no-such-if1", "--timeout", "1s"}, ExitError, `"no-such-if1"`},
		{[]string{"listen", "-i", "lo", "-i", "no-such-if2", "--timeout", "1s"}, ExitError, `"no-such-if2"`},
		{[]string{"listen", "-4", "-6"}, ExitUsage, "exclude each other"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if !strings.Contains(out+errOut, tt.want) {
				t.Errorf("output lacks %q:\n%s%s", tt.want, out, errOut)
			}
		})
	}
}

func serve(t *testing.T) *ssdp.Server {
	t.Helper()
	s := &ssdp.Server{
		Devices: []ssdp.Device{{
			UDN:          "uuid:0f0f0f0f-1111-2222-3333-444444444444",
			Type:         "urn:schemas-upnp-org:device:BinaryLight:1",
			ServiceTypes: []string{"urn:schemas-upnp-org:service:SwitchPower:1"},
		}},
		Location:   func(a netip.Addr) string { return "http://" + a.String() + ":8080/d.xml" },
		Interfaces: []string{"lo"},
		Network:    "udp4",
		BootID:     5,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func TestSearchCommand(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	serve(t)
	time.Sleep(200 * time.Millisecond)
	code, out, errOut := run(t, "search", "-i", "lo", "-4", "--mx", "1", "--json", "upnp:rootdevice")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1:\n%s", len(lines), out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{
		"st": "upnp:rootdevice", "usn": "uuid:0f0f0f0f-1111-2222-3333-444444444444::upnp:rootdevice",
		"location": "http://127.0.0.1:8080/d.xml", "max_age": 1800.0, "boot_id": 5.0, "config_id": 0.0, "interface": "lo",
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if !strings.HasPrefix(got["from"].(string), "127.0.0.1:") {
		t.Errorf("from = %v", got["from"])
	}

	code, out, _ = run(t, "search", "-i", "lo", "-4", "--mx", "1", "urn:schemas-upnp-org:device:BinaryLight:1")
	if code != ExitOK || !strings.Contains(out, "LOCATION: http://127.0.0.1:8080/d.xml") {
		t.Errorf("text search: exit %d\n%s", code, out)
	}
	code, _, errOut = run(t, "search", "-i", "lo", "-4", "--mx", "1", "urn:schemas-upnp-org:device:Nothing:1")
	if code != ExitNotFound || !strings.Contains(errOut, "no response") {
		t.Errorf("search for nothing: exit %d, %q", code, errOut)
	}
	code, out, _ = run(t, "search", "--to", "127.0.0.1", "--json", "ssdp:all")
	if code != ExitOK || strings.Count(out, "\n") != 4 {
		t.Errorf("unicast ssdp:all: exit %d, want 4 lines:\n%s", code, out)
	}
}

// TestListenNothingHeard: upnp listen that hears no NOTIFY before --timeout
// exits 4, as search does without an answer.
func TestListenNothingHeard(t *testing.T) {
	if !netlab.Private(t) { // it needs silence: a namespace of its own
		return
	}
	code, out, errOut := run(t, "listen", "-i", "lo", "-4", "--timeout", "300ms")
	if code != ExitNotFound || out != "" || !strings.Contains(errOut, "no NOTIFY heard") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and \"no NOTIFY heard\"", code, out, errOut, ExitNotFound)
	}
}

// TestListenCommand: upnp listen prints every NOTIFY as it arrives, with the
// JSON keys of the README, a byebye from a device it never saw announced
// included; --timeout ends it with exit 0.
func TestListenCommand(t *testing.T) {
	if !netlab.Isolate(t) {
		return
	}
	var o, e bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(context.Background(), []string{"listen", "-i", "lo", "-4", "--json", "--timeout", "1.5s"}, &o, &e)
	}()
	time.Sleep(200 * time.Millisecond)
	serve(t)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	byebye := "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:byebye\r\n" +
		"USN: uuid:feed0000-0000-4000-8000-000000000001::upnp:rootdevice\r\n\r\n"
	// Every 100 ms until listen ends, in case it joined the group late.
	var code int
	for resend := time.NewTicker(100 * time.Millisecond); ; <-resend.C {
		if _, err := pc.WriteTo([]byte(byebye), &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900}); err != nil {
			t.Fatal(err)
		}
		select {
		case code = <-done:
		default:
			continue
		}
		resend.Stop()
		break
	}
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, e.String())
	}
	alive := map[string]bool{}
	sawByebye := false
	for _, line := range strings.Split(strings.TrimSpace(o.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		switch m["nts"] {
		case "ssdp:alive":
			alive[m["usn"].(string)] = true
			for _, k := range []string{"nt", "usn", "location", "server", "max_age", "boot_id", "from", "interface"} {
				if _, ok := m[k]; !ok {
					t.Errorf("alive line without %q: %s", k, line)
				}
			}
			if m["interface"] != "lo" || m["boot_id"] != 5.0 {
				t.Errorf("alive line %s", line)
			}
		case "ssdp:byebye":
			sawByebye = m["usn"] == "uuid:feed0000-0000-4000-8000-000000000001::upnp:rootdevice"
		default:
			t.Errorf("line with nts %v: %s", m["nts"], line)
		}
	}
	if len(alive) != 4 {
		t.Errorf("saw %d distinct USNs alive, want the set of 4:\n%s", len(alive), o.String())
	}
	if !sawByebye {
		t.Errorf("the byebye of a device never seen announced is missing:\n%s", o.String())
	}
}

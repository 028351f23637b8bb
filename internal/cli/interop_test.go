//go:build linux

package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

const lightUUID = "0f0f0f0f-1111-4222-8333-444444444444"

func need(t *testing.T, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv(netlab.RequireEnv) == "1" {
			t.Fatalf("%s is not installed (../shared/lab/install.sh installs it)", bin)
		}
		t.Skipf("%s is not installed", bin)
	}
	return p
}

func waitLine(t *testing.T, p *netlab.Proc, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := p.WaitForLine(ctx, s); err != nil {
		t.Fatal(err)
	}
}

func runToEnd(t *testing.T, p *netlab.Proc) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := p.Wait(ctx)
	out := strings.Join(p.Lines(), "\n")
	if err != nil {
		t.Logf("%s: %v", p, err)
	}
	return out
}

// TestServeLightInterop: goupnp's control point finds "upnp serve light" on
// another host and switches it on and off through its SOAP client;
// gssdp-discover sees it; the light logs each action.
func TestServeLightInterop(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 3})
	gssdp := need(t, "gssdp-discover")
	light := lan.Host(1).Start(t, "upnp", "serve", "light", "-i", "lan0", "--port", "49200", "--uuid", lightUUID, "--name", "Lab Light")
	waitLine(t, light, "serving")

	call := lan.Host(2).Start(t, "goupnp-call", "urn:schemas-upnp-org:device:BinaryLight:1", "urn:schemas-upnp-org:service:SwitchPower:1",
		"SetTarget:newTargetValue=1", "GetStatus", "SetTarget:newTargetValue=0", "GetStatus")
	out := runToEnd(t, call)
	for _, want := range []string{
		"found http://10.77.0.11:49200/desc.xml Lab Light",
		"GetStatus ok map[ResultStatus:1]",
		"GetStatus ok map[ResultStatus:0]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("goupnp output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "error") {
		t.Errorf("goupnp reported an error:\n%s", out)
	}
	disc := lan.Host(3).StartCommand(t, gssdp, "-i", "lan0", "-n", "3", "-t", "urn:schemas-upnp-org:device:BinaryLight:1")
	if out := runToEnd(t, disc); !strings.Contains(out, "USN:      uuid:"+lightUUID+"::urn:schemas-upnp-org:device:BinaryLight:1\n  Location: http://10.77.0.11:49200/desc.xml") {
		t.Errorf("gssdp-discover did not see the light:\n%s", out)
	}
	logged := strings.Join(light.Lines(), "\n")
	if strings.Count(logged, "action=SetTarget from=10.77.0.12") != 2 {
		t.Errorf("the light did not log both SetTarget calls:\n%s", logged)
	}
}

// TestServeMockInterop: "upnp serve mock" of real descriptions is discovered
// and called by goupnp (minidlna, gmediarender clones) and by miniupnpc's
// upnpc (miniupnpd clone).
func TestServeMockInterop(t *testing.T) {
	samples, _ := filepath.Abs("../../../shared/lab/samples/descriptions")
	if _, err := os.Stat(samples); err != nil {
		if os.Getenv(netlab.RequireEnv) == "1" {
			t.Fatal("no lab samples at " + samples)
		}
		t.Skip("no lab samples at " + samples)
	}
	upnpc := need(t, "upnpc")
	lan := netlab.New(t, netlab.Config{Hosts: 4})
	dms := lan.Host(1).Start(t, "upnp", "serve", "mock", filepath.Join(samples, "minidlna-MediaServer1/description.xml"), "-i", "lan0", "--port", "8200")
	dmr := lan.Host(2).Start(t, "upnp", "serve", "mock", filepath.Join(samples, "gmediarender-MediaRenderer1/description.xml"), "-i", "lan0", "--port", "49494")
	igd := lan.Host(3).Start(t, "upnp", "serve", "mock", filepath.Join(samples, "miniupnpd-InternetGatewayDevice2/description.xml"), "-i", "lan0", "--port", "5000",
		"--set", "ConnectionStatus=Connected", "--set", "ExternalIPAddress=1.2.3.4")
	for _, p := range []*netlab.Proc{dms, dmr, igd} {
		waitLine(t, p, "serving")
	}
	t.Run("goupnp on the minidlna clone", func(t *testing.T) {
		out := runToEnd(t, lan.Host(4).Start(t, "goupnp-call", "urn:schemas-upnp-org:device:MediaServer:1",
			"urn:schemas-upnp-org:service:ContentDirectory:1", "GetSystemUpdateID"))
		if !strings.Contains(out, "found http://10.77.0.11:8200/desc.xml upnplab minidlna h2") || !strings.Contains(out, "GetSystemUpdateID ok map[Id:0]") {
			t.Errorf("goupnp:\n%s", out)
		}
	})
	t.Run("goupnp on the gmediarender clone", func(t *testing.T) {
		out := runToEnd(t, lan.Host(4).Start(t, "goupnp-call", "urn:schemas-upnp-org:device:MediaRenderer:1",
			"urn:schemas-upnp-org:service:RenderingControl:1", "GetVolume:InstanceID=0,Channel=Master"))
		if !strings.Contains(out, "found http://10.77.0.12:49494/desc.xml") || !strings.Contains(out, "GetVolume ok map[CurrentVolume:0]") {
			t.Errorf("goupnp:\n%s", out)
		}
	})
	t.Run("upnpc on the miniupnpd clone", func(t *testing.T) {
		out := runToEnd(t, lan.Host(4).StartCommand(t, upnpc, "-m", "lan0", "-s"))
		if !strings.Contains(out, "desc: http://10.77.0.13:5000/desc.xml") || !strings.Contains(out, "Found valid IGD") ||
			!strings.Contains(out, "ExternalIPAddress = 1.2.3.4") {
			t.Errorf("upnpc -s:\n%s", out)
		}
		if !strings.Contains(strings.Join(igd.Lines(), "\n"), "action=GetExternalIPAddress") {
			t.Errorf("the mock IGD logged no GetExternalIPAddress:\n%s", strings.Join(igd.Lines(), "\n"))
		}
	})
}

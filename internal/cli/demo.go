package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
	"github.com/seedb72249f9/upnp/ssdp"
)

// runDemo runs the example light on 127.0.0.1 and drives it as a control
// point would: find, describe, switch on and off. It needs no LAN and no
// privileges, and sends nothing beyond loopback: the light's HTTP server
// and its SSDP responder listen on 127.0.0.1 only, and the search is a
// unicast M-SEARCH to that responder. (A multicast ssdp.Server on lo would
// need lo to carry multicast, which it does not by default.)
func runDemo(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" {
			fmt.Fprintln(e.stdout, "usage: upnp demo\n\nRuns the example light on 127.0.0.1, finds it, describes it and switches it on and off.")
			return nil
		}
		return usageErr("demo takes no arguments")
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	start := time.Now()
	step := func(format string, a ...any) {
		fmt.Fprintf(e.stdout, "[%6.1f ms] %s\n", float64(time.Since(start).Microseconds())/1000, fmt.Sprintf(format, a...))
	}

	// 1. The device: the example light, HTTP on 127.0.0.1.
	light := binarylight.New("upnp-go demo light", "")
	dev := &device.Server{Device: light}
	configID, err := dev.ConfigID()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	hs := &http.Server{Handler: dev, ReadHeaderTimeout: device.ReadHeaderTimeout, MaxHeaderBytes: device.MaxHeaderBytes}
	go hs.Serve(ln)
	defer hs.Close()
	loc := "http://" + ln.Addr().String() + "/desc.xml"
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer pc.Close()
	go answerSearches(pc, light, loc, configID)
	ssdpAddr := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	step("device: %q (%s) serves %s and answers M-SEARCH at %s", light.FriendlyName, light.UDN, loc, ssdpAddr)

	// 2. Discovery: a unicast M-SEARCH for the light's device type.
	c := &controlpoint.Client{Interfaces: []string{"lo"}, Network: "udp4"}
	req := ssdp.SearchRequest{Target: light.Type, To: ssdpAddr, Sends: 1}
	step("control point: M-SEARCH ST %s to %s", req.Target, ssdpAddr)
	var d *controlpoint.Device
	for x, err := range c.Discover(ctx, req) {
		if err != nil {
			return fmt.Errorf("demo: discovery: %w", err)
		}
		d = x
		break
	}
	if d == nil {
		return errors.New("demo: the light did not answer")
	}
	step("found %q at %s (USN %s), described in %.1f ms", d.Root.Device.FriendlyName, d.Location, d.USN,
		float64(d.Described.Sub(d.Found).Microseconds())/1000)

	// 3. Description.
	for _, s := range d.Services {
		var names []string
		if s.SCPD != nil {
			for _, a := range s.SCPD.Actions {
				names = append(names, a.Name)
			}
		}
		step("service %s: actions %s", shortType(s.Type), strings.Join(names, ", "))
	}

	// 4. Control.
	power := d.Service("SwitchPower")
	if power == nil {
		return errors.New("demo: the light has no SwitchPower service")
	}
	for _, on := range []bool{true, false} {
		if _, err := c.Invoke(ctx, power, "SetTarget", map[string]any{"newTargetValue": on}); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		out, err := c.Invoke(ctx, power, "GetStatus", nil)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		state := map[bool]string{true: "ON", false: "OFF"}
		step("SetTarget(newTargetValue=%v), then GetStatus: ResultStatus=%v: the light is %s", on, out["ResultStatus"], state[out["ResultStatus"] == true])
	}
	step("done: found, described and switched on and off; nothing left 127.0.0.1")
	return nil
}

// answerSearches answers the unicast M-SEARCHes that reach pc from
// loopback with the light's advertisements (UDA section 1.3.3), until pc
// is closed.
func answerSearches(pc net.PacketConn, d *device.Device, loc string, configID int32) {
	type adv struct{ st, usn string }
	all := []adv{{ssdp.RootDevice, d.UDN + "::" + ssdp.RootDevice}, {d.UDN, d.UDN}, {d.Type, d.UDN + "::" + d.Type}}
	for _, s := range d.Services {
		all = append(all, adv{s.Type, d.UDN + "::" + s.Type})
	}
	buf := make([]byte, ssdp.MaxDatagram+1)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok || n > ssdp.MaxDatagram || !ua.AddrPort().Addr().Unmap().IsLoopback() {
			continue
		}
		m, err := ssdp.Parse(buf[:n])
		if err != nil || m.Kind != ssdp.KindSearch {
			continue
		}
		for _, a := range all {
			if m.ST != ssdp.All && m.ST != a.st {
				continue
			}
			r := &ssdp.Message{Kind: ssdp.KindResponse, MaxAge: 1800, Date: time.Now().UTC().Format(http.TimeFormat), EXT: true,
				Location: loc, Server: runtime.GOOS + "/1.0 UPnP/2.0 upnp-go/0.1", ST: a.st, USN: a.usn,
				BootID: 1, ConfigID: configID, NextBootID: -1}
			if b, err := r.Append(nil); err == nil {
				pc.WriteTo(b, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port())))
			}
		}
	}
}

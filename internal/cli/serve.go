package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/autoip"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
	"github.com/seedb72249f9/upnp/internal/xmlsafe"
	"github.com/seedb72249f9/upnp/ssdp"
	"github.com/spf13/pflag"
)

func runServe(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" {
		return usageErr("serve needs a device: light or mock")
	}
	switch args[0] {
	case "light":
		return serveLight(ctx, e, args[1:])
	case "mock":
		return serveMock(ctx, e, args[1:])
	case "-h", "--help":
		fmt.Fprintln(e.stdout, "usage: upnp serve light [--name NAME] [--uuid UUID] [-i IFACE]... [--port N]")
		fmt.Fprintln(e.stdout, "       upnp serve mock LOCATION|FILE [--uuid UUID] [-i IFACE]... [--port N]")
		return nil
	}
	return usageErr("unknown device %q: want light or mock", args[0])
}

type serveFlags struct {
	netFlags
	port     int
	uuid     string
	bootFile string

	addrIface   string // --addr: bring up and follow an address on this interface
	dhcpTimeout time.Duration
	dhcpRetry   time.Duration
	poll        time.Duration
}

func (f *serveFlags) add(fs interface {
	IntVar(*int, string, int, string)
	StringVar(*string, string, string, string)
}) {
	fs.IntVar(&f.port, "port", 0, "HTTP port (default: any free one)")
	fs.StringVar(&f.uuid, "uuid", "", "the device's UUID, stable across restarts (default: random)")
	fs.StringVar(&f.bootFile, "bootid-file", "", "file that keeps BOOTID.UPNP.ORG growing across restarts")
}

// addAddr adds the addressing flags of serve light.
func (f *serveFlags) addAddr(fs *pflag.FlagSet) {
	fs.StringVar(&f.addrIface, "addr", "", "bring up an IPv4 address on this interface first (DHCP, else link-local) and follow it")
	fs.DurationVar(&f.dhcpTimeout, "dhcp-timeout", 0, "with --addr: how long one DHCP attempt waits (default 10s)")
	fs.DurationVar(&f.dhcpRetry, "dhcp-retry", 0, "with --addr: how often DHCP is tried again while on link-local (default 5m)")
	fs.DurationVar(&f.poll, "poll", 0, "how often interfaces and addresses are re-read (default 5s)")
}

func serveLight(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "serve light", "")
	var f serveFlags
	f.netFlags.add(fs)
	f.add(fs)
	f.addAddr(fs)
	name := fs.String("name", "upnp-go light", "friendly name")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("serve light takes no arguments")
	}
	if f.addrIface == "" && (f.dhcpTimeout != 0 || f.dhcpRetry != 0) {
		return usageErr("--dhcp-timeout and --dhcp-retry go with --addr")
	}
	udn, err := udnFlag(f.uuid)
	if err != nil {
		return err
	}
	return serveDevice(ctx, e, &f, binarylight.New(*name, udn))
}

func udnFlag(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := upnp.TypeUUID.Decode(s)
	if err != nil {
		return "", usageErr("--uuid %q is not a UUID", s)
	}
	return "uuid:" + u.(string), nil
}

// serveDevice runs d until ctx is done, logging each action on stdout. With
// --addr it first brings up an address on that interface with the autoip
// agent, prints the agent's changes, and the device follows the address.
func serveDevice(ctx context.Context, e *env, f *serveFlags, d *device.Device) error {
	network, err := f.network()
	if err != nil {
		return err
	}
	out := &syncWriter{w: e.stdout}
	e = &env{stdout: out, stderr: e.stderr}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if f.addrIface != "" {
		agentErr, err := bringUpAddr(ctx, e, f)
		if err != nil {
			return err
		}
		defer func() { <-agentErr }()
		if len(f.ifaces) == 0 {
			f.ifaces = []string{f.addrIface}
		}
	}
	s := &device.Server{Device: d, Interfaces: f.ifaces, Network: strings.TrimPrefix(network, "udp"),
		Port: f.port, BootIDFile: f.bootFile, Logger: log}
	if f.poll != 0 {
		s.SSDP = &ssdp.Server{InterfacePoll: f.poll}
	}
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe(ctx) }()
	// Report where the device is once it listens.
	for i := 0; i < 50 && len(s.Addrs()) == 0; i++ {
		select {
		case err := <-errc:
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, a := range s.Addrs() {
		fmt.Fprintf(e.stdout, "serving %q (%s) at http://%s/desc.xml\n", d.FriendlyName, d.UDN, a)
	}
	return <-errc
}

// bringUpAddr starts the addressing agent on f.addrIface, prints its events
// as they come, and returns once it holds an address; the agent runs until
// ctx is done, and its result arrives on the returned channel.
func bringUpAddr(ctx context.Context, e *env, f *serveFlags) (<-chan error, error) {
	a := &autoip.Agent{Interface: f.addrIface, Timing: autoip.Timing{DHCPTimeout: f.dhcpTimeout, DHCPRetry: f.dhcpRetry}}
	events, stop := a.Subscribe(256)
	errc := make(chan error, 1)
	go func() { errc <- a.Run(ctx); stop() }()
	up := make(chan struct{})
	go func() {
		once := false
		for ev := range events {
			printAddrEvent(e, ev, false)
			if ev.Current.IsValid() && !once {
				once = true
				close(up)
			}
		}
	}()
	select {
	case <-up:
		return errc, nil
	case err := <-errc:
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("addressing %s: %w", f.addrIface, err)
	}
}

// syncWriter serialises writes from the device's log and the agent's events.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func serveMock(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "serve mock", "LOCATION|FILE")
	var f serveFlags
	f.netFlags.add(fs)
	f.add(fs)
	name := fs.String("name", "", "friendly name (default: the original's)")
	sets := fs.StringArray("set", nil, "VAR=VALUE: start state variable VAR (in every service that has it) at VALUE (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("serve mock needs one LOCATION URL or description file")
	}
	src := fs.Arg(0)
	fetch := readFile
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		fetch = httpGet(ctx)
	}
	b, err := fetch(src)
	if err != nil {
		return err
	}
	root, err := upnp.ParseDescription(b)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	d, err := device.Simulate(root, func(svc *upnp.Service) (*upnp.SCPD, error) {
		b, err := fetchSCPD(fetch, src, root, svc)
		if err != nil {
			return nil, err
		}
		return upnp.ParseSCPD(b)
	})
	if err != nil {
		return err
	}
	if *name != "" {
		d.FriendlyName = *name
	}
	for _, kv := range *sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return usageErr("--set %q is not VAR=VALUE", kv)
		}
		found := false
		for dev := range d.All() {
			for _, svc := range dev.Services {
				if svc.SCPD.StateVariable(k) == nil {
					continue
				}
				found = true
				if err := svc.Set(k, v); err != nil {
					return usageErr("--set %s: %v", kv, err)
				}
			}
		}
		if !found {
			return usageErr("--set: no service of the device has a state variable %q", k)
		}
	}
	if f.uuid != "" {
		udn, err := udnFlag(f.uuid)
		if err != nil {
			return err
		}
		d.UDN = udn
	}
	return serveDevice(ctx, e, &f, d)
}

// fetchSCPD gets a service's SCPD: its SCPDURL resolved against the
// description's location, or, for a saved description, the lab's file name
// convention TYPE-VERSION.scpd.xml beside it.
func fetchSCPD(fetch func(string) ([]byte, error), src string, root *upnp.Root, svc *upnp.Service) ([]byte, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		base, err := url.Parse(src)
		if err != nil {
			return nil, err
		}
		u, err := root.ResolveURL(base, svc.SCPDURL)
		if err != nil {
			return nil, err
		}
		return fetch(u.String())
	}
	dir := filepath.Dir(src)
	cands := []string{filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(svc.SCPDURL, "/")))}
	if parts := strings.Split(svc.ServiceType, ":"); len(parts) == 5 {
		cands = append(cands, filepath.Join(dir, parts[3]+"-"+parts[4]+".scpd.xml"))
	}
	var errs []error
	for _, c := range cands {
		b, err := fetch(c)
		if err == nil {
			return b, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func readFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return xmlsafe.ReadAll(f, xmlsafe.Limits{})
}

func httpGet(ctx context.Context) func(string) ([]byte, error) {
	client := &http.Client{Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return func(u string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		return xmlsafe.ReadAll(resp.Body, xmlsafe.Limits{})
	}
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/ssdp"
)

// deviceJSON is the --json form of a device: a root device with its
// location and interface, or an embedded one without.
type deviceJSON struct {
	UDN          string        `json:"udn"`
	FriendlyName string        `json:"friendly_name"`
	DeviceType   string        `json:"device_type"`
	Manufacturer string        `json:"manufacturer"`
	ModelName    string        `json:"model_name"`
	ModelNumber  string        `json:"model_number"`
	Location     string        `json:"location,omitempty"`
	Interface    string        `json:"interface,omitempty"`
	Address      string        `json:"address,omitempty"`
	Services     []serviceJSON `json:"services"`
	Devices      []deviceJSON  `json:"devices"`
}

type serviceJSON struct {
	ServiceType    string       `json:"service_type"`
	ServiceID      string       `json:"service_id"`
	SCPDURL        string       `json:"scpd_url"`
	ControlURL     string       `json:"control_url"`
	EventSubURL    string       `json:"event_sub_url"`
	Error          string       `json:"error,omitempty"`
	Actions        []actionJSON `json:"actions,omitempty"`
	StateVariables []varJSON    `json:"state_variables,omitempty"`
}

type argJSON struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type actionJSON struct {
	Name string    `json:"name"`
	In   []argJSON `json:"in"`
	Out  []argJSON `json:"out"`
}

type varJSON struct {
	Name          string             `json:"name"`
	Type          string             `json:"type"`
	Default       string             `json:"default,omitempty"`
	AllowedValues []string           `json:"allowed_values,omitempty"`
	Range         *upnp.AllowedRange `json:"range,omitempty"`
	SendEvents    bool               `json:"send_events"`
}

// toJSON renders a described device; full adds each service's actions
// and state variables.
func toJSON(d *controlpoint.Device, full bool) deviceJSON {
	byDev := map[*upnp.Device][]*controlpoint.Service{}
	for _, s := range d.Services {
		byDev[s.Device] = append(byDev[s.Device], s)
	}
	var conv func(x *upnp.Device) deviceJSON
	conv = func(x *upnp.Device) deviceJSON {
		j := deviceJSON{UDN: x.UDN, FriendlyName: x.FriendlyName, DeviceType: x.DeviceType, Manufacturer: x.Manufacturer,
			ModelName: x.ModelName, ModelNumber: x.ModelNumber, Services: []serviceJSON{}, Devices: []deviceJSON{}}
		for _, s := range byDev[x] {
			sj := serviceJSON{ServiceType: s.Type, ServiceID: s.ID, SCPDURL: s.SCPDURL, ControlURL: s.ControlURL, EventSubURL: s.EventSubURL}
			if s.Err != nil {
				sj.Error = s.Err.Error()
			}
			if full && s.SCPD != nil {
				sj.Actions, sj.StateVariables = []actionJSON{}, []varJSON{}
				for _, a := range s.SCPD.Actions {
					aj := actionJSON{Name: a.Name, In: []argJSON{}, Out: []argJSON{}}
					for _, g := range a.Arguments {
						gj := argJSON{Name: g.Name, Type: argType(s.SCPD, &g)}
						if g.Direction == upnp.DirectionOut {
							aj.Out = append(aj.Out, gj)
						} else {
							aj.In = append(aj.In, gj)
						}
					}
					sj.Actions = append(sj.Actions, aj)
				}
				for _, v := range s.SCPD.StateVariables {
					sj.StateVariables = append(sj.StateVariables, varJSON{Name: v.Name, Type: string(v.DataType), Default: v.Default,
						AllowedValues: v.AllowedValues, Range: v.Range, SendEvents: v.SendEvents})
				}
			}
			j.Services = append(j.Services, sj)
		}
		for i := range x.Devices {
			j.Devices = append(j.Devices, conv(&x.Devices[i]))
		}
		return j
	}
	j := conv(&d.Root.Device)
	j.Location, j.Interface = d.Location, d.Interface
	if d.Addr.IsValid() {
		j.Address = d.Addr.String()
	}
	return j
}

func argType(scpd *upnp.SCPD, g *upnp.Argument) string {
	if v := scpd.StateVariable(g.RelatedStateVariable); v != nil {
		return string(v.DataType)
	}
	return "?"
}

// shortType turns urn:schemas-upnp-org:device:MediaServer:1 into
// MediaServer:1.
func shortType(t string) string {
	if p := strings.Split(t, ":"); len(p) == 5 {
		return p[3] + ":" + p[4]
	}
	return t
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// searchMX picks the MX that lets answers arrive within timeout with time
// left to describe the devices: the search is sent again a second later
// (ssdp.SearchRequest.Interval) and answers come up to MX seconds after
// each send, so the window closes MX+2 s after the start.
func searchMX(timeout time.Duration) int {
	return max(1, min(5, int((timeout-2100*time.Millisecond)/time.Second)))
}

func runScan(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "scan", "")
	var nf netFlags
	nf.add(fs)
	timeout := fs.Duration("timeout", 4*time.Second, "how long to wait for answers and descriptions")
	target := fs.String("target", ssdp.RootDevice, "search target (ST): upnp:rootdevice, ssdp:all, a device or service type")
	asJSON := fs.Bool("json", false, "print one JSON object per root device")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("scan takes no arguments")
	}
	network, err := nf.network()
	if err != nil {
		return err
	}
	if *timeout < time.Second {
		return usageErr("--timeout %v: at least 1s", *timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c := &controlpoint.Client{Interfaces: nf.ifaces, Network: network}
	type item struct {
		d   *controlpoint.Device
		err error
	}
	items := make(chan item)
	go func() {
		defer close(items)
		for d, err := range c.Discover(ctx, ssdp.SearchRequest{Target: *target, MX: searchMX(*timeout)}) {
			select {
			case items <- item{d, err}:
			case <-ctx.Done():
				return
			}
		}
	}()
	tty := !*asJSON && isTerminal(e.stdout)
	const row = "%-28s %-24s %-32s %-21s %s\n"
	if !*asJSON {
		fmt.Fprintf(e.stdout, row, "NAME", "TYPE", "MANUFACTURER / MODEL", "ADDRESS", "UDN")
	}
	start := time.Now()
	var tick <-chan time.Time
	if tty {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	spinner := `|/-\`
	n, frame := 0, 0
	progress := func() {
		if tty {
			fmt.Fprintf(e.stdout, "\r\033[K%c scanning: %d found, %.1fs", spinner[frame%len(spinner)], n, time.Since(start).Seconds())
		}
	}
	clear := func() {
		if tty {
			fmt.Fprint(e.stdout, "\r\033[K")
		}
	}
	var searchErr error
	for {
		select {
		case it, ok := <-items:
			if !ok {
				clear()
				if searchErr != nil && n == 0 {
					return searchErr
				}
				if n == 0 {
					return notFound("no device answered within %v", *timeout)
				}
				if !*asJSON {
					fmt.Fprintf(e.stderr, "%d devices in %.1fs\n", n, time.Since(start).Seconds())
				}
				return nil
			}
			if it.err != nil {
				var de *controlpoint.DescribeError
				if errors.As(it.err, &de) {
					clear()
					fmt.Fprintf(e.stderr, "upnp scan: %v\n", it.err)
					progress()
				} else {
					searchErr = it.err
				}
				continue
			}
			n++
			d := it.d
			if *asJSON {
				if err := writeJSON(e.stdout, toJSON(d, false)); err != nil {
					return err
				}
				continue
			}
			clear()
			rd := &d.Root.Device
			addr := d.Location
			if u, err := url.Parse(d.Location); err == nil {
				addr = u.Host
			}
			fmt.Fprintf(e.stdout, row, clip(rd.FriendlyName, 28), clip(shortType(rd.DeviceType), 24),
				clip(strings.TrimSpace(rd.Manufacturer+" / "+rd.ModelName), 32), addr, oneLine(rd.UDN))
			progress()
		case <-tick:
			frame++
			progress()
		}
	}
}

// clip makes s printable on one line and at most n runes long.
func clip(s string, n int) string {
	r := []rune(oneLine(s))
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return string(r)
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/ssdp"
	"github.com/spf13/pflag"
)

// targetFlags are the flags of the commands that take a TARGET.
type targetFlags struct {
	netFlags
	timeout time.Duration
	to      string
}

func (f *targetFlags) add(fs *pflag.FlagSet) {
	f.netFlags.add(fs)
	fs.DurationVar(&f.timeout, "timeout", 3*time.Second, "how long to search for a TARGET given by UDN or name")
	fs.StringVar(&f.to, "to", "", "search unicast at this HOST[:PORT] instead of multicast")
}

// findDevice describes the device target designates: a LOCATION URL, a
// UDN (uuid:...) or a friendly name (or a device type), searched for on
// the chosen interfaces.
func findDevice(ctx context.Context, f *targetFlags, target string) (*controlpoint.Device, *controlpoint.Client, error) {
	network, err := f.network()
	if err != nil {
		return nil, nil, err
	}
	c := &controlpoint.Client{Interfaces: f.ifaces, Network: network}
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		d, err := c.Describe(ctx, target)
		if err != nil {
			return nil, nil, err
		}
		return d, c, nil
	}
	req := ssdp.SearchRequest{Target: ssdp.RootDevice, MX: searchMX(f.timeout)}
	if t := ssdp.ParseTarget(target); t.Kind == ssdp.TargetUUID {
		req.Target = t.String()
	}
	if f.to != "" {
		ap, err := parseHostPort(f.to)
		if err != nil {
			return nil, nil, usageErr("--to: %v", err)
		}
		req.To = ap
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var errs []error
	for d, err := range c.Discover(ctx, req) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if d.Matches(target) {
			return d, c, nil
		}
	}
	if len(errs) > 0 {
		return nil, nil, &exitError{ExitNotFound, fmt.Errorf("no device %q found: %w", target, errors.Join(errs...))}
	}
	return nil, nil, notFound("no device %q answered within %v", target, f.timeout)
}

func runDescribe(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "describe", "TARGET")
	var f targetFlags
	f.add(fs)
	asJSON := fs.Bool("json", false, "print the description as one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("describe needs one TARGET: a LOCATION URL, a UDN or a friendly name")
	}
	d, _, err := findDevice(ctx, &f, fs.Arg(0))
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, toJSON(d, true))
	}
	printDevice(e.stdout, d)
	return nil
}

// printDevice writes the device tree with its services, actions and state
// variables.
func printDevice(w io.Writer, d *controlpoint.Device) {
	fmt.Fprintf(w, "Location:  %s\n", oneLine(d.Location))
	if d.Interface != "" || d.Local.IsValid() {
		fmt.Fprintf(w, "Reached:   from %s on %s\n", addrOrDash(d.Local), dash(d.Interface))
	}
	if d.Server != "" {
		fmt.Fprintf(w, "Server:    %s\n", oneLine(d.Server))
	}
	if d.BootID >= 0 || d.ConfigID >= 0 {
		fmt.Fprintf(w, "BootID:    %d  ConfigID: %d\n", d.BootID, d.ConfigID)
	}
	byDev := map[*upnp.Device][]*controlpoint.Service{}
	for _, s := range d.Services {
		byDev[s.Device] = append(byDev[s.Device], s)
	}
	var walk func(x *upnp.Device, indent string)
	walk = func(x *upnp.Device, indent string) {
		fmt.Fprintf(w, "%sDevice %q  %s\n", indent, oneLine(x.FriendlyName), oneLine(x.DeviceType))
		in := indent + "  "
		fmt.Fprintf(w, "%sUDN:   %s\n", in, oneLine(x.UDN))
		fmt.Fprintf(w, "%sModel: %s\n", in, oneLine(strings.Join(nonEmpty(x.Manufacturer, x.ModelName, x.ModelNumber), " ")))
		for _, s := range byDev[x] {
			fmt.Fprintf(w, "%sService %s  (%s)\n", in, oneLine(s.Type), oneLine(s.ID))
			sin := in + "  "
			fmt.Fprintf(w, "%scontrol: %s\n", sin, dash(oneLine(s.ControlURL)))
			fmt.Fprintf(w, "%sevents:  %s\n", sin, dash(oneLine(s.EventSubURL)))
			if s.SCPD == nil {
				fmt.Fprintf(w, "%sno SCPD: %v\n", sin, s.Err)
				continue
			}
			fmt.Fprintf(w, "%sActions:\n", sin)
			for _, a := range s.SCPD.Actions {
				var ins, outs []string
				for _, g := range a.Arguments {
					arg := g.Name + " " + argType(s.SCPD, &g)
					if g.Direction == upnp.DirectionOut {
						outs = append(outs, arg)
					} else {
						ins = append(ins, arg)
					}
				}
				line := oneLine(a.Name) + "(" + oneLine(strings.Join(ins, ", ")) + ")"
				if len(outs) > 0 {
					line += " -> (" + oneLine(strings.Join(outs, ", ")) + ")"
				}
				fmt.Fprintf(w, "%s  %s\n", sin, line)
			}
			fmt.Fprintf(w, "%sState variables:\n", sin)
			for _, v := range s.SCPD.StateVariables {
				line := v.Name + " " + string(v.DataType)
				if v.Range != nil {
					line += " [" + v.Range.Minimum + ".." + v.Range.Maximum
					if v.Range.Step != "" {
						line += " step " + v.Range.Step
					}
					line += "]"
				}
				if v.AllowedValues != nil {
					line += " {" + strings.Join(v.AllowedValues, ", ") + "}"
				}
				if v.Default != "" {
					line += " default " + v.Default
				}
				if v.SendEvents {
					line += " (evented)"
				}
				fmt.Fprintf(w, "%s  %s\n", sin, oneLine(line))
			}
		}
		for i := range x.Devices {
			walk(&x.Devices[i], in)
		}
	}
	walk(&d.Root.Device, "")
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func addrOrDash(a netip.Addr) string {
	if !a.IsValid() {
		return "-"
	}
	return a.String()
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
)

func runCall(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "call", "TARGET SERVICE ACTION [Name=Value ...]")
	var f targetFlags
	f.add(fs)
	asJSON := fs.Bool("json", false, "print the out arguments as one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 3 {
		return usageErr("call needs TARGET SERVICE ACTION, then the in arguments as Name=Value")
	}
	in := map[string]any{}
	for _, kv := range fs.Args()[3:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageErr("argument %q is not Name=Value", kv)
		}
		if _, dup := in[k]; dup {
			return usageErr("argument %s given twice", k)
		}
		in[k] = v
	}
	d, c, err := findDevice(ctx, &f, fs.Arg(0))
	if err != nil {
		return err
	}
	svc := d.Service(fs.Arg(1))
	if svc == nil {
		var have []string
		for _, s := range d.Services {
			have = append(have, shortType(s.Type))
		}
		return notFound("%q has no service %q (it has %s)", d.Root.Device.FriendlyName, fs.Arg(1), strings.Join(have, ", "))
	}
	action := fs.Arg(2)
	out, err := c.Invoke(ctx, svc, action, in)
	switch {
	case errors.As(err, new(*upnp.Error)):
		return upnpFault(e, *asJSON, action, err)
	case errors.Is(err, controlpoint.ErrNoAction):
		return &exitError{ExitNotFound, err}
	case errors.Is(err, controlpoint.ErrArgument):
		return &exitError{ExitUsage, err}
	case err != nil:
		return err
	}
	names := outOrder(svc, action, out)
	if *asJSON {
		obj := make(map[string]any, len(out))
		for _, n := range names {
			obj[n] = jsonValue(outType(svc, action, n), out[n])
		}
		return writeJSON(e.stdout, obj)
	}
	for _, n := range names {
		fmt.Fprintf(e.stdout, "%s=%s\n", n, oneLine(wireValue(outType(svc, action, n), out[n])))
	}
	return nil
}

// outOrder lists the out arguments in SCPD order, then any others by name.
func outOrder(svc *controlpoint.Service, action string, out map[string]any) []string {
	var names []string
	if svc.SCPD != nil {
		if a := svc.SCPD.Action(action); a != nil {
			for g := range a.Out() {
				if _, ok := out[g.Name]; ok {
					names = append(names, g.Name)
				}
			}
		}
	}
	var rest []string
	for k := range out {
		if !slices.Contains(names, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(names, rest...)
}

// outType returns the data type of an out argument, or "" when unknown.
func outType(svc *controlpoint.Service, action, name string) upnp.DataType {
	if svc.SCPD == nil {
		return ""
	}
	a := svc.SCPD.Action(action)
	if a == nil {
		return ""
	}
	for g := range a.Out() {
		if g.Name == name {
			if v := svc.SCPD.StateVariable(g.RelatedStateVariable); v != nil {
				return v.DataType
			}
		}
	}
	return ""
}

// wireValue writes an out argument back in its UPnP wire form.
func wireValue(t upnp.DataType, v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if t.Valid() {
		if s, err := t.Encode(v); err == nil {
			return s
		}
	}
	return fmt.Sprint(v)
}

// jsonValue keeps booleans and numbers as such and writes the rest in
// wire form.
func jsonValue(t upnp.DataType, v any) any {
	switch v.(type) {
	case bool, uint8, uint16, uint32, uint64, int8, int16, int32, int64, float32, float64:
		return v
	}
	return wireValue(t, v)
}

package cli

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
)

// eventJSON is the --json form of an event.
type eventJSON struct {
	Time      string         `json:"time"`
	UDN       string         `json:"udn"`
	ServiceID string         `json:"service_id"`
	SEQ       uint32         `json:"seq"`
	Variables map[string]any `json:"variables"`
}

func runWatch(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "watch", "TARGET [SERVICE ...]")
	var f targetFlags
	f.add(fs)
	asJSON := fs.Bool("json", false, "print one JSON object per event: time, udn, service_id, seq, variables")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return usageErr("watch needs TARGET, then the services to watch (default: every evented one)")
	}
	d, c, err := findDevice(ctx, &f, fs.Arg(0))
	if err != nil {
		return err
	}
	var svcs []*controlpoint.Service
	for _, name := range fs.Args()[1:] {
		svc := d.Service(name)
		if svc == nil {
			var have []string
			for _, s := range d.Services {
				have = append(have, shortType(s.Type))
			}
			return notFound("%q has no service %q (it has %s)", d.Root.Device.FriendlyName, name, strings.Join(have, ", "))
		}
		if svc.EventSubURL == "" {
			return notFound("service %s of %q has no event URL", shortType(svc.Type), d.Root.Device.FriendlyName)
		}
		if !slices.Contains(svcs, svc) {
			svcs = append(svcs, svc)
		}
	}
	if fs.NArg() == 1 {
		for _, s := range d.Services {
			if evented(s) {
				svcs = append(svcs, s)
			}
		}
		if len(svcs) == 0 {
			return notFound("%q has no evented service", d.Root.Device.FriendlyName)
		}
	}

	var (
		mu     sync.Mutex
		sids   = map[string]string{} // by UDN and serviceId: a reboot brings new *Services
		failed int
		wg     sync.WaitGroup
	)
	show := func(ev *controlpoint.Event) {
		mu.Lock()
		defer mu.Unlock()
		svc := ev.Service
		key := svc.Device.UDN + " " + svc.ID
		if old, ok := sids[key]; ok && old != ev.SID {
			fmt.Fprintf(e.stderr, "upnp watch: %s: subscribed again (SID %s)\n", shortType(svc.Type), ev.SID)
		}
		sids[key] = ev.SID
		if *asJSON {
			vars := make(map[string]any, len(ev.Vars))
			for _, v := range ev.Vars {
				vars[v.Name] = jsonValue(varType(svc, v.Name), v.Value)
			}
			writeJSON(e.stdout, eventJSON{Time: ev.Time.Format(time.RFC3339Nano), UDN: svc.Device.UDN, ServiceID: svc.ID, SEQ: ev.SEQ, Variables: vars})
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s SEQ %d", ev.Time.Format("15:04:05.000"), shortType(svc.Type), ev.SEQ)
		for _, v := range ev.Vars {
			b.WriteString(" " + v.Name + "=" + quoteValue(oneLine(v.Text)))
		}
		fmt.Fprintln(e.stdout, b.String())
	}
	// A registry of this device alone lets the subscriptions follow it
	// when it reboots or moves to another address, and notice when it is
	// gone (controlpoint.Subscription.Registry).
	regCtx, stopRegistry := context.WithCancel(ctx)
	reg := &controlpoint.Registry{Client: c, Target: d.Root.Device.UDN}
	var regDone sync.WaitGroup
	regDone.Go(func() { reg.Run(regCtx) })
	defer func() {
		stopRegistry()
		regDone.Wait()
	}()
	for _, svc := range svcs {
		wg.Go(func() {
			sub := &controlpoint.Subscription{Client: c, Service: svc, Handler: show, Registry: reg}
			err := sub.Run(ctx)
			if err != nil && ctx.Err() == nil { // not Ctrl-C during the SUBSCRIBE
				mu.Lock()
				failed++
				fmt.Fprintf(e.stderr, "upnp watch: %s: %v\n", shortType(svc.Type), err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failed == len(svcs) {
		return fmt.Errorf("no subscription to %q succeeded", d.Root.Device.FriendlyName)
	}
	return nil
}

// evented reports whether a service is worth subscribing to: it has an
// event URL, and its SCPD, when known, has an evented variable.
func evented(s *controlpoint.Service) bool {
	if s.EventSubURL == "" {
		return false
	}
	if s.SCPD == nil {
		return true
	}
	return slices.ContainsFunc(s.SCPD.StateVariables, func(v upnp.StateVariable) bool { return v.SendEvents })
}

func varType(svc *controlpoint.Service, name string) upnp.DataType {
	if svc.SCPD == nil {
		return ""
	}
	if v := svc.SCPD.StateVariable(name); v != nil {
		return v.DataType
	}
	return ""
}

// quoteValue quotes a value that would not read back as one word.
func quoteValue(s string) string {
	if s == "" || strings.ContainsAny(s, " \"") {
		return strconv.Quote(s)
	}
	return s
}

package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/seedb72249f9/upnp/autoip"
)

// addrJSON is the --json form of an addressing event: one object a line.
type addrJSON struct {
	Time    string `json:"time"`
	Event   string `json:"event"`
	Addr    string `json:"addr,omitempty"`
	Prev    string `json:"prev,omitempty"`
	Current string `json:"current,omitempty"`
	Peer    string `json:"peer,omitempty"`
	Server  string `json:"server,omitempty"`
	Router  string `json:"router,omitempty"`
	Lease   int64  `json:"lease_seconds,omitempty"`
	Error   string `json:"error,omitempty"`
}

// runAddr runs the addressing agent (UDA section 0) on one interface in the
// foreground, printing each state change, until interrupted; then it
// removes the address it added.
func runAddr(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "addr", "IFACE")
	noDHCP := fs.Bool("no-dhcp", false, "claim a link-local address at once, without asking DHCP first")
	asJSON := fs.Bool("json", false, "print one JSON object per event")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("addr takes one interface name")
	}
	a := &autoip.Agent{Interface: fs.Arg(0), NoDHCP: *noDHCP}
	events, stop := a.Subscribe(1024)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- a.Run(ctx) }()
	for ev := range events { // Run closes it when it returns
		if err := printAddrEvent(e, ev, *asJSON); err != nil {
			return err
		}
	}
	return <-errc
}

func printAddrEvent(e *env, ev autoip.Event, asJSON bool) error {
	str := func(v fmt.Stringer, ok bool) string {
		if !ok {
			return ""
		}
		return v.String()
	}
	if asJSON {
		j := addrJSON{
			Time:    ev.Time.Format(time.RFC3339Nano),
			Event:   ev.Type.String(),
			Addr:    str(ev.Addr, ev.Addr.IsValid()),
			Prev:    str(ev.Prev, ev.Prev.IsValid()),
			Current: str(ev.Current, ev.Current.IsValid()),
			Peer:    str(ev.Peer, ev.Peer != nil),
		}
		if l := ev.Lease; l != nil {
			j.Server = str(l.Server, l.Server.IsValid())
			j.Router = str(l.Router, l.Router.IsValid())
			j.Lease = int64(l.Duration / time.Second)
		}
		if ev.Err != nil {
			j.Error = ev.Err.Error()
		}
		return writeJSON(e.stdout, j)
	}
	line := fmt.Sprintf("%s %-12s", ev.Time.Format("15:04:05.000"), ev.Type)
	if ev.Addr.IsValid() {
		line += " " + ev.Addr.String()
	}
	switch {
	case ev.Prev.IsValid():
		line += " from " + ev.Prev.String()
	case ev.Peer != nil:
		line += " peer " + ev.Peer.String()
	case ev.Lease != nil && ev.Type != autoip.EventReleased:
		line += " from " + ev.Lease.Server.String() + " for " + ev.Lease.Duration.String()
	}
	if ev.Err != nil {
		line += " (" + oneLine(ev.Err.Error()) + ")"
	}
	_, err := fmt.Fprintln(e.stdout, line)
	return err
}

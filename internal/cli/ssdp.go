package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"

	"github.com/seedb72249f9/upnp/ssdp"
)

// ssdpJSON is the --json form of an SSDP message: one object a line.
type ssdpJSON struct {
	ST        string `json:"st,omitempty"`
	NT        string `json:"nt,omitempty"`
	NTS       string `json:"nts,omitempty"`
	USN       string `json:"usn"`
	Location  string `json:"location,omitempty"`
	Server    string `json:"server,omitempty"`
	MaxAge    int    `json:"max_age,omitempty"`
	BootID    *int32 `json:"boot_id,omitempty"`
	ConfigID  *int32 `json:"config_id,omitempty"`
	From      string `json:"from"`
	Interface string `json:"interface,omitempty"`
}

func packetJSON(p *ssdp.Packet) ssdpJSON {
	j := ssdpJSON{ST: p.ST, NT: p.NT, NTS: p.NTS, USN: p.USN, Location: p.Location, Server: p.Server,
		MaxAge: p.MaxAge, From: p.From.String(), Interface: p.Interface}
	if p.BootID >= 0 {
		j.BootID = &p.BootID
	}
	if p.ConfigID >= 0 {
		j.ConfigID = &p.ConfigID
	}
	return j
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

func runSearch(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "search", "[ST]")
	var nf netFlags
	nf.add(fs)
	timeout := fs.Duration("timeout", 0, "stop after this long (default: MX+1 s after the last send)")
	mx := fs.Int("mx", 2, "seconds devices may wait before answering (1-5)")
	to := fs.String("to", "", "search unicast at this HOST[:PORT] instead of multicast")
	asJSON := fs.Bool("json", false, "print one JSON object per response")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageErr("at most one search target, got %d", fs.NArg())
	}
	network, err := nf.network()
	if err != nil {
		return err
	}
	req := ssdp.SearchRequest{Target: fs.Arg(0), MX: *mx}
	if *mx < 1 || *mx > 5 {
		return usageErr("--mx %d outside 1-5", *mx)
	}
	if *to != "" {
		ap, err := parseHostPort(*to)
		if err != nil {
			return usageErr("--to: %v", err)
		}
		req.To = ap
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	c := &ssdp.Client{Interfaces: nf.ifaces, Network: network}
	n := 0
	for p, err := range c.Search(ctx, req) {
		if err != nil {
			return err
		}
		n++
		if *asJSON {
			if err := writeJSON(e.stdout, packetJSON(p)); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(e.stdout, "%-21s %-8s %s\n    USN: %s\n    LOCATION: %s\n    SERVER: %s\n",
			p.From, p.Interface, oneLine(p.ST), oneLine(p.USN), oneLine(p.Location), oneLine(p.Server))
	}
	if n == 0 {
		return notFound("no response")
	}
	return nil
}

func parseHostPort(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q is not an IP address or IP:port", s)
	}
	return netip.AddrPortFrom(a, ssdp.Port), nil
}

func runListen(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "listen", "")
	var nf netFlags
	nf.add(fs)
	timeout := fs.Duration("timeout", 0, "stop after this long (default: until interrupted)")
	asJSON := fs.Bool("json", false, "print one JSON object per message")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("listen takes no arguments")
	}
	network, err := nf.network()
	if err != nil {
		return err
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	// Every NOTIFY as it arrives, not the cache's view of them: a byebye from
	// a device announced before listen started is shown too.
	// Info on stderr: the one line saying it waits for a usable interface.
	l := &ssdp.Listener{Interfaces: nf.ifaces, Network: network,
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	notes, stop := l.Notifications(1024)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- l.ListenAndServe(ctx) }()
	heard := 0
	// end is how listen ends once the listener stopped: exit 4 when it
	// heard nothing, as search does without an answer.
	end := func(err error) error {
		if err == nil && heard == 0 {
			return notFound("no NOTIFY heard")
		}
		return err
	}
	for {
		select {
		case err := <-errc:
			// Print what is still queued, then end.
			for {
				select {
				case p, ok := <-notes:
					if !ok {
						return end(err)
					}
					if werr := printNotify(e, p, *asJSON); werr != nil {
						return werr
					}
					heard++
				default:
					return end(err)
				}
			}
		case p, ok := <-notes:
			if !ok {
				return end(<-errc)
			}
			if err := printNotify(e, p, *asJSON); err != nil {
				return err
			}
			heard++
		}
	}
}

// printNotify prints one NOTIFY: a JSON object, or a line of time, sender,
// interface, NTS, USN and LOCATION.
func printNotify(e *env, p *ssdp.Packet, asJSON bool) error {
	if asJSON {
		return writeJSON(e.stdout, packetJSON(p))
	}
	_, err := fmt.Fprintf(e.stdout, "%s %-21s %-8s %-12s %s %s\n", p.Time.Format("15:04:05.000"),
		p.From, p.Interface, p.NTS, oneLine(p.USN), oneLine(p.Location))
	return err
}

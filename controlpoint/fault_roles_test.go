package controlpoint_test

// The processes of the fault tests (fault_test.go): a light with short timers
// and a control point that reports, one line at a time, everything the tests
// look at. Every line starts with "t=" and the Unix time in milliseconds, so
// the test can time what happened against its own clock.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
	"github.com/seedb72249f9/upnp/ssdp"
)

// faultUDN is the light of the fault tests.
const faultUDN = "uuid:fa017fa0-1111-4222-8333-444444444444"

// stamped writes each Write as one line, prefixed "t=MS ".
type stamped struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *stamped) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := strings.TrimRight(string(b), "\n")
	fmt.Fprintf(s.w, "t=%d %s\n", time.Now().UnixMilli(), line)
	return len(b), nil
}

func (s *stamped) printf(format string, args ...any) {
	fmt.Fprintf(s, format, args...)
}

// roleFaultLight serves the example light on lan0 over IPv4 with short
// timers. Flags: -udn, -port (0: any), -bootid FILE, -maxage (SSDP
// max-age), -maxsub (longest subscription granted), -poll (interface poll).
// It prints "ready boot=N addrs=[...]" once listening, the server's
// Info lines (listeners opened and closed), and "exit" when it ends.
func roleFaultLight(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("fault-light", flag.ContinueOnError)
	udn := fs.String("udn", faultUDN, "")
	port := fs.Int("port", 0, "")
	boot := fs.String("bootid", "", "")
	maxAge := fs.Duration("maxage", 4*time.Second, "")
	maxSub := fs.Duration("maxsub", 2*time.Second, "")
	poll := fs.Duration("poll", 500*time.Millisecond, "")
	debug := fs.Bool("debug", os.Getenv("UPNP_FAULT_DEBUG") != "", "")
	if fs.Parse(args) != nil {
		return 2
	}
	out := &stamped{w: os.Stdout}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	s := &device.Server{
		Device: binarylight.New("Fault Light", *udn), Interfaces: []string{"lan0"}, Network: "4",
		Port: *port, BootIDFile: *boot, Logger: slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level})),
		SSDP:     &ssdp.Server{MaxAge: *maxAge, InterfacePoll: *poll},
		Eventing: device.Eventing{MaxTimeout: *maxSub},
	}
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe(ctx) }()
	for len(s.Addrs()) == 0 {
		select {
		case err := <-errc:
			out.printf("exit err=%v", err)
			return 1
		case <-time.After(10 * time.Millisecond):
		}
	}
	bootID := "-"
	if *boot != "" {
		b, _ := os.ReadFile(*boot)
		bootID = strings.TrimSpace(string(b))
	}
	out.printf("ready boot=%s addrs=%v", bootID, s.Addrs())
	err := <-errc
	out.printf("exit err=%v", err)
	return 0
}

// roleFaultCP is a control point on lan0 over IPv4: a Registry, a
// Subscription to the light's SwitchPower with that Registry, and a loop
// that switches the light every -toggle. Flags: -udn, -sub (subscription
// time asked for), -toggle, -ctimeout (Client.Timeout). It prints:
//
//	reg TYPE loc=LOCATION boot=N n=N     a registry event about the light; n counts its entries
//	event sid=SID seq=N status=BOOL      an event
//	sub-end gone=BOOL err=ERR            Subscription.Run returned
//	invoke ok loc=LOCATION n=N           a SetTarget that worked, on the newest entry
//	invoke err loc=LOCATION n=N err=ERR  one that did not
//	log MSG ...                          the Client's debug lines (renewals that fail)
func roleFaultCP(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("fault-cp", flag.ContinueOnError)
	udn := fs.String("udn", faultUDN, "")
	subTimeout := fs.Duration("sub", 2*time.Second, "")
	toggle := fs.Duration("toggle", 500*time.Millisecond, "")
	ctimeout := fs.Duration("ctimeout", 2*time.Second, "")
	if fs.Parse(args) != nil {
		return 2
	}
	out := &stamped{w: os.Stdout}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey:
				return slog.Attr{}
			case slog.LevelKey:
				return slog.String("log", a.Value.String())
			}
			return a
		}}))
	c := &controlpoint.Client{Interfaces: []string{"lan0"}, Network: "udp4", Timeout: *ctimeout, Logger: logger}
	reg := &controlpoint.Registry{Client: c}
	events, stop := reg.Subscribe(256)
	defer stop()
	regDone := make(chan error, 1)
	go func() { regDone <- reg.Run(ctx) }()

	light := func() (*controlpoint.Device, int) {
		var newest *controlpoint.Device
		n := 0
		for _, d := range reg.Devices() {
			if d.Root.Device.UDN != *udn {
				continue
			}
			n++
			if newest == nil || d.Found.After(newest.Found) {
				newest = d
			}
		}
		return newest, n
	}
	first := make(chan *controlpoint.Device, 1)
	go func() {
		for ev := range events {
			if ev.Device.Root.Device.UDN != *udn {
				continue
			}
			_, n := light()
			out.printf("reg %s loc=%s boot=%d n=%d", ev.Type, ev.Device.Location, ev.Device.BootID, n)
			if ev.Type == controlpoint.DeviceAdded {
				select {
				case first <- ev.Device:
				default:
				}
			}
		}
	}()
	var d *controlpoint.Device
	select {
	case d = <-first:
	case err := <-regDone:
		out.printf("registry-end err=%v", err)
		return 1
	case <-ctx.Done():
		return 0
	}

	sub := &controlpoint.Subscription{Client: c, Service: d.Service("SwitchPower"), Registry: reg, Timeout: *subTimeout,
		Handler: func(ev *controlpoint.Event) {
			st, _ := ev.Value("Status")
			out.printf("event sid=%s seq=%d status=%v", ev.SID, ev.SEQ, st)
		}}
	var wg sync.WaitGroup
	wg.Go(func() {
		err := sub.Run(ctx)
		out.printf("sub-end gone=%v err=%v", errors.Is(err, controlpoint.ErrDeviceGone), err)
	})
	if *toggle > 0 {
		wg.Go(func() {
			on := false
			t := time.NewTicker(*toggle)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				d, n := light()
				if d == nil {
					out.printf("invoke err loc=none n=0 err=not in the registry")
					continue
				}
				on = !on
				cctx, cancel := context.WithTimeout(ctx, *ctimeout)
				_, err := c.Invoke(cctx, d.Service("SwitchPower"), "SetTarget", map[string]any{"newTargetValue": on})
				cancel()
				if err != nil {
					out.printf("invoke err loc=%s n=%d err=%v", d.Location, n, err)
				} else {
					out.printf("invoke ok loc=%s n=%d", d.Location, n)
				}
			}
		})
	}
	<-ctx.Done()
	wg.Wait()
	<-regDone
	return 0
}

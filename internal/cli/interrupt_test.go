//go:build linux

package cli

// Ctrl-C under stress (docs/reliability.md, "The CLI under stress"): each
// long-running command of the upnp binary runs in a host of a virtual LAN
// and gets SIGINT mid-run, as from a terminal. It must end soon with a
// sensible exit code, leave no process behind in its host, and leave the
// LAN clean: watch's subscriptions are gone from the device, serve's device
// says byebye.
//
//	go test -count=1 -run 'TestInterrupt' -v ./internal/cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
	"github.com/seedb72249f9/upnp/internal/netlab"
)

// interruptBound is how long a command may take to end after SIGINT before
// the test calls it a hang. It is no speed target: commands end within
// milliseconds, or a few seconds when a device is slow to answer an
// UNSUBSCRIBE.
const interruptBound = 10 * time.Second

// roleGenaLight serves the example light over HTTP only (no SSDP), and
// delays its answers to SUBSCRIBE and UNSUBSCRIBE, as a slow device would.
// args: ADDR:PORT UUID SUBSCRIBE-DELAY UNSUBSCRIBE-DELAY. The device acts on
// each request at once; only the answer waits. It prints "listening", then
// "subscribe STATUS SID" and "unsubscribe STATUS SID" as it acts, and
// "unsubscribe received SID" before that. Requests with an X-Probe header
// (from gena-probe) are answered at once.
func roleGenaLight(ctx context.Context, args []string) int {
	subDelay, _ := time.ParseDuration(args[2])
	unsubDelay, _ := time.ParseDuration(args[3])
	dev := &device.Server{Device: binarylight.New("Slow Light", "uuid:"+args[1])}
	delayed := func(w http.ResponseWriter, r *http.Request, d time.Duration, what string) {
		rec := httptest.NewRecorder()
		dev.ServeHTTP(rec, r)
		fmt.Println(what, rec.Code, rec.Header().Get("SID")+r.Header.Get("SID"))
		if r.Header.Get("X-Probe") != "" {
			d = 0
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "SUBSCRIBE" && r.Header.Get("SID") == "":
			delayed(w, r, subDelay, "subscribe")
		case r.Method == "UNSUBSCRIBE":
			fmt.Println("unsubscribe received", r.Header.Get("SID"))
			delayed(w, r, unsubDelay, "unsubscribe")
		default:
			dev.ServeHTTP(w, r)
		}
	})
	ln, err := net.Listen("tcp4", args[0])
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Println("listening")
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		fmt.Println("error:", err)
		return 1
	}
	return 0
}

// roleGenaProbe asks a device whether subscriptions still exist. args:
// LOCATION SID... For each SID it sends UNSUBSCRIBE to the event URL of
// every service of the description and prints "SID present" if one of them
// accepted it (the subscription was still there: now it is gone), or "SID
// gone" if each answered 412 Precondition Failed.
func roleGenaProbe(ctx context.Context, args []string) int {
	loc, err := url.Parse(args[0])
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	get := func(u string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		return http.DefaultClient.Do(req)
	}
	resp, err := get(args[0])
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	root, err := upnp.ParseDescription(b)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	var urls []string
	var walk func(d *upnp.Device)
	walk = func(d *upnp.Device) {
		for _, s := range d.Services {
			u, err := root.ResolveURL(loc, s.EventSubURL)
			if err == nil {
				urls = append(urls, u.String())
			}
		}
		for i := range d.Devices {
			walk(&d.Devices[i])
		}
	}
	walk(&root.Device)
	code := 0
	for _, sid := range args[1:] {
		state := "gone"
		for _, u := range urls {
			req, _ := http.NewRequestWithContext(ctx, "UNSUBSCRIBE", u, nil)
			req.Header.Set("SID", sid)
			req.Header.Set("X-Probe", "1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				fmt.Println("error:", err)
				code = 1
				continue
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				state = "present"
			case http.StatusPreconditionFailed:
			default:
				fmt.Println("error: UNSUBSCRIBE", u, resp.Status)
				code = 1
			}
		}
		fmt.Println(sid, state)
	}
	return code
}

// nsPids returns the processes in h's network namespace.
func nsPids(t *testing.T, h *netlab.Host) []int {
	t.Helper()
	out, err := exec.Command("ip", "netns", "pids", h.Namespace).Output()
	if err != nil {
		t.Fatalf("ip netns pids %s: %v", h.Namespace, err)
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	slices.Sort(pids)
	return pids
}

// waitListening waits until process pid in h has a UDP socket on port
// 1900: it listens for SSDP.
func waitListening(t *testing.T, h *netlab.Host, pid int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, _ := exec.Command("ip", "netns", "exec", h.Namespace, "ss", "-Hulpn", "sport", "=", ":1900").Output()
		if strings.Contains(string(out), fmt.Sprintf("pid=%d,", pid)) {
			time.Sleep(100 * time.Millisecond) // from bind to joining the groups
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d in %v has no socket on port 1900:\n%s", pid, h, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// children returns the child processes of pid, as /proc lists them.
func children(pid int) []string {
	var out []string
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}

// noRaceExitSleep keeps a binary built with -race from sleeping a second
// when it exits, in the processes this test starts.
func noRaceExitSleep(t *testing.T) {
	v := os.Getenv("GORACE")
	if !strings.Contains(v, "atexit_sleep_ms") {
		t.Setenv("GORACE", strings.TrimSpace(v+" atexit_sleep_ms=0"))
	}
}

// interrupted is what interrupt saw.
type interrupted struct {
	code   int            // exit code; -1 when a signal ended the process
	signal syscall.Signal // the signal that ended it, if one did
	took   time.Duration  // from SIGINT to the end
	out    string
}

// interrupt sends SIGINT to p, as Ctrl-C would, and waits for it to end
// within interruptBound; a process still running then fails the test (and
// is killed by the cleanup). It checks that p, a process of h, left no
// process behind: h holds the same processes as before (before).
func interrupt(t *testing.T, p *netlab.Proc, h *netlab.Host, before []int) interrupted {
	t.Helper()
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.Pid)); err != nil || filepath.Base(exe) != "upnp" {
		t.Fatalf("%v: pid %d is %q (%v), not the upnp binary", p, p.Pid, exe, err)
	}
	if c := children(p.Pid); len(c) > 0 {
		t.Logf("%v has child processes %v", p, c)
	}
	start := time.Now()
	if err := syscall.Kill(p.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), interruptBound)
	defer cancel()
	err := p.Wait(ctx)
	r := interrupted{took: time.Since(start), code: p.ExitCode(), out: strings.Join(p.Lines(), "\n")}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v still runs %v after SIGINT:\n%s", p, interruptBound, r.out)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.signal = ws.Signal()
		}
	}
	// Whatever the command started must be gone with it.
	deadline := time.Now().Add(2 * time.Second)
	for {
		after := nsPids(t, h)
		if slices.Equal(after, before) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%v left processes behind in %v: before %v, after %v", p, h, before, after)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r
}

// waitNew waits up to 15 s for a line with want that p prints after its
// first n lines, and returns it.
func waitNew(t *testing.T, p *netlab.Proc, n int, want string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	i := 0
	for line := range p.Follow(ctx) {
		if i++; i > n && strings.Contains(line, want) {
			return line
		}
	}
	t.Fatalf("%v printed no line with %q after its first %d:\n%s", p, want, n, strings.Join(p.Lines(), "\n"))
	return ""
}

// sidsIn returns the sid=... values of a device's "subscribed" log lines.
func sidsIn(lines []string) []string {
	var sids []string
	for _, l := range lines {
		if !strings.Contains(l, "msg=subscribed") {
			continue
		}
		for _, f := range strings.Fields(l) {
			if s, ok := strings.CutPrefix(f, "sid="); ok {
				sids = append(sids, s)
			}
		}
	}
	return sids
}

// probe runs gena-probe in h and returns the SIDs still present.
func probe(t *testing.T, h *netlab.Host, loc string, sids []string) []string {
	t.Helper()
	p := h.Start(t, "gena-probe", append([]string{loc}, sids...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("gena-probe: %v\n%s", err, strings.Join(p.Lines(), "\n"))
	}
	var present []string
	for _, l := range p.Lines() {
		if sid, ok := strings.CutSuffix(l, " present"); ok {
			present = append(present, sid)
		}
	}
	return present
}

func TestInterrupt(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 4})
	noRaceExitSleep(t)
	bin := buildUPNP(t)
	const (
		lightLoc   = "http://10.77.0.11:49200/desc.xml"
		lightUDN   = "uuid:" + lightUUID
		servedUUID = "0f0f0f0f-1111-4222-8333-555555555555"
		mockUUID   = "0f0f0f0f-1111-4222-8333-666666666666"
		slowUUID   = "0f0f0f0f-1111-4222-8333-777777777777"
		slowLoc    = "http://10.77.0.14:49300/desc.xml"
	)
	// h1: a light that the commands find; h2: an observer of SSDP traffic;
	// h3: the command under test; h4: a slow device for watch.
	light := lan.Host(1).StartCommand(t, bin, "serve", "light", "-i", "lan0", "--port", "49200", "--uuid", lightUUID, "--name", "Ctrl-C Light")
	waitLine(t, light, "serving")
	observer := lan.Host(2).StartCommand(t, bin, "listen", "-i", "lan0", "--json")
	waitListening(t, lan.Host(2), observer.Pid)
	slow := lan.Host(4).Start(t, "gena-light", "10.77.0.14:49300", slowUUID, "500ms", "10s")
	waitLine(t, slow, "listening")
	h := lan.Host(3)

	// start runs the binary in h and waits until it prints a line with
	// ready: it is mid-run.
	start := func(t *testing.T, ready string, args ...string) (*netlab.Proc, []int) {
		t.Helper()
		before := nsPids(t, h)
		p := h.StartCommand(t, bin, args...)
		waitLine(t, p, ready)
		return p, before
	}
	check := func(t *testing.T, r interrupted, want int) {
		t.Helper()
		if r.code != want {
			t.Errorf("exit %d (signal %v) after SIGINT, want %d:\n%s", r.code, r.signal, want, r.out)
		}
		t.Logf("ended %v after SIGINT, exit %d", r.took.Round(time.Millisecond), r.code)
	}

	t.Run("scan", func(t *testing.T) {
		p, before := start(t, "Ctrl-C Light", "scan", "-i", "lan0", "--timeout", "60s")
		check(t, interrupt(t, p, h, before), ExitOK)
	})
	t.Run("search", func(t *testing.T) {
		p, before := start(t, "LOCATION: "+lightLoc, "search", "-i", "lan0", "--mx", "5")
		check(t, interrupt(t, p, h, before), ExitOK)
	})
	t.Run("listen", func(t *testing.T) {
		before := nsPids(t, h)
		p := h.StartCommand(t, bin, "listen", "-i", "lan0")
		waitListening(t, h, p.Pid)
		// A device that comes up gives it something to print.
		tmp := lan.Host(4).StartCommand(t, bin, "serve", "light", "-i", "lan0", "--uuid", "0f0f0f0f-1111-4222-8333-888888888888")
		waitLine(t, p, "0f0f0f0f-1111-4222-8333-888888888888")
		check(t, interrupt(t, p, h, before), ExitOK)
		tmp.Stop()
	})
	t.Run("watch", func(t *testing.T) {
		p, before := start(t, "Dimming:1 SEQ 0", "watch", "-i", "lan0", lightUDN)
		waitLine(t, p, "SwitchPower:1 SEQ 0")
		sids := sidsIn(light.Lines())
		if len(sids) != 2 {
			t.Fatalf("the light logged %d subscriptions, want 2:\n%s", len(sids), strings.Join(light.Lines(), "\n"))
		}
		check(t, interrupt(t, p, h, before), ExitOK)
		if present := probe(t, h, lightLoc, sids); len(present) > 0 {
			t.Errorf("subscriptions still on the device after Ctrl-C: %v", present)
		}
	})
	t.Run("watch while subscribing", func(t *testing.T) {
		// Ctrl-C after the device has made the subscription but before its
		// answer, with the SID, is in: the watch must still cancel it.
		before := nsPids(t, h)
		seen := len(slow.Lines())
		p := h.StartCommand(t, bin, "watch", slowLoc, "SwitchPower")
		line := waitNew(t, slow, seen, "subscribe 200 uuid:")
		sid := strings.Fields(line)[2]
		r := interrupt(t, p, h, before)
		check(t, r, ExitOK)
		if present := probe(t, h, slowLoc, []string{sid}); len(present) > 0 {
			t.Errorf("subscription %s, made while the watch was interrupted, is still on the device", sid)
		}
	})
	t.Run("watch, second Ctrl-C", func(t *testing.T) {
		// A device slow to answer UNSUBSCRIBE holds the first Ctrl-C up for
		// a while; a second one ends the command at once.
		// The second SIGINT must come while the watch waits (2 s) for the
		// UNSUBSCRIBE answer; on a machine so busy that it came too late,
		// the run is tried again.
		for try := 1; ; try++ {
			before := nsPids(t, h)
			seen := len(slow.Lines())
			p := h.StartCommand(t, bin, "watch", slowLoc, "SwitchPower")
			waitLine(t, p, "SwitchPower:1 SEQ 0")
			sid := strings.Fields(waitNew(t, slow, seen, "subscribe 200 uuid:"))[2]
			if err := syscall.Kill(p.Pid, syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			waitNew(t, slow, seen, "unsubscribe received "+sid)
			if p.ExitCode() != -1 && try < 3 {
				t.Logf("try %d: the watch ended (exit %d) before the second SIGINT", try, p.ExitCode())
				continue
			}
			r := interrupt(t, p, h, before)
			if r.signal != syscall.SIGINT {
				t.Errorf("after a second SIGINT: exit %d, signal %v; want death by SIGINT:\n%s", r.code, r.signal, r.out)
			}
			t.Logf("ended %v after the second SIGINT (%v)", r.took.Round(time.Millisecond), r.signal)
			break
		}
	})
	byebye := func(t *testing.T, uuid string) {
		t.Helper()
		waitOut(t, observer, 10*time.Second, `"nts":"ssdp:byebye"`, `"usn":"uuid:`+uuid+`::upnp:rootdevice"`)
	}
	t.Run("serve light", func(t *testing.T) {
		p, before := start(t, "serving", "serve", "light", "-i", "lan0", "--uuid", servedUUID)
		waitOut(t, observer, 10*time.Second, `"nts":"ssdp:alive"`, servedUUID)
		check(t, interrupt(t, p, h, before), ExitOK)
		byebye(t, servedUUID)
	})
	t.Run("serve mock", func(t *testing.T) {
		p, before := start(t, "serving", "serve", "mock", "-i", "lan0", "--uuid", mockUUID, lightLoc)
		waitOut(t, observer, 10*time.Second, `"nts":"ssdp:alive"`, mockUUID)
		check(t, interrupt(t, p, h, before), ExitOK)
		byebye(t, mockUUID)
	})
}

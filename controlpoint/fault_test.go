package controlpoint_test

// Faults on a virtual LAN (internal/netlab): the light (roleFaultLight) on
// host 1 and a control point (roleFaultCP) on host 2, each its own process.
// The light announces a short max-age and grants short subscriptions, so
// that expiries and failed renewals come within seconds. The tests check
// what happens, never how fast; the times they log are in docs/reliability.md:
//
//	go test -race -count=1 -v -run 'TestFault' ./controlpoint
//
// UPNP_FAULT_DUMP=1 logs both processes' output at the end of each test,
// and UPNP_FAULT_DEBUG=1 adds the light's debug lines (its SSDP side) to it.

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

// faultWait bounds each wait for a line.
const faultWait = 30 * time.Second

// line is one parsed output line of a fault role: "t=MS kind k=v ...".
type line struct {
	raw  string
	at   time.Time
	kind string // "reg", "event", "invoke", "sub-end", "log", "ready"...
	sub  string // the word after kind: "added", "ok"...
	kv   map[string]string
}

func parseLine(s string) (line, bool) {
	rest, ok := strings.CutPrefix(s, "t=")
	if !ok {
		return line{}, false
	}
	ms, rest, _ := strings.Cut(rest, " ")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return line{}, false
	}
	l := line{raw: s, at: time.UnixMilli(n), kv: map[string]string{}}
	// err= runs to the end of the line; other values have no spaces.
	if i := strings.Index(rest, " err="); i >= 0 {
		l.kv["err"] = rest[i+len(" err="):]
		rest = rest[:i]
	}
	for i, f := range strings.Fields(rest) {
		k, v, ok := strings.Cut(f, "=")
		switch {
		case ok:
			l.kv[k] = v
		case i == 0:
			l.kind = f
		case i == 1:
			l.sub = f
		}
	}
	if v, ok := l.kv["log"]; ok { // slog lines: log=LEVEL msg="..."
		l.kind, l.sub = "log", v
	}
	return l, true
}

func (l line) int(k string) int {
	n, _ := strconv.Atoi(l.kv[k])
	return n
}

// waitFor returns the first line after the first from lines of p (from 0:
// any) that match says, and its position; it ends the test if none comes
// within faultWait.
func waitFor(t *testing.T, p *netlab.Proc, from int, what string, match func(line) bool) (line, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), faultWait)
	defer cancel()
	i := 0
	for s := range p.Follow(ctx) {
		i++
		if i <= from {
			continue
		}
		if l, ok := parseLine(s); ok && match(l) {
			return l, i
		}
	}
	t.Fatalf("%v: no line with %s within %v", p, what, faultWait)
	return line{}, 0
}

// linesOf returns the parsed lines of p after the first from.
func linesOf(p *netlab.Proc, from int) []line {
	var out []line
	for i, s := range p.Lines() {
		if i < from {
			continue
		}
		if l, ok := parseLine(s); ok {
			out = append(out, l)
		}
	}
	return out
}

func is(kind, sub string) func(line) bool {
	return func(l line) bool { return l.kind == kind && (sub == "" || l.sub == sub) }
}

// faultLab is the LAN of a fault test: the light on host 1, the control
// point on host 2.
type faultLab struct {
	t     *testing.T
	lan   *netlab.LAN
	dev   *netlab.Host
	cpH   *netlab.Host
	boot  string // the light's BootIDFile
	light *netlab.Proc
	cp    *netlab.Proc
	args  []string // the light's flags
}

func newFaultLab(t *testing.T, cfg netlab.Config, lightArgs ...string) *faultLab {
	t.Helper()
	lan := netlab.New(t, cfg)
	f := &faultLab{t: t, lan: lan, dev: lan.Host(1), cpH: lan.Host(2),
		boot: filepath.Join(t.TempDir(), "bootid")}
	f.args = append([]string{"-port", "8080", "-bootid", f.boot}, lightArgs...)
	t.Cleanup(func() {
		if os.Getenv("UPNP_FAULT_DUMP") == "" {
			return
		}
		for _, p := range []*netlab.Proc{f.light, f.cp} {
			if p != nil {
				t.Logf("%v:\n%s", p, strings.Join(p.Lines(), "\n"))
			}
		}
	})
	return f
}

// startLight starts (or restarts) the light and returns its ready line,
// with its BOOTID.
func (f *faultLab) startLight() line {
	f.t.Helper()
	f.light = f.dev.Start(f.t, "fault-light", f.args...)
	l, _ := waitFor(f.t, f.light, 0, "ready", is("ready", ""))
	return l
}

// noneLost checks that no subscription the light granted after the time
// after lost events on the way to the control point: once the fault is
// over, nothing is lost.
func noneLost(t *testing.T, f *faultLab, after time.Time) {
	t.Helper()
	fresh := map[string]bool{}
	for _, l := range linesOf(f.light, 0) {
		if l.kv["msg"] == "subscribed" && !l.at.Before(after.Truncate(time.Millisecond)) {
			fresh[l.kv["sid"]] = true
		}
	}
	for _, l := range linesOf(f.cp, 0) {
		if l.kind == "log" && strings.Contains(l.raw, "events lost") && fresh[l.kv["sid"]] {
			t.Errorf("a subscription made after the fault lost events: %s", l.raw)
		}
	}
}

// startCP starts the control point and waits until it has the light in
// its registry and events flowing: the initial event and one change.
func (f *faultLab) startCP(args ...string) {
	f.t.Helper()
	f.cp = f.cpH.Start(f.t, "fault-cp", args...)
	waitFor(f.t, f.cp, 0, "the light added", is("reg", "added"))
	waitFor(f.t, f.cp, 0, "an event after a change", func(l line) bool { return l.kind == "event" && l.int("seq") >= 1 })
}

// kill ends the light with SIGKILL: no byebye, no UNSUBSCRIBE answered.
func (f *faultLab) kill() {
	f.t.Helper()
	if err := syscall.Kill(f.light.Pid, syscall.SIGKILL); err != nil {
		f.t.Fatal(err)
	}
	f.light.Wait(context.Background())
}

// since formats how long after t0 the line came.
func since(t0 time.Time, l line) time.Duration {
	return l.at.Sub(t0).Round(10 * time.Millisecond)
}

// TestFaultDeviceKilled: the light dies. Killed with SIGKILL, it sends no
// byebye and the registry removes it when its max-age (4 s) runs out; shut
// down cleanly, its byebye removes it at once. Either way the subscription
// ends with ErrDeviceGone once its 2 s grant has run out, rather than
// retrying for ever.
func TestFaultDeviceKilled(t *testing.T) {
	for _, tc := range []struct {
		name string
		kill bool
	}{{"sigkill", true}, {"byebye", false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultLab(t, netlab.Config{Hosts: 2}, "-maxage", "4s", "-maxsub", "2s")
			f.startLight()
			f.startCP("-sub", "2s", "-toggle", "500ms")
			mark := len(f.cp.Lines())
			t0 := time.Now()
			if tc.kill {
				f.kill()
			} else if err := f.light.Stop(); err != nil {
				t.Fatal(err)
			}
			removed, _ := waitFor(t, f.cp, mark, "the light removed", is("reg", "removed"))
			end, _ := waitFor(t, f.cp, mark, "the subscription's end", is("sub-end", ""))
			t.Logf("%s: registry removed the light %v after the fault; Subscription.Run returned %v after: %s",
				tc.name, since(t0, removed), since(t0, end), end.kv["err"])
			if end.kv["gone"] != "true" {
				t.Errorf("Run ended with %q, want an error wrapping ErrDeviceGone", end.kv["err"])
			}
			if removed.int("n") != 0 {
				t.Errorf("registry still holds %d entries for the light", removed.int("n"))
			}
			var failed []line
			for _, l := range linesOf(f.cp, mark) {
				if l.kind == "log" && strings.Contains(l.raw, "renewal failed") || l.kind == "log" && strings.Contains(l.raw, "controlpoint: subscribe") {
					failed = append(failed, l)
				}
			}
			if len(failed) == 0 {
				t.Errorf("no failed renewal or resubscription logged before the end")
			} else {
				t.Logf("%s: first failure %v after the fault: %s", tc.name, since(t0, failed[0]), failed[0].kv["err"])
			}
		})
	}
}

// TestFaultDeviceRestart: the light restarts on the same port with the same
// UDN and the next BOOTID (BootIDFile), after a crash (SIGKILL: no byebye) or
// a clean exit (byebye). It grants 60 s subscriptions and announces a 60 s
// max-age, so neither a failed renewal nor an expiry can be what notices:
// the registry sees the new BOOTID, re-describes the light (rebooted; or
// removed, then added), holds one entry for it, and the subscription is made
// again and keeps delivering events.
func TestFaultDeviceRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		kill bool
	}{{"crash", true}, {"clean", false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultLab(t, netlab.Config{Hosts: 2}, "-maxage", "60s", "-maxsub", "60s")
			boot := f.startLight().int("boot")
			f.startCP("-sub", "60s", "-toggle", "500ms")
			first, _ := waitFor(t, f.cp, 0, "an event", is("event", ""))
			mark := len(f.cp.Lines())
			t0 := time.Now()
			if tc.kill {
				f.kill()
			} else if err := f.light.Stop(); err != nil {
				t.Fatal(err)
			}
			ready := f.startLight()
			up, boot2 := ready.at, ready.int("boot")
			if boot2 != boot+1 {
				t.Fatalf("BOOTID %d after %d", boot2, boot)
			}
			want := "rebooted"
			if !tc.kill {
				want = "added" // after the byebye's removal
			}
			re, _ := waitFor(t, f.cp, mark, "the light "+want, func(l line) bool {
				return l.kind == "reg" && l.sub == want && l.int("boot") == boot2
			})
			if re.int("n") != 1 {
				t.Errorf("registry holds %d entries for the light after the restart: %s", re.int("n"), re.raw)
			}
			ev, i := waitFor(t, f.cp, mark, "an event of a new subscription", func(l line) bool {
				return l.kind == "event" && l.kv["sid"] != first.kv["sid"]
			})
			waitFor(t, f.cp, mark, "events of a new subscription", func(l line) bool {
				return l.kind == "event" && l.kv["sid"] != first.kv["sid"] && l.int("seq") >= 2
			})
			ok, _ := waitFor(t, f.cp, i, "an action after the restart", is("invoke", "ok"))
			if ok.int("n") != 1 {
				t.Errorf("registry holds %d entries for the light: %s", ok.int("n"), ok.raw)
			}
			noneLost(t, f, up)
			t.Logf("%s: light down for %v; registry %s it %v after it was back, new subscription's first event %v after",
				tc.name, up.Sub(t0).Round(10*time.Millisecond), want, since(up, re), since(up, ev))
			for _, l := range linesOf(f.cp, mark) {
				if l.kind == "sub-end" {
					t.Errorf("the subscription ended: %s", l.raw)
				}
				if l.kind == "reg" && l.int("n") > 1 {
					t.Errorf("two entries for the light: %s", l.raw)
				}
			}
		})
	}
}

// recovered waits, after a fault that left the light running, until the
// control point works with it again at wantLoc: it switches the light
// there (after the time after), gets events from a subscription other than
// sid, and its registry holds that one entry for the light. It returns the
// first action and the first event that came.
func recovered(t *testing.T, f *faultLab, mark int, after time.Time, sid, wantLoc string) (invoke, event line) {
	t.Helper()
	// The control point may subscribe more than once on the way (after
	// the failed renewal, then at the reboot the registry reports): any
	// new subscription that goes on delivering will do.
	ev, _ := waitFor(t, f.cp, mark, "an event of a new subscription", func(l line) bool {
		return l.kind == "event" && l.kv["sid"] != sid
	})
	waitFor(t, f.cp, mark, "events of a new subscription", func(l line) bool {
		return l.kind == "event" && l.kv["sid"] != sid && l.int("seq") >= 2
	})
	back := func(l line) bool {
		return l.kind == "invoke" && l.sub == "ok" && l.kv["loc"] == wantLoc && !l.at.Before(after.Truncate(time.Millisecond))
	}
	ok, _ := waitFor(t, f.cp, mark, "an action at "+wantLoc, back)
	// One entry, and it stays one: a stale LOCATION must not linger.
	_, j := waitFor(t, f.cp, mark, "one registry entry", func(l line) bool { return back(l) && l.int("n") == 1 })
	last, _ := waitFor(t, f.cp, j, "actions after recovery", func(l line) bool { return l.kind == "invoke" && l.sub == "ok" })
	for _, l := range linesOf(f.cp, j) {
		if l.at.After(last.at) {
			break
		}
		if l.kind == "invoke" && l.int("n") != 1 {
			t.Errorf("registry holds %d entries after recovery: %s", l.int("n"), l.raw)
		}
	}
	for _, l := range linesOf(f.cp, mark) {
		if l.kind == "sub-end" {
			t.Errorf("the subscription ended: %s", l.raw)
		}
	}
	noneLost(t, f, after)
	// The light never announces a LOCATION before it serves it.
	for _, l := range linesOf(f.cp, mark) {
		if l.kind == "log" && strings.Contains(l.raw, "registry describe") && !l.at.Before(after.Truncate(time.Millisecond)) {
			t.Errorf("the registry could not describe the light: %s", l.raw)
		}
	}
	return ok, ev
}

// TestFaultInterfaceFlap: the light's lan0 goes down for 3 s, longer than
// its 2 s subscription, and comes back. Neither process restarts: the light
// re-opens its HTTP listener and announces itself with a new BOOTID, and the
// control point re-describes it, subscribes again and switches it.
func TestFaultInterfaceFlap(t *testing.T) {
	f := newFaultLab(t, netlab.Config{Hosts: 2}, "-maxage", "30s", "-maxsub", "2s")
	f.startLight()
	f.startCP("-sub", "2s", "-toggle", "500ms")
	first, _ := waitFor(t, f.cp, 0, "an event", is("event", ""))
	loc := "http://" + f.dev.IPv4.String() + ":8080/desc.xml"
	mark := len(f.cp.Lines())
	lmark := len(f.light.Lines())
	t0 := time.Now()
	f.dev.Exec(t, "ip", "link", "set", "lan0", "down")
	waitFor(t, f.light, lmark, "the light closing its listener", func(l line) bool { return strings.Contains(l.raw, "address gone") })
	time.Sleep(3 * time.Second)
	f.dev.Exec(t, "ip", "link", "set", "lan0", "up")
	up := time.Now()
	ok, ev := recovered(t, f, mark, up, first.kv["sid"], loc)
	// The light came back with a new BOOTID (UDA 1.1 section 1.2.4), and
	// served its description by the time it said so.
	re, _ := waitFor(t, f.cp, mark, "the reboot reported", func(l line) bool {
		return l.kind == "reg" && l.sub == "rebooted" && l.kv["loc"] == loc && l.int("n") == 1
	})
	t.Logf("lan0 down for %v; after it came back: registry rebooted %v, first event of the new subscription %v, first action %v",
		up.Sub(t0).Round(10*time.Millisecond), since(up, re), since(up, ev), since(up, ok))
}

// TestFaultAddressChange: the light's address changes under it, and
// neither process restarts. "autoip-to-dhcp": the light starts with only
// an AutoIP address, 169.254.7.1 (the control point has 169.254.7.2 too),
// then gets a lease, 10.77.0.11, and drops the link-local address, as
// package autoip does. "renumber": the light loses 10.77.0.11 and only
// 1.5 s later gets 10.77.0.21, so that the byebye it sends meanwhile has
// no IPv4 source and is lost. Either way the control point finds the light
// at its new LOCATION, switches it there, gets its events, and holds one
// entry for it.
func TestFaultAddressChange(t *testing.T) {
	t.Run("autoip-to-dhcp", func(t *testing.T) {
		f := newFaultLab(t, netlab.Config{Hosts: 2, NoIPv4: []int{1}}, "-maxage", "30s", "-maxsub", "2s")
		ll := netip.MustParsePrefix("169.254.7.1/16")
		lease := netip.MustParsePrefix("10.77.0.11/24")
		f.dev.AddAddr(t, ll)
		f.cpH.AddAddr(t, netip.MustParsePrefix("169.254.7.2/16"))
		f.startLight()
		f.startCP("-sub", "2s", "-toggle", "500ms")
		first, _ := waitFor(t, f.cp, 0, "an event", is("event", ""))
		added, _ := waitFor(t, f.cp, 0, "the light added", is("reg", "added"))
		if want := "http://169.254.7.1:8080/desc.xml"; added.kv["loc"] != want {
			t.Fatalf("light found at %s, want %s", added.kv["loc"], want)
		}
		mark := len(f.cp.Lines())
		t0 := time.Now()
		f.dev.AddAddr(t, lease)
		f.dev.DelAddr(t, ll)
		ok, ev := recovered(t, f, mark, t0, first.kv["sid"], "http://10.77.0.11:8080/desc.xml")
		t.Logf("AutoIP to DHCP: first action at the new LOCATION %v after the change, first event of the new subscription %v",
			since(t0, ok), since(t0, ev))
		logRegistry(t, f, mark, t0)
	})
	t.Run("renumber", func(t *testing.T) {
		f := newFaultLab(t, netlab.Config{Hosts: 2}, "-maxage", "30s", "-maxsub", "2s")
		f.startLight()
		f.startCP("-sub", "2s", "-toggle", "500ms")
		first, _ := waitFor(t, f.cp, 0, "an event", is("event", ""))
		mark := len(f.cp.Lines())
		t0 := time.Now()
		f.dev.DelAddr(t, f.dev.Prefix)
		time.Sleep(1500 * time.Millisecond) // three interface polls of the light
		f.dev.AddAddr(t, netip.MustParsePrefix("10.77.0.21/24"))
		ok, ev := recovered(t, f, mark, t0, first.kv["sid"], "http://10.77.0.21:8080/desc.xml")
		t.Logf("renumbered with a gap of 1.5 s: first action at the new LOCATION %v after the old address went, first event of the new subscription %v",
			since(t0, ok), since(t0, ev))
		logRegistry(t, f, mark, t0)
	})
}

func logRegistry(t *testing.T, f *faultLab, mark int, t0 time.Time) {
	for _, l := range linesOf(f.cp, mark) {
		if l.kind == "reg" {
			t.Logf("registry: %s %s boot=%s n=%s (%v)", l.sub, l.kv["loc"], l.kv["boot"], l.kv["n"], since(t0, l))
		}
	}
}

// TestFaultPartition: the light's port on the bridge goes down for 5 s,
// more than twice its 2 s subscription, less than its 30 s max-age. The
// renewal fails (logged by the Client), the control point keeps trying,
// and once the link is back the subscription is made again and delivers
// events, without a restart; the registry kept its one entry throughout.
func TestFaultPartition(t *testing.T) {
	f := newFaultLab(t, netlab.Config{Hosts: 2}, "-maxage", "30s", "-maxsub", "2s")
	f.startLight()
	f.startCP("-sub", "2s", "-toggle", "500ms", "-ctimeout", "1s")
	first, _ := waitFor(t, f.cp, 0, "an event", is("event", ""))
	loc := "http://" + f.dev.IPv4.String() + ":8080/desc.xml"
	mark := len(f.cp.Lines())
	t0 := time.Now()
	f.lan.LinkDown(t, f.dev)
	fail, _ := waitFor(t, f.cp, mark, "a failed renewal", func(l line) bool {
		return l.kind == "log" && strings.Contains(l.raw, "renewal failed")
	})
	time.Sleep(time.Until(t0.Add(5 * time.Second)))
	f.lan.LinkUp(t, f.dev)
	up := time.Now()
	ok, ev := recovered(t, f, mark, up, first.kv["sid"], loc)
	attempts := 0
	for _, l := range linesOf(f.cp, mark) {
		if l.kind == "log" && strings.Contains(l.raw, "controlpoint: subscribe") && l.at.Before(ev.at) {
			attempts++
		}
		if l.kind == "reg" && l.sub == "removed" {
			t.Errorf("the registry dropped the light during a partition shorter than its max-age: %s", l.raw)
		}
	}
	t.Logf("partition of %v: renewal failed %v after it began (%s); %d failed resubscriptions; after the link came back: first action %v, first event of the new subscription %v",
		up.Sub(t0).Round(10*time.Millisecond), since(t0, fail), fail.kv["err"], attempts, since(up, ok), since(up, ev))
}

//go:build linux

package autoip

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

// TestMain lets the multi-host tests run agents and ARP peers as processes
// in network namespaces (internal/netlab).
func TestMain(m *testing.M) {
	netlab.Main(m, map[string]netlab.Role{
		"agent":    roleAgent,
		"announce": roleAnnounce,
		"dial":     roleDial,
	})
}

// fast is the compressed timing of the multi-host tests: a claim takes
// 0.3 to 1 s.
var fast = Timing{
	ProbeWait:         200 * time.Millisecond,
	ProbeMin:          100 * time.Millisecond,
	ProbeMax:          200 * time.Millisecond,
	AnnounceWait:      300 * time.Millisecond,
	AnnounceInterval:  200 * time.Millisecond,
	RateLimitInterval: 2 * time.Second,
	DefendInterval:    5 * time.Second,
	DHCPTimeout:       5 * time.Second, // dnsmasq checks an address with ping for 3 s before its first offer
	DHCPRetry:         3 * time.Second,
}

// roleAgent runs an Agent on lan0 and prints one line per event:
// "TYPE ADDR prev=P cur=C peer=M ms=N", N the milliseconds since Run began;
// "stopped" when Run returned nil, "error: ..." otherwise. Flags: -no-dhcp,
// -fast (the fast timing), -first ADDR, -dhcp-retry D, -listen (accept TCP
// on port 7777 and print "accepted FROM"), -at UNIXMS (start then).
func roleAgent(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	noDHCP := fs.Bool("no-dhcp", false, "")
	fastT := fs.Bool("fast", false, "")
	first := fs.String("first", "", "")
	retry := fs.Duration("dhcp-retry", 0, "")
	listen := fs.Bool("listen", false, "")
	at := fs.Int64("at", 0, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *at > 0 { // start at this Unix millisecond, for agents meant to start together
		time.Sleep(time.Until(time.UnixMilli(*at)))
	}
	a := &Agent{Interface: "lan0", NoDHCP: *noDHCP}
	if *fastT {
		a.Timing = fast
	}
	if *retry > 0 {
		a.Timing.DHCPRetry = *retry
	}
	if *first != "" {
		a.First = netip.MustParseAddr(*first)
	}
	if *listen {
		ln, err := net.Listen("tcp4", ":7777")
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				fmt.Println("accepted", c.RemoteAddr(), "on", c.LocalAddr())
				c.Close()
			}
		}()
	}
	events, _ := a.Subscribe(1000)
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range events {
			line := fmt.Sprintf("%v %v", ev.Type, ev.Addr)
			if ev.Prev.IsValid() {
				line += " prev=" + ev.Prev.String()
			}
			line += " cur=" + ev.Current.String()
			if ev.Peer != nil {
				line += " peer=" + ev.Peer.String()
			}
			if ev.Err != nil {
				line += fmt.Sprintf(" err=%q", ev.Err.Error())
			}
			fmt.Printf("%s ms=%d\n", line, time.Since(start).Milliseconds())
		}
	}()
	err := a.Run(ctx)
	<-done
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("stopped")
	return 0
}

// roleAnnounce claims an address the rude way: args ADDR COUNT INTERVAL.
// It sends COUNT ARP announcements of ADDR from this host, INTERVAL apart,
// printing "sent N" after each, and prints "heard MAC" for every
// announcement of ADDR from another host (a defence) until stopped.
func roleAnnounce(ctx context.Context, args []string) int {
	addr := netip.MustParseAddr(args[0])
	var count int
	fmt.Sscan(args[1], &count)
	interval, _ := time.ParseDuration(args[2])
	l, err := openLink(&Agent{Interface: "lan0"})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer l.close()
	go func() {
		for {
			p, err := l.readARP()
			if err != nil {
				return
			}
			if p.SenderIP == addr {
				fmt.Println("heard", net.HardwareAddr(p.SenderHW[:]))
			}
		}
	}()
	mac := l.hardwareAddr()
	for i := 1; i <= count; i++ {
		if err := l.sendARP(announcement(mac, addr)); err != nil {
			fmt.Println("error:", err)
			return 1
		}
		fmt.Println("sent", i)
		if i < count {
			time.Sleep(interval)
		}
	}
	<-ctx.Done()
	return 0
}

// roleDial connects to args[0] (host:port) over TCP and prints "connected".
func roleDial(ctx context.Context, args []string) int {
	d := net.Dialer{Timeout: 3 * time.Second}
	c, err := d.DialContext(ctx, "tcp4", args[0])
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("connected from", c.LocalAddr())
	c.Close()
	return 0
}

// agentEvent is one line of roleAgent's output.
type agentEvent struct {
	typ       string
	addr, cur netip.Prefix
	prev      netip.Prefix
	ms        int
	line      string
}

func parseAgentLine(line string) (agentEvent, bool) {
	f := strings.Fields(line)
	if len(f) < 3 || !strings.HasPrefix(f[len(f)-1], "ms=") {
		return agentEvent{}, false
	}
	ev := agentEvent{typ: f[0], line: line}
	ev.addr, _ = netip.ParsePrefix(f[1])
	for _, kv := range f[2:] {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "cur":
			ev.cur, _ = netip.ParsePrefix(v)
		case "prev":
			ev.prev, _ = netip.ParsePrefix(v)
		case "ms":
			fmt.Sscan(v, &ev.ms)
		}
	}
	return ev, true
}

// waitEvent waits up to d for the agent's next event of type typ after the
// first skip such events, and returns it.
func waitEvent(t *testing.T, p *netlab.Proc, typ string, skip int, d time.Duration) agentEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	for line := range p.Follow(ctx) {
		if strings.HasPrefix(line, "error:") {
			t.Fatalf("%v: %s", p, line)
		}
		if ev, ok := parseAgentLine(line); ok && ev.typ == typ {
			if skip == 0 {
				return ev
			}
			skip--
		}
	}
	t.Fatalf("%v: no %q event within %v; output:\n%s", p, typ, d, strings.Join(p.Lines(), "\n"))
	return agentEvent{}
}

// events returns the types of the agent's events so far.
func events(p *netlab.Proc) []string {
	var out []string
	for _, l := range p.Lines() {
		if ev, ok := parseAgentLine(l); ok {
			out = append(out, ev.typ)
		}
	}
	return out
}

func skipOrFail(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv(netlab.RequireEnv) == "1" {
		t.Fatal(reason)
	}
	t.Skip(reason)
}

package netlab_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

// testPort is the UDP port of the multicast checks; not 1900, so that they
// cannot be mistaken for SSDP.
const testPort = "19001"

func TestMain(m *testing.M) {
	netlab.Main(m, map[string]netlab.Role{
		"addrs":  addrs,
		"recv":   recv,
		"send":   send,
		"beacon": beacon,
		"sleep":  sleep,
		"exit":   exit,
		"panic":  func(context.Context, []string) int { panic("role panics on purpose") },
	})
}

// addrs prints "addr PREFIX" for each address of the interface args[0].
func addrs(ctx context.Context, args []string) int {
	ifi, err := net.InterfaceByName(args[0])
	if err != nil {
		fmt.Println(err)
		return 1
	}
	as, err := ifi.Addrs()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println("mac", ifi.HardwareAddr)
	for _, a := range as {
		fmt.Println("addr", a)
	}
	return 0
}

// recv joins group args[1] on interface args[2] and prints "ready", then
// "got SOURCE PAYLOAD" for each datagram to port testPort, until ctx ends.
// args[0] is udp4 or udp6.
func recv(ctx context.Context, args []string) int {
	network, group, ifname := args[0], args[1], args[2]
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	port, _ := strconv.Atoi(testPort)
	c, err := net.ListenMulticastUDP(network, ifi, &net.UDPAddr{IP: net.ParseIP(group), Port: port})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer c.Close()
	go func() {
		<-ctx.Done()
		c.Close()
	}()
	fmt.Println("ready")
	buf := make([]byte, 1500)
	for {
		n, src, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return 0
			}
			fmt.Println(err)
			return 1
		}
		fmt.Println("got", src.Addr(), string(buf[:n]))
	}
}

// send sends args[3] to group args[1] port testPort, out of interface
// args[2], and prints "sent from SOURCE". args[0] is udp4 or udp6.
func send(ctx context.Context, args []string) int {
	payload := args[3]
	c, err := dialGroup(args[0], args[1], args[2])
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer c.Close()
	if _, err := c.Write([]byte(payload)); err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println("sent from", c.LocalAddr())
	return 0
}

// dialGroup returns a UDP socket connected to group port testPort, out of
// interface ifname for IPv6.
func dialGroup(network, group, ifname string) (net.Conn, error) {
	if network == "udp6" {
		group += "%" + ifname
	}
	return net.Dial(network, net.JoinHostPort(group, testPort))
}

// beacon is send again and again: it sends args[3], followed by " #" and
// the datagram's number from 0, to group args[1] port testPort out of
// interface args[2] every beaconInterval, at most beaconSends times, until
// ctx ends. A datagram can be lost without the
// sender knowing, for instance while a link that just came up is still
// being activated (Linux does that asynchronously, after the carrier): a
// test that must see one multicast datagram arrive keeps sending until it
// does.
func beacon(ctx context.Context, args []string) int {
	payload := args[3]
	c, err := dialGroup(args[0], args[1], args[2])
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer c.Close()
	tick := time.NewTicker(beaconInterval)
	defer tick.Stop()
	for i := range beaconSends {
		if _, err := fmt.Fprintf(c, "%s #%d", payload, i); err != nil {
			fmt.Println(err)
			return 1
		}
		if i == 0 {
			fmt.Println("sending from", c.LocalAddr())
		}
		select {
		case <-ctx.Done():
			return 0
		case <-tick.C:
		}
	}
	fmt.Println("gave up after", beaconSends, "datagrams")
	return 0
}

const (
	beaconInterval = 50 * time.Millisecond
	beaconSends    = 400 // 20 s
)

// sleep prints "ready" and waits for ctx to end.
func sleep(ctx context.Context, args []string) int {
	fmt.Println("ready")
	<-ctx.Done()
	return 0
}

// exit prints to stdout and stderr and exits with status args[0].
func exit(ctx context.Context, args []string) int {
	fmt.Println("to stdout")
	fmt.Fprintln(os.Stderr, "to stderr")
	code, _ := strconv.Atoi(args[0])
	return code
}

func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ready(t *testing.T, p *netlab.Proc) {
	t.Helper()
	if err := p.WaitForLine(timeout(t), "ready"); err != nil {
		t.Fatal(err)
	}
}

// broadcast sends payload from host from to group until it stops the
// returned beacon (at most beaconSends times), so that the receivers
// get it even if the first datagrams are lost.
func broadcast(t *testing.T, from *netlab.Host, network, group, payload string) *netlab.Proc {
	t.Helper()
	b := from.Start(t, "beacon", network, group, from.Interface, payload)
	t.Cleanup(func() { b.Stop() })
	return b
}

// received waits until r prints want, which b is sending, and logs which
// datagram came first.
func received(t *testing.T, r, b *netlab.Proc, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for line := range r.Follow(ctx) {
		if strings.Contains(line, want) {
			t.Logf("%s: %s", r, line)
			return
		}
	}
	t.Fatalf("%s did not print %q: %v\n%s\nsender %s:\n%s", r, want, ctx.Err(), strings.Join(r.Lines(), "\n"), b, strings.Join(b.Lines(), "\n"))
}

// transmit sends payload from host from, and returns after it was sent.
func transmit(t *testing.T, from *netlab.Host, network, group, payload string) string {
	t.Helper()
	s := from.Start(t, "send", network, group, from.Interface, payload)
	if err := s.Wait(timeout(t)); err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(s.Lines(), "\n"))
	}
	return strings.Join(s.Lines(), "\n")
}

func nsExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// procGone reports whether pid ends, or becomes a zombie, within two seconds.
func procGone(pid int) bool {
	for range 200 {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		// pid (comm) state ...
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i:]), ") Z") {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func TestLAN(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 3, NoIPv4: []int{3}, ULA: true})
	h1, h2, h3 := lan.Host(1), lan.Host(2), lan.Host(3)

	t.Run("Fields", func(t *testing.T) {
		want := []struct {
			name, mac, ipv4, prefix, ll, ula string
		}{
			{"h1", "02:77:00:00:00:01", "10.77.0.11", "10.77.0.11/24", "fe80::77:ff:fe00:1%lan0", "fd77::11"},
			{"h2", "02:77:00:00:00:02", "10.77.0.12", "10.77.0.12/24", "fe80::77:ff:fe00:2%lan0", "fd77::12"},
			{"h3", "02:77:00:00:00:03", "invalid IP", "invalid Prefix", "fe80::77:ff:fe00:3%lan0", "fd77::13"},
		}
		if len(lan.Hosts) != len(want) {
			t.Fatalf("%d hosts, want %d", len(lan.Hosts), len(want))
		}
		if got := lan.Subnet.String(); got != "10.77.0.0/24" {
			t.Errorf("Subnet = %s, want 10.77.0.0/24", got)
		}
		for i, w := range want {
			h := lan.Hosts[i]
			got := []string{h.Name, h.MAC.String(), h.IPv4.String(), h.Prefix.String(), h.IPv6LinkLocal.String(), h.ULA.String()}
			if wantS := []string{w.name, w.mac, w.ipv4, w.prefix, w.ll, w.ula}; !slices.Equal(got, wantS) {
				t.Errorf("host %d: got %q, want %q", i+1, got, wantS)
			}
			if h.Index != i+1 || h.Interface != "lan0" || lan.Host(i+1) != h {
				t.Errorf("host %d: Index %d, Interface %q", i+1, h.Index, h.Interface)
			}
			if h.Namespace != lan.Name+"-"+h.Name || !nsExists(h.Namespace) {
				t.Errorf("host %d: namespace %q missing", i+1, h.Namespace)
			}
		}
		if lan.Bridge != lan.Name+"-br" || !nsExists(lan.Bridge) {
			t.Errorf("bridge namespace %q missing", lan.Bridge)
		}
	})

	t.Run("Addresses", func(t *testing.T) {
		for _, h := range lan.Hosts {
			p := h.Start(t, "addrs", h.Interface)
			if err := p.Wait(timeout(t)); err != nil {
				t.Fatalf("%v\n%s", err, strings.Join(p.Lines(), "\n"))
			}
			want := []string{"mac " + h.MAC.String(), "addr " + h.IPv6LinkLocal.WithZone("").String() + "/64",
				"addr " + h.ULA.String() + "/64"}
			if h.Prefix.IsValid() {
				want = append(want, "addr "+h.Prefix.String())
			}
			got := p.Lines()
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: got %q, want %q", h, got, want)
			}
		}
	})

	t.Run("Routes", func(t *testing.T) {
		for _, h := range lan.Hosts {
			out := h.Exec(t, "ip", "route", "show")
			for _, want := range []string{"239.0.0.0/8 dev lan0", "224.0.0.0/4 dev lan0"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s: no route %q in\n%s", h, want, out)
				}
			}
			if strings.Contains(out, "default") {
				t.Errorf("%s has a default route:\n%s", h, out)
			}
			if out := h.Exec(t, "ip", "-6", "addr", "show", "tentative"); out != "" {
				t.Errorf("%s has tentative addresses:\n%s", h, out)
			}
		}
	})

	t.Run("IPv4Multicast", func(t *testing.T) {
		r := h2.Start(t, "recv", "udp4", "239.255.255.250", h2.Interface)
		ready(t, r)
		b := broadcast(t, h1, "udp4", "239.255.255.250", "hello4")
		received(t, r, b, "got "+h1.IPv4.String()+" hello4")
	})

	t.Run("IPv6Multicast", func(t *testing.T) {
		r2 := h2.Start(t, "recv", "udp6", "ff02::c", h2.Interface)
		r3 := h3.Start(t, "recv", "udp6", "ff02::c", h3.Interface) // no IPv4
		ready(t, r2)
		ready(t, r3)
		b := broadcast(t, h1, "udp6", "ff02::c", "hello6")
		for _, r := range []*netlab.Proc{r2, r3} {
			received(t, r, b, "got "+h1.IPv6LinkLocal.String()+" hello6")
		}
	})

	t.Run("LinkDown", func(t *testing.T) {
		r := h2.Start(t, "recv", "udp4", "239.255.255.250", h2.Interface)
		ready(t, r)
		lan.LinkDown(t, h2)
		transmit(t, h1, "udp4", "239.255.255.250", "lost")
		if out := h2.Exec(t, "ip", "-br", "addr", "show", "dev", "lan0"); !strings.Contains(out, h2.Prefix.String()) ||
			!strings.Contains(out, h2.IPv6LinkLocal.WithZone("").String()) || !strings.Contains(out, " DOWN ") {
			t.Errorf("lan0 after LinkDown:\n%s", out)
		}
		lan.LinkUp(t, h2)
		b := broadcast(t, h1, "udp4", "239.255.255.250", "found")
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		for line := range r.Follow(ctx) {
			if strings.Contains(line, "lost") {
				t.Errorf("received while the link was down: %q", line)
			}
			if strings.Contains(line, "found") {
				t.Logf("%s: %s", r, line)
				return
			}
		}
		t.Fatalf("nothing after LinkUp: %v\n%s\nsender %s:\n%s", ctx.Err(), strings.Join(r.Lines(), "\n"), b, strings.Join(b.Lines(), "\n"))
	})

	t.Run("AddAddr", func(t *testing.T) {
		for _, s := range []string{"169.254.3.3/16", "fd00:3::3/64"} {
			p := netip.MustParsePrefix(s)
			h3.AddAddr(t, p)
			out := h3.Exec(t, "ip", "-br", "addr", "show", "dev", "lan0")
			if !strings.Contains(out, s) {
				t.Errorf("after AddAddr(%s):\n%s", s, out)
			}
			if strings.Contains(h3.Exec(t, "ip", "addr", "show", "tentative"), s) {
				t.Errorf("%s is tentative", s)
			}
			h3.DelAddr(t, p)
			if out := h3.Exec(t, "ip", "-br", "addr", "show", "dev", "lan0"); strings.Contains(out, s) {
				t.Errorf("after DelAddr(%s):\n%s", s, out)
			}
		}
	})
}

func TestIsolation(t *testing.T) {
	t.Parallel()
	a := netlab.New(t, netlab.Config{})
	b := netlab.New(t, netlab.Config{})
	if a.Bridge == b.Bridge || a.Host(1).Namespace == b.Host(1).Namespace {
		t.Fatalf("LANs share names: %s %s", a.Bridge, b.Bridge)
	}
	ra := a.Host(2).Start(t, "recv", "udp4", "239.255.255.250", "lan0")
	rb := b.Host(2).Start(t, "recv", "udp4", "239.255.255.250", "lan0")
	ready(t, ra)
	ready(t, rb)
	beacon := broadcast(t, a.Host(1), "udp4", "239.255.255.250", "for-a")
	received(t, ra, beacon, "for-a")
	// The beacon goes on meanwhile.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := rb.WaitForLine(ctx, "for-a"); err == nil {
		t.Errorf("the other LAN got it:\n%s", strings.Join(rb.Lines(), "\n"))
	}
}

func TestProc(t *testing.T) {
	t.Parallel()
	lan := netlab.New(t, netlab.Config{Hosts: 1})
	h := lan.Host(1)

	t.Run("ExitCode", func(t *testing.T) {
		p := h.Start(t, "exit", "7")
		err := p.Wait(timeout(t))
		if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 7 {
			t.Errorf("Wait = %v, want exit status 7", err)
		}
		if got := p.ExitCode(); got != 7 {
			t.Errorf("ExitCode = %d, want 7", got)
		}
		got := slices.Sorted(slices.Values(p.Lines()))
		if want := []string{"to stderr", "to stdout"}; !slices.Equal(got, want) {
			t.Errorf("lines %q, want %q", got, want)
		}
		if err := p.Stop(); err == nil {
			t.Error("Stop after a failed exit = nil")
		}
	})

	t.Run("Stop", func(t *testing.T) {
		p := h.Start(t, "sleep")
		ready(t, p)
		if got := p.ExitCode(); got != -1 {
			t.Errorf("ExitCode while running = %d", got)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if err := p.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait while running = %v", err)
		}
		if err := p.Stop(); err != nil {
			t.Errorf("Stop = %v", err)
		}
		if got := p.ExitCode(); got != 0 {
			t.Errorf("ExitCode after Stop = %d", got)
		}
		if !procGone(p.Pid) {
			t.Errorf("pid %d still there", p.Pid)
		}
	})

	t.Run("UnknownRole", func(t *testing.T) {
		p := h.Start(t, "nope")
		err := p.WaitForLine(timeout(t), "ready")
		if err == nil || !strings.Contains(err.Error(), `unknown role "nope"`) {
			t.Errorf("WaitForLine = %v", err)
		}
		if got := p.ExitCode(); got != 2 {
			t.Errorf("ExitCode = %d, want 2", got)
		}
	})

	t.Run("StartCommand", func(t *testing.T) {
		p := h.StartCommand(t, "sh", "-c", "echo one; echo two >&2; printf three")
		if err := p.Wait(timeout(t)); err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Join(p.Lines(), "\n"), "one\ntwo\nthree"; got != want {
			t.Errorf("Output = %q, want %q", got, want)
		}
		p = h.StartCommand(t, "sh", "-c", "echo ready; exec sleep 60")
		ready(t, p)
		if err := p.Stop(); err != nil {
			t.Errorf("Stop = %v, want nil for death by SIGTERM", err)
		}
	})

	t.Run("Exec", func(t *testing.T) {
		out := h.Exec(t, "ip", "-br", "link", "show")
		if !strings.Contains(out, "lan0@") || strings.Contains(out, "eth0") {
			t.Errorf("links in %s:\n%s", h, out)
		}
	})
}

// TestTeardown checks that a LAN's cleanup ends what runs in it and
// deletes its namespaces.
func TestTeardown(t *testing.T) {
	var names []string
	var role *netlab.Proc
	var cmd *exec.Cmd
	t.Run("Build", func(t *testing.T) {
		lan := netlab.New(t, netlab.Config{Hosts: 2})
		names = append(names, lan.Bridge)
		for _, h := range lan.Hosts {
			names = append(names, h.Namespace)
		}
		role = lan.Host(1).Start(t, "sleep")
		ready(t, role)
		cmd = lan.Host(2).Command(context.Background(), "sleep", "60") // never waited for by the test
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	})
	for _, n := range names {
		if nsExists(n) {
			t.Errorf("namespace %s left behind", n)
		}
	}
	if !procGone(role.Pid) {
		t.Errorf("role pid %d left behind", role.Pid)
	}
	if err := cmd.Wait(); err == nil || cmd.ProcessState.Exited() {
		t.Errorf("command started in the LAN: Wait = %v, want death by a signal", err)
	}
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.Contains(string(out), n) {
			t.Errorf("ip netns list shows %s:\n%s", n, out)
		}
	}
}

// TestCleanupAfterFailure runs TestHelperProcess in a child process that
// fails, panics or exits at once after building a LAN, or whose role
// crashes, and checks what is left.
func TestCleanupAfterFailure(t *testing.T) {
	netlab.Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"fail", "panic", "exit", "crash"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.CommandContext(timeout(t), exe, "-test.run=^TestHelperProcess$", "-test.v")
			cmd.Env = append(os.Environ(), "NETLAB_HELPER="+mode, "GORACE=atexit_sleep_ms=0")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("helper succeeded:\n%s", out)
			}
			var names []string
			pid := 0
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				if f := strings.Fields(sc.Text()); len(f) > 2 && f[0] == "HELPER" {
					pid, _ = strconv.Atoi(f[1])
					names = f[2:]
				}
			}
			if pid == 0 {
				t.Fatalf("no HELPER line:\n%s", out)
			}
			if mode == "crash" && !strings.Contains(string(out), "h1/panic[") {
				t.Errorf("the role's crash was not reported:\n%s", out)
			}
			if !procGone(pid) {
				t.Errorf("role pid %d left behind", pid)
			}
			for _, n := range names {
				if nsExists(n) != (mode == "exit") {
					t.Errorf("namespace %s exists: %v", n, nsExists(n))
				}
			}
			if mode == "exit" {
				netlab.New(t, netlab.Config{Hosts: 1}) // sweeps the dead process's namespaces
				for _, n := range names {
					if nsExists(n) {
						t.Errorf("namespace %s not swept", n)
					}
				}
			}
		})
	}
}

// TestHelperProcess is TestCleanupAfterFailure's child.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv("NETLAB_HELPER")
	if mode == "" {
		t.Skip("only run by TestCleanupAfterFailure")
	}
	lan := netlab.New(t, netlab.Config{Hosts: 2})
	p := lan.Host(1).Start(t, "sleep")
	ready(t, p)
	fmt.Println("HELPER", p.Pid, lan.Bridge, lan.Host(1).Namespace, lan.Host(2).Namespace)
	switch mode {
	case "fail":
		t.Fatal("failing on purpose")
	case "panic":
		panic("panicking on purpose")
	case "exit":
		os.Exit(3)
	case "crash":
		lan.Host(1).Start(t, "panic").Wait(t.Context()) // the cleanup fails the test
	}
}

package netlab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns skips into failures: with
// UPNP_REQUIRE_NETNS=1, a test that cannot get network namespaces fails.
const RequireEnv = "UPNP_REQUIRE_NETNS"

const (
	netnsDir   = "/run/netns"
	ifName     = "lan0"
	maxHosts   = 200
	cmdTimeout = 10 * time.Second // for each ip or sysctl run while building or tearing down
	execLimit  = time.Minute      // for Host.Exec
)

var defaultSubnet = netip.MustParsePrefix("10.77.0.0/24")

// Config describes a LAN. The zero value is two hosts with IPv4 and IPv6
// link-local addresses.
type Config struct {
	// Hosts is the number of hosts, at most 200. Zero means 2.
	Hosts int

	// NoIPv4 lists the hosts, by Index, that get no IPv4 address: lan0 is
	// up with its link-local IPv6 address and the multicast routes, ready
	// for code that picks its own address (AutoIP).
	NoIPv4 []int

	// Subnet is the IPv4 subnet; host i gets its address plus 10+i
	// (10.77.0.11 for host 1). It must be IPv4 and no longer than /24. Zero
	// means 10.77.0.0/24, the lab's. Each LAN is isolated, so LANs may share
	// a subnet.
	Subnet netip.Prefix

	// ULA also gives host i the address fd77::(10+i)/64 (fd77::11 for host
	// 1), without DAD. False means link-local only.
	ULA bool
}

// LAN is a bridge and its hosts, built by New and torn down by the test's
// cleanup. Its fields describe the LAN as built and must not be changed;
// its methods are safe for concurrent use.
type LAN struct {
	// Name prefixes the namespaces' names, like the lab's UPNPLAB_PREFIX:
	// with UPNPLAB_PREFIX=Name, ../shared/lab's lan.sh (exec, capture,
	// status) and peers.sh work on this LAN.
	Name string

	// Bridge is the namespace holding bridge br0 and the ports vh1…vhN:
	// Name+"-br".
	Bridge string

	// Subnet is the IPv4 subnet.
	Subnet netip.Prefix

	// Hosts are the hosts in Index order: Hosts[0] is host 1.
	Hosts []*Host

	ctx    context.Context // done when teardown begins; ends the Commands
	cancel context.CancelFunc
}

// Host is one namespace plugged into the LAN. Its fields describe the host
// as New built it and must not be changed; AddAddr and DelAddr do not update
// them. Its methods are safe for concurrent use.
type Host struct {
	// Name is "h" and the Index, as in the lab: "h1".
	Name string

	// Namespace is the network namespace's name, for "ip netns exec": the
	// LAN's Name, "-" and Name, such as "nl4242x1-h1".
	Namespace string

	// Index is the host's number, from 1.
	Index int

	// Interface is the host's LAN interface, "lan0".
	Interface string

	// MAC is lan0's address, 02:77:00:00:00:ii for host ii, as in the lab.
	MAC net.HardwareAddr

	// IPv4 is lan0's IPv4 address; the zero Addr when the host has none.
	IPv4 netip.Addr

	// Prefix is IPv4 with the subnet's length, such as 10.77.0.11/24; the
	// zero Prefix when the host has no IPv4 address.
	Prefix netip.Prefix

	// IPv6LinkLocal is lan0's link-local address, zoned "lan0".
	IPv6LinkLocal netip.Addr

	// ULA is the fd77::/64 address if Config.ULA was set, else the zero Addr.
	ULA netip.Addr

	lan *LAN
}

// String returns the host's Name.
func (h *Host) String() string { return h.Name }

var lanSeq atomic.Int64 // numbers the LANs of this process

// New builds a LAN for the test and registers its teardown with t.Cleanup.
// It skips the test when namespaces are unavailable (see Require) and ends it
// with t.Fatal when building fails. New is safe to call from parallel tests.
func New(t testing.TB, cfg Config) *LAN {
	t.Helper()
	Require(t)
	lan, err := plan(cfg, os.Getpid(), lanSeq.Add(1))
	if err != nil {
		t.Fatal(err)
	}
	sweep(t)
	t.Cleanup(func() { lan.teardown(t) })
	start := time.Now()
	if err := lan.build(); err != nil {
		t.Fatalf("netlab: building %d hosts: %v", len(lan.Hosts), err)
	}
	t.Logf("netlab: %d hosts on %s in %v (bridge namespace %s)", len(lan.Hosts), lan.Subnet,
		time.Since(start).Round(time.Millisecond), lan.Bridge)
	return lan
}

// plan works out names and addresses; it creates nothing.
func plan(cfg Config, pid int, seq int64) (*LAN, error) {
	n := cfg.Hosts
	if n == 0 {
		n = 2
	}
	if n < 1 || n > maxHosts {
		return nil, fmt.Errorf("netlab: Config.Hosts is %d, want 1 to %d", cfg.Hosts, maxHosts)
	}
	noIPv4 := make(map[int]bool)
	for _, i := range cfg.NoIPv4 {
		if i < 1 || i > n {
			return nil, fmt.Errorf("netlab: Config.NoIPv4 names host %d of %d", i, n)
		}
		noIPv4[i] = true
	}
	subnet := cfg.Subnet
	if !subnet.IsValid() {
		subnet = defaultSubnet
	}
	if !subnet.Addr().Is4() || subnet.Bits() > 24 {
		return nil, fmt.Errorf("netlab: Config.Subnet %s is not IPv4 with at most 24 bits", cfg.Subnet)
	}
	subnet = subnet.Masked()

	name := fmt.Sprintf("nl%dx%s", pid, strconv.FormatInt(seq, 36)) // a-z0-9, as lan.sh wants
	lan := &LAN{Name: name, Bridge: name + "-br", Subnet: subnet}
	lan.ctx, lan.cancel = context.WithCancel(context.Background())
	for i := 1; i <= n; i++ {
		mac := net.HardwareAddr{0x02, 0x77, 0x00, 0x00, 0x00, byte(i)}
		h := &Host{
			Name:          "h" + strconv.Itoa(i),
			Namespace:     name + "-h" + strconv.Itoa(i),
			Index:         i,
			Interface:     ifName,
			MAC:           mac,
			IPv6LinkLocal: linkLocal(mac).WithZone(ifName),
			lan:           lan,
		}
		if !noIPv4[i] {
			a := subnet.Addr().As4()
			a[3] += byte(10 + i) // the host part has 8 bits or more, and 10+i < 256
			h.IPv4 = netip.AddrFrom4(a)
			h.Prefix = netip.PrefixFrom(h.IPv4, subnet.Bits())
		}
		if cfg.ULA {
			h.ULA = netip.MustParseAddr(fmt.Sprintf("fd77::%d", 10+i))
		}
		lan.Hosts = append(lan.Hosts, h)
	}
	return lan, nil
}

// linkLocal returns the modified EUI-64 link-local address of mac (RFC 4291
// appendix A), as the kernel would make it.
func linkLocal(mac net.HardwareAddr) netip.Addr {
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	a[8], a[9], a[10] = mac[0]^0x02, mac[1], mac[2]
	a[11], a[12] = 0xff, 0xfe
	a[13], a[14], a[15] = mac[3], mac[4], mac[5]
	return netip.AddrFrom16(a)
}

// Host returns host i, counted from 1 like Index. It panics if there is no
// such host.
func (l *LAN) Host(i int) *Host {
	if i < 1 || i > len(l.Hosts) {
		panic(fmt.Sprintf("netlab: no host %d in a LAN of %d", i, len(l.Hosts)))
	}
	return l.Hosts[i-1]
}

// build creates the namespaces, the bridge and the hosts. Each step is one
// ip or sysctl run per namespace; the per-host runs go in parallel.
func (l *LAN) build() error {
	var b strings.Builder
	fmt.Fprintf(&b, "netns add %s\n", l.Bridge)
	for _, h := range l.Hosts {
		fmt.Fprintf(&b, "netns add %s\n", h.Namespace)
	}
	if err := ipBatch("", b.String()); err != nil {
		return err
	}

	// No IPv6 in the bridge namespace: br0 and its ports send no DAD, MLD or
	// router solicitations. In the hosts, DAD and autoconfiguration are off
	// for every interface made from now on, lan0 included.
	err := parallel(len(l.Hosts)+1, func(i int) error {
		if i == len(l.Hosts) {
			return sysctl(l.Bridge, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		}
		return sysctl(l.Hosts[i].Namespace, "net.ipv6.conf.default.accept_dad=0",
			"net.ipv6.conf.default.accept_ra=0", "net.ipv6.conf.default.autoconf=0")
	})
	if err != nil {
		return err
	}

	b.Reset()
	b.WriteString("link add br0 type bridge mcast_snooping 0 stp_state 0 forward_delay 0\n")
	b.WriteString("link set br0 up\n")
	for _, h := range l.Hosts {
		fmt.Fprintf(&b, "link add vh%d type veth peer name %s address %s netns %s\n",
			h.Index, ifName, h.MAC, h.Namespace)
		fmt.Fprintf(&b, "link set vh%d master br0\n", h.Index)
		fmt.Fprintf(&b, "link set vh%d up\n", h.Index)
	}
	if err := ipBatch(l.Bridge, b.String()); err != nil {
		return err
	}

	// The link-local address is added by hand with nodad: one the kernel
	// makes stays tentative for a moment after "link set up" returns, even
	// with accept_dad=0, and binding to it fails meanwhile.
	return parallel(len(l.Hosts), func(i int) error {
		h := l.Hosts[i]
		var b strings.Builder
		b.WriteString("link set lo up\n")
		fmt.Fprintf(&b, "link set %s addrgenmode none\n", ifName)
		fmt.Fprintf(&b, "link set %s up\n", ifName)
		fmt.Fprintf(&b, "addr add %s/64 dev %s nodad\n", h.IPv6LinkLocal.WithZone(""), ifName)
		if h.Prefix.IsValid() {
			fmt.Fprintf(&b, "addr add %s dev %s\n", h.Prefix, ifName)
		}
		if h.ULA.IsValid() {
			fmt.Fprintf(&b, "addr add %s/64 dev %s nodad\n", h.ULA, ifName)
		}
		fmt.Fprintf(&b, "route add 239.0.0.0/8 dev %s\n", ifName)
		fmt.Fprintf(&b, "route add 224.0.0.0/4 dev %s\n", ifName)
		return ipBatch(h.Namespace, b.String())
	})
}

// teardown ends the processes left in the LAN's namespaces and deletes them.
func (l *LAN) teardown(t testing.TB) {
	// Canceling l.ctx signals every process started by Command, even one
	// still in "ip netns exec" before it entered its namespace, where the
	// scan of namespaces below could not see it.
	l.cancel()
	names := []string{l.Bridge}
	for _, h := range l.Hosts {
		names = append(names, h.Namespace)
	}
	if err := deleteNamespaces(names, true); err != nil {
		t.Errorf("netlab: teardown: %v", err)
	}
}

// LinkDown sets h's port on the bridge down, as if its cable were pulled:
// lan0 loses carrier but keeps its addresses and routes, and no frame
// passes. It ends the test with t.Fatal on failure.
func (l *LAN) LinkDown(t testing.TB, h *Host) {
	t.Helper()
	if err := ipBatch(l.Bridge, fmt.Sprintf("link set vh%d down\n", h.Index)); err != nil {
		t.Fatal(err)
	}
}

// LinkUp undoes LinkDown. It ends the test with t.Fatal on failure.
func (l *LAN) LinkUp(t testing.TB, h *Host) {
	t.Helper()
	if err := ipBatch(l.Bridge, fmt.Sprintf("link set vh%d up\n", h.Index)); err != nil {
		t.Fatal(err)
	}
}

// AddAddr adds p, such as 169.254.7.1/16, to h's lan0; IPv6 addresses skip
// DAD. It ends the test with t.Fatal on failure.
func (h *Host) AddAddr(t testing.TB, p netip.Prefix) {
	t.Helper()
	cmd := fmt.Sprintf("addr add %s dev %s", p, ifName)
	if p.Addr().Is6() {
		cmd += " nodad"
	}
	if err := ipBatch(h.Namespace, cmd+"\n"); err != nil {
		t.Fatal(err)
	}
}

// DelAddr removes p from h's lan0. It ends the test with t.Fatal on failure.
func (h *Host) DelAddr(t testing.TB, p netip.Prefix) {
	t.Helper()
	if err := ipBatch(h.Namespace, fmt.Sprintf("addr del %s dev %s\n", p, ifName)); err != nil {
		t.Fatal(err)
	}
}

// Command returns a command that runs name in h's namespace through
// "ip netns exec", which keeps the environment and working directory. When
// ctx is done or the LAN is torn down, the process gets SIGTERM, and SIGKILL
// a second later (Cmd.Cancel and Cmd.WaitDelay). On Linux it is killed if
// the test process dies first.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	ctx, cancel := context.WithCancel(ctx)
	context.AfterFunc(h.lan.ctx, cancel)
	cmd := exec.CommandContext(ctx, ipPath(), append([]string{"netns", "exec", h.Namespace, name}, args...)...)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Second
	return cmd
}

// Exec runs name in h's namespace to completion, within a minute, and
// returns its combined output. It ends the test with t.Fatal, showing the
// output, when the command fails. It works in cleanup functions too.
func (h *Host) Exec(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), execLimit)
	defer cancel()
	out, err := h.Command(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("netlab: %s: %s %s: %v\n%s", h, name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Require skips the test, or fails it if UPNP_REQUIRE_NETNS=1, unless this
// process can create network namespaces: it must be root, find ip, and
// succeed in adding and deleting one (tried once per process). Tests that
// need namespaces but no LAN call it; New calls it too.
func Require(t testing.TB) {
	t.Helper()
	require(t, probe(), os.Getenv(RequireEnv) == "1")
}

func require(t testing.TB, reason string, strict bool) {
	t.Helper()
	switch {
	case reason == "":
	case strict:
		t.Fatalf("netlab: %s (%s=1)", reason, RequireEnv)
	default:
		t.Skipf("netlab: %s; set %s=1 to fail instead", reason, RequireEnv)
	}
}

var probe = sync.OnceValue(func() string {
	return unavailable(os.Geteuid(), supported(), lookIP, tryNetns)
})

// unavailable says why network namespaces cannot be used, or "" when they can.
func unavailable(euid int, osErr error, look func() (string, error), try func() error) string {
	if osErr != nil {
		return osErr.Error()
	}
	if euid != 0 {
		return fmt.Sprintf("network namespaces need root (euid is %d)", euid)
	}
	if _, err := look(); err != nil {
		return fmt.Sprintf("iproute2's ip not found: %v", err)
	}
	if err := try(); err != nil {
		return fmt.Sprintf("cannot create a network namespace: %v", err)
	}
	return ""
}

// tryNetns adds and deletes a namespace.
func tryNetns() error {
	name := fmt.Sprintf("nl%dprobe", os.Getpid())
	if err := ipBatch("", "netns add "+name+"\n"); err != nil {
		return err
	}
	return ipBatch("", "netns del "+name+"\n")
}

var lookIP = sync.OnceValues(func() (string, error) { return look("ip") })

func ipPath() string {
	p, err := lookIP()
	if err != nil {
		return "ip" // let exec report it
	}
	return p
}

// look finds a program on PATH or in the sbin directories, which a non-login
// root shell may lack.
func look(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if q, err2 := exec.LookPath(dir + "/" + name); err2 == nil {
			return q, nil
		}
	}
	return "", err
}

// ipBatch runs "ip [-n ns] -batch -" with cmds, one command per line.
func ipBatch(ns, cmds string) error {
	args := []string{"-batch", "-"}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, ipPath(), args...)
	cmd.Stdin = strings.NewReader(cmds)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s\ncommands:\n%s", strings.Join(args, " "), err,
			strings.TrimSpace(string(out)), cmds)
	}
	return nil
}

// sysctl sets kernel parameters in namespace ns.
func sysctl(ns string, settings ...string) error {
	bin, err := look("sysctl")
	if err != nil {
		return fmt.Errorf("netlab: sysctl not found: %w", err)
	}
	args := append([]string{"netns", "exec", ns, bin, "-qw"}, settings...)
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, ipPath(), args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// parallel runs f(0) … f(n-1), a few at a time, and returns their errors
// joined.
func parallel(n int, f func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			errs[i] = f(i)
			<-sem
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ownName matches the namespaces netlab makes; group 1 is the maker's pid.
var ownName = regexp.MustCompile(`^nl([0-9]+)(?:x[0-9a-z]+-(?:br|h[0-9]+)|probe)$`)

// sweep deletes namespaces made by netlab in processes that are gone, with
// whatever still runs in them. Two processes may sweep at once, so failures
// are only logged.
func sweep(t testing.TB) {
	entries, err := os.ReadDir(netnsDir)
	if err != nil {
		return
	}
	var stale []string
	for _, e := range entries {
		m := ownName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() || processExists(pid) {
			continue
		}
		stale = append(stale, e.Name())
	}
	if len(stale) == 0 {
		return
	}
	t.Logf("netlab: deleting namespaces left by processes that are gone: %s", strings.Join(stale, " "))
	if err := deleteNamespaces(stale, false); err != nil {
		t.Logf("netlab: sweep: %v", err)
	}
}

// deleteNamespaces ends the processes inside the named namespaces, with
// SIGTERM first if term is set, and deletes the namespaces. Names that do
// not exist are ignored.
func deleteNamespaces(names []string, term bool) error {
	var exist []string
	for _, n := range names {
		if _, err := os.Stat(netnsDir + "/" + n); err == nil {
			exist = append(exist, n)
		}
	}
	if len(exist) == 0 {
		return nil
	}
	var errs []error
	if err := endProcesses(exist, term); err != nil {
		errs = append(errs, err)
	}
	var b strings.Builder
	for _, n := range exist {
		fmt.Fprintf(&b, "netns del %s\n", n)
	}
	if err := ipBatch("", b.String()); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// endProcesses ends every process in the namespaces and waits for them to
// go, so that deleting a namespace really frees it and its veth.
func endProcesses(names []string, term bool) error {
	if term && signalUntilGone(names, syscall.SIGTERM, time.Second) {
		return nil
	}
	if signalUntilGone(names, syscall.SIGKILL, 2*time.Second) {
		return nil
	}
	return fmt.Errorf("netlab: processes %v still in %s after SIGKILL", pidsIn(names), strings.Join(names, " "))
}

// signalUntilGone sends sig once to each process in the namespaces, and
// reports whether they are all gone within d.
func signalUntilGone(names []string, sig os.Signal, d time.Duration) bool {
	sent := make(map[int]bool)
	for deadline := time.Now().Add(d); ; time.Sleep(10 * time.Millisecond) {
		pids := pidsIn(names)
		if len(pids) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		for _, pid := range pids {
			if !sent[pid] {
				sent[pid] = true
				if p, err := os.FindProcess(pid); err == nil {
					p.Signal(sig)
					p.Release()
				}
			}
		}
	}
}

func processExists(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

// pidsIn lists the processes whose network namespace is one of names, by
// comparing /proc/PID/ns/net with /run/netns/NAME, as "ip netns pids" does.
func pidsIn(names []string) []int {
	var nss []os.FileInfo
	for _, n := range names {
		if fi, err := os.Stat(netnsDir + "/" + n); err == nil {
			nss = append(nss, fi)
		}
	}
	procs, err := os.ReadDir("/proc")
	if len(nss) == 0 || err != nil {
		return nil
	}
	var pids []int
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fi, err := os.Stat("/proc/" + p.Name() + "/ns/net")
		if err != nil {
			continue // gone, a zombie, or a kernel thread we may not see
		}
		for _, ns := range nss {
			if os.SameFile(fi, ns) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

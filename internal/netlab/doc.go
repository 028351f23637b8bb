// Package netlab builds throwaway virtual LANs out of Linux network
// namespaces, for tests that need several hosts: SSDP (UDA 1.0 and 2.0
// section 1), description, control, eventing, and AutoIP addressing (UDA
// section 0).
//
// # Model
//
// [New] makes one bridge namespace holding a bridge br0 (STP off, multicast
// snooping off, no IPv6 on the bridge or its ports, so the bridge itself
// never speaks) and N host namespaces. Each host has lo and one veth, lan0,
// whose peer vhI is a port of br0. The veth pairs are created directly
// between two namespaces: nothing ever appears in the caller's namespace, and
// no host has a default route, so no packet can leave the LAN. Host i gets:
//
//   - MAC 02:77:00:00:00:ii, the same on every LAN;
//   - IPv4 10.77.0.(10+i)/24 unless [Config] says otherwise;
//   - the EUI-64 link-local address fe80::77:ff:fe00:ii, added without
//     DAD so that it is usable as soon as New returns (DAD is also off for
//     any address added later);
//   - optionally the ULA fd77::(10+i)/64, written like the lab's;
//   - routes 239.0.0.0/8 and 224.0.0.0/4 via lan0, so IPv4 multicast
//     goes out there; the kernel's own ff00::/8 route serves IPv6. A host
//     without IPv4 can join groups and receive, but what it sends has
//     source 0.0.0.0, which receivers drop outside 224.0.0.0/24.
//
// This is the layout of the project's lab (../shared/lab/lan.sh), down to
// the names: the namespaces are [LAN.Name]+"-br" and Name+"-h1" and so on,
// so with UPNPLAB_PREFIX=Name the lab's lan.sh (exec, capture, status) and
// peers.sh (minidlna, gmediarender, miniupnpd) work on a LAN built here.
// Name is "nl", the test process's pid, "x" and a counter, so test binaries
// running in parallel never collide; New deletes namespaces left behind by
// a process that no longer exists. Teardown runs from t.Cleanup, so it
// happens when the test fails or panics too; it ends every process still
// inside the LAN's namespaces first.
//
// # Processes, not threads
//
// A goroutine may run on any OS thread, so entering a namespace with setns
// inside the test process would move unrelated goroutines there too. netlab
// never does that: whatever runs in a host is a separate process started by
// "ip netns exec". [Host.Start] re-executes the test binary, whose TestMain
// hands control to [Main]; Main runs the [Role] named on the command line
// instead of the tests. [Host.StartCommand], [Host.Command] and [Host.Exec]
// run any other program in a host. A [Proc] collects the process's output
// line by line.
//
// # Privileges
//
// Everything needs root and iproute2's ip. Without them New and [Require]
// skip the test, or fail it when the environment has UPNP_REQUIRE_NETNS=1.
// Running the test binary inside "unshare --net" (with or without --mount)
// works: the namespaces are files under /run/netns, which belongs to the
// mount namespace, not the network one. "unshare -rn" does not: its root
// may not mount there, so the tests skip.
//
// # Example
//
//	func TestMain(m *testing.M) {
//		netlab.Main(m, map[string]netlab.Role{
//			"listen": listen, // func(ctx context.Context, args []string) int
//		})
//	}
//
//	func TestDiscovery(t *testing.T) {
//		lan := netlab.New(t, netlab.Config{Hosts: 2})
//		dev := lan.Host(1).Start(t, "listen", "lan0")
//		if err := dev.WaitForLine(t.Context(), "ready"); err != nil {
//			t.Fatal(err)
//		}
//		out := lan.Host(2).Exec(t, "gssdp-discover", "-i", "lan0", "-n", "3")
//		// check out, then dev.Stop() or let the cleanup stop it
//	}
package netlab

package netlab

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// isoEnv marks a test process that Isolate started inside a private network.
const isoEnv = "NETLAB_ISOLATED"

// Isolate makes sure the calling test runs in a network namespace of its own,
// where loopback is the only interface and carries IPv4 multicast, so that
// SSDP traffic on "lo" cannot reach any real network.
//
// As root, Isolate re-runs just this test in a fresh `unshare --net` child,
// reports the child's output and result, and returns false: the caller must
// return at once. In the child it enables multicast on lo and returns true:
// the test goes on. Each test gets a namespace of its own even when the whole
// run already is in one (CI runs the tests under `unshare --net`), because
// `go test ./...` runs packages side by side and their devices and searches
// on lo would otherwise meet. Without root, a process that already is in a
// loopback-only namespace runs the test there; otherwise Isolate skips the
// test, or fails it when UPNP_REQUIRE_NETNS=1.
func Isolate(t *testing.T) bool {
	t.Helper()
	return isolate(t, os.Geteuid() == 0)
}

// Private is like Isolate but never shares a namespace, even without root
// (it skips instead): for tests that change the namespace (loopback flags,
// routes) and must not disturb other tests running beside them.
func Private(t *testing.T) bool {
	t.Helper()
	return isolate(t, true)
}

func isolate(t *testing.T, fresh bool) bool {
	t.Helper()
	child := os.Getenv(isoEnv)
	if (!fresh || child == t.Name()) && onlyLoopback() {
		if err := loopbackMulticast(); err != nil {
			skipOrFail(t, "cannot enable multicast on lo: "+err.Error())
			return false
		}
		return true
	}
	if child == t.Name() || (!fresh && child != "") {
		t.Fatal("netlab: re-executed test is still not in a private network namespace")
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "needs root (or an `unshare --net` environment) for a private network namespace")
		return false
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		skipOrFail(t, "needs unshare(1) from util-linux")
		return false
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("netlab: %v", err)
	}
	args := []string{"--net", "--", exe, "-test.run", runPattern(t.Name()), "-test.count=1"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), isoEnv+"="+t.Name())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if testing.Verbose() || err != nil {
		t.Logf("isolated run of %s:\n%s", t.Name(), out.String())
	}
	if err != nil {
		t.Fatalf("isolated run failed: %v", err)
	}
	if strings.Contains(out.String(), "no tests to run") {
		t.Fatalf("isolated run matched no test (pattern %s)", runPattern(t.Name()))
	}
	return false
}

// runPattern turns a test name (with subtests) into a -test.run pattern that
// matches exactly it.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// onlyLoopback reports whether the current network namespace has no interface
// but loopback.
func onlyLoopback() bool {
	ifs, err := net.Interfaces()
	if err != nil {
		return false
	}
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagLoopback == 0 {
			return false
		}
	}
	return len(ifs) > 0
}

// loopbackMulticast brings lo up with multicast and routes 239.0.0.0/8 to it.
func loopbackMulticast() error {
	lo, err := net.InterfaceByName("lo")
	if err == nil && lo.Flags&net.FlagUp != 0 && lo.Flags&net.FlagMulticast != 0 && hasMcastRoute() {
		return nil
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up", "multicast", "on"},
		{"route", "replace", "239.0.0.0/8", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return &cmdError{args: args, out: string(out), err: err}
		}
	}
	return nil
}

func hasMcastRoute() bool {
	out, err := exec.Command("ip", "route", "show", "239.0.0.0/8").Output()
	return err == nil && len(bytes.TrimSpace(out)) > 0
}

type cmdError struct {
	args []string
	out  string
	err  error
}

func (e *cmdError) Error() string {
	return "ip " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + strings.TrimSpace(e.out)
}

func skipOrFail(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("UPNP_REQUIRE_NETNS") == "1" {
		t.Fatal("netlab: " + reason + " (UPNP_REQUIRE_NETNS=1)")
	}
	t.Skip("netlab: " + reason)
}

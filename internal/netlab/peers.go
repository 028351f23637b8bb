package netlab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// peerBinaries are the daemons the lab's peers.sh starts.
var peerBinaries = map[string]string{
	"minidlna":     "/usr/sbin/minidlnad",
	"gmediarender": "/usr/bin/gmediarender",
	"miniupnpd":    "/usr/sbin/miniupnpd",
}

// LabDir returns the lab's scripts folder, ../shared/lab beside the module
// root, found by walking up from the working directory to go.mod. It skips
// the test (or fails it with UPNP_REQUIRE_NETNS=1) when there is none.
func LabDir(t testing.TB) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			require(t, "no go.mod above the working directory, so no lab", os.Getenv(RequireEnv) == "1")
			return ""
		}
		dir = parent
	}
	lab := filepath.Join(filepath.Dir(dir), "shared", "lab")
	if _, err := os.Stat(filepath.Join(lab, "peers.sh")); err != nil {
		require(t, "the lab scripts are not at "+lab, os.Getenv(RequireEnv) == "1")
		return ""
	}
	return lab
}

// StartPeer starts a real third-party peer (minidlna, gmediarender or
// miniupnpd, from Debian) in host h with the lab's peers.sh, which works on a
// kit LAN because the names match the lab's, and stops it when the test
// ends. It skips the test (or fails it with UPNP_REQUIRE_NETNS=1) when the
// peer or the lab is not installed.
func (l *LAN) StartPeer(t testing.TB, peer string, h *Host) {
	t.Helper()
	bin, ok := peerBinaries[peer]
	if !ok {
		t.Fatalf("netlab: unknown peer %q", peer)
	}
	if _, err := os.Stat(bin); err != nil {
		require(t, peer+" is not installed (../shared/lab/install.sh installs it)", os.Getenv(RequireEnv) == "1")
		return
	}
	lab := LabDir(t)
	env := append(os.Environ(), "UPNPLAB_PREFIX="+l.Name, "UPNPLAB_STATE="+t.TempDir(), "NOTIFY_INTERVAL=5")
	run := func(verb string) ([]byte, error) {
		cmd := exec.Command(filepath.Join(lab, "peers.sh"), verb, peer, fmt.Sprint(h.Index))
		cmd.Env = env
		return cmd.CombinedOutput()
	}
	if out, err := run("start"); err != nil {
		t.Fatalf("peers.sh start %s: %v\n%s", peer, err, out)
	}
	t.Cleanup(func() {
		if out, err := run("stop"); err != nil {
			t.Logf("peers.sh stop %s: %v\n%s", peer, err, out)
		}
	})
}

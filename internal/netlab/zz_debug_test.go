package netlab_test

import (
	"testing"
	"time"
	"os"
	"fmt"
	"path/filepath"

	"github.com/seedb72249f9/upnp/internal/netlab"
)

func TestZZDebug(t *testing.T) {
	lan := netlab.New(t, netlab.Config{Hosts: 1})
	h := lan.Host(1)
	t0 := time.Now()
	p := h.Start(t, "addrs", "lan0")
	time.Sleep(300 * time.Millisecond)
	// who holds pipes?
	fds, _ := filepath.Glob("/proc/*/fd/*")
	self, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/1", p.Pid))
	t.Logf("child fd1 %q", self)
	for _, f := range fds {
		l, _ := os.Readlink(f)
		if len(l) > 5 && l[:5] == "pipe:" {
			c, _ := os.ReadFile(filepath.Dir(filepath.Dir(f)) + "/cmdline")
			_ = c
		}
	}
	err := p.Wait(t.Context())
	t.Logf("wait %v after %v", err, time.Since(t0))
}

package ssdp

import (
	"net"

	"golang.org/x/sys/windows"
)

// setSockopts prepares a socket before bind: port sharing for fixed ports.
func setSockopts(fd uintptr, v6 bool, shared bool) error {
	h := windows.Handle(fd)
	if shared {
		if err := windows.SetsockoptInt(h, windows.SOL_SOCKET, windows.SO_REUSEADDR, 1); err != nil {
			return err
		}
	}
	if v6 {
		_ = windows.SetsockoptInt(h, windows.IPPROTO_IPV6, windows.IPV6_V6ONLY, 1)
	}
	return nil
}

func forceReadBuffer(*net.UDPConn, int) {}

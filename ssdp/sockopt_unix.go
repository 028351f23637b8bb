//go:build unix && !linux

package ssdp

import (
	"net"

	"golang.org/x/sys/unix"
)

// setSockopts prepares a socket before bind: port sharing for fixed ports.
func setSockopts(fd uintptr, v6 bool, shared bool) error {
	s := int(fd)
	if shared {
		if err := unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return err
		}
		_ = unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}
	if v6 {
		_ = unix.SetsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
	}
	return nil
}

func forceReadBuffer(*net.UDPConn, int) {}

package ssdp

import (
	"net"

	"golang.org/x/sys/unix"
)

// setSockopts prepares a socket before bind: port sharing for fixed ports, and
// IP_MULTICAST_ALL off so that a wildcard-bound socket receives only the groups
// it joined itself, not those joined by every other socket on the host.
func setSockopts(fd uintptr, v6 bool, shared bool) error {
	s := int(fd)
	if shared {
		if err := unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return err
		}
		if err := unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return err
		}
	}
	if v6 {
		_ = unix.SetsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
		_ = unix.SetsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL, 0)
	} else {
		_ = unix.SetsockoptInt(s, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
	}
	return nil
}

// forceReadBuffer raises the receive buffer past net.core.rmem_max when the
// process may (CAP_NET_ADMIN); without it the kernel keeps what SetReadBuffer got.
func forceReadBuffer(c *net.UDPConn, n int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n)
	})
}

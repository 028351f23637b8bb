//go:build !linux

package controlpoint

import "syscall"

// shareMulticastPort does nothing outside Linux: a multicast event listener
// has port 7900 to itself there.
func shareMulticastPort(string, string, syscall.RawConn) error { return nil }

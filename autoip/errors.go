package autoip

import (
	"errors"
	"runtime"
)

// ErrUnsupported is what Run returns on systems other than Linux:
// "autoip: not supported on GOOS".
var ErrUnsupported = errors.New("autoip: not supported on " + runtime.GOOS)

// ErrNoHardwareAddr means the interface has no 6-byte (Ethernet) hardware
// address: RFC 3927 needs one for ARP and to seed the candidates.
var ErrNoHardwareAddr = errors.New("autoip: interface has no Ethernet address")

// ErrRunning means Run was called while the same Agent was already running.
var ErrRunning = errors.New("autoip: agent already running")

// ErrNak is wrapped by the error of a DHCP attempt that the server refused
// with a DHCPNAK (Event.Err of EventLeaseLost): the agent drops the lease
// at once rather than at its end.
var ErrNak = errors.New("autoip: DHCP server refused the lease (NAK)")

// errNoAnswer is the no-lease reason when a DHCP attempt failed without an
// error of its own.
var errNoAnswer = errors.New("autoip: no DHCP answer")

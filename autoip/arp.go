package autoip

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
)

// arpLen is the length of an ARP packet for Ethernet and IPv4 (RFC 826),
// without the Ethernet header: the only kind the agent sends or reads.
const arpLen = 28

const (
	arpRequest = 1
	arpReply   = 2
)

// errARP is what parseARP returns for anything but an Ethernet/IPv4 ARP
// request or reply; the agent drops such packets.
var errARP = errors.New("autoip: not an Ethernet/IPv4 ARP request or reply")

// arpPacket is an Ethernet/IPv4 ARP packet.
type arpPacket struct {
	Op       uint16 // arpRequest or arpReply
	SenderHW [6]byte
	SenderIP netip.Addr
	TargetHW [6]byte
	TargetIP netip.Addr
}

// parseARP reads an ARP packet as a datagram packet socket delivers it
// (without the Ethernet header). Trailing bytes, Ethernet padding, are
// ignored.
func parseARP(b []byte) (arpPacket, error) {
	var p arpPacket
	if len(b) < arpLen ||
		binary.BigEndian.Uint16(b[0:2]) != 1 || // hardware type Ethernet
		binary.BigEndian.Uint16(b[2:4]) != 0x0800 || // protocol type IPv4
		b[4] != 6 || b[5] != 4 {
		return p, errARP
	}
	p.Op = binary.BigEndian.Uint16(b[6:8])
	if p.Op != arpRequest && p.Op != arpReply {
		return p, errARP
	}
	copy(p.SenderHW[:], b[8:14])
	p.SenderIP = netip.AddrFrom4([4]byte(b[14:18]))
	copy(p.TargetHW[:], b[18:24])
	p.TargetIP = netip.AddrFrom4([4]byte(b[24:28]))
	return p, nil
}

// marshal returns the packet's 28 bytes. Invalid or non-IPv4 addresses are
// written as 0.0.0.0.
func (p arpPacket) marshal() []byte {
	b := make([]byte, arpLen)
	binary.BigEndian.PutUint16(b[0:2], 1)
	binary.BigEndian.PutUint16(b[2:4], 0x0800)
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:8], p.Op)
	copy(b[8:14], p.SenderHW[:])
	putIPv4(b[14:18], p.SenderIP)
	copy(b[18:24], p.TargetHW[:])
	putIPv4(b[24:28], p.TargetIP)
	return b
}

func putIPv4(b []byte, a netip.Addr) {
	if a.Is4() {
		a4 := a.As4()
		copy(b, a4[:])
	}
}

// probe returns an ARP probe for target (RFC 3927 section 2.2.1): a request
// with sender IP 0.0.0.0 and target hardware address zero.
func probe(mac [6]byte, target netip.Addr) arpPacket {
	return arpPacket{Op: arpRequest, SenderHW: mac, SenderIP: netip.IPv4Unspecified(), TargetIP: target}
}

// announcement returns an ARP announcement of addr (section 2.4): a request
// with addr as both sender and target IP.
func announcement(mac [6]byte, addr netip.Addr) arpPacket {
	return arpPacket{Op: arpRequest, SenderHW: mac, SenderIP: addr, TargetIP: addr}
}

// String formats the packet for logs and test failures.
func (p arpPacket) String() string {
	op := "request"
	if p.Op == arpReply {
		op = "reply"
	}
	return op + " " + net.HardwareAddr(p.SenderHW[:]).String() + " " + p.SenderIP.String() +
		" -> " + net.HardwareAddr(p.TargetHW[:]).String() + " " + p.TargetIP.String()
}

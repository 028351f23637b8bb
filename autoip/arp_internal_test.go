package autoip

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
)

// A probe and a reply as a Linux datagram packet socket delivers them; the
// reply carries Ethernet padding to 46 bytes, as from a real switch port.
const (
	probeHex = "0001080006040001" + "027700000001" + "00000000" + "000000000000" + "a9fe0707"
	replyHex = "0001080006040002" + "027700000002" + "a9fe0707" + "027700000001" + "00000000" +
		"000000000000000000000000000000000000"
)

func TestParseARP(t *testing.T) {
	mustHex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c := netip.MustParseAddr("169.254.7.7")
	for _, tc := range []struct {
		name string
		in   []byte
		want arpPacket
		err  bool
	}{
		{"probe", mustHex(probeHex), probe(testMAC, c), false},
		{"padded reply", mustHex(replyHex), arpPacket{Op: arpReply, SenderHW: peerMAC, SenderIP: c, TargetHW: testMAC, TargetIP: netip.IPv4Unspecified()}, false},
		{"empty", nil, arpPacket{}, true},
		{"short", mustHex(probeHex)[:27], arpPacket{}, true},
		{"not ethernet", append([]byte{0, 6}, mustHex(probeHex)[2:]...), arpPacket{}, true},
		{"not IPv4", append([]byte{0, 1, 0x86, 0xdd}, mustHex(probeHex)[4:]...), arpPacket{}, true},
		{"hardware length 8", append(append([]byte{}, mustHex(probeHex)[:4]...), append([]byte{8}, mustHex(probeHex)[5:]...)...), arpPacket{}, true},
		{"protocol length 16", append(append([]byte{}, mustHex(probeHex)[:5]...), append([]byte{16}, mustHex(probeHex)[6:]...)...), arpPacket{}, true},
		{"RARP operation", append(append([]byte{}, mustHex(probeHex)[:7]...), append([]byte{3}, mustHex(probeHex)[8:]...)...), arpPacket{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseARP(tc.in)
			if tc.err {
				if !errors.Is(err, errARP) {
					t.Fatalf("parseARP = %v, %v; want errARP", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseARP = %v, %v; want %v", got, err, tc.want)
			}
			if !bytes.Equal(got.marshal(), tc.in[:arpLen]) {
				t.Errorf("marshal = %x, want %x", got.marshal(), tc.in[:arpLen])
			}
		})
	}
}

// FuzzParseARP: parseARP never panics, and whatever it accepts marshals to
// the bytes it read and parses back the same; the machine takes any parsed
// packet without panicking.
func FuzzParseARP(f *testing.F) {
	for _, s := range []string{probeHex, replyHex} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Add(announcement(peerMAC, netip.MustParseAddr("169.254.1.1")).marshal())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseARP(b)
		if err != nil {
			return
		}
		out := p.marshal()
		if !bytes.Equal(out, b[:arpLen]) {
			t.Fatalf("marshal = %x, read %x", out, b[:arpLen])
		}
		q, err := parseARP(out)
		if err != nil || q != p {
			t.Fatalf("round trip: %v, %v; want %v", q, err, p)
		}
		r := newRig(t, &Agent{NoDHCP: true})
		r.arp(p)
		r.advance(10 * 1e9)
		r.arp(p)
	})
}

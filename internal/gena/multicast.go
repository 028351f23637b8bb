package gena

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/seedb72249f9/upnp"
)

// Multicast eventing addresses (UDA section 4.3.3); the port is 7900, not
// SSDP's 1900.
const (
	MulticastAddr      = "239.255.255.246:7900"
	MulticastAddrLink6 = "[FF02::130]:7900" // IPv6 link-local scope
	MulticastAddrSite6 = "[FF05::130]:7900" // IPv6 site-local scope
)

// Standard values of LVL, the importance of a multicast event.
const (
	LevelEmergency = "upnp:emergency"
	LevelFault     = "upnp:fault"
	LevelWarning   = "upnp:warning"
	LevelInfo      = "upnp:info"
	LevelDebug     = "upnp:debug"
	LevelGeneral   = "upnp:general"
)

// MaxDatagram is the largest multicast event message ParseMulticast reads
// and AppendMulticast writes, in bytes: SECURITY.md's SSDP datagram size,
// since both are HTTP over UDP, one whole message per datagram. A larger
// datagram is dropped, not truncated. Devices should stay well below it: a
// datagram over the link MTU (1472 bytes of UDP payload on Ethernet with
// IPv4) is fragmented by IP, and some receivers (mmupnp, for one) read no
// more than 1500 bytes.
const MaxDatagram = 8 << 10

// maxHeaderLines caps the header lines of a multicast event message, not
// counting the start line.
const maxHeaderLines = 64

// A MulticastEvent is one multicast event message (UDA 1.1 and later,
// section 4.3.3). Its string fields are header values trimmed of white
// space.
//
// The zero value is not valid to write: set USN and SVCID. A BootID of 0 is
// written as such; a negative one writes no BOOTID.UPNP.ORG header, which
// UDA requires but ParseMulticast does not (it reports the absence as -1).
type MulticastEvent struct {
	Host   string // HOST; "" writes MulticastAddr
	USN    string // USN: uuid:device-UUID::urn:...:service:type:v
	SVCID  string // SVCID: the serviceId of the service
	LVL    string // LVL: a Level constant or another value; "" writes LevelGeneral
	SEQ    uint32 // SEQ: the service's multicast event key, wrapping as NextSEQ
	BootID int32  // BOOTID.UPNP.ORG; -1 when absent
	Props  []Property
}

// ParseMulticast reads one multicast event message. The start line must be
// NOTIFY * with HTTP/1.0 or HTTP/1.1, and NT and NTS must be upnp:event and
// upnp:propchange (in any case), or the error wraps ErrNotEvent: a listener
// on port 7900 drops such datagrams silently.
//
// Header names are matched in any case, values trimmed, bare LF line ends
// accepted, and unknown headers (CONTENT-TYPE among them) ignored. USN,
// SVCID and SEQ are required, LVL may be absent (""), BOOTID.UPNP.ORG too
// (-1). The body ends at CONTENT-LENGTH when given, else at the end of the
// datagram; it is read by ParsePropertySet, whose errors are returned as
// they are.
//
// A datagram over MaxDatagram bytes is an error wrapping upnp.ErrTooLarge;
// a missing or bad SEQ wraps ErrBadSEQ; another missing, empty, repeated
// or invalid header, a header line with a control character, more than 64
// header lines, and a body shorter than CONTENT-LENGTH wrap
// ErrBadMulticast. The event's strings share one copy of the header section.
func ParseMulticast(datagram []byte) (*MulticastEvent, error) {
	if len(datagram) > MaxDatagram {
		return nil, fmt.Errorf("gena: datagram of %d bytes, limit %d: %w", len(datagram), MaxDatagram, upnp.ErrTooLarge)
	}
	end := headerEnd(datagram)
	if end < 0 {
		return nil, fmt.Errorf("%w: no blank line after the headers", ErrBadMulticast)
	}
	head, body := string(datagram[:end]), datagram[end:]

	start, head, _ := strings.Cut(head, "\n")
	if !isEventStart(strings.TrimSuffix(start, "\r")) {
		return nil, fmt.Errorf("%w: start line %q", ErrNotEvent, clip(start))
	}

	const (
		hHost = iota
		hNT
		hNTS
		hUSN
		hSVCID
		hSEQ
		hLVL
		hBootID
		hLength
		nHeaders
	)
	names := [nHeaders]string{"HOST", "NT", "NTS", "USN", "SVCID", "SEQ", "LVL", "BOOTID.UPNP.ORG", "CONTENT-LENGTH"}
	var (
		values [nHeaders]string
		seen   [nHeaders]bool
	)
	for n := 1; head != ""; n++ {
		var line string
		line, head, _ = strings.Cut(head, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break // the blank line
		}
		if n > maxHeaderLines {
			return nil, fmt.Errorf("%w: more than %d header lines", ErrBadMulticast, maxHeaderLines)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isToken(name) || hasControl(value) {
			return nil, fmt.Errorf("%w: header line %q", ErrBadMulticast, clip(line))
		}
		for i, known := range names {
			if strings.EqualFold(name, known) {
				if seen[i] {
					return nil, fmt.Errorf("%w: repeated %s header", ErrBadMulticast, known)
				}
				seen[i], values[i] = true, trimSpace(value)
				break
			}
		}
	}

	if !strings.EqualFold(values[hNT], NT) || !strings.EqualFold(values[hNTS], NTS) {
		return nil, fmt.Errorf("%w: NT %q, NTS %q", ErrNotEvent, clip(values[hNT]), clip(values[hNTS]))
	}
	for _, h := range []int{hUSN, hSVCID} {
		if values[h] == "" {
			return nil, fmt.Errorf("%w: no %s header", ErrBadMulticast, names[h])
		}
	}
	ev := &MulticastEvent{Host: values[hHost], USN: values[hUSN], SVCID: values[hSVCID], LVL: values[hLVL], BootID: -1}
	var err error
	if !seen[hSEQ] {
		return nil, fmt.Errorf("%w in a multicast event: missing", ErrBadSEQ)
	}
	if ev.SEQ, err = ParseSEQ(values[hSEQ]); err != nil {
		return nil, fmt.Errorf("%w in a multicast event: %q", ErrBadSEQ, clip(values[hSEQ]))
	}
	if seen[hBootID] {
		n, ok := parseDecimal(values[hBootID])
		if !ok || n > math.MaxInt32 {
			return nil, fmt.Errorf("%w: BOOTID.UPNP.ORG %q", ErrBadMulticast, clip(values[hBootID]))
		}
		ev.BootID = int32(n)
	}
	if seen[hLength] {
		n, ok := parseDecimal(values[hLength])
		if !ok {
			return nil, fmt.Errorf("%w: CONTENT-LENGTH %q", ErrBadMulticast, clip(values[hLength]))
		}
		if n > uint64(len(body)) {
			return nil, fmt.Errorf("%w: body of %d bytes, CONTENT-LENGTH %d", ErrBadMulticast, len(body), n)
		}
		body = body[:n]
	}
	if ev.Props, err = ParsePropertySet(body); err != nil {
		return nil, err
	}
	return ev, nil
}

// headerEnd returns the index of the body: just after the first empty line
// (CRLF or LF), or -1.
func headerEnd(b []byte) int {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		j := i + 1
		if j < len(b) && b[j] == '\r' {
			j++
		}
		if j < len(b) && b[j] == '\n' {
			return j + 1
		}
	}
	return -1
}

// isEventStart reports whether line is NOTIFY * HTTP/1.x, in any case, with
// any spacing.
func isEventStart(line string) bool {
	f := strings.Fields(line)
	return len(f) == 3 && strings.EqualFold(f[0], "NOTIFY") && f[1] == "*" &&
		(strings.EqualFold(f[2], "HTTP/1.1") || strings.EqualFold(f[2], "HTTP/1.0"))
}

// isToken reports whether s is an HTTP token (RFC 9110), as header names
// must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// hasControl reports whether s holds a control character other than tab.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// AppendMulticast appends to b the multicast event message ev (UDA section
// 4.3.3), with CRLF line ends and the headers in this order: HOST,
// CONTENT-TYPE, USN, SVCID, NT, NTS, SEQ, LVL, BOOTID.UPNP.ORG (unless
// BootID is negative), CONTENT-LENGTH, then the property set of
// AppendPropertySet.
//
// It returns b unchanged and an error wrapping ErrBadMulticast when USN or
// SVCID is empty or a header value holds a control character, the errors
// of AppendPropertySet,
// or one wrapping upnp.ErrTooLarge when the message would exceed
// MaxDatagram. Beyond growing b it does not allocate.
func AppendMulticast(b []byte, ev *MulticastEvent) ([]byte, error) {
	host, lvl := ev.Host, ev.LVL
	if host == "" {
		host = MulticastAddr
	}
	if lvl == "" {
		lvl = LevelGeneral
	}
	if ev.USN == "" || ev.SVCID == "" {
		return b, fmt.Errorf("%w: USN and SVCID are required", ErrBadMulticast)
	}
	for _, h := range [...]struct{ name, value string }{{"HOST", host}, {"USN", ev.USN}, {"SVCID", ev.SVCID}, {"LVL", lvl}} {
		if hasControl(h.value) {
			return b, fmt.Errorf("%w: %s %q", ErrBadMulticast, h.name, clip(h.value))
		}
	}

	// The body goes first, for its length, and is then rotated behind the
	// headers.
	start := len(b)
	b, err := AppendPropertySet(b, ev.Props)
	if err != nil {
		return b, err
	}
	bodyLen := len(b) - start
	b = append(b, "NOTIFY * HTTP/1.1\r\nHOST: "...)
	b = append(b, host...)
	b = append(b, "\r\nCONTENT-TYPE: "+ContentType+"\r\nUSN: "...)
	b = append(b, ev.USN...)
	b = append(b, "\r\nSVCID: "...)
	b = append(b, ev.SVCID...)
	b = append(b, "\r\nNT: "+NT+"\r\nNTS: "+NTS+"\r\nSEQ: "...)
	b = strconv.AppendUint(b, uint64(ev.SEQ), 10)
	b = append(b, "\r\nLVL: "...)
	b = append(b, lvl...)
	if ev.BootID >= 0 {
		b = append(b, "\r\nBOOTID.UPNP.ORG: "...)
		b = strconv.AppendInt(b, int64(ev.BootID), 10)
	}
	b = append(b, "\r\nCONTENT-LENGTH: "...)
	b = strconv.AppendInt(b, int64(bodyLen), 10)
	b = append(b, "\r\n\r\n"...)
	if n := len(b) - start; n > MaxDatagram {
		return b[:start], fmt.Errorf("gena: multicast event of %d bytes, limit %d: %w", n, MaxDatagram, upnp.ErrTooLarge)
	}
	msg := b[start:]
	slices.Reverse(msg)
	slices.Reverse(msg[:len(msg)-bodyLen])
	slices.Reverse(msg[len(msg)-bodyLen:])
	return b, nil
}

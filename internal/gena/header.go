package gena

import (
	"crypto/rand"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Values of the NT and NTS headers of every event message, and of NT in a
// subscription (UDA section 4).
const (
	NT  = "upnp:event"
	NTS = "upnp:propchange"
)

// Limits on a CALLBACK header (SECURITY.md, CallStranger).
const (
	MaxCallbacks   = 6   // URLs in one header
	MaxCallbackLen = 256 // bytes in one URL, without its angle brackets
)

// InfiniteTimeout is the TIMEOUT value that asks for a subscription that
// never expires, which this project's devices never grant (SECURITY.md).
const InfiniteTimeout = "Second-infinite"

// ParseTimeout reads a TIMEOUT header: "Second-" and a decimal number of
// seconds, or "Second-infinite" (then infinite is true and d is 0). Case
// and white space around the value, and around the "-", are ignored.
// Requests beyond 2147483647 seconds (68 years) are clamped to it; a device
// grants its own maximum anyway. Anything else, and an empty header, is an
// error wrapping ErrBadTimeout: a device that gets no TIMEOUT applies its
// default without calling ParseTimeout.
func ParseTimeout(h string) (d time.Duration, infinite bool, err error) {
	s := trimSpace(h)
	const prefix = "second"
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return 0, false, badHeader(ErrBadTimeout, h)
	}
	s = trimSpace(s[len(prefix):])
	if !strings.HasPrefix(s, "-") {
		return 0, false, badHeader(ErrBadTimeout, h)
	}
	s = trimSpace(s[1:])
	if strings.EqualFold(s, "infinite") {
		return 0, true, nil
	}
	n, ok := parseDecimal(s)
	if !ok {
		return 0, false, badHeader(ErrBadTimeout, h)
	}
	return time.Duration(min(n, math.MaxInt32)) * time.Second, false, nil
}

// FormatTimeout returns the TIMEOUT value for d: "Second-" and d in whole
// seconds, rounded up so that a positive d never reads as 0. A d of 0 or
// less gives "Second-0"; use InfiniteTimeout for infinity.
func FormatTimeout(d time.Duration) string {
	if d <= 0 {
		return "Second-0"
	}
	secs := int64(d / time.Second)
	if d%time.Second != 0 {
		secs++
	}
	return "Second-" + strconv.FormatInt(secs, 10)
}

// ParseCallback reads a CALLBACK header: one or more URLs, each in angle
// brackets, optionally separated by white space. A URL must be http, with
// a host, a port (if any) from 1 to 65535, no user information, printable
// ASCII only, and at most MaxCallbackLen bytes; a header holds at most
// MaxCallbacks. Every error wraps ErrBadCallback, a device's cue for 412
// Precondition Failed, and, as the case may be, ErrTooManyCallbacks,
// ErrCallbackTooLong or ErrCallbackScheme.
//
// Hostnames parse: whether a host may be called back (an IP literal on the
// subscriber's own segment) is the device's policy, checked on what this
// returns. ParseCallback reads at most MaxCallbacks+1 URLs of any header.
func ParseCallback(h string) ([]*url.URL, error) {
	var urls []*url.URL
	s := h
	for {
		s = trimSpace(s)
		if s == "" {
			break
		}
		if s[0] != '<' {
			return nil, fmt.Errorf("%w: %q: text outside angle brackets", ErrBadCallback, clip(h))
		}
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return nil, fmt.Errorf("%w: %q: no closing '>'", ErrBadCallback, clip(h))
		}
		raw := s[1:end]
		s = s[end+1:]
		if len(urls) == MaxCallbacks {
			return nil, fmt.Errorf("%w: more than %d", ErrTooManyCallbacks, MaxCallbacks)
		}
		u, err := parseCallbackURL(raw)
		if err != nil {
			return nil, err
		}
		urls = append(urls, u)
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("%w: no URL", ErrBadCallback)
	}
	return urls, nil
}

func parseCallbackURL(raw string) (*url.URL, error) {
	if len(raw) > MaxCallbackLen {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrCallbackTooLong, len(raw), MaxCallbackLen)
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || c == '<' {
			return nil, fmt.Errorf("%w: %q: character %q", ErrBadCallback, raw, c)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCallback, err)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%w: %q", ErrCallbackScheme, clip(raw))
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: %q: no host", ErrBadCallback, raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: %q: user information", ErrBadCallback, raw)
	}
	if p := u.Port(); p != "" {
		if n, ok := parseDecimal(p); !ok || n == 0 || n > 65535 {
			return nil, fmt.Errorf("%w: %q: bad port", ErrBadCallback, raw)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("%w: %q: empty port", ErrBadCallback, raw)
	}
	return u, nil
}

// ParseSEQ reads a SEQ header: a decimal number from 0 to 4294967295,
// white space around it ignored. Anything else is an error wrapping
// ErrBadSEQ.
func ParseSEQ(s string) (uint32, error) {
	n, ok := parseDecimal(trimSpace(s))
	if !ok || n > math.MaxUint32 {
		return 0, badHeader(ErrBadSEQ, s)
	}
	return uint32(n), nil
}

// NextSEQ returns the event key that follows seq: seq+1, but 1 after
// 4294967295, since 0 is only ever the initial event's (UDA section 4).
func NextSEQ(seq uint32) uint32 {
	if seq == math.MaxUint32 {
		return 1
	}
	return seq + 1
}

// ParseStateVars reads a STATEVAR or ACCEPTED-STATEVAR header (UDA 2.0): a
// comma-separated list of variable names. Names are trimmed of white space;
// empty ones and repeats are dropped. It returns nil for an empty list.
// Names are not checked: the device compares them with its SCPD.
func ParseStateVars(h string) []string {
	var (
		names []string
		seen  map[string]bool
	)
	for name := range strings.SplitSeq(h, ",") {
		if name = trimSpace(name); name == "" || seen[name] {
			continue
		}
		if seen == nil {
			seen = make(map[string]bool)
		}
		seen[name] = true
		names = append(names, name)
	}
	return names
}

// FormatStateVars returns the STATEVAR or ACCEPTED-STATEVAR value for names:
// the names joined by commas.
func FormatStateVars(names []string) string {
	return strings.Join(names, ",")
}

// NewSID returns a new subscription identifier: "uuid:" and a random
// (version 4) UUID in lower case, with 122 random bits from crypto/rand,
// so that SIDs cannot be guessed (SECURITY.md, GENA spoofing).
func NewSID() string {
	var u [16]byte
	rand.Read(u[:])         // never fails (see its documentation)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 5+36)
	b = append(b, "uuid:"...)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&0x0f])
	}
	return string(b)
}

// maxSID caps the length of a SID header value.
const maxSID = 128

// ParseSID reads a SID header: "uuid:" in any case, then an identifier of
// printable ASCII without white space or commas, at most 123 bytes. It
// returns "uuid:" and the identifier as sent: devices choose SIDs, and a
// control point matches them exactly. Anything else is an error wrapping
// ErrBadSID.
func ParseSID(h string) (string, error) {
	s := trimSpace(h)
	const prefix = "uuid:"
	if len(s) <= len(prefix) || len(s) > maxSID || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", badHeader(ErrBadSID, h)
	}
	id := s[len(prefix):]
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == ',' {
			return "", badHeader(ErrBadSID, h)
		}
	}
	if s[:len(prefix)] == prefix {
		return s, nil
	}
	return prefix + id, nil
}

// parseDecimal reads s as a decimal number: digits only, no sign, leading
// zeros allowed. Numbers beyond math.MaxUint64 read as math.MaxUint64.
func parseDecimal(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxUint64-9)/10 {
			n = math.MaxUint64
		} else {
			n = n*10 + uint64(c-'0')
		}
	}
	return n, true
}

// trimSpace trims spaces and tabs, the white space of HTTP header values.
func trimSpace(s string) string {
	return strings.Trim(s, " \t")
}

func badHeader(err error, h string) error {
	return fmt.Errorf("%w: %q", err, clip(h))
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

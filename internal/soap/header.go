package soap

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/xmlsafe"
)

// ContentType is the CONTENT-TYPE of every control request and response
// (UDA section 3.2.1).
const ContentType = `text/xml; charset="utf-8"`

// MaxBody is the default cap on a request or response body, in bytes
// (SECURITY.md).
const MaxBody = 64 << 10

// FormatSOAPAction returns the SOAPACTION header value for an action:
// the service type and action name joined by "#", in double quotes.
func FormatSOAPAction(serviceType, action string) string {
	return `"` + serviceType + "#" + action + `"`
}

// ParseSOAPAction splits a SOAPACTION header value into its service type and
// action name. It is lenient about what control points send: the quotes may
// be missing and spaces may surround the value, the quotes, or the "#". The
// action must be an XML name and the service type must be non-empty without
// spaces or quotes; otherwise the error wraps ErrBadSOAPAction.
func ParseSOAPAction(h string) (serviceType, action string, err error) {
	s := strings.TrimSpace(h)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, `"`), `"`))
	i := strings.LastIndexByte(s, '#')
	if i < 0 {
		return "", "", badSOAPAction(h)
	}
	serviceType = strings.TrimSpace(s[:i])
	action = strings.TrimSpace(s[i+1:])
	if serviceType == "" || strings.ContainsFunc(serviceType, func(r rune) bool {
		return r <= ' ' || r == '"' || r == 0x7f
	}) || !xmlsafe.IsName(action) {
		return "", "", badSOAPAction(h)
	}
	return serviceType, action, nil
}

// badSOAPAction quotes at most 128 bytes of h, counted after quoting: a
// header of bytes that are not UTF-8 would otherwise make a message four
// times as long.
func badSOAPAction(h string) error {
	q := strconv.Quote(h)
	if len(q) > 128 {
		q = q[:128] + "..."
	}
	return fmt.Errorf("%w: %s", ErrBadSOAPAction, q)
}

// ReadBody reads r to its end, up to max bytes (MaxBody if max <= 0), for
// ParseRequest or ParseResponse. A longer body is an error wrapping
// upnp.ErrTooLarge; errors from r are returned as they are.
func ReadBody(r io.Reader, max int) ([]byte, error) {
	if max <= 0 {
		max = MaxBody
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("soap: body longer than %d bytes: %w", max, upnp.ErrTooLarge)
	}
	return b, nil
}

package gena

import (
	"errors"
	"fmt"
)

// Errors the parsers and writers return, wrapped with detail; test for them
// with errors.Is. XML that is not well formed yields a wrapped
// *xml.SyntaxError, and the XML bounds upnp.ErrTooDeep,
// upnp.ErrTooManyTokens, upnp.ErrDTD and (from ReadBody and the multicast
// codec) upnp.ErrTooLarge.
var (
	// ErrNotPropertySet means an event body's root element is not a
	// propertyset.
	ErrNotPropertySet = errors.New("gena: not an event property set")
	// ErrNotLastChange means a LastChange value's root element is not an
	// Event.
	ErrNotLastChange = errors.New("gena: LastChange value is not an Event")
	// ErrInvalidName means a variable name is not an XML name without a
	// colon.
	ErrInvalidName = errors.New("gena: invalid variable name")
	// ErrInvalidChar means a value holds a character XML 1.0 cannot carry
	// (a control character other than tab, line feed and carriage return,
	// U+FFFE, U+FFFF) or is not valid UTF-8.
	ErrInvalidChar = errors.New("gena: character not allowed in XML")

	// ErrBadCallback means a CALLBACK header is not one or more URLs in
	// angle brackets. Every error ParseCallback returns wraps it, including
	// the more specific ones below; a device answers 412 Precondition
	// Failed.
	ErrBadCallback = errors.New("gena: bad CALLBACK header")
	// ErrTooManyCallbacks means a CALLBACK header holds more than
	// MaxCallbacks URLs. It wraps ErrBadCallback.
	ErrTooManyCallbacks = fmt.Errorf("%w: too many URLs", ErrBadCallback)
	// ErrCallbackTooLong means a callback URL is longer than MaxCallbackLen
	// bytes. It wraps ErrBadCallback.
	ErrCallbackTooLong = fmt.Errorf("%w: URL too long", ErrBadCallback)
	// ErrCallbackScheme means a callback URL's scheme is not http. It wraps
	// ErrBadCallback.
	ErrCallbackScheme = fmt.Errorf("%w: URL scheme is not http", ErrBadCallback)

	// ErrBadTimeout means a TIMEOUT header is not "Second-" followed by a
	// decimal number or "infinite".
	ErrBadTimeout = errors.New("gena: bad TIMEOUT header")
	// ErrBadSEQ means a SEQ header is not a decimal number from 0 to
	// 4294967295. A control point answers 412 Precondition Failed.
	ErrBadSEQ = errors.New("gena: bad SEQ header")
	// ErrBadSID means a SID header is not "uuid:" followed by a subscription
	// identifier.
	ErrBadSID = errors.New("gena: bad SID header")

	// ErrNotEvent means a multicast datagram is not an event message: not a
	// NOTIFY, or its NT is not upnp:event or its NTS not upnp:propchange. A
	// listener drops it silently.
	ErrNotEvent = errors.New("gena: not a multicast event message")
	// ErrBadMulticast means a multicast event message is malformed: a bad
	// header line, a required header missing, empty, repeated or invalid, or
	// a body shorter than its CONTENT-LENGTH.
	ErrBadMulticast = errors.New("gena: malformed multicast event message")
)

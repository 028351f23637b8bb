package soap

import (
	"errors"
	"strings"
)

// Errors the parsers and writers return, wrapped with detail; test for them
// with errors.Is. XML that is not well formed yields a wrapped
// *xml.SyntaxError, and the bounds upnp.ErrTooDeep, upnp.ErrTooManyTokens,
// upnp.ErrDTD and (from ReadBody) upnp.ErrTooLarge.
var (
	// ErrBadSOAPAction means a SOAPACTION header is not
	// "serviceType#actionName". A device answers 401 Invalid Action.
	ErrBadSOAPAction = errors.New("soap: malformed SOAPACTION header")
	// ErrNoEnvelope means the document's root is not an Envelope holding a
	// Body. A device answers 401 Invalid Action.
	ErrNoEnvelope = errors.New("soap: not a SOAP envelope with a body")
	// ErrBadBody means the Body does not hold exactly one element, or, in a
	// request, the action element is in no namespace. A device answers 401
	// Invalid Action.
	ErrBadBody = errors.New("soap: body must hold exactly one action element")
	// ErrNestedArgument means an argument element holds elements, not text
	// (for example unescaped DIDL-Lite). A device answers 402 Invalid Args.
	ErrNestedArgument = errors.New("soap: argument holds elements, not text")
	// ErrWrongResponse means a response element is neither
	// <actionResponse> nor <action> for the action called.
	ErrWrongResponse = errors.New("soap: response does not match the action")
	// ErrInvalidName means an action or argument name is not an XML name
	// without a colon, or a service type is empty.
	ErrInvalidName = errors.New("soap: invalid action, argument or service type name")
	// ErrInvalidChar means a value holds a character XML 1.0 cannot carry
	// (a control character other than tab, line feed and carriage return,
	// U+FFFE, U+FFFF) or is not valid UTF-8.
	ErrInvalidChar = errors.New("soap: character not allowed in XML")
)

// A FaultError is a SOAP fault that carries no UPnPError detail with a
// positive numeric errorCode, as ParseResponse returns it; faults that do
// are returned as *upnp.Error instead. Both fields may be empty.
type FaultError struct {
	Code   string // faultcode, such as "s:Server"; may be empty
	String string // faultstring; may be empty
}

// Error returns "soap: fault <code>: <string>".
func (e *FaultError) Error() string {
	var b strings.Builder
	b.WriteString("soap: fault")
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.String != "" {
		b.WriteString(": ")
		b.WriteString(e.String)
	}
	return b.String()
}

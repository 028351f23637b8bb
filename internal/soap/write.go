package soap

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/xmlsafe"
)

// An Arg is one argument of an action, in or out: its name and its value as
// text, unescaped (the XML escaping is the codec's business). The writers
// reject the zero Arg, whose name is empty.
type Arg struct {
	Name  string
	Value string
}

const (
	envelopeStart = `<?xml version="1.0"?>` + "\n" +
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>`
	envelopeEnd = `</s:Body></s:Envelope>`
	faultStart  = `<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>` +
		`<detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>`
	faultEnd = `</errorDescription></UPnPError></detail></s:Fault>`
)

// AppendRequest appends to b the control request that invokes action of
// serviceType with the in arguments args, in order (UDA section 3.2.1):
//
//	<?xml version="1.0"?>
//	<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:action xmlns:u="serviceType"><arg>value</arg>...</u:action></s:Body></s:Envelope>
//
// Values are escaped (&, <, > and carriage return; quotes are left alone
// for the benefit of naive peers). If a name is not an XML name without a
// colon, the service type is empty, or a value holds a character XML cannot
// carry, it returns b unchanged and an error wrapping ErrInvalidName or
// ErrInvalidChar.
func AppendRequest(b []byte, serviceType, action string, args []Arg) ([]byte, error) {
	return appendAction(b, serviceType, action, "", args)
}

// AppendResponse appends to b the response of a successful action with the
// out arguments out, in order, in a <u:actionResponse xmlns:u="serviceType">
// element (UDA section 3.2.2). Its errors are AppendRequest's.
func AppendResponse(b []byte, serviceType, action string, out []Arg) ([]byte, error) {
	return appendAction(b, serviceType, action, "Response", out)
}

func appendAction(b []byte, serviceType, action, suffix string, args []Arg) ([]byte, error) {
	if !xmlsafe.IsName(action) {
		return b, fmt.Errorf("soap: action %q: %w", action, ErrInvalidName)
	}
	if serviceType == "" {
		return b, fmt.Errorf("soap: empty service type: %w", ErrInvalidName)
	}
	n := len(envelopeStart) + len(envelopeEnd) + 2*(len(action)+len(suffix)) + len(serviceType) + 20
	for _, a := range args {
		n += 2*len(a.Name) + len(a.Value) + 5
	}
	b0 := b
	b = slices.Grow(b, n)
	b = append(b, envelopeStart...)
	b = append(b, "<u:"...)
	b = append(b, action...)
	b = append(b, suffix...)
	b = append(b, ` xmlns:u="`...)
	b, ok := xmlsafe.AppendEscaped(b, serviceType, true, false)
	if !ok {
		return b0, fmt.Errorf("soap: service type %q: %w", serviceType, ErrInvalidChar)
	}
	b = append(b, `">`...)
	for _, a := range args {
		if !xmlsafe.IsName(a.Name) {
			return b0, fmt.Errorf("soap: argument %q: %w", a.Name, ErrInvalidName)
		}
		b = append(b, '<')
		b = append(b, a.Name...)
		b = append(b, '>')
		if b, ok = xmlsafe.AppendEscaped(b, a.Value, false, false); !ok {
			return b0, fmt.Errorf("soap: argument %s: %w", a.Name, ErrInvalidChar)
		}
		b = append(b, "</"...)
		b = append(b, a.Name...)
		b = append(b, '>')
	}
	b = append(b, "</u:"...)
	b = append(b, action...)
	b = append(b, suffix...)
	b = append(b, '>')
	b = append(b, envelopeEnd...)
	return b, nil
}

// AppendFault appends to b the SOAP fault that reports a UPnP error (UDA
// section 3.2.2): faultcode s:Client, faultstring UPnPError, and a UPnPError
// detail with code and description, which defaults to
// upnp.ErrorDescription(code) when empty. Characters XML cannot carry in
// description become U+FFFD. The response goes out with HTTP status 500.
func AppendFault(b []byte, code int, description string) []byte {
	if description == "" {
		description = upnp.ErrorDescription(code)
	}
	b = slices.Grow(b, len(envelopeStart)+len(faultStart)+len(faultEnd)+len(envelopeEnd)+len(description)+40)
	b = append(b, envelopeStart...)
	b = append(b, faultStart...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, "</errorCode><errorDescription>"...)
	b, _ = xmlsafe.AppendEscaped(b, description, false, true)
	b = append(b, faultEnd...)
	b = append(b, envelopeEnd...)
	return b
}

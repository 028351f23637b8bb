// Package gena is the wire codec of UPnP eventing (GENA, UDA 1.1 and 2.0,
// section 4, Eventing), shared by devices and control points.
//
// Event bodies (section 4.3.2): a device writes the property set of a
// NOTIFY with AppendPropertySet; a control point reads the body with
// ReadBody (MaxBody by default) and ParsePropertySet. Header values of
// subscriptions and event messages: ParseCallback, ParseTimeout and
// FormatTimeout, ParseSEQ and NextSEQ, ParseStateVars and FormatStateVars
// (UDA 2.0 STATEVAR and ACCEPTED-STATEVAR), NewSID and ParseSID. Multicast
// eventing (section 4.3.3, UDA 1.1 and later): AppendMulticast and
// ParseMulticast. The LastChange variable of AVTransport and
// RenderingControl, which aggregates changes per instance: a device writes
// it with AppendLastChange, a control point reads it with ParseLastChange.
//
// The XML readers accept what real stacks send: any namespace prefixes,
// white space, several variables inside one e:property, CDATA, entities, a
// BOM, an XML declaration with a single-byte encoding. They read in one
// streaming pass over encoding/xml's RawToken, build no tree, and enforce,
// as they go, a depth of 32 elements and 50,000 tokens (internal/xmlsafe's
// defaults) and the absence of any DTD, returning upnp.ErrTooDeep,
// upnp.ErrTooManyTokens or upnp.ErrDTD. The same bounds apply to the XML
// inside a LastChange value, which an attacker controls as much as the body
// around it. Body size is the caller's to bound (ReadBody); a LastChange
// value is never longer than the body that carried it.
//
// Values are text, never trimmed. A variable whose element holds elements
// instead of escaped text (some stacks put LastChange in raw) gets as its
// value the inner XML, written back from the tokens read: elements and
// attributes as written (prefixes and namespace declarations included),
// text escaped, CDATA as escaped text, empty elements as start and end tag,
// comments and processing instructions dropped. ParseLastChange reads that
// value just as it reads an escaped one.
//
// The header parsers are lenient about case and white space but hold the
// limits of SECURITY.md: at most MaxCallbacks callback URLs of at most
// MaxCallbackLen bytes each, http only. Whether a callback's host is
// acceptable (CallStranger, CVE-2020-12695) is the device's policy, not
// this package's: hostnames parse here.
//
// Everything here is pure and stateless, opens no socket, and is safe for
// concurrent use.
package gena

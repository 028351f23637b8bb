// Package soap is the SOAP 1.1 wire codec of UPnP control (UDA 1.1 and 2.0,
// section 3, Control), shared by devices and control points.
//
// A control point writes a request with AppendRequest, sends it with the
// ContentType and FormatSOAPAction headers, and reads the answer with
// ParseResponse, which returns the out arguments or, for a SOAP fault, a
// *upnp.Error (or a *FaultError when the fault carries no UPnPError). A
// device reads the SOAPACTION header with ParseSOAPAction and the request
// with ParseRequest, checks that both name the same service type and
// action, and answers with AppendResponse or AppendFault.
//
// Argument values are the text of the argument elements, entities and CDATA
// resolved, and are never trimmed: UPnP string arguments may begin or end
// with spaces. XML carried inside a string argument, such as a DIDL-Lite
// Result or CurrentURIMetaData, stays text; this package never parses it
// (use internal/xmlsafe on it, within its own bounds).
//
// The readers accept what real peers send: any namespace prefixes (s:,
// SOAP-ENV:, soap:, none), any envelope namespace, a BOM, an XML declaration
// with a single-byte encoding, unknown Header blocks and attributes (such as
// Windows' dt:dt). They build no tree: one streaming pass enforces, as it
// goes, a depth of 32 elements and 50,000 tokens (internal/xmlsafe's
// defaults) and the absence of any DTD, returning upnp.ErrTooDeep,
// upnp.ErrTooManyTokens or upnp.ErrDTD. That pass is a small scanner that
// reads the UTF-8 envelopes peers send in place, without allocating; for
// anything else (other encodings, non-ASCII names, and every error) the
// body is read again with encoding/xml's RawToken, which defines the
// result, and the fuzz tests hold the scanner to it. Body size is the
// caller's to bound: read bodies with ReadBody (MaxBody by default), which
// returns upnp.ErrTooLarge.
//
// The writers produce the canonical form of UDA section 3 and return an
// error rather than write XML a peer cannot read.
//
// Everything here is safe for concurrent use.
package soap

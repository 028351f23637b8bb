// Package upnp is the UPnP vocabulary that devices and control points share:
// the device and service description schema (UDA section 2, Description),
// the state variable data types with their wire formats, and the UPnP error
// codes of action responses (UDA section 3, Control).
//
// Root, Device and Service model a device description and SCPD, Action and
// StateVariable a service description. ParseDescription and ParseSCPD read
// what real devices send leniently, within fixed bounds on size, depth and
// token count checked before any tree is built; Marshal writes canonical
// UDA 1.1 documents and Validate checks what UDA requires. DataType decodes
// and encodes values of the UDA data types, and StateVariable checks them
// against allowed values and ranges, returning a *ValueError that maps to
// error 600 or 601. Error is a UPnP error code and description as carried
// in a SOAP fault (UDA section 3, Action error response).
//
// Everything here is pure data and parsing: no networking, and no shared
// state, so it is safe for concurrent use as long as a value is not written
// while it is read.
package upnp

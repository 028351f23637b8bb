// Package igd maps ports on a home router through UPnP: the WANIPConnection
// (versions 1 and 2) and WANPPPConnection services of an Internet Gateway
// Device (UPnP Forum IGD:1 and IGD:2, with the UDA section 3 control they run
// on).
//
// Discover or Find a Gateway on the LAN, then Add a Mapping (or Keep one,
// renewing its lease until a context ends), list them with Mappings, read one
// with Get, remove it with Delete, and read the router's public address with
// ExternalIP and its connection's state with Status. A Mapping's zero values are the usual
// request: any remote host, the local address that reaches the router as the
// internal client, the same internal and external port, enabled, and the
// longest lease the router allows.
//
// Errors that routers report are *upnp.Error values; the common ones are
// ErrConflict, ErrNotAuthorized, ErrNoSuchEntry and ErrOnlyPermanentLeases,
// which errors.Is matches by code.
package igd

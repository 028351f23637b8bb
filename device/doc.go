// Package device turns Go code into a UPnP device: the device half of UDA 1.1/2.0
// sections 2 (Description), 3 (Control) and 5 (Presentation), with SSDP
// discovery (section 1) through package ssdp.
//
// A Device tree holds the metadata, icons, services and embedded devices. Each
// Service has its SCPD (actions and state variables, as package upnp defines
// them), Go handlers for its actions, and the current values of its state
// variables. A Server generates the device description and every SCPD, serves
// them with the control URLs, icons and a presentation page from one
// http.Handler, dispatches SOAP actions to the handlers with validated, typed
// arguments, and advertises the device on the chosen interfaces.
//
// The Server holds against the HTTP attacks of hostile LANs: the Host header
// must name the address the request arrived on (DNS rebinding), headers and
// bodies are capped, every connection has timeouts, and a handler that panics
// answers UPnP error 501 without taking the server down.
package device

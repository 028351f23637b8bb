// Package controlpoint finds UPnP devices on the LAN, describes them,
// invokes their actions and receives their events: the control point half
// of UDA 1.1/2.0 sections 1 (Discovery), 2 (Description), 3 (Control) and
// 4 (Eventing).
//
// A Client searches with package ssdp and yields each root device as soon as
// its own description and SCPDs are in (Discover), describes one LOCATION
// (Describe) and calls actions with arguments converted by the SCPD's data
// types (Invoke). A Registry keeps a live view of the LAN from ssdp:alive,
// ssdp:byebye and search responses: devices added, updated when their
// CONFIGID changes, rebooted when their BOOTID changes, removed at byebye
// or expiry. A Subscription (or Client.Subscribe) receives a service's
// events in order, typed by its SCPD, and keeps the subscription alive
// across renewals, lost events and reboots; ListenMulticast receives
// multicast events; ParseLastChange reads the LastChange variable of
// AVTransport and RenderingControl.
//
// Every LOCATION, URLBase, SCPDURL and controlURL comes from the network and
// may be hostile (SECURITY.md, control point SSRF). By default a Client
// fetches only from the address the SSDP message came from, checks that
// address again when it dials, refuses redirects and proxies, and caps the
// size and time of every exchange; Client.AllowForeignHosts relaxes the
// same-host rule for devices that spread over several addresses.
package controlpoint

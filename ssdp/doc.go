// Package ssdp implements the Simple Service Discovery Protocol of the UPnP
// Device Architecture (UDA 1.1 and 2.0, section 1 "Discovery"): devices
// announce themselves with NOTIFY ssdp:alive, ssdp:update and ssdp:byebye
// multicasts, and control points find them with M-SEARCH and the unicast
// "HTTP/1.1 200 OK" responses it draws, all HTTP-shaped messages in single UDP
// datagrams sent to 239.255.255.250:1900 or [FF02::C]:1900 and [FF05::C]:1900.
//
// Message is the codec: Parse reads a datagram leniently, as real devices
// send lower-case names, bare LF line ends and missing headers, and bounds
// everything it reads; Append writes strictly. A Parser does what Parse does
// without an allocation per datagram, for loops that read many. Target classifies NT and ST values and
// implements the search matching rule. Server, Client and Listener put
// them on the network: the multicast sockets per interface, a device's
// advertisements and search answers, a control point's searches, and a cache of
// the devices announced on the link.
//
// Server and Listener follow the interfaces: every few seconds
// (InterfacePoll) they re-read them, join the groups on interfaces and
// addresses that appeared, leave those that went away, and a Server announces
// itself where it appeared (with a new BOOTID, since it rejoined the
// network). Started when no interface is usable yet, they wait for one,
// unless InterfacePoll is negative.
// Listener.Subscribe gives the cache's changes; Listener.Notifications every
// NOTIFY as it arrives.
package ssdp

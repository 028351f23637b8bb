// Package av plays media on UPnP AV media renderers (TVs, speakers,
// gmediarender): the AVTransport:1 and RenderingControl:1 services of a
// MediaRenderer:1 device (UPnP Forum AV:1, on UDA section 3 control).
//
// Discover or NewRenderer a Renderer, Load a URL (with Metadata, the DIDL-Lite
// description many renderers require), then Play, Pause, Seek and Stop it,
// read its State and Position, and set its Volume and Mute. Errors that
// renderers report are *upnp.Error values; ErrTransition and
// ErrNoContents are the AVTransport ones callers meet most.
//
// To follow a renderer's changes rather than poll, subscribe to its services
// with controlpoint.Client.Subscribe and read their LastChange variable with
// controlpoint.ParseLastChange.
package av

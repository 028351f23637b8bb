package controlpoint_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/controlpoint"
)

// TestInvokeClosedKeepAlive: a device that answers each control request
// without "Connection: close" and then closes the connection unread, as
// libupnp does, gets every call of a back-to-back series: a request that
// went out on the connection it had closed is sent again on a new one, and
// the action runs once per call.
func TestInvokeClosedKeepAlive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var actions, conns atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conn.Close()
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				actions.Add(1)
				body := `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>` +
					`<u:GetVolumeResponse xmlns:u="urn:schemas-upnp-org:service:RenderingControl:1"><CurrentVolume>7</CurrentVolume></u:GetVolumeResponse></s:Body></s:Envelope>`
				fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=\"utf-8\"\r\nContent-Length: %d\r\nEXT:\r\n\r\n%s", len(body), body)
				// Close only after the client has had time to send its next
				// request on this connection, which is never read.
				time.Sleep(20 * time.Millisecond)
			}()
		}
	}()
	svc := &controlpoint.Service{Type: "urn:schemas-upnp-org:service:RenderingControl:1",
		ControlURL: "http://" + ln.Addr().String() + "/upnp/control/rendercontrol1"}
	c := &controlpoint.Client{}
	const n = 5
	for i := range n {
		out, err := c.Invoke(context.Background(), svc, "GetVolume", map[string]any{"InstanceID": "0", "Channel": "Master"})
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if out["CurrentVolume"] != "7" {
			t.Fatalf("call %d: %v", i, out)
		}
	}
	if a := actions.Load(); a != n {
		t.Errorf("the device ran the action %d times for %d calls", a, n)
	}
	if c := conns.Load(); c != n {
		t.Errorf("%d connections for %d calls", c, n)
	}
}

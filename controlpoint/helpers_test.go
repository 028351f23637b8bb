package controlpoint_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
)

const lightUDN = "uuid:0f0f0f0f-1111-4222-8333-444444444444"

// newLight serves the example light over HTTP on 127.0.0.1 and returns the
// server and its description URL.
func newLight(t testing.TB) (*device.Server, string) {
	t.Helper()
	s := &device.Server{Device: binarylight.New("Test Light", lightUDN)}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL + "/desc.xml"
}

// counting wraps h and counts the requests it sees.
type counting struct {
	h http.Handler
	n chan string
}

func newCounting(h http.Handler) *counting { return &counting{h: h, n: make(chan string, 1000)} }

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case c.n <- r.Method + " " + r.URL.Path:
	default:
	}
	c.h.ServeHTTP(w, r)
}

package controlpoint_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
)

// memTransport answers every request from memory: the description at
// /desc.xml, an SCPD anywhere else, and body for POSTs.
type memTransport struct {
	desc, scpd, body []byte
	status           int
}

func (m *memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b := m.scpd
	status := http.StatusOK
	switch {
	case r.Method != http.MethodGet:
		b, status = m.body, m.status
	case r.URL.Path == "/desc.xml":
		b = m.desc
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Body: io.NopCloser(bytes.NewReader(b)),
		Header: http.Header{}, Request: r}, nil
}

func seeds(f *testing.F, pattern string) {
	files, _ := filepath.Glob(pattern)
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDescribe: whatever a device serves as its description, Describe
// returns an error or a device whose every URL is on the device's host.
func FuzzDescribe(f *testing.F) {
	seeds(f, "../testdata/descriptions/*/description.xml")
	f.Add([]byte(`<root><URLBase>http://10.0.0.9/</URLBase><device><UDN>uuid:x</UDN><serviceList><service><SCPDURL>//evil/x</SCPDURL><controlURL>http://[::1]:80/c</controlURL></service></serviceList></device></root>`))
	scpd, _ := os.ReadFile("../testdata/descriptions/gmediarender-MediaRenderer1/RenderingControl-1.scpd.xml")
	f.Fuzz(func(t *testing.T, desc []byte) {
		c := &controlpoint.Client{HTTPClient: &http.Client{Transport: &memTransport{desc: desc, scpd: scpd}}}
		d, err := c.Describe(context.Background(), "http://192.0.2.1:8080/desc.xml")
		if err != nil {
			return
		}
		for _, s := range d.Services {
			for _, raw := range []string{s.SCPDURL, s.ControlURL, s.EventSubURL} {
				if raw == "" {
					continue
				}
				u, err := url.Parse(raw)
				if err != nil {
					t.Fatalf("unparsable resolved URL %q", raw)
				}
				if u.Hostname() != "192.0.2.1" && s.SCPD != nil && raw == s.SCPDURL {
					t.Fatalf("SCPD fetched from %s", raw)
				}
			}
			if s.SCPD == nil && s.Err == nil {
				t.Fatalf("service %q: no SCPD and no error", s.Type)
			}
		}
	})
}

// FuzzInvokeResponse: whatever a device answers to an action, Invoke
// returns out arguments or an error, and a fault is a *upnp.Error.
func FuzzInvokeResponse(f *testing.F) {
	seeds(f, "../../shared/lab/samples/soap/*.txt")
	f.Add([]byte(faultBody))
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetVolumeResponse xmlns:u="urn:schemas-upnp-org:service:RenderingControl:1"><CurrentVolume>-5</CurrentVolume></u:GetVolumeResponse></s:Body></s:Envelope>`))
	desc, _ := os.ReadFile("../testdata/descriptions/gmediarender-MediaRenderer1/description.xml")
	scpd, _ := os.ReadFile("../testdata/descriptions/gmediarender-MediaRenderer1/RenderingControl-1.scpd.xml")
	desc = []byte(strings.ReplaceAll(string(desc), "10.77.0.13:49494", "192.0.2.1:8080"))
	f.Fuzz(func(t *testing.T, body []byte) {
		// Captured responses carry their HTTP header: keep the body.
		if i := bytes.Index(body, []byte("\r\n\r\n")); i >= 0 && bytes.HasPrefix(body, []byte("HTTP/")) {
			body = body[i+4:]
		} else if i := bytes.Index(body, []byte("\n\n")); i >= 0 && bytes.HasPrefix(body, []byte("HTTP/")) {
			body = body[i+2:]
		}
		for _, status := range []int{200, 500} {
			mt := &memTransport{desc: desc, scpd: scpd, body: body, status: status}
			c := &controlpoint.Client{HTTPClient: &http.Client{Transport: mt}}
			d, err := c.Describe(context.Background(), "http://192.0.2.1:8080/desc.xml")
			if err != nil {
				t.Fatal(err)
			}
			svc := d.Service("RenderingControl")
			out, err := c.Invoke(context.Background(), svc, "GetVolume", map[string]any{"InstanceID": 0, "Channel": "Master"})
			var ue *upnp.Error
			if errors.As(err, &ue) && ue.Code <= 0 {
				t.Fatalf("fault with code %d", ue.Code)
			}
			if err == nil && out == nil {
				t.Fatal("no error and no out arguments")
			}
		}
	})
}

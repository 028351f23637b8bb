package controlpoint_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
)

// sampleServer serves a captured description (after edit) at /desc.xml and
// its SCPDs at the paths the original names, from the files beside it.
func sampleServer(t *testing.T, dir string, edit func(desc, base string) string) (*httptest.Server, *counting) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "description.xml"))
	if err != nil {
		t.Fatal(err)
	}
	orig, err := upnp.ParseDescription(raw)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	cnt := newCounting(mux)
	ts := httptest.NewServer(cnt)
	t.Cleanup(ts.Close)
	for d := range orig.Device.All() {
		for _, s := range d.Services {
			u, err := url.Parse(s.SCPDURL)
			if err != nil {
				t.Fatal(err)
			}
			p := u.Path
			if !strings.HasPrefix(p, "/") {
				p = "/" + p
			}
			parts := strings.Split(s.ServiceType, ":")
			file := filepath.Join(dir, parts[3]+"-"+parts[4]+".scpd.xml")
			mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, file) })
		}
	}
	desc := edit(string(raw), ts.URL)
	mux.HandleFunc("GET /desc.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(desc))
	})
	return ts, cnt
}

var (
	labHost      = regexp.MustCompile(`http://10\.77\.0\.\d+:\d+`)
	serviceLists = regexp.MustCompile(`(?s)<serviceList>.*?</serviceList>`)
	urlBase      = regexp.MustCompile(`(?s)<URLBase>.*?</URLBase>`)
)

// own points the lab's absolute URLs at the test server.
func own(desc, base string) string { return labHost.ReplaceAllString(desc, base) }

func TestDescribeSamples(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/descriptions/*")
	if len(dirs) < 4 {
		t.Fatalf("found %d sample descriptions, want 4", len(dirs))
	}
	variants := []struct {
		name string
		edit func(desc, base string) string
		// services: how many services keep their SCPD; -1 means all.
		described int
		foreign   bool // some service's Err is ErrForeignHost
	}{
		{"as captured", own, -1, false},
		{"no URLBase", func(d, b string) string { return urlBase.ReplaceAllString(own(d, b), "") }, -1, false},
		{"URLBase on this host", func(d, b string) string {
			d = urlBase.ReplaceAllString(own(d, b), "")
			return strings.Replace(d, "</specVersion>", "</specVersion><URLBase>"+b+"/</URLBase>", 1)
		}, -1, false},
		{"URLBase elsewhere", func(d, b string) string {
			d = urlBase.ReplaceAllString(own(d, b), "")
			return strings.Replace(d, "</specVersion>", "</specVersion><URLBase>http://192.0.2.99:1/</URLBase>", 1)
		}, 0, true},
		{"absolute URLs", func(d, b string) string {
			d = urlBase.ReplaceAllString(own(d, b), "")
			for _, e := range []string{"SCPDURL", "controlURL", "eventSubURL"} {
				d = strings.ReplaceAll(d, "<"+e+">/", "<"+e+">"+b+"/")
			}
			return d
		}, -1, false},
		{"absolute URLs elsewhere", func(d, b string) string {
			d = urlBase.ReplaceAllString(own(d, b), "")
			return strings.ReplaceAll(d, "<SCPDURL>/", "<SCPDURL>http://127.0.0.2:1/")
		}, 0, true},
		{"relative URLs without slash", func(d, b string) string {
			d = urlBase.ReplaceAllString(own(d, b), "")
			for _, e := range []string{"SCPDURL", "controlURL", "eventSubURL"} {
				d = strings.ReplaceAll(d, "<"+e+">/", "<"+e+">")
			}
			return d
		}, -1, false},
		{"white space", func(d, b string) string {
			d = own(d, b)
			for _, e := range []string{"SCPDURL", "controlURL", "serviceType", "serviceId", "UDN", "friendlyName", "deviceType", "URLBase"} {
				d = strings.ReplaceAll(d, "<"+e+">", "<"+e+">\n\t  ")
				d = strings.ReplaceAll(d, "</"+e+">", " \r\n</"+e+">")
			}
			return d
		}, -1, false},
		{"other namespace", func(d, b string) string {
			return strings.Replace(own(d, b), `xmlns="urn:schemas-upnp-org:device-1-0"`, `xmlns="urn:example:wrong"`, 1)
		}, -1, false},
		{"no namespace", func(d, b string) string {
			return strings.Replace(own(d, b), ` xmlns="urn:schemas-upnp-org:device-1-0"`, ``, 1)
		}, -1, false},
		{"no serviceList", func(d, b string) string { return serviceLists.ReplaceAllString(own(d, b), "") }, 0, false},
		{"missing SCPD", func(d, b string) string {
			return strings.Replace(own(d, b), "<SCPDURL>/", "<SCPDURL>/missing", 1)
		}, -2, false},
	}
	for _, dir := range dirs {
		raw, _ := os.ReadFile(filepath.Join(dir, "description.xml"))
		orig, err := upnp.ParseDescription(raw)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for d := range orig.Device.All() {
			total += len(d.Services)
		}
		for _, v := range variants {
			t.Run(filepath.Base(dir)+"/"+v.name, func(t *testing.T) {
				ts, _ := sampleServer(t, dir, v.edit)
				d, err := (&controlpoint.Client{}).Describe(context.Background(), ts.URL+"/desc.xml")
				if err != nil {
					t.Fatal(err)
				}
				if d.Root.Device.UDN != orig.Device.UDN || d.Root.Device.FriendlyName != orig.Device.FriendlyName {
					t.Errorf("root device %q %q, want %q %q", d.Root.Device.UDN, d.Root.Device.FriendlyName, orig.Device.UDN, orig.Device.FriendlyName)
				}
				want := v.described
				switch want {
				case -1:
					want = total
				case -2:
					want = total - 1
				}
				if v.name == "no serviceList" && len(d.Services) != 0 {
					t.Errorf("%d services without serviceList", len(d.Services))
				}
				got, foreign := 0, false
				for _, s := range d.Services {
					if s.SCPD != nil {
						got++
						if len(s.SCPD.Actions) == 0 {
							t.Errorf("%s: SCPD without actions", s.Type)
						}
					}
					foreign = foreign || errors.Is(s.Err, controlpoint.ErrForeignHost)
					if s.SCPD != nil && !strings.HasPrefix(s.ControlURL, ts.URL+"/") {
						t.Errorf("%s: control URL %q not on %s", s.Type, s.ControlURL, ts.URL)
					}
				}
				if got != want {
					for _, s := range d.Services {
						t.Logf("%s %s: %v", s.Type, s.SCPDURL, s.Err)
					}
					t.Errorf("%d of %d services described, want %d", got, len(d.Services), want)
				}
				if foreign != v.foreign {
					t.Errorf("ErrForeignHost among service errors: %v, want %v", foreign, v.foreign)
				}
				if d.Local.String() != "127.0.0.1" || d.Addr.String() != "127.0.0.1" || d.Described.Before(d.Found) {
					t.Errorf("Local %s Addr %s Found %v Described %v", d.Local, d.Addr, d.Found, d.Described)
				}
			})
		}
	}
}

func TestServiceLookup(t *testing.T) {
	ts, _ := sampleServer(t, "../testdata/descriptions/miniupnpd-InternetGatewayDevice2", own)
	d, err := (&controlpoint.Client{}).Describe(context.Background(), ts.URL+"/desc.xml")
	if err != nil {
		t.Fatal(err)
	}
	const wanip = "urn:schemas-upnp-org:service:WANIPConnection:2"
	for _, name := range []string{wanip, "WANIPConnection", "wanipconnection:2", "urn:schemas-upnp-org:service:WANIPConnection",
		"urn:upnp-org:serviceId:WANIPConn1", "WANIPConn1"} {
		if s := d.Service(name); s == nil || s.Type != wanip {
			t.Errorf("Service(%q) = %v", name, s)
		}
	}
	for _, name := range []string{"", "WANIPConnection:1", "WANIP", "urn:schemas-upnp-org:service:WANIPConnection:3"} {
		if s := d.Service(name); s != nil {
			t.Errorf("Service(%q) = %s, want nil", name, s.Type)
		}
	}
	for _, key := range []string{"uuid:3d3cec3a-8cf0-11e0-98ee-027700000006", "3d3cec3a-8cf0-11e0-98ee-027700000004", "UPNPLAB IGD H4",
		"urn:schemas-upnp-org:device:WANDevice:2", "InternetGatewayDevice", wanip, "WANIPv6FirewallControl:1"} {
		if !d.Matches(key) {
			t.Errorf("Matches(%q) = false", key)
		}
	}
	for _, key := range []string{"", "uuid:nope", "MediaServer", "ContentDirectory"} {
		if d.Matches(key) {
			t.Errorf("Matches(%q) = true", key)
		}
	}
}

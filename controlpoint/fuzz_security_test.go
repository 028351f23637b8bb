package controlpoint_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/internal/gena"
)

// FuzzParseLastChange (SECURITY.md, parser overflows and crashes; XML inside
// strings): controlpoint.ParseLastChange reads a string a device chose,
// with or without an SCPD to type its values. It never panics, fails with
// an error of its own, and the SCPD only types the values: names, channels
// and texts are the same with and without it.
//
//	go test -run XXX -fuzz FuzzParseLastChange -fuzztime 60s ./controlpoint
func FuzzParseLastChange(f *testing.F) {
	files, _ := filepath.Glob("../internal/gena/testdata/events/*.xml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		props, _ := gena.ParsePropertySet(b)
		for _, p := range props {
			if p.Name == "LastChange" {
				f.Add(p.Value)
			}
		}
	}
	f.Add(`<Event><InstanceID val="4294967296"><Volume val="7" channel="LF"/></InstanceID></Event>`)
	f.Add(`<Event xmlns="urn:schemas-upnp-org:metadata-1-0/RCS/"><InstanceID val="0"><Mute val="yes" channel="Master"/><Volume val="-3"/></InstanceID></Event>`)
	f.Add(`<!DOCTYPE x [<!ENTITY a "a">]><Event/>`)
	f.Add(strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40))
	var services []*controlpoint.Service
	for _, s := range []struct{ typ, file string }{
		{"urn:schemas-upnp-org:service:RenderingControl:1", "RenderingControl-1.scpd.xml"},
		{"urn:schemas-upnp-org:service:AVTransport:1", "AVTransport-1.scpd.xml"},
	} {
		b, err := os.ReadFile("../testdata/descriptions/gmediarender-MediaRenderer1/" + s.file)
		if err != nil {
			f.Fatal(err)
		}
		scpd, err := upnp.ParseSCPD(b)
		if err != nil {
			f.Fatal(err)
		}
		services = append(services, &controlpoint.Service{Type: s.typ, SCPD: scpd})
	}
	f.Fuzz(func(t *testing.T, value string) {
		plain, err := controlpoint.ParseLastChange(nil, value)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "controlpoint: LastChange") {
				t.Fatalf("error %q does not say where it comes from", err)
			}
		}
		for _, svc := range services {
			typed, err2 := controlpoint.ParseLastChange(svc, value)
			if (err == nil) != (err2 == nil) {
				t.Fatalf("without SCPD: %v; with %s: %v", err, svc.Type, err2)
			}
			if len(typed) != len(plain) {
				t.Fatalf("%d instances without SCPD, %d with", len(plain), len(typed))
			}
			for i := range typed {
				if typed[i].InstanceID != plain[i].InstanceID || len(typed[i].Vars) != len(plain[i].Vars) {
					t.Fatalf("instance %d: %+v without SCPD, %+v with", i, plain[i], typed[i])
				}
				for j, v := range typed[i].Vars {
					p := plain[i].Vars[j]
					if v.Name != p.Name || v.Channel != p.Channel || v.Text != p.Text || p.Value != p.Text {
						t.Fatalf("variable %d.%d: %+v without SCPD, %+v with", i, j, p, v)
					}
				}
			}
		}
	})
}

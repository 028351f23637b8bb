package controlpoint_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/internal/gena"
)

// lastChangeOf reads a captured NOTIFY body and returns its LastChange.
func lastChangeOf(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile("../internal/gena/testdata/events/" + file)
	if err != nil {
		t.Fatal(err)
	}
	props, err := gena.ParsePropertySet(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range props {
		if p.Name == "LastChange" {
			return p.Value
		}
	}
	t.Fatalf("%s has no LastChange", file)
	return ""
}

func scpdService(t *testing.T, typ, file string) *controlpoint.Service {
	t.Helper()
	b, err := os.ReadFile("../testdata/descriptions/gmediarender-MediaRenderer1/" + file)
	if err != nil {
		t.Fatal(err)
	}
	scpd, err := upnp.ParseSCPD(b)
	if err != nil {
		t.Fatal(err)
	}
	return &controlpoint.Service{Type: typ, SCPD: scpd}
}

// TestParseLastChange reads gmediarender's real LastChange events with
// the types of its own SCPDs.
func TestParseLastChange(t *testing.T) {
	rcs := scpdService(t, "urn:schemas-upnp-org:service:RenderingControl:1", "RenderingControl-1.scpd.xml")
	avt := scpdService(t, "urn:schemas-upnp-org:service:AVTransport:1", "AVTransport-1.scpd.xml")

	got, err := controlpoint.ParseLastChange(rcs, lastChangeOf(t, "gmediarender-RenderingControl-seq1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []controlpoint.InstanceChange{{InstanceID: 0, Vars: []controlpoint.Change{
		{Name: "Volume", Channel: "Master", Value: uint16(40), Text: "40"},
		{Name: "VolumeDB", Channel: "Master", Value: int16(-7168), Text: "-7168"},
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RenderingControl SEQ 1 (-want +got):\n%s", diff)
	}

	got, err = controlpoint.ParseLastChange(rcs, lastChangeOf(t, "gmediarender-RenderingControl-seq0.xml"))
	if err != nil || len(got) != 1 || len(got[0].Vars) < 10 {
		t.Fatalf("RenderingControl SEQ 0: %+v, %v", got, err)
	}
	for _, v := range got[0].Vars {
		if v.Name == "Mute" && (v.Value != false || v.Channel != "Master") {
			t.Errorf("Mute: %+v", v)
		}
	}

	got, err = controlpoint.ParseLastChange(avt, lastChangeOf(t, "gmediarender-AVTransport-seq3.xml"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range got[0].Vars {
		if v.Name == "AVTransportURIMetaData" {
			found = strings.HasPrefix(v.Value.(string), `<DIDL-Lite xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/"`)
		}
	}
	if !found {
		t.Errorf("AVTransport SEQ 3: no DIDL-Lite metadata in %+v", got)
	}

	// Without an SCPD, values stay text.
	got, err = controlpoint.ParseLastChange(nil, `<Event><InstanceID val="3"><Volume val="7" channel="LF"/></InstanceID></Event>`)
	if err != nil || got[0].InstanceID != 3 || got[0].Vars[0].Value != "7" {
		t.Errorf("without SCPD: %+v, %v", got, err)
	}
	for _, bad := range []string{
		``,
		`<propertyset/>`,
		`<Event><InstanceID val="x"><Volume val="7"/></InstanceID></Event>`,
		`<Event><InstanceID val="0"><Volume val="7"></InstanceID></Event>`,
		strings.Repeat("<Event>", 40),
	} {
		if _, err := controlpoint.ParseLastChange(rcs, bad); err == nil {
			t.Errorf("ParseLastChange(%.40q) = nil error", bad)
		}
	}
}

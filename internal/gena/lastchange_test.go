package gena_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/gena"
)

func TestParseLastChange(t *testing.T) {
	playing := []gena.InstanceChange{{InstanceID: "0", Vars: []gena.VarChange{{Name: "TransportState", Value: "PLAYING"}}}}
	for _, tt := range []struct {
		name  string
		value string
		want  []gena.InstanceChange
		err   error
	}{
		{"AVTransport", `<Event xmlns="urn:schemas-upnp-org:metadata-1-0/AVT/"><InstanceID val="0"><TransportState val="PLAYING"/></InstanceID></Event>`, playing, nil},
		{"declaration and white space", "<?xml version=\"1.0\"?>\n<Event xmlns=\"urn:schemas-upnp-org:metadata-1-0/AVT/\">\n <InstanceID val=\"0\">\n  <TransportState val=\"PLAYING\"></TransportState>\n </InstanceID>\n</Event>\n", playing, nil},
		{"prefix", `<a:Event xmlns:a="urn:schemas-upnp-org:metadata-1-0/AVT/"><a:InstanceID a:val="0"><a:TransportState a:val="PLAYING"/></a:InstanceID></a:Event>`, playing, nil},
		{"any case", `<event><instanceid VAL="0"><TransportState Val="PLAYING"/></instanceid></event>`, playing, nil},
		{"no namespace", `<Event><InstanceID val="0"><TransportState val="PLAYING"/></InstanceID></Event>`, playing, nil},
		{"RenderingControl channels", `<Event xmlns="urn:schemas-upnp-org:metadata-1-0/RCS/"><InstanceID val="0"><Volume channel="Master" val="40"/><Volume val="38" channel="LF"/><Mute val="0" channel="Master"/><PresetNameList val="FactoryDefaults"/></InstanceID></Event>`,
			[]gena.InstanceChange{{InstanceID: "0", Vars: []gena.VarChange{
				{Name: "Volume", Value: "40", Channel: "Master"},
				{Name: "Volume", Value: "38", Channel: "LF"},
				{Name: "Mute", Value: "0", Channel: "Master"},
				{Name: "PresetNameList", Value: "FactoryDefaults"},
			}}}, nil},
		{"instances", `<Event><InstanceID val="0"><A val="1"/></InstanceID><InstanceID val="1"/><InstanceID val="2"><B val="2"/></InstanceID></Event>`,
			[]gena.InstanceChange{{InstanceID: "0", Vars: []gena.VarChange{{Name: "A", Value: "1"}}}, {InstanceID: "1"}, {InstanceID: "2", Vars: []gena.VarChange{{Name: "B", Value: "2"}}}}, nil},
		{"escaped XML in val", `<Event><InstanceID val="0"><CurrentTrackMetaData val="&lt;DIDL-Lite xmlns=&quot;urn:x&quot;&gt;&lt;item/&gt;&lt;/DIDL-Lite&gt;"/></InstanceID></Event>`,
			[]gena.InstanceChange{{InstanceID: "0", Vars: []gena.VarChange{{Name: "CurrentTrackMetaData", Value: `<DIDL-Lite xmlns="urn:x"><item/></DIDL-Lite>`}}}}, nil},
		{"value not trimmed", `<Event><InstanceID val=" 0 "><A val=" a&#x9;b&#xA; "/></InstanceID></Event>`,
			[]gena.InstanceChange{{InstanceID: " 0 ", Vars: []gena.VarChange{{Name: "A", Value: " a\tb\n "}}}}, nil},
		{"missing attributes", `<Event><InstanceID><A/></InstanceID></Event>`,
			[]gena.InstanceChange{{Vars: []gena.VarChange{{Name: "A"}}}}, nil},
		{"ignored", `<Event>text<Other><A val="x"/></Other><InstanceID val="0" extra="1"><!--c-->t<A val="1" x:y="2"><Deeper val="3"/>text</A></InstanceID></Event>`,
			[]gena.InstanceChange{{InstanceID: "0", Vars: []gena.VarChange{{Name: "A", Value: "1"}}}}, nil},
		{"xmlns:val is not val", `<Event><InstanceID xmlns:val="urn:x" val="0"/></Event>`, []gena.InstanceChange{{InstanceID: "0"}}, nil},
		{"encoding declared, ignored", `<?xml version="1.0" encoding="ISO-8859-1"?><Event><InstanceID val="0"><A val="café"/></InstanceID></Event>`,
			[]gena.InstanceChange{{InstanceID: "0", Vars: []gena.VarChange{{Name: "A", Value: "café"}}}}, nil},
		{"BOM", "\uFEFF<Event/>", nil, nil},
		{"empty Event", `<Event/>`, nil, nil},
		{"after the root ignored", `<Event/><Event><InstanceID val="0"/></Event>`, nil, nil},

		{"empty", "", nil, gena.ErrNotLastChange},
		{"text", "PLAYING", nil, gena.ErrNotLastChange},
		{"wrong root", `<InstanceID val="0"/>`, nil, gena.ErrNotLastChange},
		{"DIDL-Lite", `<DIDL-Lite xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/"/>`, nil, gena.ErrNotLastChange},
		{"not closed", `<Event><InstanceID val="0">`, nil, errSyntax},
		{"mismatched", `<Event><InstanceID val="0"></Event>`, nil, errSyntax},
		{"bad attribute", `<Event><InstanceID val=0/></Event>`, nil, errSyntax},
		{"unknown entity", `<Event><InstanceID val="&x;"/></Event>`, nil, errSyntax},
		{"colon in name", `<Event><InstanceID val="0"><A: val="1"/></InstanceID></Event>`, nil, errSyntax},
		{"DTD", `<!DOCTYPE Event><Event/>`, nil, upnp.ErrDTD},
		{"billion laughs", billionLaughs("Event") + `<Event><InstanceID val="&lol9;"/></Event>`, nil, upnp.ErrDTD},
		{"deep", `<Event><InstanceID val="0">` + strings.Repeat("<A>", 40) + strings.Repeat("</A>", 40) + `</InstanceID></Event>`, nil, upnp.ErrTooDeep},
		{"many tokens", `<Event><InstanceID val="0">` + strings.Repeat(`<A val="1"/>`, 30_000) + `</InstanceID></Event>`, nil, upnp.ErrTooManyTokens},
		{"many attributes", `<Event><InstanceID val="0"><A` + manyAttrs(60_000) + `/></InstanceID></Event>`, nil, upnp.ErrTooManyTokens},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gena.ParseLastChange(tt.value)
			checkErr(t, err, tt.err)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// The bounds hold for XML that arrives inside a property value, escaped or
// raw: a bomb in LastChange is refused by ParseLastChange even though the
// property set around it is harmless.
func TestLastChangeBombInsideProperty(t *testing.T) {
	escape := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace
	for _, tt := range []struct {
		name  string
		value string
		err   error
	}{
		{"billion laughs", billionLaughs("Event") + `<Event><InstanceID val="&lol9;"/></Event>`, upnp.ErrDTD},
		{"deep", `<Event>` + strings.Repeat("<A>", 100) + strings.Repeat("</A>", 100) + `</Event>`, upnp.ErrTooDeep},
		{"many tokens", `<Event><InstanceID val="0">` + strings.Repeat(`<A val="1"/>`, 30_000) + `</InstanceID></Event>`, upnp.ErrTooManyTokens},
	} {
		t.Run(tt.name, func(t *testing.T) {
			props, err := gena.ParsePropertySet([]byte(ps(prop("<LastChange>" + escape(tt.value) + "</LastChange>"))))
			if err != nil {
				t.Fatal(err)
			}
			_, err = gena.ParseLastChange(props[0].Value)
			checkErr(t, err, tt.err)
		})
	}
}

func TestParseLastChangeLimitsExact(t *testing.T) {
	// Event, InstanceID, the variable and n more.
	deep := func(n int) string {
		return `<Event><InstanceID><A>` + strings.Repeat("<x>", n) + strings.Repeat("</x>", n) + `</A></InstanceID></Event>`
	}
	// The frame has 6 tokens: Event, a text, InstanceID with its
	// attribute, and two end tags; a comment adds 1.
	tokens := func(n int) string {
		return `<Event>t<InstanceID val="0">` + strings.Repeat("<!---->", n-6) + `</InstanceID></Event>`
	}
	for _, tt := range []struct {
		name  string
		value string
		err   error
	}{
		{"depth 32", deep(29), nil},
		{"depth 33", deep(30), upnp.ErrTooDeep},
		{"50000 tokens", tokens(50_000), nil},
		{"50001 tokens", tokens(50_001), upnp.ErrTooManyTokens},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gena.ParseLastChange(tt.value)
			checkErr(t, err, tt.err)
		})
	}
}

func TestAppendLastChange(t *testing.T) {
	changes := []gena.InstanceChange{
		{InstanceID: "0", Vars: []gena.VarChange{
			{Name: "TransportState", Value: "PLAYING"},
			{Name: "AVTransportURIMetaData", Value: `<DIDL-Lite xmlns="urn:x"><item id="1">a & b</item></DIDL-Lite>`},
			{Name: "Volume", Value: "40", Channel: "Master"},
			{Name: "Odd", Value: "\t\r\n'"},
		}},
		{InstanceID: "1"},
	}
	got, err := gena.AppendLastChange([]byte("x"), gena.NamespaceAVT, changes)
	if err != nil {
		t.Fatal(err)
	}
	want := `x<Event xmlns="urn:schemas-upnp-org:metadata-1-0/AVT/"><InstanceID val="0">` +
		`<TransportState val="PLAYING"/>` +
		`<AVTransportURIMetaData val="&lt;DIDL-Lite xmlns=&quot;urn:x&quot;&gt;&lt;item id=&quot;1&quot;&gt;a &amp; b&lt;/item&gt;&lt;/DIDL-Lite&gt;"/>` +
		`<Volume val="40" channel="Master"/>` +
		`<Odd val="&#x9;&#xD;&#xA;'"/>` +
		`</InstanceID><InstanceID val="1"></InstanceID></Event>`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	back, err := gena.ParseLastChange(string(got[1:]))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(changes, back, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	got, err = gena.AppendLastChange(nil, "", []gena.InstanceChange{{InstanceID: "0"}})
	if err != nil || string(got) != `<Event><InstanceID val="0"></InstanceID></Event>` {
		t.Errorf("no namespace: %s, %v", got, err)
	}

	for _, tt := range []struct {
		name    string
		ns      string
		changes []gena.InstanceChange
		err     error
	}{
		{"bad name", "", []gena.InstanceChange{{Vars: []gena.VarChange{{Name: "a b"}}}}, gena.ErrInvalidName},
		{"empty name", "", []gena.InstanceChange{{Vars: []gena.VarChange{{Value: "1"}}}}, gena.ErrInvalidName},
		{"bad value", "", []gena.InstanceChange{{Vars: []gena.VarChange{{Name: "A", Value: "\x00"}}}}, gena.ErrInvalidChar},
		{"bad channel", "", []gena.InstanceChange{{Vars: []gena.VarChange{{Name: "A", Channel: "\xff"}}}}, gena.ErrInvalidChar},
		{"bad instance", "", []gena.InstanceChange{{InstanceID: "\x01"}}, gena.ErrInvalidChar},
		{"bad namespace", "\x02", nil, gena.ErrInvalidChar},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gena.AppendLastChange([]byte("keep"), tt.ns, tt.changes)
			checkErr(t, err, tt.err)
			if string(got) != "keep" {
				t.Errorf("b = %q, want it unchanged", got)
			}
		})
	}
}

// The device side of LastChange aggregation and the control point side
// agree through a whole event body, for every LastChange captured.
func TestLastChangeThroughPropertySet(t *testing.T) {
	for _, name := range glob(t, "testdata/events/gmediarender-*.xml") {
		want := parseEvent(t, readFile(t, name)).LastChange
		ns := gena.NamespaceAVT
		if strings.Contains(name, "RenderingControl") {
			ns = gena.NamespaceRCS
		}
		value, err := gena.AppendLastChange(nil, ns, want)
		if err != nil {
			t.Fatal(err)
		}
		body, err := gena.AppendPropertySet(nil, []gena.Property{{Name: "LastChange", Value: string(value)}})
		if err != nil {
			t.Fatal(err)
		}
		got := parseEvent(t, body).LastChange
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

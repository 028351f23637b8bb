package gena_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/gena"
)

const eventNS = "urn:schemas-upnp-org:event-1-0"

// ps wraps properties in the usual property set.
func ps(properties string) string {
	return `<?xml version="1.0"?>` + "\n" + `<e:propertyset xmlns:e="` + eventNS + `">` + properties + `</e:propertyset>`
}

// prop wraps a variable in a property.
func prop(v string) string { return "<e:property>" + v + "</e:property>" }

// An event is what the golden files hold for a captured event body.
type event struct {
	Properties []gena.Property
	LastChange []gena.InstanceChange `json:",omitempty"`
}

func parseEvent(t *testing.T, body []byte) event {
	t.Helper()
	var ev event
	var err error
	if ev.Properties, err = gena.ParsePropertySet(body); err != nil {
		t.Fatalf("ParsePropertySet: %v", err)
	}
	for _, p := range ev.Properties {
		if p.Name == "LastChange" {
			if ev.LastChange, err = gena.ParseLastChange(p.Value); err != nil {
				t.Fatalf("ParseLastChange: %v", err)
			}
		}
	}
	return ev
}

// The bodies of real NOTIFY requests read as the golden files say
// (regenerate them with -update, then review the diff).
func TestParsePropertySetCaptures(t *testing.T) {
	for _, name := range glob(t, "testdata/events/*.xml") {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(name, "testdata/events/"), ".xml"), func(t *testing.T) {
			got := parseEvent(t, readFile(t, name))
			golden := strings.TrimSuffix(name, ".xml") + ".json"
			if *update {
				var b bytes.Buffer
				enc := json.NewEncoder(&b)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "\t")
				if err := enc.Encode(got); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			var want event
			if err := json.Unmarshal(readFile(t, golden), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// A few facts about the captures, checked by hand rather than by golden
// file.
func TestParsePropertySetCaptureFacts(t *testing.T) {
	// miniupnpd: one variable per property, in order.
	props, err := gena.ParsePropertySet(readFile(t, "testdata/events/miniupnpd-WANIPConnection-seq1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []gena.Property{
		{"PossibleConnectionTypes", "IP_Routed"},
		{"ConnectionStatus", "Connected"},
		{"ExternalIPAddress", "1.2.3.4"},
		{"PortMappingNumberOfEntries", "1"},
		{"SystemUpdateID", "1"},
	}
	if diff := cmp.Diff(want, props); diff != "" {
		t.Errorf("miniupnpd (-want +got):\n%s", diff)
	}

	// gmediarender: LastChange with CRLF line ends, which XML reads as LF.
	ev := parseEvent(t, readFile(t, "testdata/events/gmediarender-AVTransport-seq2.xml"))
	if len(ev.Properties) != 1 || !strings.HasPrefix(ev.Properties[0].Value, "<?xml version=\"1.0\"?>\n<Event xmlns=\"urn:schemas-upnp-org:metadata-1-0/AVT/\">\n") {
		t.Errorf("LastChange value = %q", ev.Properties)
	}
	wantLC := []gena.InstanceChange{{InstanceID: "0", Vars: []gena.VarChange{
		{Name: "TransportState", Value: "PLAYING"},
		{Name: "CurrentTransportActions", Value: "PAUSE,STOP,SEEK"},
		{Name: "CurrentTrack", Value: "1"},
		{Name: "CurrentTrackURI", Value: "http://10.77.0.12:8200/MediaItems/28.mp3"},
	}}}
	if diff := cmp.Diff(wantLC, ev.LastChange); diff != "" {
		t.Errorf("AVTransport SEQ 2 (-want +got):\n%s", diff)
	}

	ev = parseEvent(t, readFile(t, "testdata/events/gmediarender-RenderingControl-seq1.xml"))
	wantLC = []gena.InstanceChange{{InstanceID: "0", Vars: []gena.VarChange{
		{Name: "Volume", Value: "40", Channel: "Master"},
		{Name: "VolumeDB", Value: "-7168", Channel: "Master"},
	}}}
	if diff := cmp.Diff(wantLC, ev.LastChange); diff != "" {
		t.Errorf("RenderingControl SEQ 1 (-want +got):\n%s", diff)
	}

	// AVTransportURIMetaData: DIDL-Lite escaped twice, text once unescaped.
	ev = parseEvent(t, readFile(t, "testdata/events/gmediarender-AVTransport-seq3.xml"))
	meta := ev.LastChange[0].Vars[0]
	if meta.Name != "AVTransportURIMetaData" || !strings.HasPrefix(meta.Value, `<DIDL-Lite xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/"`) ||
		!strings.Contains(meta.Value, "\t<dc:title>Lab Tone</dc:title>\n") {
		t.Errorf("AVTransportURIMetaData = %q", meta)
	}
}

func TestParsePropertySet(t *testing.T) {
	lastChange := `<Event xmlns="urn:schemas-upnp-org:metadata-1-0/AVT/"><InstanceID val="0"><TransportState val="PLAYING"/></InstanceID></Event>`
	for _, tt := range []struct {
		name string
		body string
		want []gena.Property
		err  error
	}{
		{"one", ps(prop("<Status>1</Status>")), []gena.Property{{"Status", "1"}}, nil},
		{"two properties", ps(prop("<A>1</A>") + prop("<B>2</B>")), []gena.Property{{"A", "1"}, {"B", "2"}}, nil},
		{"several in one property", ps(prop("<A>1</A><B>2</B>\n<C>3</C>")), []gena.Property{{"A", "1"}, {"B", "2"}, {"C", "3"}}, nil},
		{"repeats kept", ps(prop("<A>1</A>") + prop("<A>2</A>")), []gena.Property{{"A", "1"}, {"A", "2"}}, nil},
		{"white space around", "\n  " + ps("\n  "+prop("\n    <A>1</A>\n  ")+"\n") + "\n", []gena.Property{{"A", "1"}}, nil},
		{"value not trimmed", ps(prop("<A>  a b \n</A>")), []gena.Property{{"A", "  a b \n"}}, nil},
		{"empty values", ps(prop("<A/><B></B>")), []gena.Property{{"A", ""}, {"B", ""}}, nil},
		{"no properties", ps(""), nil, nil},
		{"other prefix", `<ev:propertyset xmlns:ev="` + eventNS + `"><ev:property><A>1</A></ev:property></ev:propertyset>`, []gena.Property{{"A", "1"}}, nil},
		{"default namespace", `<propertyset xmlns="` + eventNS + `"><property><A>1</A></property></propertyset>`, []gena.Property{{"A", "1"}}, nil},
		{"no namespace", `<propertyset><property><A>1</A></property></propertyset>`, []gena.Property{{"A", "1"}}, nil},
		{"any case", `<e:PropertySet xmlns:e="` + eventNS + `"><e:Property><A>1</A></e:Property></e:PropertySet>`, []gena.Property{{"A", "1"}}, nil},
		{"prefixed variable with attributes", ps(prop(`<s:ContainerUpdateIDs xmlns:s="urn:schemas-upnp-org:service:ContentDirectory:1" xmlns:dt="urn:schemas-microsoft-com:datatypes" dt:dt="string">c,1</s:ContainerUpdateIDs>`)),
			[]gena.Property{{"ContainerUpdateIDs", "c,1"}}, nil},
		{"entities", ps(prop("<A>a&amp;b&lt;c&gt;d&quot;e&apos;f&#x41;&#66;&#xe9;</A>")), []gena.Property{{"A", `a&b<c>d"e'fABé`}}, nil},
		{"CDATA", ps(prop("<A>x<![CDATA[<y>&amp;]]>z</A>")), []gena.Property{{"A", "x<y>&amp;z"}}, nil},
		{"comments and PIs dropped", ps(prop("<A>a<!-- c -->b<?pi x?>c</A>")), []gena.Property{{"A", "abc"}}, nil},
		{"line ends", ps(prop("<A>a\r\nb\rc&#xD;&#xA;</A>")), []gena.Property{{"A", "a\nb\nc\r\n"}}, nil},
		{"text in property ignored", ps(prop("junk<A>1</A>more")), []gena.Property{{"A", "1"}}, nil},
		{"other elements ignored", ps(`<x><A>0</A></x>` + prop("<A>1</A>") + `<e:other/>`), []gena.Property{{"A", "1"}}, nil},
		{"after the root ignored", ps(prop("<A>1</A>")) + "<x/>garbage<", []gena.Property{{"A", "1"}}, nil},
		{"BOM", "\uFEFF" + ps(prop("<A>1</A>")), []gena.Property{{"A", "1"}}, nil},
		{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><e:propertyset xmlns:e="` + eventNS + `"><e:property><A>caf` + "\xe9" + `</A></e:property></e:propertyset>`,
			[]gena.Property{{"A", "café"}}, nil},
		{"non-ASCII name", ps(prop("<Größe>1</Größe>")), []gena.Property{{"Größe", "1"}}, nil},
		{"escaped LastChange", ps(prop("<LastChange>" + strings.NewReplacer("<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(lastChange) + "</LastChange>")),
			[]gena.Property{{"LastChange", lastChange}}, nil},
		{"raw LastChange", ps(prop("<LastChange>" + lastChange + "</LastChange>")),
			[]gena.Property{{"LastChange", `<Event xmlns="urn:schemas-upnp-org:metadata-1-0/AVT/"><InstanceID val="0"><TransportState val="PLAYING"></TransportState></InstanceID></Event>`}}, nil},
		{"raw mixed content", ps(prop(`<V>a&amp;<p:b x="&quot;&lt;" y='1'>c&lt;<![CDATA[<]]><!--x--></p:b>d</V>`)),
			[]gena.Property{{"V", `a&amp;<p:b x="&quot;&lt;" y="1">c&lt;&lt;</p:b>d`}}, nil},

		{"empty", "", nil, gena.ErrNotPropertySet},
		{"only white space", " \n", nil, gena.ErrNotPropertySet},
		{"wrong root", `<root><property><A>1</A></property></root>`, nil, gena.ErrNotPropertySet},
		{"SOAP envelope", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>`, nil, gena.ErrNotPropertySet},
		{"not closed", ps(prop("<A>1</A>"))[:60], nil, errSyntax},
		{"mismatched", ps(prop("<A>1</B>")), nil, errSyntax},
		{"mismatched prefix", `<e:propertyset xmlns:e="x"></f:propertyset>`, nil, errSyntax},
		{"stray end", `</e:propertyset>`, nil, errSyntax},
		{"unknown entity", ps(prop("<A>&nbsp;</A>")), nil, errSyntax},
		{"bad character reference", ps(prop("<A>&#1;</A>")), nil, errSyntax},
		{"control character", ps(prop("<A>\x01</A>")), nil, errSyntax},
		{"invalid UTF-8", ps(prop("<A>\xff</A>")), nil, errSyntax},
		{"colon in name", ps(prop("<A:>1</A:>")), nil, errSyntax},
		{"leading colon", ps(prop("<:A>1</:A>")), nil, errSyntax},
		{"DTD", `<!DOCTYPE e:propertyset>` + ps(prop("<A>1</A>")), nil, upnp.ErrDTD},
		{"billion laughs", billionLaughs("e:propertyset") + `<e:propertyset xmlns:e="` + eventNS + `"><e:property><A>&lol9;</A></e:property></e:propertyset>`, nil, upnp.ErrDTD},
		{"DTD inside", ps(prop("<A><!ENTITY x 'y'></A>")), nil, upnp.ErrDTD},
		{"deep", ps(prop("<A>" + strings.Repeat("<x>", 40) + strings.Repeat("</x>", 40) + "</A>")), nil, upnp.ErrTooDeep},
		{"many tokens", ps(prop("<A>" + strings.Repeat("<!---->", 60_000) + "</A>")), nil, upnp.ErrTooManyTokens},
		{"many attributes", ps(prop(`<A` + manyAttrs(60_000) + `/>`)), nil, upnp.ErrTooManyTokens},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gena.ParsePropertySet([]byte(tt.body))
			checkErr(t, err, tt.err)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// billionLaughs returns the classic entity-expansion DTD for root.
func billionLaughs(root string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><!DOCTYPE ` + root + ` [<!ENTITY lol "lol">`)
	prev := "lol"
	for i := 1; i <= 9; i++ {
		name := "lol" + string(rune('0'+i))
		b.WriteString(`<!ENTITY ` + name + ` "` + strings.Repeat("&"+prev+";", 10) + `">`)
		prev = name
	}
	b.WriteString(`]>`)
	return b.String()
}

func manyAttrs(n int) string { return strings.Repeat(` a=""`, n) }

// The reader stops at exactly 32 open elements and 50,000 tokens
// (attributes count as tokens), as internal/xmlsafe does.
func TestParsePropertySetLimitsExact(t *testing.T) {
	deep := func(n int) string { // propertyset, property, the variable and n more
		return ps(prop("<A>" + strings.Repeat("<x>", n) + strings.Repeat("</x>", n) + "</A>"))[len(`<?xml version="1.0"?>`+"\n"):]
	}
	// The frame has 7 tokens: propertyset with its attribute, property,
	// the variable, and three end tags; a comment adds 1.
	tokens := func(n int) string {
		return `<e:propertyset xmlns:e="` + eventNS + `"><e:property><A>` + strings.Repeat("<!---->", n-7) + `</A></e:property></e:propertyset>`
	}
	for _, tt := range []struct {
		name string
		body string
		err  error
	}{
		{"depth 32", deep(29), nil},
		{"depth 33", deep(30), upnp.ErrTooDeep},
		{"50000 tokens", tokens(50_000), nil},
		{"50001 tokens", tokens(50_001), upnp.ErrTooManyTokens},
		{"50000 tokens with an attribute", strings.Replace(tokens(49_999), "<A>", `<A b="">`, 1), nil},
		{"50001 tokens with attributes", strings.Replace(tokens(49_999), "<A>", `<A b="" c="">`, 1), upnp.ErrTooManyTokens},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gena.ParsePropertySet([]byte(tt.body))
			checkErr(t, err, tt.err)
		})
	}
}

// Bound errors carry the position where reading stopped.
func TestParsePropertySetErrorPosition(t *testing.T) {
	body := ps("\n" + strings.Repeat("<a>", 100))
	_, err := gena.ParsePropertySet([]byte(body))
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.HasPrefix(err.Error(), "gena: ") {
		t.Errorf("err = %v, want a gena: error on line 3", err)
	}
}

func TestAppendPropertySet(t *testing.T) {
	got, err := gena.AppendPropertySet([]byte("x"), []gena.Property{
		{"Status", "1"},
		{"LoadLevelStatus", "a<&>\"' \r\n\t]]>é"},
		{"Empty", ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "x" + `<?xml version="1.0"?>` + "\n" +
		`<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">` +
		`<e:property><Status>1</Status></e:property>` +
		`<e:property><LoadLevelStatus>a&lt;&amp;&gt;"' &#xD;` + "\n\t]]&gt;é</LoadLevelStatus></e:property>" +
		`<e:property><Empty></Empty></e:property>` +
		`</e:propertyset>`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	for _, tt := range []struct {
		name string
		p    gena.Property
		err  error
	}{
		{"empty name", gena.Property{"", "1"}, gena.ErrInvalidName},
		{"digit first", gena.Property{"1A", "1"}, gena.ErrInvalidName},
		{"colon", gena.Property{"a:b", "1"}, gena.ErrInvalidName},
		{"space", gena.Property{"a b", "1"}, gena.ErrInvalidName},
		{"markup", gena.Property{"a>", "1"}, gena.ErrInvalidName},
		{"NUL", gena.Property{"A", "\x00"}, gena.ErrInvalidChar},
		{"escape", gena.Property{"A", "\x1b[0m"}, gena.ErrInvalidChar},
		{"invalid UTF-8", gena.Property{"A", "\xff"}, gena.ErrInvalidChar},
		{"U+FFFE", gena.Property{"A", "\uFFFE"}, gena.ErrInvalidChar},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte("keep")
			got, err := gena.AppendPropertySet(b, []gena.Property{{"Ok", "1"}, tt.p})
			checkErr(t, err, tt.err)
			if string(got) != "keep" {
				t.Errorf("b = %q, want it unchanged", got)
			}
		})
	}
}

func TestPropertySetRoundTrip(t *testing.T) {
	cases := [][]gena.Property{
		nil,
		{{"A", ""}},
		{{"A", "  spaces  "}, {"A", "again"}},
		{{"LastChange", `<Event xmlns="urn:schemas-upnp-org:metadata-1-0/RCS/"><InstanceID val="0"><Volume val="40" channel="Master"/></InstanceID></Event>`}},
		{{"X", "\r\n\t<>&\"'"}, {"Ünïcödé", "日本語 \U0001F600"}},
		{{"CDATA", "]]>"}, {"Ref", "&amp;"}},
	}
	for _, name := range glob(t, "testdata/events/*.xml") {
		props, err := gena.ParsePropertySet(readFile(t, name))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, props)
	}
	for _, props := range cases {
		b, err := gena.AppendPropertySet(nil, props)
		if err != nil {
			t.Fatalf("AppendPropertySet(%q): %v", props, err)
		}
		got, err := gena.ParsePropertySet(b)
		if err != nil {
			t.Fatalf("ParsePropertySet(%s): %v", b, err)
		}
		if diff := cmp.Diff(props, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

func TestReadBody(t *testing.T) {
	body := bytes.Repeat([]byte("x"), gena.MaxBody)
	got, err := gena.ReadBody(bytes.NewReader(body), 0)
	if err != nil || len(got) != gena.MaxBody {
		t.Errorf("ReadBody(MaxBody bytes) = %d bytes, %v", len(got), err)
	}
	_, err = gena.ReadBody(bytes.NewReader(append(body, 'x')), 0)
	checkErr(t, err, upnp.ErrTooLarge)
	_, err = gena.ReadBody(strings.NewReader("12345"), 4)
	checkErr(t, err, upnp.ErrTooLarge)
	// A body that never ends costs MaxBody+1 bytes of reading, no more.
	r := &countingReader{}
	_, err = gena.ReadBody(r, 0)
	checkErr(t, err, upnp.ErrTooLarge)
	if r.n > gena.MaxBody+1 {
		t.Errorf("read %d bytes of an endless body", r.n)
	}
	_, err = gena.ReadBody(iotest.ErrReader(iotest.ErrTimeout), 0)
	checkErr(t, err, iotest.ErrTimeout)
}

type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '<'
	}
	r.n += len(p)
	return len(p), nil
}

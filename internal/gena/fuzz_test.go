package gena_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/gena"
)

// Fuzz targets, seeded from testdata and the edge cases below; findings
// stay in testdata/fuzz as regressions. Run one with, for example:
//
//	go test -run XXX -fuzz FuzzParsePropertySet -fuzztime 45s ./internal/gena
//
// Each checks parse -> append -> parse round trips: whatever a parser
// accepts, the matching writer must write, and the parser read back the
// same.

// bodyEdges are property sets that probe the reader.
var bodyEdges = []string{
	ps(prop("<A>&#x41;&#65;&#0065;&#x000041;</A>")),
	ps(prop("<A>&#xD800;&#xFFFE;&#x1;</A>")),
	ps(prop("<A>&lt</A>")),
	ps(prop("<A>]]&gt;]]]]></A>")),
	ps(prop("<A>\r\n\r\r\n\n\r</A>")),
	ps(prop("<A><![CDATA[\r\n]]]]><![CDATA[]]></A>")),
	ps(prop("<A>a<!-- x -->b<?p q?>c</A>")),
	ps(prop("<A>a<b c='&quot;' d=\"'\">e<f/>&amp;</b>g</A>")),
	ps(prop(`<LastChange><Event xmlns="urn:schemas-upnp-org:metadata-1-0/AVT/"><InstanceID val="0"><TransportState val="PLAYING"/></InstanceID></Event></LastChange>`)),
	ps(prop("<A>1</A><B>2</B>") + "<x><C>3</C></x>"),
	ps(prop("<:A>1</:A>")),
	ps(prop("<A:>1</A:>")),
	ps(prop("<a:b:c>1</a:b:c>")),
	ps(prop("<Ä>1</Ä>")),
	ps(prop("<A>\xc3\x28</A>")),
	`<?xml version="1.0" encoding="windows-1252"?><propertyset><property><A>` + "\x80" + `</A></property></propertyset>`,
	"\uFEFF" + ps(""),
	`<!DOCTYPE x>` + ps(""),
	`<propertyset/>`,
	`</propertyset>`,
	`<e:propertyset xmlns:e="x"></f:propertyset>`,
}

// lastChangeEdges are LastChange values that probe the reader.
var lastChangeEdges = []string{
	`<Event xmlns="urn:schemas-upnp-org:metadata-1-0/RCS/"><InstanceID val="0"><Volume val="40" channel="Master"/></InstanceID></Event>`,
	`<a:Event xmlns:a="x"><a:InstanceID a:val="0"><a:X a:val="1" a:channel="LF"/></a:InstanceID></a:Event>`,
	`<event><instanceid VAL="0"><X Val="&lt;&#x9;&#xD;"/></instanceid></event>`,
	`<Event><InstanceID xmlns:val="urn:x" val="0"><A val="1" val="2"/></InstanceID><Other/><InstanceID/></Event>`,
	`<Event><InstanceID val="0"><A><B val="1"/></A></InstanceID></Event>`,
	`<?xml version="1.0"?>` + "\r\n<Event/>\r\n",
	`<Event/><Event/>`,
	`<Event><InstanceID val="0"><A: val="1"/></InstanceID></Event>`,
	`<!DOCTYPE Event><Event/>`,
	`PLAYING`,
}

// callbackEdges are CALLBACK headers that probe the parser.
var callbackEdges = []string{
	"<http://10.0.0.1:8080/cb>",
	"<http://a/b><http://c/d>",
	"  <http://a/b> \t <http://c/d>  ",
	"<http://[fe80::1%25eth0]:49152/cb?x=1#f>",
	"<HTTP://10.0.0.1/%41%2F>",
	"<http://user@a/>",
	"<http://a:0/>",
	"<http://a:/>",
	"<https://a/>",
	"<http:a>",
	"<>",
	"<http://a/b",
	strings.Repeat("<http://a/>", 7),
	"<http://10.0.0.1/" + strings.Repeat("a", 240) + ">",
	"<http://a/\"'{}|\\^`>",
}

func FuzzParsePropertySet(f *testing.F) {
	for _, name := range glob(f, "testdata/events/*.xml") {
		f.Add(readFile(f, name))
	}
	for _, s := range bodyEdges {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		props, err := gena.ParsePropertySet(body)
		if err != nil {
			return
		}
		for _, p := range props {
			gena.ParseLastChange(p.Value) // must not panic
		}
		out, err := gena.AppendPropertySet(nil, props)
		if err != nil {
			t.Fatalf("AppendPropertySet(%q): %v", props, err)
		}
		props2, err := gena.ParsePropertySet(out)
		if err != nil {
			t.Fatalf("ParsePropertySet(AppendPropertySet()): %v\n%s", err, out)
		}
		if diff := cmp.Diff(props, props2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func FuzzParseLastChange(f *testing.F) {
	for _, name := range glob(f, "testdata/events/gmediarender-*.xml") {
		props, err := gena.ParsePropertySet(readFile(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(props[0].Value)
	}
	for _, s := range lastChangeEdges {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		changes, err := gena.ParseLastChange(value)
		if err != nil {
			return
		}
		out, err := gena.AppendLastChange(nil, gena.NamespaceAVT, changes)
		if err != nil {
			t.Fatalf("AppendLastChange(%q): %v", changes, err)
		}
		body, err := gena.AppendPropertySet(nil, []gena.Property{{Name: "LastChange", Value: string(out)}})
		if err != nil {
			t.Fatalf("AppendPropertySet(%q): %v", out, err)
		}
		props, err := gena.ParsePropertySet(body)
		if err != nil || len(props) != 1 || props[0].Value != string(out) {
			t.Fatalf("ParsePropertySet(AppendPropertySet()) = %q, %v\n%s", props, err, body)
		}
		changes2, err := gena.ParseLastChange(props[0].Value)
		if err != nil {
			t.Fatalf("ParseLastChange(AppendLastChange()): %v\n%s", err, out)
		}
		if diff := cmp.Diff(changes, changes2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func FuzzParseMulticast(f *testing.F) {
	f.Add([]byte(udaExample))
	f.Add([]byte(strings.ReplaceAll(udaExample, "\r\n", "\n")))
	f.Add([]byte("NOTIFY * HTTP/1.1\r\nNT: upnp:event\r\nNTS: upnp:propchange\r\nUSN: u\r\nSVCID: s\r\nSEQ: 1\r\n\r\n<propertyset/>"))
	for _, name := range glob(f, "testdata/events/*.xml") {
		props, err := gena.ParsePropertySet(readFile(f, name))
		if err != nil {
			f.Fatal(err)
		}
		b, err := gena.AppendMulticast(nil, &gena.MulticastEvent{USN: lightUSN, SVCID: lightSVCID, SEQ: 3, BootID: 5, Props: props})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, datagram []byte) {
		ev, err := gena.ParseMulticast(datagram)
		if err != nil {
			return
		}
		if ev.USN == "" || ev.SVCID == "" || ev.BootID < -1 {
			t.Fatalf("ParseMulticast accepted %+v", ev)
		}
		out, err := gena.AppendMulticast(nil, ev)
		if errors.Is(err, upnp.ErrTooLarge) {
			return // escaping can make the body longer than it came
		}
		if err != nil {
			t.Fatalf("AppendMulticast(%+v): %v", ev, err)
		}
		ev2, err := gena.ParseMulticast(out)
		if err != nil {
			t.Fatalf("ParseMulticast(AppendMulticast()): %v\n%q", err, out)
		}
		want := *ev
		if want.Host == "" {
			want.Host = gena.MulticastAddr
		}
		if want.LVL == "" {
			want.LVL = gena.LevelGeneral
		}
		if diff := cmp.Diff(&want, ev2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func FuzzParseCallback(f *testing.F) {
	for _, s := range callbackEdges {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		urls, err := gena.ParseCallback(h)
		if err != nil {
			if !errors.Is(err, gena.ErrBadCallback) {
				t.Fatalf("ParseCallback(%q) = %v, not an ErrBadCallback", h, err)
			}
			return
		}
		if len(urls) == 0 || len(urls) > gena.MaxCallbacks {
			t.Fatalf("ParseCallback(%q) = %d URLs", h, len(urls))
		}
		var b strings.Builder
		for _, u := range urls {
			if u.Scheme != "http" || u.Hostname() == "" || u.User != nil || u.Opaque != "" {
				t.Fatalf("ParseCallback(%q) accepted %q", h, u)
			}
			b.WriteString("<" + u.String() + ">")
		}
		urls2, err := gena.ParseCallback(b.String())
		if errors.Is(err, gena.ErrCallbackTooLong) {
			return // String escapes what Parse accepted unescaped
		}
		if err != nil {
			t.Fatalf("ParseCallback(%q), from %q: %v", b.String(), h, err)
		}
		for i := range urls {
			if urls[i].String() != urls2[i].String() {
				t.Fatalf("round trip: %q, then %q", urls[i], urls2[i])
			}
		}
	})
}

// FuzzHeaders holds the small header parsers to their writers.
func FuzzHeaders(f *testing.F) {
	for _, s := range []string{"Second-1800", "second-infinite", " Second - 0 ", "Second-99999999999", "0", "4294967295", "uuid:abc", "UUID:8d5815f2-e60b-11f1-9ad4-e89da80c37c1", "a, b,,a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if d, inf, err := gena.ParseTimeout(h); err == nil && !inf {
			d2, inf2, err := gena.ParseTimeout(gena.FormatTimeout(d))
			if d2 != d || inf2 || err != nil {
				t.Fatalf("ParseTimeout(FormatTimeout(%v)) = %v, %v, %v", d, d2, inf2, err)
			}
		}
		if seq, err := gena.ParseSEQ(h); err == nil {
			if seq2, err := gena.ParseSEQ(strconv.FormatUint(uint64(seq), 10)); seq2 != seq || err != nil {
				t.Fatalf("ParseSEQ round trip: %d, then %d, %v", seq, seq2, err)
			}
		}
		if sid, err := gena.ParseSID(h); err == nil {
			if sid2, err := gena.ParseSID(sid); sid2 != sid || err != nil {
				t.Fatalf("ParseSID(%q) = %q, %v", sid, sid2, err)
			}
		}
		names := gena.ParseStateVars(h)
		if diff := cmp.Diff(names, gena.ParseStateVars(gena.FormatStateVars(names))); diff != "" {
			t.Fatalf("ParseStateVars round trip (-first +second):\n%s", diff)
		}
	})
}

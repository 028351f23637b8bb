package soap_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/soap"
)

// Fuzz targets, seeded from testdata and the edge cases below; findings
// stay in testdata/fuzz as regressions. Run one with, for example:
//
//	go test -run XXX -fuzz FuzzParseRequest -fuzztime 60s ./internal/soap
//
// Besides parse -> append -> parse round trips, both hold the fast reader
// to the encoding/xml one: whatever the fast one accepts, the other must
// accept too, with the same result.

// edges are bodies that probe where the two readers could part ways.
var edges = []string{
	play(`<A>&#x41;&#65;&#0065;&#x000041;</A>`),
	play(`<A>&#X41;</A>`),
	play(`<A>&#x;</A>`),
	play(`<A>&#;</A>`),
	play(`<A>&#1114111;&#1114112;</A>`),
	play(`<A>&#99999999999999999999;</A>`),
	play(`<A>&#xD800;&#xDFFF;&#xFFFE;&#xFFFF;&#x1;</A>`),
	play(`<A>&lt</A>`),
	play(`<A>&LT;&Amp;</A>`),
	play(`<A>]]&gt;]]]]></A>`),
	play(`<A>]&#93;]></A>`),
	play("<A>\r\n\r\r\n\n\r</A>"),
	play("<A>&#xD;\n\r&amp;\n</A>"),
	play("<A><![CDATA[\r\n]]]]]><![CDATA[]]></A>"),
	play(`<A><![CDATA[<&>]]></A>`),
	play(`<A><![CDATA[unterminated</A>`),
	play(`<A><!-- a -- b --></A>`),
	play(`<A><!---></A>`),
	play(`<A><!----></A>`),
	play(`<A><?pi?><?pi ?><?xml?></A>`),
	play(`<A><?xml version="1.1"?></A>`),
	play(`<A><?xml encoding="latin1"?>caf` + "\xe9" + `</A>`),
	play(`<A><? x?></A>`),
	play(`<A b='1'c="2" d = "3"	e="&amp;&#x9;&lt;"/>`),
	play(`<A b="<"/>`),
	play(`<A b="]]>"/>`),
	play(`<A b="` + "\r\n\t" + `"/>`),
	play(`<A b/>`),
	play(`<A b=1/>`),
	play(`<A/ >`),
	play(`<A></A >`),
	play(`<A></ A>`),
	play(`< A></A>`),
	play(`<:A>1</:A>`),
	play(`<A:>1</A:>`),
	play(`<a:b:c>1</a:b:c>`),
	play(`<p:A xmlns:p="urn:p">1</p:A>`),
	play(`<p:A>1</q:A>`),
	play(`<-A>1</-A>`),
	play(`<A.b-c_d>1</A.b-c_d>`),
	play(`<Ä>1</Ä>`),
	play("<A>\u00b7\u0300</A>"),
	play("<A>\xc3\x28</A>"),
	play("<A>\xed\xa0\x80</A>"),
	play("<A>\xef\xbf\xbe</A>"),
	play("<A>\x7f\xc2\x85</A>"),
	env(`<u:Play xmlns:u="urn:x&amp;y&#x20;z"/>`),
	env(`<u:Play xmlns:u='urn:x'/>`),
	env(`<u:Play xmlns:u=""/>`),
	env(`<Play xmlns="urn:x"><A xmlns="">1</A></Play>`),
	`<?xml version="1.0" encoding="utf-8"?>` + play(""),
	`<?xml version='1.0' encoding='UTF-8' standalone='yes'?>` + play(""),
	`<?xml version="1.0" encoding="us-ascii"?>` + play(""),
	`<?xml version="1.0" encoding="windows-1252"?>` + play("<A>\x80</A>"),
	`<?xml encoding="utf-16"?>` + play(""),
	"\uFEFF\uFEFF" + play(""),
	"  \n" + play(""),
	"x" + play(""),
	play("") + "\x00",
	`<!DOCTYPE x>` + play(""),
	`<!ELEMENT x>` + play(""),
	`<!-x>` + play(""),
	`<Envelope/>`,
	`<Envelope><Body/></Envelope>`,
	`<Envelope><Body><F/></Body></Envelope>`,
	`</Envelope>`,
	`<Envelope><Body><u:A xmlns:u="urn:x"><B>1</B></u:A></Body></Envelope><Envelope/>`,
	env(`<s:Fault><faultcode>s:Client</faultcode><detail><UPnPError><errorCode>401</errorCode><errorCode>402</errorCode><errorDescription>a</errorDescription><errorDescription>b</errorDescription></UPnPError></detail></s:Fault>`),
	env(`<s:Fault><faultstring>a<x>b</x>c</faultstring><errorCode>4<!---->01</errorCode></s:Fault>`),
	env(`<s:Fault><detail><errorCode>99999999999999999999</errorCode></detail></s:Fault>`),
}

func seeds(f *testing.F) {
	for _, name := range glob(f, "testdata/*/*.xml") {
		f.Add(readFile(f, name))
	}
	for _, s := range edges {
		f.Add([]byte(s))
	}
}

// checkReaders fails t if the fast reader accepts body differently from the
// encoding/xml reader.
func checkReaders(t *testing.T, body []byte, request bool) {
	t.Helper()
	fast, ok := soap.ScanMsg(body, request)
	if !ok {
		return
	}
	slow, err := soap.DecodeMsg(body, request)
	if err != nil {
		t.Fatalf("fast reader accepts what encoding/xml rejects (%v):\n%q", err, body)
	}
	if diff := cmp.Diff(slow, fast); diff != "" {
		t.Fatalf("readers disagree (-encoding/xml +fast):\n%s\n%q", diff, body)
	}
}

func FuzzParseRequest(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkReaders(t, body, true)
		st, action, args, err := soap.ParseRequest(body)
		if err != nil {
			return
		}
		out, err := soap.AppendRequest(nil, st, action, args)
		if err != nil {
			t.Fatalf("AppendRequest(%q, %q, %q): %v", st, action, args, err)
		}
		st2, action2, args2, err := soap.ParseRequest(out)
		if err != nil {
			t.Fatalf("ParseRequest(AppendRequest()): %v\n%s", err, out)
		}
		if st2 != st || action2 != action {
			t.Fatalf("round trip: %q#%q, then %q#%q", st, action, st2, action2)
		}
		if diff := cmp.Diff(args, args2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkReaders(t, body, false)
		args, err := soap.ParseResponse(body, "")
		var uerr *upnp.Error
		switch {
		case errors.As(err, &uerr):
			_, err2 := soap.ParseResponse(soap.AppendFault(nil, uerr.Code, uerr.Description), "")
			want := &upnp.Error{Code: uerr.Code, Description: uerr.Description}
			if want.Description == "" {
				want.Description = upnp.ErrorDescription(want.Code)
			}
			var got *upnp.Error
			if !errors.As(err2, &got) {
				t.Fatalf("ParseResponse(AppendFault(%d, %q)) = %v", uerr.Code, uerr.Description, err2)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("fault round trip (-want +got):\n%s", diff)
			}
		case err != nil:
			return
		default:
			out, err := soap.AppendResponse(nil, "urn:x", "A", args)
			if err != nil {
				t.Fatalf("AppendResponse(%q): %v", args, err)
			}
			args2, err := soap.ParseResponse(out, "A")
			if err != nil {
				t.Fatalf("ParseResponse(AppendResponse()): %v\n%s", err, out)
			}
			if diff := cmp.Diff(args, args2, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("round trip (-first +second):\n%s", diff)
			}
		}
	})
}

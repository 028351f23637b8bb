package soap_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/soap"
)

func TestAppendRequest(t *testing.T) {
	got, err := soap.AppendRequest([]byte("prefix:"), "urn:schemas-upnp-org:service:RenderingControl:1", "SetVolume",
		[]soap.Arg{{"InstanceID", "0"}, {"Channel", "Master"}, {"DesiredVolume", "40"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `prefix:<?xml version="1.0"?>` + "\n" +
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>` +
		`<u:SetVolume xmlns:u="urn:schemas-upnp-org:service:RenderingControl:1"><InstanceID>0</InstanceID><Channel>Master</Channel><DesiredVolume>40</DesiredVolume></u:SetVolume>` +
		`</s:Body></s:Envelope>`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestAppendResponse(t *testing.T) {
	got, err := soap.AppendResponse(nil, "urn:schemas-upnp-org:service:RenderingControl:1", "GetVolume", []soap.Arg{{"CurrentVolume", "40"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0"?>` + "\n" +
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>` +
		`<u:GetVolumeResponse xmlns:u="urn:schemas-upnp-org:service:RenderingControl:1"><CurrentVolume>40</CurrentVolume></u:GetVolumeResponse>` +
		`</s:Body></s:Envelope>`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	got, err = soap.AppendResponse(nil, "urn:x", "Play", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), `<u:PlayResponse xmlns:u="urn:x"></u:PlayResponse>`) {
		t.Errorf("no out arguments: %s", got)
	}
}

// Our fault is byte for byte miniupnpd's (and minidlna's), after the XML
// declaration.
func TestAppendFault(t *testing.T) {
	for _, tt := range []struct {
		code int
		desc string
		file string
	}{
		{401, "", "miniupnpd-InvalidAction.xml"},
		{401, "Invalid Action", "minidlna-InvalidAction.xml"},
		{714, "NoSuchEntryInArray", "miniupnpd-GetSpecificPortMappingEntry-missing.xml"},
		{718, "ConflictInMappingEntry", "miniupnpd-AddPortMapping-718-template.xml"},
	} {
		got := soap.AppendFault(nil, tt.code, tt.desc)
		want := `<?xml version="1.0"?>` + "\n" + string(readFile(t, "testdata/responses/"+tt.file))
		if diff := cmp.Diff(want, string(got)); diff != "" {
			t.Errorf("AppendFault(%d, %q) (-want +got):\n%s", tt.code, tt.desc, diff)
		}
	}
}

func TestAppendFaultRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		code       int
		desc, want string
	}{
		{402, "", "Invalid Args"},
		{501, "disk <full> & \"stuck\"", "disk <full> & \"stuck\""},
		{718, "ConflictInMappingEntry", "ConflictInMappingEntry"},
		{899, "", ""}, // vendor code, no standard description
		{600, "bad\x00value\xff\uFFFE", "bad\uFFFDvalue\uFFFD\uFFFD"},
	} {
		_, err := soap.ParseResponse(soap.AppendFault(nil, tt.code, tt.desc), "X")
		var got *upnp.Error
		if !errors.As(err, &got) {
			t.Fatalf("AppendFault(%d, %q): err = %v", tt.code, tt.desc, err)
		}
		if diff := cmp.Diff(&upnp.Error{Code: tt.code, Description: tt.want}, got); diff != "" {
			t.Errorf("AppendFault(%d, %q) (-want +got):\n%s", tt.code, tt.desc, diff)
		}
	}
}

func TestAppendErrors(t *testing.T) {
	for _, tt := range []struct {
		name        string
		serviceType string
		action      string
		args        []soap.Arg
		err         error
	}{
		{"empty action", "urn:x", "", nil, soap.ErrInvalidName},
		{"action with a colon", "urn:x", "u:Play", nil, soap.ErrInvalidName},
		{"action with a space", "urn:x", "Play Now", nil, soap.ErrInvalidName},
		{"action starting with a digit", "urn:x", "1Play", nil, soap.ErrInvalidName},
		{"action with markup", "urn:x", "Play><x", nil, soap.ErrInvalidName},
		{"action with invalid UTF-8", "urn:x", "Pl\xffay", nil, soap.ErrInvalidName},
		{"empty service type", "", "Play", nil, soap.ErrInvalidName},
		{"empty argument name", "urn:x", "Play", []soap.Arg{{"", "1"}}, soap.ErrInvalidName},
		{"argument name with markup", "urn:x", "Play", []soap.Arg{{"A/", "1"}}, soap.ErrInvalidName},
		{"NUL in a value", "urn:x", "Play", []soap.Arg{{"A", "a\x00b"}}, soap.ErrInvalidChar},
		{"escape in a value", "urn:x", "Play", []soap.Arg{{"A", "\x1b[0m"}}, soap.ErrInvalidChar},
		{"invalid UTF-8 in a value", "urn:x", "Play", []soap.Arg{{"A", "caf\xe9"}}, soap.ErrInvalidChar},
		{"U+FFFE in a value", "urn:x", "Play", []soap.Arg{{"A", "\uFFFE"}}, soap.ErrInvalidChar},
		{"control character in the service type", "urn:x\x01", "Play", nil, soap.ErrInvalidChar},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []func([]byte, string, string, []soap.Arg) ([]byte, error){soap.AppendRequest, soap.AppendResponse} {
				got, err := f([]byte("keep"), tt.serviceType, tt.action, tt.args)
				if !errors.Is(err, tt.err) {
					t.Errorf("err = %v, want %v", err, tt.err)
				}
				if string(got) != "keep" {
					t.Errorf("b = %q, want it unchanged", got)
				}
			}
		})
	}
}

// Values come back exactly as they went, whatever they hold.
func TestRoundTrip(t *testing.T) {
	values := []string{
		"",
		"plain",
		"  leading and trailing spaces  ",
		" ",
		"\t\n",
		"a < b > c & d",
		`"double" 'single'`,
		"]]>",
		"<![CDATA[x]]>",
		"line\nbreaks\r\nand\rreturns\r",
		"&amp; &lt; &#x41; stay literal",
		"Motörhead — ♠ \U0001F600 \u00a0 \u0085",
		"\x7f\u2028",
		`<DIDL-Lite xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/"><item id="1"><dc:title>A &amp; B</dc:title></item></DIDL-Lite>`,
		strings.Repeat("long value & more ", 2000),
	}
	var args []soap.Arg
	for i, v := range values {
		args = append(args, soap.Arg{Name: "Arg" + string(rune('A'+i)), Value: v})
	}
	args = append(args, soap.Arg{Name: "Durée_x.y-z", Value: "name with a non-ASCII letter"})
	const st = `urn:example-com:service:Odd&"<Type>:1`

	req, err := soap.AppendRequest(nil, st, "Test", args)
	if err != nil {
		t.Fatal(err)
	}
	gotST, gotAction, gotArgs, err := soap.ParseRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	if gotST != st || gotAction != "Test" {
		t.Errorf("got %q#%q, want %q#Test", gotST, gotAction, st)
	}
	if diff := cmp.Diff(args, gotArgs); diff != "" {
		t.Errorf("request args (-want +got):\n%s", diff)
	}

	resp, err := soap.AppendResponse(nil, st, "Test", args)
	if err != nil {
		t.Fatal(err)
	}
	out, err := soap.ParseResponse(resp, "Test")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(args, out, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("response args (-want +got):\n%s", diff)
	}
}

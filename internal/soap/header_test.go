package soap_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/soap"
)

func TestParseSOAPAction(t *testing.T) {
	const st = "urn:schemas-upnp-org:service:AVTransport:1"
	for _, tt := range []struct {
		h, st, action string
		ok            bool
	}{
		{`"` + st + `#Play"`, st, "Play", true},
		{st + `#Play`, st, "Play", true},
		{`  "` + st + `#Play"  `, st, "Play", true},
		{`" ` + st + ` # Play "`, st, "Play", true},
		{"\t" + st + "#Play\t", st, "Play", true},
		{`"` + st + `#Play`, st, "Play", true},
		{st + `#Play"`, st, "Play", true},
		{`"urn:schemas-upnp-org:service:WANIPConnection:2#AddAnyPortMapping"`, "urn:schemas-upnp-org:service:WANIPConnection:2", "AddAnyPortMapping", true},
		{`"urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1#IsAuthorized"`, "urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1", "IsAuthorized", true},
		{`"urn:a#b#Play"`, "urn:a#b", "Play", true},

		{``, "", "", false},
		{`""`, "", "", false},
		{`"` + st + `"`, "", "", false},
		{`"#Play"`, "", "", false},
		{`"` + st + `#"`, "", "", false},
		{`"` + st + `#Pl ay"`, "", "", false},
		{`"` + st + `#1Play"`, "", "", false},
		{`"urn:x y#Play"`, "", "", false},
		{`"urn:x"y#Play"`, "", "", false},
		{"\"urn:x\x7f#Play\"", "", "", false},
		{strings.Repeat("x", 4000), "", "", false},
	} {
		gotST, gotAction, err := soap.ParseSOAPAction(tt.h)
		if !tt.ok {
			if !errors.Is(err, soap.ErrBadSOAPAction) {
				t.Errorf("ParseSOAPAction(%.40q) = %q, %q, %v; want ErrBadSOAPAction", tt.h, gotST, gotAction, err)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error message of %d bytes", len(err.Error()))
			}
			continue
		}
		if err != nil || gotST != tt.st || gotAction != tt.action {
			t.Errorf("ParseSOAPAction(%q) = %q, %q, %v; want %q, %q", tt.h, gotST, gotAction, err, tt.st, tt.action)
		}
	}
}

func TestFormatSOAPAction(t *testing.T) {
	const st = "urn:schemas-upnp-org:service:RenderingControl:1"
	h := soap.FormatSOAPAction(st, "SetVolume")
	if want := `"urn:schemas-upnp-org:service:RenderingControl:1#SetVolume"`; h != want {
		t.Errorf("FormatSOAPAction = %s, want %s", h, want)
	}
	gotST, gotAction, err := soap.ParseSOAPAction(h)
	if err != nil || gotST != st || gotAction != "SetVolume" {
		t.Errorf("ParseSOAPAction(FormatSOAPAction) = %q, %q, %v", gotST, gotAction, err)
	}
	if soap.ContentType != `text/xml; charset="utf-8"` {
		t.Errorf("ContentType = %s", soap.ContentType)
	}
}

func TestReadBody(t *testing.T) {
	for _, tt := range []struct {
		name string
		n    int // body length
		max  int
		err  error
	}{
		{"empty", 0, 0, nil},
		{"at the default limit", soap.MaxBody, 0, nil},
		{"over the default limit", soap.MaxBody + 1, 0, upnp.ErrTooLarge},
		{"huge", 10 << 20, 0, upnp.ErrTooLarge},
		{"at a raised limit", 1 << 20, 1 << 20, nil},
		{"over a lowered limit", 101, 100, upnp.ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := bytes.Repeat([]byte("x"), tt.n)
			got, err := soap.ReadBody(bytes.NewReader(in), tt.max)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && len(got) != tt.n {
				t.Errorf("read %d bytes, want %d", len(got), tt.n)
			}
		})
	}
	errRead := errors.New("connection reset")
	if _, err := soap.ReadBody(iotest.ErrReader(errRead), 0); !errors.Is(err, errRead) {
		t.Errorf("read error: err = %v", err)
	}
}

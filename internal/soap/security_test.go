package soap_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/seedb72249f9/upnp/internal/soap"
)

// FuzzParseSOAPAction (SECURITY.md, parser overflows and crashes): the
// SOAPACTION header comes from whoever calls the device. ParseSOAPAction
// never panics; it fails with ErrBadSOAPAction and a short message, or
// returns a pair that FormatSOAPAction writes back to the same pair.
//
//	go test -run XXX -fuzz FuzzParseSOAPAction -fuzztime 60s ./internal/soap
func FuzzParseSOAPAction(f *testing.F) {
	const st = "urn:schemas-upnp-org:service:AVTransport:1"
	for _, s := range []string{
		`"` + st + `#Play"`, st + `#Play`, `" ` + st + ` # Play "`, `"urn:a#b#Play"`,
		`""`, `"#Play"`, `"` + st + `#1Play"`, "\"urn:x\x7f#Play\"", strings.Repeat("x", 300), "\"\u0085urn:x#\u00e9t\u00e9\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		typ, action, err := soap.ParseSOAPAction(h)
		if err != nil {
			if !errors.Is(err, soap.ErrBadSOAPAction) || len(err.Error()) > 200 {
				t.Fatalf("ParseSOAPAction(%q): error %q", h, err)
			}
			return
		}
		if typ == "" || action == "" {
			t.Fatalf("ParseSOAPAction(%q) = %q, %q with no error", h, typ, action)
		}
		typ2, action2, err := soap.ParseSOAPAction(soap.FormatSOAPAction(typ, action))
		if err != nil || typ2 != typ || action2 != action {
			t.Fatalf("ParseSOAPAction(%q) = %q, %q; written back and parsed: %q, %q, %v", h, typ, action, typ2, action2, err)
		}
	})
}

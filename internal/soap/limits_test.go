package soap_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/soap"
)

// Both readers stop at exactly the same bounds: 32 open elements and 50,000
// tokens (attributes count as tokens).
func TestLimitsExact(t *testing.T) {
	deep := func(n int) string { // Envelope, Header and n more
		return `<s:Envelope xmlns:s="` + envNS + `"><s:Header>` + strings.Repeat("<h>", n) + strings.Repeat("</h>", n) +
			`</s:Header><s:Body><u:A xmlns:u="urn:x"/></s:Body></s:Envelope>`
	}
	// The frame has 8 tokens: Envelope with its attribute, Body, A with its
	// attribute, and three end tags; pairs of a comment and text add 2, a
	// tag with an attribute adds 3 (start, attribute, end).
	tokens := func(n int) string {
		fill := strings.Repeat("<!---->x", (n-8)/2)
		if (n-8)%2 == 1 {
			fill += "<?p?>"
		}
		return `<s:Envelope xmlns:s="` + envNS + `"><s:Body><u:A xmlns:u="urn:x">` + fill + `</u:A></s:Body></s:Envelope>`
	}
	for _, tt := range []struct {
		name string
		body string
		err  error
	}{
		{"depth 32", deep(30), nil},
		{"depth 33", deep(31), upnp.ErrTooDeep},
		{"50000 tokens", tokens(50_000), nil},
		{"50001 tokens", tokens(50_001), upnp.ErrTooManyTokens},
		{"50000 tokens with attributes", strings.Replace(tokens(49_999), "<!---->x", `<a b=""/>`, 1), nil},
		{"50001 tokens with attributes", strings.Replace(tokens(50_000), "<!---->x", `<a b=""/>`, 1), upnp.ErrTooManyTokens},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, request := range []bool{true, false} {
				_, err := soap.DecodeMsg([]byte(tt.body), request)
				if !errors.Is(err, tt.err) {
					t.Errorf("encoding/xml reader: err = %v, want %v", err, tt.err)
				}
				if _, ok := soap.ScanMsg([]byte(tt.body), request); ok != (tt.err == nil) {
					t.Errorf("fast reader accepts = %v, want %v", ok, tt.err == nil)
				}
			}
			_, _, _, err := soap.ParseRequest([]byte(tt.body))
			if !errors.Is(err, tt.err) {
				t.Errorf("ParseRequest: err = %v, want %v", err, tt.err)
			}
		})
	}
}

// A bomb of nested elements or tokens costs time in proportion to its size
// and is refused, by either reader, with a position.
func TestLimitErrorsHavePositions(t *testing.T) {
	body := `<s:Envelope xmlns:s="` + envNS + `">` + "\n" + strings.Repeat("<a>", 100)
	_, _, _, err := soap.ParseRequest([]byte(body))
	if !errors.Is(err, upnp.ErrTooDeep) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err = %v, want ErrTooDeep on line 2", err)
	}
}

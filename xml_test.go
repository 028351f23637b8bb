package upnp_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/seedb72249f9/upnp"
)

// TestParseBounds feeds both parsers hostile documents (SECURITY.md: XML
// bombs and deep nesting); each must fail with its typed error, quickly and
// without panicking.
func TestParseBounds(t *testing.T) {
	deep := func(n int) []byte {
		return []byte("<root><device>" + strings.Repeat("<deviceList><device>", n) +
			strings.Repeat("</device></deviceList>", n) + "</device></root>")
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"billion laughs", []byte(`<?xml version="1.0"?>
<!DOCTYPE root [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<root><device><friendlyName>&lol3;</friendlyName></device></root>`), upnp.ErrDTD},
		{"external entity", []byte(`<!DOCTYPE root [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><root><device><UDN>&xxe;</UDN></device></root>`), upnp.ErrDTD},
		{"depth 10000", []byte(strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000)), upnp.ErrTooDeep},
		{"depth 10000 unclosed", []byte(strings.Repeat("<a>", 10000)), upnp.ErrTooDeep},
		{"deep device tree", deep(20), upnp.ErrTooDeep},
		{"100k tokens", []byte("<root><device>" + strings.Repeat("<x/>", 100_000) + "</device></root>"), upnp.ErrTooManyTokens},
		{"100k attributes", []byte("<root><device " + attrs(100_000) + "/></root>"), upnp.ErrTooManyTokens},
		{"2 MiB", append(append([]byte("<root><device><friendlyName>"), bytes.Repeat([]byte("x"), 2<<20)...), "</friendlyName></device></root>"...), upnp.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := upnp.ParseDescription(tt.in)
			checkErr(t, err, tt.want)
			scpd := bytes.ReplaceAll(bytes.ReplaceAll(tt.in, []byte("root>"), []byte("scpd>")), []byte("<root"), []byte("<scpd"))
			_, err = upnp.ParseSCPD(scpd)
			checkErr(t, err, tt.want)
		})
	}
}

func attrs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" a")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(`=""`)
	}
	return b.String()
}

// TestParseDescriptionDepthLimitFits checks that the depth limit leaves room
// for real trees: a root device with embedded devices 6 levels down.
func TestParseDescriptionDepthLimitFits(t *testing.T) {
	n := 6
	in := "<root><device><UDN>uuid:0</UDN>" + strings.Repeat("<deviceList><device><serviceList><service><serviceId>s</serviceId></service></serviceList>", n) +
		strings.Repeat("</device></deviceList>", n) + "</device></root>"
	r, err := upnp.ParseDescription([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for range r.Device.All() {
		count++
	}
	if count != n+1 {
		t.Errorf("%d devices, want %d", count, n+1)
	}
}

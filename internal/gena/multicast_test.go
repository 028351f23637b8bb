package gena_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/gena"
)

const (
	lightUSN   = "uuid:2fac1234-31f8-11b4-a222-08002b34c003::urn:schemas-upnp-org:service:SwitchPower:1"
	lightSVCID = "urn:upnp-org:serviceId:SwitchPower"
)

func TestAppendMulticast(t *testing.T) {
	ev := &gena.MulticastEvent{
		USN:    lightUSN,
		SVCID:  lightSVCID,
		LVL:    gena.LevelInfo,
		SEQ:    7,
		BootID: 1700000000,
		Props:  []gena.Property{{"Status", "1"}},
	}
	got, err := gena.AppendMulticast([]byte("x"), ev)
	if err != nil {
		t.Fatal(err)
	}
	body := `<?xml version="1.0"?>` + "\n" +
		`<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"><e:property><Status>1</Status></e:property></e:propertyset>`
	want := "x" +
		"NOTIFY * HTTP/1.1\r\n" +
		"HOST: 239.255.255.246:7900\r\n" +
		"CONTENT-TYPE: text/xml; charset=\"utf-8\"\r\n" +
		"USN: " + lightUSN + "\r\n" +
		"SVCID: " + lightSVCID + "\r\n" +
		"NT: upnp:event\r\n" +
		"NTS: upnp:propchange\r\n" +
		"SEQ: 7\r\n" +
		"LVL: upnp:info\r\n" +
		"BOOTID.UPNP.ORG: 1700000000\r\n" +
		"CONTENT-LENGTH: 137\r\n" +
		"\r\n" + body
	if len(body) != 137 {
		t.Fatalf("body of %d bytes", len(body))
	}
	if string(got) != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}

	// Defaults: HOST, LVL; a negative BootID leaves BOOTID.UPNP.ORG out.
	got, err = gena.AppendMulticast(nil, &gena.MulticastEvent{USN: lightUSN, SVCID: lightSVCID, BootID: -1, Host: gena.MulticastAddrLink6})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(got); !strings.Contains(s, "\r\nHOST: [FF02::130]:7900\r\n") || !strings.Contains(s, "\r\nLVL: upnp:general\r\n") ||
		!strings.Contains(s, "\r\nSEQ: 0\r\n") || strings.Contains(s, "BOOTID") {
		t.Errorf("got\n%s", got)
	}

	for _, tt := range []struct {
		name string
		ev   gena.MulticastEvent
		err  error
	}{
		{"no USN", gena.MulticastEvent{SVCID: lightSVCID}, gena.ErrBadMulticast},
		{"no SVCID", gena.MulticastEvent{USN: lightUSN}, gena.ErrBadMulticast},
		{"CRLF in USN", gena.MulticastEvent{USN: "uuid:x\r\nSEQ: 0", SVCID: lightSVCID}, gena.ErrBadMulticast},
		{"LF in LVL", gena.MulticastEvent{USN: lightUSN, SVCID: lightSVCID, LVL: "a\nb"}, gena.ErrBadMulticast},
		{"NUL in HOST", gena.MulticastEvent{USN: lightUSN, SVCID: lightSVCID, Host: "a\x00"}, gena.ErrBadMulticast},
		{"bad property", gena.MulticastEvent{USN: lightUSN, SVCID: lightSVCID, Props: []gena.Property{{"a b", ""}}}, gena.ErrInvalidName},
		{"too large", gena.MulticastEvent{USN: lightUSN, SVCID: lightSVCID, Props: []gena.Property{{"A", strings.Repeat("x", gena.MaxDatagram)}}}, upnp.ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gena.AppendMulticast([]byte("keep"), &tt.ev)
			checkErr(t, err, tt.err)
			if string(got) != "keep" {
				t.Errorf("b = %q, want it unchanged", got)
			}
		})
	}
}

// udaExample is a multicast event message in the shape of UDA 1.1's
// example: HTTP/1.0, CONTENT-LENGTH, a device-specific level.
const udaExample = "NOTIFY * HTTP/1.0\r\n" +
	"HOST: 239.255.255.246:7900\r\n" +
	"CONTENT-TYPE: text/xml; charset=\"utf-8\"\r\n" +
	"USN: " + lightUSN + "\r\n" +
	"SVCID: " + lightSVCID + "\r\n" +
	"NT: upnp:event\r\n" +
	"NTS: upnp:propchange\r\n" +
	"SEQ: 12\r\n" +
	"LVL: upnp:warning\r\n" +
	"BOOTID.UPNP.ORG: 3\r\n" +
	"CONTENT-LENGTH: 142\r\n" +
	"\r\n" +
	`<?xml version="1.0"?>` + "\n" +
	`<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">` + "\n" +
	`<e:property>` + "\n" +
	`<Status>0</Status>` + "\n" +
	`</e:property>` + "\n" +
	`</e:propertyset>` + "\n"

func TestParseMulticast(t *testing.T) {
	want := &gena.MulticastEvent{
		Host:   gena.MulticastAddr,
		USN:    lightUSN,
		SVCID:  lightSVCID,
		LVL:    gena.LevelWarning,
		SEQ:    12,
		BootID: 3,
		Props:  []gena.Property{{"Status", "0"}},
	}
	if n := len(udaExample[strings.Index(udaExample, "\r\n\r\n")+4:]); n != 142 {
		t.Fatalf("example body of %d bytes", n)
	}
	edit := func(old, new string) string {
		if !strings.Contains(udaExample, old) {
			t.Fatalf("%q not in the example", old)
		}
		return strings.Replace(udaExample, old, new, 1)
	}
	with := func(f func(*gena.MulticastEvent)) *gena.MulticastEvent {
		ev := *want
		f(&ev)
		return &ev
	}
	for _, tt := range []struct {
		name     string
		datagram string
		want     *gena.MulticastEvent
		err      error
	}{
		{"UDA example", udaExample, want, nil},
		{"HTTP/1.1", edit("HTTP/1.0", "HTTP/1.1"), want, nil},
		{"LF line ends", strings.ReplaceAll(edit("CONTENT-LENGTH: 142\r\n", ""), "\r\n", "\n"), want, nil},
		{"lower-case names, odd spacing", strings.NewReplacer("USN: ", "usn:", "SVCID: ", "svcid:   ", "SEQ: ", "Seq:\t", "NT: upnp:event", "nt: UPNP:EVENT ").Replace(udaExample), want, nil},
		{"unknown headers", edit("SEQ:", "X-Vendor: 1\r\nSERVER: x\r\nSEQ:"), want, nil},
		{"no CONTENT-LENGTH", edit("CONTENT-LENGTH: 142\r\n", ""), want, nil},
		{"CONTENT-LENGTH shorter than the datagram", udaExample + "trailing junk", want, nil},
		{"no LVL", edit("LVL: upnp:warning\r\n", ""), with(func(ev *gena.MulticastEvent) { ev.LVL = "" }), nil},
		{"vendor LVL", edit("upnp:warning", "example-com:chatty"), with(func(ev *gena.MulticastEvent) { ev.LVL = "example-com:chatty" }), nil},
		{"no BOOTID", edit("BOOTID.UPNP.ORG: 3\r\n", ""), with(func(ev *gena.MulticastEvent) { ev.BootID = -1 }), nil},
		{"no HOST", edit("HOST: 239.255.255.246:7900\r\n", ""), with(func(ev *gena.MulticastEvent) { ev.Host = "" }), nil},
		{"largest SEQ", edit("SEQ: 12", "SEQ: 4294967295"), with(func(ev *gena.MulticastEvent) { ev.SEQ = 4294967295 }), nil},

		{"ssdp:alive", "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nUSN: x\r\n\r\n", nil, gena.ErrNotEvent},
		{"M-SEARCH", edit("NOTIFY * HTTP/1.0", "M-SEARCH * HTTP/1.1"), nil, gena.ErrNotEvent},
		{"unicast NOTIFY", edit("NOTIFY *", "NOTIFY /cb"), nil, gena.ErrNotEvent},
		{"HTTP/2", edit("HTTP/1.0", "HTTP/2.0"), nil, gena.ErrNotEvent},
		{"wrong NT", edit("upnp:event", "upnp:rootdevice"), nil, gena.ErrNotEvent},
		{"wrong NTS", edit("upnp:propchange", "ssdp:alive"), nil, gena.ErrNotEvent},
		{"no NT", edit("NT: upnp:event\r\n", ""), nil, gena.ErrNotEvent},
		{"empty", "", nil, gena.ErrBadMulticast},
		{"no blank line", strings.SplitAfter(udaExample, "\r\n\r\n")[0][:200], nil, gena.ErrBadMulticast},
		{"no USN", edit("USN: "+lightUSN+"\r\n", ""), nil, gena.ErrBadMulticast},
		{"empty SVCID", edit(lightSVCID, ""), nil, gena.ErrBadMulticast},
		{"no SEQ", edit("SEQ: 12\r\n", ""), nil, gena.ErrBadSEQ},
		{"bad SEQ", edit("SEQ: 12", "SEQ: -1"), nil, gena.ErrBadSEQ},
		{"SEQ too large", edit("SEQ: 12", "SEQ: 4294967296"), nil, gena.ErrBadSEQ},
		{"repeated SEQ", edit("SEQ: 12\r\n", "SEQ: 12\r\nSEQ: 13\r\n"), nil, gena.ErrBadMulticast},
		{"repeated NT", edit("NT: upnp:event\r\n", "NT: upnp:event\r\nnt: upnp:event\r\n"), nil, gena.ErrBadMulticast},
		{"bad BOOTID", edit("BOOTID.UPNP.ORG: 3", "BOOTID.UPNP.ORG: x"), nil, gena.ErrBadMulticast},
		{"BOOTID too large", edit("BOOTID.UPNP.ORG: 3", "BOOTID.UPNP.ORG: 2147483648"), nil, gena.ErrBadMulticast},
		{"bad CONTENT-LENGTH", edit("CONTENT-LENGTH: 142", "CONTENT-LENGTH: -1"), nil, gena.ErrBadMulticast},
		{"truncated body", edit("CONTENT-LENGTH: 142", "CONTENT-LENGTH: 143"), nil, gena.ErrBadMulticast},
		{"line without colon", edit("SEQ: 12\r\n", "SEQ: 12\r\nbroken\r\n"), nil, gena.ErrBadMulticast},
		{"continuation line", edit("SEQ: 12\r\n", "SEQ: 12\r\n more\r\n"), nil, gena.ErrBadMulticast},
		{"space before colon", edit("SEQ: 12", "SEQ : 12"), nil, gena.ErrBadMulticast},
		{"control character", edit("SEQ: 12", "SEQ: 12\x00"), nil, gena.ErrBadMulticast},
		{"bare CR", edit("SEQ: 12", "SEQ: 12\rX: 1"), nil, gena.ErrBadMulticast},
		{"65 header lines", edit("SEQ:", strings.Repeat("X: 1\r\n", 55)+"SEQ:"), nil, gena.ErrBadMulticast},
		{"bad body", edit("<Status>0</Status>", "<Status>0</Statux>"), nil, errSyntax},
		{"DTD in body", edit(`<?xml version="1.0"?>`, `<!DOCTYPE x [<!ENTITY a "b">]>`), nil, upnp.ErrDTD},
		{"too large", udaExample + strings.Repeat(" ", gena.MaxDatagram), nil, upnp.ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gena.ParseMulticast([]byte(tt.datagram))
			checkErr(t, err, tt.err)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// 64 header lines are fine: the example has 10.
	if _, err := gena.ParseMulticast([]byte(edit("SEQ:", strings.Repeat("X: 1\r\n", 54)+"SEQ:"))); err != nil {
		t.Errorf("64 header lines: %v", err)
	}
}

func TestMulticastRoundTrip(t *testing.T) {
	for _, ev := range []*gena.MulticastEvent{
		{USN: lightUSN, SVCID: lightSVCID, LVL: gena.LevelGeneral, BootID: -1},
		{Host: gena.MulticastAddrSite6, USN: lightUSN, SVCID: lightSVCID, LVL: gena.LevelEmergency, SEQ: 4294967295, BootID: 2147483647,
			Props: []gena.Property{{"Status", "1"}, {"LoadLevelStatus", "100"}, {"X", "<&>\r\n"}}},
		{Host: gena.MulticastAddr, USN: "u", SVCID: "s", LVL: "vendor.example:level", SEQ: 1, BootID: 0, Props: []gena.Property{{"A", ""}}},
	} {
		b, err := gena.AppendMulticast(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := gena.ParseMulticast(b)
		if err != nil {
			t.Fatalf("ParseMulticast(%q): %v", b, err)
		}
		want := *ev
		if want.Host == "" {
			want.Host = gena.MulticastAddr
		}
		if diff := cmp.Diff(&want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

// AppendMulticast writes up to exactly MaxDatagram bytes, and
// ParseMulticast reads them.
func TestMulticastSizeExact(t *testing.T) {
	ev := &gena.MulticastEvent{USN: lightUSN, SVCID: lightSVCID, BootID: 1}
	b, err := gena.AppendMulticast(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	fill := gena.MaxDatagram - len(b) - len("<e:property><A></A></e:property>")
	for fill > 0 {
		ev.Props = []gena.Property{{"A", strings.Repeat("x", fill)}}
		if b, err = gena.AppendMulticast(nil, ev); err == nil {
			break
		}
		fill-- // CONTENT-LENGTH grew by a digit
	}
	if len(b) != gena.MaxDatagram {
		t.Fatalf("%d bytes, want %d", len(b), gena.MaxDatagram)
	}
	if _, err := gena.ParseMulticast(b); err != nil {
		t.Errorf("ParseMulticast(MaxDatagram bytes): %v", err)
	}
	ev.Props[0].Value += "x"
	_, err = gena.AppendMulticast(nil, ev)
	checkErr(t, err, upnp.ErrTooLarge)
	_, err = gena.ParseMulticast(append(b, ' '))
	checkErr(t, err, upnp.ErrTooLarge)
}

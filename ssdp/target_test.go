package ssdp_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seedb72249f9/upnp/ssdp"
)

const testUUID = "a1b2c3d4-0000-4000-8000-027700000003"

var parseTargetTests = []struct {
	in   string
	want ssdp.Target
	str  string // String(); "" means in
}{
	{"ssdp:all", ssdp.Target{Kind: ssdp.TargetAll}, ""},
	{"SSDP:ALL", ssdp.Target{Kind: ssdp.TargetAll}, "ssdp:all"},
	{"upnp:rootdevice", ssdp.Target{Kind: ssdp.TargetRoot}, ""},
	{"upnp:RootDevice", ssdp.Target{Kind: ssdp.TargetRoot}, "upnp:rootdevice"},
	{"uuid:" + testUUID, ssdp.Target{Kind: ssdp.TargetUUID, UUID: testUUID}, ""},
	{"UUID:" + testUUID, ssdp.Target{Kind: ssdp.TargetUUID, UUID: testUUID}, "uuid:" + testUUID},
	{"uuid:upnp-InternetGatewayDevice-1_0-00e0fc37", ssdp.Target{Kind: ssdp.TargetUUID, UUID: "upnp-InternetGatewayDevice-1_0-00e0fc37"}, ""},
	{testUUID, ssdp.Target{Kind: ssdp.TargetUUID, UUID: testUUID}, "uuid:" + testUUID}, // bare, as some devices send
	{"A1B2C3D4-0000-4000-8000-027700000003", ssdp.Target{Kind: ssdp.TargetUUID, UUID: "A1B2C3D4-0000-4000-8000-027700000003"}, "uuid:A1B2C3D4-0000-4000-8000-027700000003"},
	{"urn:schemas-upnp-org:device:MediaServer:1",
		ssdp.Target{Kind: ssdp.TargetDevice, Domain: "schemas-upnp-org", Type: "MediaServer", Version: 1}, ""},
	{"urn:schemas-upnp-org:service:WANIPConnection:2",
		ssdp.Target{Kind: ssdp.TargetService, Domain: "schemas-upnp-org", Type: "WANIPConnection", Version: 2}, ""},
	{"urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1",
		ssdp.Target{Kind: ssdp.TargetService, Domain: "microsoft.com", Type: "X_MS_MediaReceiverRegistrar", Version: 1}, ""},
	{"URN:schemas-upnp-org:Device:MediaServer:01",
		ssdp.Target{Kind: ssdp.TargetDevice, Domain: "schemas-upnp-org", Type: "MediaServer", Version: 1},
		"urn:schemas-upnp-org:device:MediaServer:1"},

	// TargetOther: kept verbatim.
	{"", ssdp.Target{}, ""},
	{"uuid:", ssdp.Target{}, ""},
	{"uuid:a::upnp:rootdevice", ssdp.Target{}, ""},
	{" ssdp:all", ssdp.Target{}, ""},
	{"ssdp:alive", ssdp.Target{}, ""},
	{"upnp:event", ssdp.Target{}, ""},
	{"urn:", ssdp.Target{}, ""},
	{"urn:schemas-upnp-org:device:MediaServer", ssdp.Target{}, ""},
	{"urn:schemas-upnp-org:device:MediaServer:", ssdp.Target{}, ""},
	{"urn:schemas-upnp-org:device:MediaServer:0", ssdp.Target{}, ""},
	{"urn:schemas-upnp-org:device:MediaServer:-1", ssdp.Target{}, ""},
	{"urn:schemas-upnp-org:device:MediaServer:1.0", ssdp.Target{}, ""},
	{"urn:schemas-upnp-org:device:MediaServer:99999999999", ssdp.Target{}, ""},
	{"urn:schemas-upnp-org:device:MediaServer:1:2", ssdp.Target{}, ""},
	{"urn:schemas-upnp-org:thing:MediaServer:1", ssdp.Target{}, ""},
	{"urn::device:MediaServer:1", ssdp.Target{}, ""},
	{"urn:schemas-upnp-org:device::1", ssdp.Target{}, ""},
	{"urn:schemas-upnp-org:serviceId:ContentDirectory", ssdp.Target{}, ""},
	{"a1b2c3d4-0000-4000-8000-02770000000g", ssdp.Target{}, ""},
	{"a1b2c3d4x0000-4000-8000-027700000003", ssdp.Target{}, ""},
}

func TestParseTarget(t *testing.T) {
	for _, tt := range parseTargetTests {
		t.Run(tt.in, func(t *testing.T) {
			want := tt.want
			want.Raw = tt.in
			got := ssdp.ParseTarget(tt.in)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ParseTarget(%q) (-want +got):\n%s", tt.in, diff)
			}
			str := tt.str
			if str == "" {
				str = tt.in
			}
			if s := got.String(); s != str {
				t.Errorf("String() = %q, want %q", s, str)
			}
		})
	}
}

func TestTargetStringFromFields(t *testing.T) {
	for _, tt := range []struct {
		t    ssdp.Target
		want string
	}{
		{ssdp.Target{}, ""},
		{ssdp.Target{Kind: ssdp.TargetOther, Raw: "x"}, "x"},
		{ssdp.Target{Kind: ssdp.TargetAll}, "ssdp:all"},
		{ssdp.Target{Kind: ssdp.TargetRoot}, "upnp:rootdevice"},
		{ssdp.Target{Kind: ssdp.TargetUUID, UUID: "u"}, "uuid:u"},
		{ssdp.Target{Kind: ssdp.TargetDevice, Domain: "d", Type: "T", Version: 3}, "urn:d:device:T:3"},
		{ssdp.Target{Kind: ssdp.TargetService, Domain: "d", Type: "T", Version: 12}, "urn:d:service:T:12"},
	} {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestTargetMatches(t *testing.T) {
	const (
		ms1  = "urn:schemas-upnp-org:device:MediaServer:1"
		ms2  = "urn:schemas-upnp-org:device:MediaServer:2"
		cd1  = "urn:schemas-upnp-org:service:ContentDirectory:1"
		cd3  = "urn:schemas-upnp-org:service:ContentDirectory:3"
		uuid = "uuid:" + testUUID
	)
	tests := []struct {
		search, advertised string
		want               bool
	}{
		{"ssdp:all", "upnp:rootdevice", true},
		{"ssdp:all", uuid, true},
		{"ssdp:all", ms1, true},
		{"ssdp:all", cd3, true},
		{"ssdp:all", "something:else", true},
		{"upnp:rootdevice", "upnp:rootdevice", true},
		{"upnp:rootdevice", uuid, false},
		{"upnp:rootdevice", ms1, false},
		{uuid, uuid, true},
		{"uuid:A1B2C3D4-0000-4000-8000-027700000003", uuid, true}, // hex in any case
		{testUUID, uuid, true},                                    // bare UUID
		{uuid, "uuid:a1b2c3d4-0000-4000-8000-027700000004", false},
		{uuid, "upnp:rootdevice", false},
		{ms1, ms1, true},
		{ms1, ms2, true}, // older version searched: the newer device answers
		{ms2, ms1, false},
		{"urn:SCHEMAS-UPNP-ORG:device:MediaServer:1", ms1, true},  // domain in any case
		{"urn:schemas-upnp-org:device:mediaserver:1", ms1, false}, // type is exact
		{"urn:schemas-upnp-org:device:MediaRenderer:1", ms1, false},
		{"urn:example-com:device:MediaServer:1", ms1, false},
		{cd1, cd3, true},
		{cd3, cd1, false},
		{"urn:schemas-upnp-org:device:ContentDirectory:1", cd1, false}, // device is not service
		{"something:else", "something:else", true},
		{"something:else", "Something:else", false},
		{"something:else", "upnp:rootdevice", false},
		{"ssdp:all", "ssdp:all", true},
		{"upnp:rootdevice", "ssdp:all", false},
	}
	for _, tt := range tests {
		s, a := ssdp.ParseTarget(tt.search), ssdp.ParseTarget(tt.advertised)
		if got := s.Matches(a); got != tt.want {
			t.Errorf("ParseTarget(%q).Matches(ParseTarget(%q)) = %v, want %v", tt.search, tt.advertised, got, tt.want)
		}
	}
}

func TestTargetWithVersion(t *testing.T) {
	for _, tt := range []struct {
		in   string
		v    int
		want ssdp.Target
	}{
		{"urn:schemas-upnp-org:device:MediaServer:2", 1, ssdp.Target{Kind: ssdp.TargetDevice,
			Raw: "urn:schemas-upnp-org:device:MediaServer:1", Domain: "schemas-upnp-org", Type: "MediaServer", Version: 1}},
		{"URN:schemas-upnp-org:SERVICE:ContentDirectory:3", 2, ssdp.Target{Kind: ssdp.TargetService,
			Raw: "urn:schemas-upnp-org:service:ContentDirectory:2", Domain: "schemas-upnp-org", Type: "ContentDirectory", Version: 2}},
		{"upnp:rootdevice", 1, ssdp.Target{Kind: ssdp.TargetRoot, Raw: "upnp:rootdevice"}},
		{"uuid:x", 1, ssdp.Target{Kind: ssdp.TargetUUID, Raw: "uuid:x", UUID: "x"}},
		{"whatever", 4, ssdp.Target{Raw: "whatever"}},
	} {
		got := ssdp.ParseTarget(tt.in).WithVersion(tt.v)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseTarget(%q).WithVersion(%d) (-want +got):\n%s", tt.in, tt.v, diff)
		}
	}
}

func TestSplitUSN(t *testing.T) {
	for _, tt := range []struct {
		usn, uuid, target string
	}{
		{"uuid:" + testUUID, "uuid:" + testUUID, ""},
		{"uuid:" + testUUID + "::upnp:rootdevice", "uuid:" + testUUID, "upnp:rootdevice"},
		{"uuid:" + testUUID + "::urn:schemas-upnp-org:service:AVTransport:1", "uuid:" + testUUID,
			"urn:schemas-upnp-org:service:AVTransport:1"},
		{testUUID + "::upnp:rootdevice", testUUID, "upnp:rootdevice"}, // bare UUID
		{"uuid:a::b::c", "uuid:a", "b::c"},
		{"uuid:a::", "uuid:a", ""},
		{"::upnp:rootdevice", "", "upnp:rootdevice"},
		{"", "", ""},
	} {
		uuid, target := ssdp.SplitUSN(tt.usn)
		if uuid != tt.uuid || target != tt.target {
			t.Errorf("SplitUSN(%q) = %q, %q; want %q, %q", tt.usn, uuid, target, tt.uuid, tt.target)
		}
	}
}

// TestTargetsInPackets checks that every NT and ST in the real packets is
// classified and that each USN splits into a UUID and its NT or ST.
func TestTargetsInPackets(t *testing.T) {
	for name, data := range loadPackets(t) {
		m := mustParseMsg(t, data)
		nt := ssdp.ParseTarget(m.NT + m.ST)
		if nt.Kind == ssdp.TargetOther {
			t.Errorf("%s: target %q is TargetOther", name, nt.Raw)
		}
		if m.Kind == ssdp.KindSearch {
			continue // no USN
		}
		uuid, target := ssdp.SplitUSN(m.USN)
		if u := ssdp.ParseTarget(uuid); u.Kind != ssdp.TargetUUID {
			t.Errorf("%s: USN %q starts with %q, not a uuid", name, m.USN, uuid)
		}
		if target != nt.Raw && !(target == "" && nt.Kind == ssdp.TargetUUID) {
			t.Errorf("%s: USN %q does not end in target %q", name, m.USN, nt.Raw)
		}
	}
}

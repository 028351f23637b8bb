package igd

import (
	"net/netip"
	"testing"
	"time"
)

// TestMappingSloppy reads entries the way routers write them, typed by an
// SCPD or as raw strings.
func TestMappingSloppy(t *testing.T) {
	got, err := mapping(map[string]any{
		"NewRemoteHost": " ", "NewExternalPort": " 8080", "NewProtocol": "udp",
		"NewInternalPort": uint16(81), "NewInternalClient": "10.0.0.2 ", "NewEnabled": "false",
		"NewPortMappingDescription": " d ", "NewLeaseDuration": uint32(60),
	})
	want := Mapping{Protocol: "UDP", ExternalPort: 8080, InternalPort: 81,
		InternalClient: netip.MustParseAddr("10.0.0.2"), Description: "d", Lease: time.Minute, Disabled: true}
	if err != nil || got != want {
		t.Errorf("mapping = %+v, %v; want %+v", got, err, want)
	}
	got, err = mapping(map[string]any{"NewExternalPort": "1", "NewInternalPort": "1", "NewEnabled": true, "NewRemoteHost": "example.com"})
	if err != nil || got.Disabled || got.RemoteHost.IsValid() || got.Lease != 0 {
		t.Errorf("mapping with a host name and no lease = %+v, %v", got, err)
	}
	for _, out := range []map[string]any{
		{"NewExternalPort": "65536", "NewInternalPort": "1"},
		{"NewExternalPort": "-1", "NewInternalPort": "1"},
		{"NewExternalPort": "1", "NewInternalPort": "x"},
		{"NewExternalPort": "1", "NewInternalPort": "1", "NewInternalClient": "host"},
		{"NewExternalPort": "1", "NewInternalPort": "1", "NewLeaseDuration": "-5"},
		{},
	} {
		if m, err := mapping(out); err == nil {
			t.Errorf("mapping(%v) = %+v, nil error", out, m)
		}
	}
}

func TestServiceIs(t *testing.T) {
	for _, tt := range []struct {
		typ, want string
		ok        bool
	}{
		{WANIPConnection2, WANIPConnection2, true},
		{"urn:schemas-upnp-org:service:WANIPConnection:3", WANIPConnection2, true},
		{WANIPConnection1, WANIPConnection2, false},
		{WANIPConnection1, WANIPConnection1, true},
		{WANIPConnection2, WANIPConnection1, false},
		{"URN:SCHEMAS-UPNP-ORG:SERVICE:WANPPPCONNECTION:1", WANPPPConnection1, true},
		{"urn:schemas-upnp-org:service:WANIPConnection", WANIPConnection1, false},
		{"urn:schemas-upnp-org:service:WANIPConnection:x", WANIPConnection1, false},
	} {
		if got := serviceIs(tt.typ, tt.want); got != tt.ok {
			t.Errorf("serviceIs(%q, %q) = %v", tt.typ, tt.want, got)
		}
	}
}

// FuzzMapping feeds a hostile router's answers to mapping: it must return a
// mapping or an error, never panic, and a mapping it returns must print.
func FuzzMapping(f *testing.F) {
	f.Add("", "8080", "TCP", "8080", "10.0.0.2", "1", "desc", "3600")
	f.Add("1.2.3.4", "0", "udp", "65535", "::1", "false", "", "")
	f.Add("x", "99999", "", "-1", "10.0.0.256", "yes", "\x00", "4294967296")
	f.Fuzz(func(t *testing.T, remote, ext, proto, internal, client, enabled, desc, lease string) {
		m, err := mapping(map[string]any{
			"NewRemoteHost": remote, "NewExternalPort": ext, "NewProtocol": proto,
			"NewInternalPort": internal, "NewInternalClient": client, "NewEnabled": enabled,
			"NewPortMappingDescription": desc, "NewLeaseDuration": lease,
		})
		if err != nil {
			return
		}
		_ = m.String()
		if m.Lease < 0 {
			t.Errorf("negative lease %v", m.Lease)
		}
	})
}

package ssdp

import (
	"math"
	"strconv"
	"strings"
)

// TargetKind classifies an NT or ST value.
type TargetKind uint8

const (
	TargetOther   TargetKind = iota // anything else, kept verbatim
	TargetAll                       // ssdp:all (ST only)
	TargetRoot                      // upnp:rootdevice
	TargetUUID                      // uuid:X
	TargetDevice                    // urn:DOMAIN:device:TYPE:VER
	TargetService                   // urn:DOMAIN:service:TYPE:VER
)

// A Target is a parsed NT or ST value.
//
// The zero Target is a TargetOther with an empty Raw. Targets are values: safe to
// copy and to share between goroutines.
type Target struct {
	Kind    TargetKind
	Raw     string // the value as given
	UUID    string // TargetUUID: the part after "uuid:"
	Domain  string // TargetDevice/TargetService: e.g. schemas-upnp-org
	Type    string // TargetDevice/TargetService: e.g. MediaRenderer
	Version int    // TargetDevice/TargetService: e.g. 1
}

// ParseTarget classifies an NT or ST value; it never fails and keeps s as Raw.
//
// "ssdp:all", "upnp:rootdevice" and the "uuid:" and "urn:" prefixes and the
// "device"/"service" words are matched in any case. A uuid target needs a
// non-empty UUID without ':'. A device or service type has exactly the form
// urn:DOMAIN:device:TYPE:VER (or service) with DOMAIN and TYPE non-empty and
// VER a positive decimal integer. Devices in the wild sometimes leave out the
// "uuid:" prefix, so a bare UUID in the RFC 4122 form
// (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, hex digits) is a TargetUUID too.
// Anything else, including a value with surrounding white space, is
// TargetOther.
func ParseTarget(s string) Target {
	t := Target{Raw: s}
	switch {
	case foldEqual(s, All):
		t.Kind = TargetAll
	case foldEqual(s, RootDevice):
		t.Kind = TargetRoot
	case len(s) > len("uuid:") && foldEqual(s[:len("uuid:")], "uuid:"):
		if u := s[len("uuid:"):]; strings.IndexByte(u, ':') < 0 {
			t.Kind, t.UUID = TargetUUID, u
		}
	case len(s) > len("urn:") && foldEqual(s[:len("urn:")], "urn:"):
		domain, rest, _ := strings.Cut(s[len("urn:"):], ":")
		kind, rest, _ := strings.Cut(rest, ":")
		typ, ver, ok := strings.Cut(rest, ":")
		if !ok || domain == "" || typ == "" || strings.IndexByte(ver, ':') >= 0 {
			break
		}
		v, ok := parseDecimal(ver, math.MaxInt32)
		if !ok || v == 0 {
			break
		}
		switch {
		case foldEqual(kind, "device"):
			t.Kind = TargetDevice
		case foldEqual(kind, "service"):
			t.Kind = TargetService
		default:
			return t
		}
		t.Domain, t.Type, t.Version = domain, typ, v
	case isBareUUID(s):
		t.Kind, t.UUID = TargetUUID, s
	}
	return t
}

// isBareUUID reports whether s is a UUID in RFC 4122 text form, without prefix.
func isBareUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// String returns t in canonical form: "ssdp:all", "upnp:rootdevice",
// "uuid:"+UUID (also for a bare UUID), "urn:DOMAIN:device:TYPE:VER" (or
// service) from the fields, and Raw for TargetOther.
func (t Target) String() string {
	switch t.Kind {
	case TargetAll:
		return All
	case TargetRoot:
		return RootDevice
	case TargetUUID:
		return "uuid:" + t.UUID
	case TargetDevice, TargetService:
		kind := ":device:"
		if t.Kind == TargetService {
			kind = ":service:"
		}
		return "urn:" + t.Domain + kind + t.Type + ":" + strconv.Itoa(t.Version)
	}
	return t.Raw
}

// Matches reports whether the search target t selects the advertised target,
// by the rule of UDA 1.1 section 1.3 (Search): ssdp:all selects everything; otherwise
// the kinds must be equal and upnp:rootdevice selects upnp:rootdevice, a uuid
// the same UUID (hex digits in any case), a device or service type one with the
// same domain (any case), the same type (exact case) and a version at least
// t.Version, and any other value only the identical value.
func (t Target) Matches(advertised Target) bool {
	if t.Kind == TargetAll {
		return true
	}
	if t.Kind != advertised.Kind {
		return false
	}
	switch t.Kind {
	case TargetRoot:
		return true
	case TargetUUID:
		return strings.EqualFold(t.UUID, advertised.UUID)
	case TargetDevice, TargetService:
		return t.Type == advertised.Type &&
			strings.EqualFold(t.Domain, advertised.Domain) &&
			t.Version <= advertised.Version
	}
	return t.Raw == advertised.Raw
}

// WithVersion returns a device or service type t with version v and Raw in
// canonical form, as a device answers a search for an older version of a type
// it implements. Other kinds of target are returned unchanged.
func (t Target) WithVersion(v int) Target {
	if t.Kind != TargetDevice && t.Kind != TargetService {
		return t
	}
	t.Version = v
	t.Raw = t.String()
	return t
}

// SplitUSN splits a USN such as "uuid:X::urn:schemas-upnp-org:service:T:1"
// at its first "::" into the device's UUID part ("uuid:X") and the target
// ("urn:schemas-upnp-org:service:T:1"); the target is "" for a bare "uuid:X".
// It neither checks nor adds the "uuid:" prefix, which some devices leave out:
// ParseTarget of the first part classifies a bare RFC 4122 UUID as TargetUUID.
func SplitUSN(usn string) (uuid string, target string) {
	uuid, target, _ = strings.Cut(usn, "::")
	return uuid, target
}

package ssdp_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seedb72249f9/upnp/ssdp"
)

// FuzzParse checks that Parse never panics, fails only with a *ParseError, and
// that whatever it reads survives Append and Parse again unchanged.
func FuzzParse(f *testing.F) {
	for _, data := range loadPackets(f) {
		f.Add(data)
	}
	for _, tt := range lenientTests {
		f.Add([]byte(tt.in))
	}
	for _, tt := range badTests {
		f.Add([]byte(tt.in))
	}
	seed := loadPackets(f)["response-libupnp-v4.ssdp"]
	seedMsg, err := ssdp.Parse(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := bytes.Clone(data)
		m, err := ssdp.Parse(data)
		if !bytes.Equal(data, orig) {
			t.Fatal("Parse modified its input")
		}
		// A Parser too, between two real datagrams in the same Message:
		// all three parse as Parse does and none changes another's strings.
		var p ssdp.Parser
		var pm ssdp.Message
		earlier := checkParser(t, &p, &pm, seed, seedMsg, nil, nil)
		earlier = checkParser(t, &p, &pm, data, m, err, earlier)
		checkParser(t, &p, &pm, seed, seedMsg, nil, earlier)
		if !bytes.Equal(data, orig) {
			t.Fatal("Parser.Parse modified its input")
		}
		if err != nil {
			var pe *ssdp.ParseError
			if !errors.As(err, &pe) || m != nil {
				t.Fatalf("Parse = %v, %v (%T); want nil, *ParseError", m, err, err)
			}
			return
		}
		checkInvariants(t, m)
		checkOwnsMemory(t, m, data)
		b, err := m.Append(nil)
		if err != nil {
			// Append writes "NAME: value" with CRLF, which can be longer than
			// the "name:value" LF lines it read.
			if !errors.Is(err, ssdp.ErrTooLarge) {
				t.Fatalf("Append of a parsed message: %v", err)
			}
			return
		}
		m2, err := ssdp.Parse(b)
		if err != nil {
			t.Fatalf("Parse(Append(Parse(%q))) = %v\nwritten: %q", data, err, b)
		}
		if diff := cmp.Diff(m, m2); diff != "" {
			t.Fatalf("Parse(Append(Parse(%q))) differs (-want +got):\n%s", data, diff)
		}
		b2, err := m2.Append(nil)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("Append is not stable: %q, then %q, %v", b, b2, err)
		}
	})
}

// checkOwnsMemory checks that m shares no memory with data, the buffer it was
// parsed from: after data is overwritten, m is what parsing a copy gives.
// data is restored.
func checkOwnsMemory(t *testing.T, m *ssdp.Message, data []byte) {
	t.Helper()
	orig := bytes.Clone(data)
	want, err := ssdp.Parse(orig)
	if err != nil {
		t.Fatalf("Parse of a copy: %v", err)
	}
	for i := range data {
		data[i] = '#'
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("Message changed with its input (-want +got):\n%s", diff)
	}
	copy(data, orig)
}

func checkInvariants(t *testing.T, m *ssdp.Message) {
	t.Helper()
	switch {
	case m.Kind < ssdp.KindNotify || m.Kind > ssdp.KindResponse:
		t.Errorf("Kind = %d", m.Kind)
	case m.MaxAge < 0, m.MX < 0, m.SearchPort < 0, m.SearchPort > 65535, m.TCPPort < 0, m.TCPPort > 65535:
		t.Errorf("number out of range: %+v", m)
	case m.BootID < -1, m.NextBootID < -1, m.ConfigID < -1:
		t.Errorf("ID out of range: %+v", m)
	}
	for _, s := range []string{m.Host, m.NT, m.NTS, m.ST, m.USN, m.Location, m.Server, m.Agent, m.MAN, m.Date, m.CPFN, m.CPUUID} {
		if s != strings.Trim(s, " \t") || hasControl(s) {
			t.Errorf("field %q is not trimmed or has a control character", s)
		}
	}
	for _, h := range m.Extra {
		if h.Name == "" || strings.ContainsAny(h.Name, ": \t") || hasControl(h.Name) || hasControl(h.Value) {
			t.Errorf("bad Extra header %q", h)
		}
	}
}

// hasControl reports whether s holds a byte Parse must reject in a header.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f })
}

// FuzzParseTarget checks that ParseTarget never panics and that String and
// WithVersion agree with it.
func FuzzParseTarget(f *testing.F) {
	for _, tt := range parseTargetTests {
		f.Add(tt.in)
	}
	for _, data := range loadPackets(f) {
		if m, err := ssdp.Parse(data); err == nil {
			f.Add(m.NT + m.ST)
			f.Add(m.USN)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg := ssdp.ParseTarget(s)
		if tg.Raw != s {
			t.Fatalf("Raw = %q, want %q", tg.Raw, s)
		}
		if !tg.Matches(tg) {
			t.Errorf("%+v does not match itself", tg)
		}
		if tg.Kind != ssdp.TargetOther {
			again := ssdp.ParseTarget(tg.String())
			again.Raw = tg.Raw
			if diff := cmp.Diff(tg, again); diff != "" {
				t.Errorf("ParseTarget(%q.String()) (-want +got):\n%s", s, diff)
			}
		}
		if tg.Kind == ssdp.TargetDevice || tg.Kind == ssdp.TargetService {
			newer := tg.WithVersion(tg.Version + 1)
			if !tg.Matches(newer) || newer.Matches(tg) {
				t.Errorf("version rule broken for %+v and %+v", tg, newer)
			}
			if same := tg.WithVersion(tg.Version); same.Raw != tg.String() {
				t.Errorf("WithVersion(%d).Raw = %q, want %q", tg.Version, same.Raw, tg.String())
			}
		}
		uuid, target := ssdp.SplitUSN(s)
		if target != "" && uuid+"::"+target != s || target == "" && uuid != s && uuid+"::" != s {
			t.Errorf("SplitUSN(%q) = %q, %q", s, uuid, target)
		}
	})
}
